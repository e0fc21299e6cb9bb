//! The JSON Schema (draft 2020-12) of pipeline files, for editors: yaml-language-server completes
//! and checks a file that names it in a `# yaml-language-server: $schema=…` comment.
//!
//! It is built from the vendor registry's specs, so a new vendor appears in it without an edit
//! here: each source is checked against its vendor's own settings, `auth:` keys and filters.
//! It promises to accept every file `validate` accepts (a `${VAR}` is allowed wherever a number,
//! a boolean or a choice is expected) and to refuse unknown keys, vendors, formats and choices.
//! What needs the registry's code or the environment (an auth mode being complete, a path
//! template, the files two outputs write) stays `validate`'s to say.

use serde_json::{Map, Value, json};

use super::source::COMMON_KEYS;
use crate::extract::rate::RATE_LIMIT_HELP;
use crate::transform::FIELD_TYPES;
use crate::vendors::spec::{FilterKind, FilterSpec, Key, KeyKind};
use crate::vendors::{self, Vendor, VendorSpec};

/// The `$schema` of the schema itself.
pub const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// A whole `${VAR}` reference: what may stand where a number, boolean or choice is expected.
pub const VARIABLE_PATTERN: &str = r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$";

/// The output formats, in the order the README lists them.
const FORMATS: [&str; 4] = ["parquet", "csv", "ndjson", "xlsx"];

/// The schema of a pipeline file.
pub fn pipeline_schema() -> Value {
    let ids: Vec<&str> = vendors::ids();
    let mut defs = Map::new();
    defs.insert(
        "variable".into(),
        json!({
            "type": "string",
            "pattern": VARIABLE_PATTERN,
            "description": "${VAR}: read from the environment when the pipeline runs"
        }),
    );
    defs.insert(
        "boolean".into(),
        json!({"anyOf": [{"type": "boolean"}, {"$ref": "#/$defs/variable"}]}),
    );
    defs.insert("source".into(), source_schema(&ids));
    defs.insert("declared_source".into(), declared_source());
    for vendor in vendors::ALL {
        defs.insert(format!("source_{}", vendor.id()), vendor_source(*vendor));
    }
    defs.insert("transform".into(), transform_schema());
    defs.insert("field".into(), mapped_field());
    defs.insert("output".into(), output_schema());
    defs.insert("storage".into(), storage_schema());
    json!({
        "$schema": DRAFT,
        "title": "customer-export pipeline",
        "description": "A customer-export pipeline file: its sources, transform and outputs. `customer-export validate` checks what a schema cannot (auth modes, paths, variables).",
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "sources", "outputs"],
        "properties": {
            "name": described(json!({"type": ["string", "number"]}), "The pipeline's name, used in {pipeline} in output paths."),
            "sandbox": described(json!({"anyOf": [boolean(), sandbox_data()]}), "Run every source against the embedded sandbox (its credentials stand in for unset ${VAR}s; no network); a mapping also sets its data."),
            "on_error": described(choice(&["fail", "skip"]), "fail (default): a failed source publishes nothing; skip: the other sources are published and the run still exits 1."),
            "sources_at_once": described(integer(1, 64), "How many sources run at once (default: all of them), each with its own rate limit and retries; 1 runs them one after the other."),
            "sources": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/source"}, "description": "The vendors to export from, each with its settings."},
            "transform": {"$ref": "#/$defs/transform"},
            "outputs": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/output"}, "description": "The files to write."},
            "storage": {"$ref": "#/$defs/storage"}
        },
        "$defs": defs
    })
}

/// A source: keyed by `vendor:` (one of the registry's) or `definition:` (a vendor declared in
/// YAML), each checked by its own branch.
fn source_schema(ids: &[&str]) -> Value {
    let mut branches = vec![json!({
        "if": {"required": ["definition"]},
        "then": {"$ref": "#/$defs/declared_source"},
        "else": {
            "required": ["vendor"],
            "properties": {"vendor": {"enum": ids}}
        }
    })];
    for id in ids {
        branches.push(json!({
            "if": {
                "required": ["vendor"],
                "properties": {"vendor": {"const": id}},
                "not": {"required": ["definition"]}
            },
            "then": {"$ref": format!("#/$defs/source_{id}")}
        }));
    }
    // The common keys here as well, so an editor completes them before the vendor is chosen.
    json!({
        "type": "object",
        "description": format!("One source: `vendor:` ({}) or `definition:` (a vendor declared in YAML), and its settings.", ids.join(", ")),
        "properties": common_properties(),
        "allOf": branches
    })
}

/// A source of one built-in vendor: the common keys and the vendor's own, nothing else.
fn vendor_source(vendor: &dyn Vendor) -> Value {
    let spec = vendor.spec();
    let mut properties = common_properties();
    properties.remove("definition");
    properties.insert(
        "vendor".into(),
        json!({"const": spec.id, "description": spec.title}),
    );
    let base_url = match spec.default_base_url {
        Some(default) => format!("The API's root URL (default {default})."),
        None => format!(
            "The API's root URL: required, each {} account has its own host.",
            spec.id
        ),
    };
    properties.insert("base_url".into(), described(url(), &base_url));
    properties.insert("auth".into(), auth_schema(spec));
    properties.insert("filters".into(), filters_schema(spec));
    properties.insert("page_size".into(), page_size(spec));
    if let Some(rate) = vendor.default_rate_limit() {
        let help = format!("Requests per time, {RATE_LIMIT_HELP}; default {rate}.");
        properties.insert("rate_limit".into(), described(rate_limit(), &help));
    }
    for key in spec.settings {
        properties.insert(key.name.into(), key_schema(key, &setting_help(key)));
    }
    let mut required = vec!["vendor"];
    if spec.filters.iter().any(|f| f.required) {
        required.push("filters");
    }
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties
    })
}

/// A source whose vendor is declared in YAML: its keys are the definition's, which the schema
/// does not read, so only the common keys are checked.
fn declared_source() -> Value {
    let mut properties = common_properties();
    properties.insert(
        "vendor".into(),
        json!({"type": "string", "description": "The id the definition declares (optional)."}),
    );
    json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": {
            "description": "A setting the definition declares.",
            "anyOf": [scalar(), {"type": "array", "items": scalar()}]
        }
    })
}

/// The keys every source has, in their generic form (a vendor's branch narrows some).
fn common_properties() -> Map<String, Value> {
    let scalars = json!({"type": "object", "additionalProperties": scalar()});
    let entries = [
        (
            "vendor",
            described(
                json!({"type": "string"}),
                "The vendor: see `customer-export vendors`.",
            ),
        ),
        (
            "definition",
            described(
                json!({"type": ["string", "object"]}),
                "A vendor declared in YAML: a definition file's path (relative to this file, else to the working directory), or the definition itself.",
            ),
        ),
        (
            "name",
            described(
                json!({"type": ["string", "number"]}),
                "The source's name in logs and the manifest (default: the vendor id; `vendor-2` for a second source of a vendor).",
            ),
        ),
        ("base_url", described(url(), "The API's root URL.")),
        (
            "auth",
            described(scalars.clone(), "Credentials; write secrets as ${VAR}."),
        ),
        (
            "filters",
            described(scalars, "The vendor's own query parameters."),
        ),
        (
            "page_size",
            described(integer(1, u64::from(u32::MAX)), "Records per page."),
        ),
        (
            "rate_limit",
            described(
                rate_limit(),
                &format!("Requests per time: {RATE_LIMIT_HELP}."),
            ),
        ),
        (
            "concurrency",
            described(integer(1, 64), "Pages in flight when the total is known."),
        ),
        (
            "max_attempts",
            described(integer(1, 100), "Attempts per request, retries included."),
        ),
        (
            "max_retry_secs",
            described(
                integer(0, 86_400),
                "The retry budget per request, in seconds.",
            ),
        ),
        (
            "timeout_secs",
            described(integer(1, 3_600), "The timeout per request, in seconds."),
        ),
        (
            "max_body_mb",
            described(integer(1, 4_096), "Larger responses are refused."),
        ),
        (
            "allow_count_mismatch",
            described(
                boolean(),
                "Publish when the records read differ from the API's total.",
            ),
        ),
        (
            "allow_insecure_http",
            described(
                boolean(),
                "Send credentials over plain http:// to a host that is not this machine.",
            ),
        ),
        (
            "max_records",
            described(
                integer(1, 1_000_000_000_000),
                "Paging stops with an error past this many records (default: 10× the first page's total).",
            ),
        ),
        (
            "max_pages",
            described(
                integer(1, 1_000_000_000),
                "Paging stops with an error past this many pages (default 1,000,000).",
            ),
        ),
    ];
    debug_assert_eq!(entries.len(), COMMON_KEYS.len());
    (entries.into_iter())
        .map(|(key, schema)| (key.to_string(), schema))
        .collect()
}

/// `page_size:` within what the vendor accepts; refused for a vendor without paging.
fn page_size(spec: &VendorSpec) -> Value {
    if !spec.pages() {
        let help = format!(
            "{} has no paging: one response holds every customer.",
            spec.id
        );
        return json!({"not": {}, "description": help});
    }
    let help = format!(
        "Records per page: default {}, at most {}.",
        spec.page_size.default, spec.page_size.max
    );
    described(integer(1, u64::from(spec.page_size.max)), &help)
}

/// `auth:`: the vendor's keys; which sets of them form an auth mode is `validate`'s to check.
fn auth_schema(spec: &VendorSpec) -> Value {
    let properties: Map<String, Value> = (spec.auth_keys.iter())
        .map(|key| {
            (
                key.name.to_string(),
                key_schema(key, &auth_key_help(spec, key)),
            )
        })
        .collect();
    let modes: Vec<String> = (spec.auth_modes.iter())
        .map(|m| format!("{} ({})", m.required.join(" + "), m.name))
        .collect();
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
        "description": format!("Credentials: {}. Write secrets as ${{VAR}}.", modes.join(", or "))
    })
}

/// An auth key's help: its own, else what its kind asks for, and the modes that require it.
fn auth_key_help(spec: &VendorSpec, key: &Key) -> String {
    let mut help = match (key.help, key.kind) {
        ("", KeyKind::Secret) => "A secret: write it as ${VAR}.".to_string(),
        ("", KeyKind::Url) => "An http(s):// URL.".to_string(),
        ("", _) => String::new(),
        (own, _) => format!("{own}."),
    };
    let modes: Vec<&str> = (spec.auth_modes.iter())
        .filter(|m| m.required.contains(&key.name))
        .map(|m| m.name)
        .collect();
    let needed = match modes.is_empty() {
        true => "Optional.".to_string(),
        false => format!("Required for {}.", modes.join(", ")),
    };
    help.push_str(if help.is_empty() { "" } else { " " });
    help.push_str(&needed);
    help
}

fn setting_help(key: &Key) -> String {
    match key.required {
        true => format!("{} (required).", key.help),
        false => format!("{}.", key.help),
    }
}

/// A vendor key's value in its kind.
fn key_schema(key: &Key, help: &str) -> Value {
    let schema = match key.kind {
        KeyKind::Text => scalar(),
        KeyKind::Secret => json!({"type": "string", "examples": ["${SECRET}"]}),
        KeyKind::Url => url(),
        KeyKind::List => json!({"type": "array", "items": scalar()}),
    };
    described(schema, help)
}

/// `filters:`: the vendor's own, each in its kind.
fn filters_schema(spec: &VendorSpec) -> Value {
    let properties: Map<String, Value> = (spec.filters.iter())
        .map(|f| (f.name.to_string(), filter_schema(f)))
        .collect();
    let required: Vec<&str> = (spec.filters.iter())
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    let help = match spec.filters.is_empty() {
        true => format!("{} takes no filters.", spec.id),
        false => "The vendor's own query parameters.".to_string(),
    };
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
        "required": required,
        "description": help
    })
}

fn filter_schema(filter: &FilterSpec) -> Value {
    let schema = match filter.kind {
        FilterKind::Integer => integer_any(),
        FilterKind::Text => scalar(),
        FilterKind::Boolean => boolean(),
        FilterKind::Date => {
            variable_or(json!({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}))
        }
        FilterKind::DateTime => variable_or(
            json!({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"}),
        ),
        FilterKind::OneOf(values) => choice(values),
    };
    let required = if filter.required { ", required" } else { "" };
    let help = format!("{}{required}: {}.", filter.kind.describe(), filter.help);
    described(schema, &help)
}

fn transform_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "description": "Which columns come out and what becomes of arrays.",
        "properties": {
            "fields": {
                "description": "canonical: the same columns for every vendor; all: every declared field; or a mapping {column: path}.",
                "anyOf": [
                    choice(&["canonical", "all"]),
                    {"type": "object", "additionalProperties": {"$ref": "#/$defs/field"}}
                ]
            },
            "arrays": described(choice(&["explode", "json", "tables"]), "explode: one row per element; json: one JSON text column; tables: one child file per array (the path must use {table})."),
            "explode": described(json!({"type": "string"}), "Which array `explode` unrolls (default: the vendor's)."),
            "naming": described(choice(&["source", "snake_case"]), "How `fields: all` names its columns."),
            "undeclared": described(choice(&["extra", "columns"]), "What `fields: all` does with paths the vendor does not declare.")
        }
    })
}

/// `sandbox: {customers, seed, faults}`.
fn sandbox_data() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "customers": described(integer(0, 100_000_000), "Customers per vendor (default 1000)."),
            "seed": described(integer_any(), "Seed of the synthetic data and of the fault dice (default 42)."),
            "faults": described(variable_or(json!({"type": "number", "minimum": 0, "maximum": 1})), "Share of requests that get a fault: 5xx, 429, slow, dropped, truncated (default 0).")
        }
    })
}

/// One column of a `fields:` mapping: a path, a path with a type, or a path per vendor.
fn mapped_field() -> Value {
    let types: Vec<&str> = FIELD_TYPES.iter().map(|(name, _)| *name).collect();
    json!({
        "anyOf": [
            {"type": "string", "description": "A path in the vendor's record, or a canonical column."},
            {
                "type": "object",
                "description": "`path` (for every vendor) and/or a path per vendor (`<vendor id>: <path>`), and an optional `type`.",
                "minProperties": 1,
                "additionalProperties": {"type": "string", "description": "This vendor's path."},
                "properties": {
                    "path": {"type": "string"},
                    "type": choice(&types)
                }
            }
        ]
    })
}

/// An output: a format, a path, and options for that format only.
fn output_schema() -> Value {
    let stray = FORMATS.map(|format| {
        let others: Map<String, Value> = (FORMATS.iter())
            .filter(|f| **f != format)
            .map(|f| (f.to_string(), json!(false)))
            .collect();
        json!({
            "if": {"properties": {"format": {"const": format}}},
            "then": {"properties": others}
        })
    });
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["format", "path"],
        "properties": {
            "format": described(choice(&FORMATS), "The file format."),
            "path": described(json!({"type": "string"}), "Where the files go: relative to --output-dir, or s3://, az://, gs://. Placeholders: {pipeline}, {vendor}, {table}, {run_date}, {run_id}, {format}."),
            "transform": described(json!({"$ref": "#/$defs/transform"}), "This output's own transform: the keys it gives replace the pipeline's."),
            "csv": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "spreadsheet_safe": described(boolean(), "Neutralise cells that would start a formula (default true)."),
                    "bom": described(boolean(), "Start with a UTF-8 byte-order mark, for Excel."),
                    "delimiter": {"type": "string", "minLength": 1, "maxLength": 1, "description": "One ASCII character."}
                }
            },
            "ndjson": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "nested": described(boolean(), "The vendor's record as it came, instead of the flattened row.")
                }
            },
            "parquet": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "row_group_rows": integer(1_000, 10_000_000),
                    "zstd_level": integer(1, 22)
                }
            }
        },
        "allOf": stray
    })
}

fn storage_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "description": "Settings of the object store the outputs go to.",
        "properties": {
            "region": scalar(),
            "endpoint": described(url(), "A store other than the cloud's own (MinIO, an emulator)."),
            "path_style": described(boolean(), "Address S3 buckets by path rather than by host name."),
            "allow_http": described(boolean(), "Allow a plain http:// endpoint.")
        }
    })
}

fn described(mut schema: Value, help: &str) -> Value {
    if let (Some(object), false) = (schema.as_object_mut(), help.is_empty()) {
        object.insert("description".into(), help.into());
    }
    schema
}

/// `schema`, or a `${VAR}` that the run fills in.
fn variable_or(schema: Value) -> Value {
    json!({"anyOf": [schema, {"$ref": "#/$defs/variable"}]})
}

fn boolean() -> Value {
    json!({"$ref": "#/$defs/boolean"})
}

/// A value written as text or a number (the checker reads a scalar's text).
fn scalar() -> Value {
    json!({"type": ["string", "number", "boolean"]})
}

fn integer(min: u64, max: u64) -> Value {
    variable_or(json!({"type": "integer", "minimum": min, "maximum": max}))
}

fn integer_any() -> Value {
    variable_or(json!({"type": "integer"}))
}

/// One of a few words. A word that reads as a number in YAML (`status: 1000`) may be written as
/// one, as the checker takes it.
fn choice(words: &[&str]) -> Value {
    let mut allowed: Vec<Value> = words.iter().map(|w| json!(w)).collect();
    allowed.extend(
        words
            .iter()
            .filter_map(|w| w.parse::<i64>().ok().map(Value::from)),
    );
    variable_or(json!({"enum": allowed}))
}

/// A URL, or text holding a `${VAR}` (`https://${ORG}.valomnia.com`).
fn url() -> Value {
    // `\u{7b}` is an opening brace: the pattern takes an https URL or a `${VAR}`.
    json!({"type": "string", "pattern": "^(https?://|\\$\\\u{7b})"})
}

fn rate_limit() -> Value {
    json!({"type": "string", "pattern": "^\\s*[0-9]+\\s*/\\s*(s|sec|second|min|minute|h|hour)\\s*$|^\\$\\\u{7b}"})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block's keys, sorted: the schema's properties must follow the structs as they change.
    fn expected_fields<T: super::super::raw::Block>() -> Vec<String> {
        let mut fields: Vec<String> = T::KEYS.iter().map(|k| k.to_string()).collect();
        fields.sort();
        fields
    }

    fn keys(schema: &Value) -> Vec<String> {
        let mut keys: Vec<String> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn the_schema_names_every_key_the_raw_structs_take() {
        use super::super::raw::{
            RawCsv, RawNdjson, RawOutput, RawParquet, RawPipeline, RawStorage, RawTransform,
        };
        let schema = pipeline_schema();
        let defs = &schema["$defs"];
        assert_eq!(keys(&schema), expected_fields::<RawPipeline>());
        assert_eq!(keys(&defs["transform"]), expected_fields::<RawTransform>());
        assert_eq!(keys(&defs["storage"]), expected_fields::<RawStorage>());
        assert_eq!(keys(&defs["output"]), expected_fields::<RawOutput>());
        let output = &defs["output"]["properties"];
        assert_eq!(keys(&output["csv"]), expected_fields::<RawCsv>());
        assert_eq!(keys(&output["parquet"]), expected_fields::<RawParquet>());
        assert_eq!(keys(&output["ndjson"]), expected_fields::<RawNdjson>());
    }

    #[test]
    fn every_common_source_key_has_a_schema() {
        let mut common: Vec<String> = COMMON_KEYS.iter().map(|k| k.to_string()).collect();
        common.sort();
        assert_eq!(keys(&pipeline_schema()["$defs"]["source"]), common);
    }

    #[test]
    fn every_vendor_has_a_branch_with_its_own_keys() {
        let schema = pipeline_schema();
        for vendor in vendors::ALL {
            let spec = vendor.spec();
            let branch = &schema["$defs"][format!("source_{}", spec.id)]["properties"];
            assert_eq!(branch["vendor"]["const"], spec.id);
            for key in spec.settings {
                assert!(branch[key.name].is_object(), "{}: {}", spec.id, key.name);
            }
            for key in spec.auth_keys {
                let auth = &branch["auth"]["properties"][key.name];
                assert!(
                    auth["description"].is_string(),
                    "{}: auth.{}",
                    spec.id,
                    key.name
                );
            }
            for filter in spec.filters {
                assert!(branch["filters"]["properties"][filter.name].is_object());
            }
        }
    }

    #[test]
    fn words_that_read_as_numbers_may_be_written_as_numbers() {
        let status = choice(&["1000", "asc"]);
        assert_eq!(status["anyOf"][0]["enum"], json!(["1000", "asc", 1000]));
    }
}

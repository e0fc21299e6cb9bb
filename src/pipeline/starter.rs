//! `customer-export init`: a commented starter pipeline for chosen vendors, written from the
//! registry's specs.
//!
//! It promises a file that `validate` accepts as it stands (unset variables are only warnings
//! there): every key a vendor requires is written, secrets and account-specific values as
//! `${VENDOR_KEY}` placeholders, and every optional key is there commented out with its help,
//! to uncomment. A new vendor gets a starter without an edit here.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::model::Secret;
use crate::vendors::settings::Value as Setting;
use crate::vendors::spec::{AuthMode, FilterKind, FilterSpec, Key, KeyKind};
use crate::vendors::{self, Settings, Vendor, VendorSpec};

/// Where the modeline points: the schema written beside the pipeline.
pub const SCHEMA_FILE: &str = "pipeline.schema.json";

/// Why `init` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("unknown vendor {0:?}; allowed: {allowed}", allowed = vendors::ids().join(", "))]
    UnknownVendor(String),
    #[error("{0} already exists; choose another --output, or move it away first")]
    Exists(PathBuf),
    #[error("cannot write {0}: {1}")]
    Write(PathBuf, std::io::Error),
}

/// Looks the vendors up by id; the first unknown one is an error naming the allowed ones.
pub fn find_vendors(ids: &[String]) -> Result<Vec<&'static dyn Vendor>, InitError> {
    (ids.iter())
        .map(|id| vendors::find(id.trim()).ok_or_else(|| InitError::UnknownVendor(id.clone())))
        .collect()
}

/// Writes `text` to a new file at `path`; an existing file is never replaced.
pub fn write_new(path: &Path, text: &str) -> Result<(), InitError> {
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(InitError::Exists(path.to_path_buf()));
        }
        Err(e) => return Err(InitError::Write(path.to_path_buf(), e)),
    };
    (file.write_all(text.as_bytes()))
        .and_then(|()| file.sync_all())
        .map_err(|e| InitError::Write(path.to_path_buf(), e))
}

/// The starter pipeline for `vendors`; `file` is where it will be (for the commands it shows,
/// and the pipeline's name).
pub fn starter(vendors: &[&'static dyn Vendor], file: Option<&Path>) -> String {
    let shown = file.map_or("pipeline.yaml".into(), |f| f.display().to_string());
    let mut variables = Vec::new();
    let mut sources = String::new();
    for vendor in vendors {
        sources.push_str(&source(*vendor, &mut variables));
    }
    let ids: Vec<&str> = vendors.iter().map(|v| v.id()).collect();
    let mut out = String::new();
    let _ = writeln!(out, "# yaml-language-server: $schema=./{SCHEMA_FILE}");
    let _ = writeln!(
        out,
        "# A starter pipeline for {}, written by `customer-export init`.",
        ids.join(", ")
    );
    let _ = writeln!(
        out,
        "# Completion and checks in your editor: customer-export schema > {SCHEMA_FILE} (beside this file)."
    );
    out.push_str("#\n# Set these environment variables (a secret never belongs in this file):\n");
    for chunk in variables.chunks(4) {
        let _ = writeln!(out, "#   {}", chunk.join(" "));
    }
    let _ = writeln!(
        out,
        "# then check and run:\n#   customer-export validate {shown} --require-env\n#   customer-export run {shown}"
    );
    out.push_str("# Every vendor's keys, filters and columns: customer-export vendors VENDOR\n");
    let _ = writeln!(out, "name: {}", pipeline_name(file));
    out.push_str("on_error: fail             # fail: publish nothing if a source fails | skip\n");
    out.push_str("sources:\n");
    out.push_str(&sources);
    out.push_str(&transform_and_outputs(vendors.len()));
    out
}

/// The pipeline's name: the file's stem when it makes a clean name, else `customers`.
fn pipeline_name(file: Option<&Path>) -> String {
    let stem = file.and_then(|f| f.file_stem()).and_then(|s| s.to_str());
    match stem {
        Some(s)
            if !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) =>
        {
            s.to_string()
        }
        _ => "customers".to_string(),
    }
}

/// One source: the vendor's settings, `auth:`, filters and the engine's knobs.
fn source(vendor: &dyn Vendor, variables: &mut Vec<String>) -> String {
    let spec = vendor.spec();
    let mut out = String::new();
    let _ = writeln!(out, "  # {}: {}", spec.title, spec.endpoint);
    let _ = writeln!(out, "  - vendor: {}", spec.id);
    match spec.default_base_url {
        Some(default) => {
            let _ = writeln!(out, "    # base_url: {default}   # the default");
        }
        None => {
            let value = placeholder(spec, "base_url", variables);
            let _ = writeln!(
                out,
                "    base_url: {value}   # required: the API's root URL, https://…"
            );
        }
    }
    let needed = needed_settings(vendor);
    for key in spec.settings {
        let written = needed.contains(&key.name);
        out.push_str(&setting(spec, key, written, variables));
    }
    out.push_str(&auth(spec, variables));
    out.push_str(&filters(spec, variables));
    if spec.pages() {
        let (default, max) = (spec.page_size.default, spec.page_size.max);
        let _ = writeln!(out, "    # page_size: {default}   # at most {max}");
    }
    let rate = match vendor.default_rate_limit() {
        Some(default) => format!("{default}   # the default; requests per s, min or h"),
        None => "10/s   # requests per s, min or h (default: no limit)".to_string(),
    };
    let _ = writeln!(out, "    # rate_limit: {rate}");
    out
}

/// The settings the source must carry: the required ones, and when the vendor's own check asks
/// for more (one key or another), the first optional one that satisfies it.
fn needed_settings(vendor: &dyn Vendor) -> Vec<&'static str> {
    let spec = vendor.spec();
    let mut settings = Settings::default();
    if let Some(mode) = spec.auth_modes.first() {
        for name in mode.required {
            if let Some(key) = spec.auth_key(name) {
                settings.set(format!("auth.{name}"), sample(key.kind));
            }
        }
    }
    let mut needed: Vec<&'static str> = Vec::new();
    for key in spec.settings.iter().filter(|k| k.required) {
        settings.set(key.name, sample(key.kind));
        needed.push(key.name);
    }
    if vendor.check(&settings, true).is_empty() {
        return needed;
    }
    for key in spec.settings.iter().filter(|k| !k.required) {
        let mut tried = settings.clone();
        tried.set(key.name, sample(key.kind));
        if vendor.check(&tried, true).is_empty() {
            needed.push(key.name);
            break;
        }
    }
    needed
}

/// A value of `kind` for the vendor's check: what the placeholder stands for.
fn sample(kind: KeyKind) -> Setting {
    match kind {
        KeyKind::Text => Setting::Text("value".into()),
        KeyKind::Secret => Setting::Secret(Secret::new("value")),
        KeyKind::Url => match url::Url::parse("https://example.invalid") {
            Ok(url) => Setting::Url(url),
            Err(_) => Setting::Text("https://example.invalid".into()),
        },
        KeyKind::List => Setting::List(vec!["value".into()]),
    }
}

/// One of the vendor's own source keys, written or commented out.
fn setting(spec: &VendorSpec, key: &Key, written: bool, variables: &mut Vec<String>) -> String {
    let help = match key.required {
        true => format!("required: {}", key.help),
        false => key.help.to_string(),
    };
    if !written {
        let value = match key.kind {
            KeyKind::List => format!("[\"{}\"]", variable(spec.id, key.name)),
            _ => variable(spec.id, key.name),
        };
        return format!("    # {}: {value}   # {help}\n", key.name);
    }
    let value = placeholder(spec, key.name, variables);
    match key.kind {
        KeyKind::List => format!("    {}:   # {help}\n      - {value}\n", key.name),
        _ => format!("    {}: {value}   # {help}\n", key.name),
    }
}

/// `auth:` with the first mode's keys, its optional keys and the other modes commented out.
fn auth(spec: &VendorSpec, variables: &mut Vec<String>) -> String {
    let Some((first, others)) = spec.auth_modes.split_first() else {
        return String::new();
    };
    let mut out = format!("    auth:   # {}\n", first.name);
    for name in first.required {
        let value = placeholder(spec, name, variables);
        let _ = writeln!(out, "      {name}: {value}");
    }
    for name in first.optional {
        let help = auth_help(spec, name);
        let _ = writeln!(
            out,
            "      # {name}: {}   # optional{help}",
            variable(spec.id, name)
        );
    }
    for mode in others {
        let _ = writeln!(out, "      # or, {}, instead of the keys above:", mode.name);
        out.push_str(&other_mode(spec, mode));
    }
    out
}

fn other_mode(spec: &VendorSpec, mode: &AuthMode) -> String {
    let mut out = String::new();
    for name in mode.required {
        let _ = writeln!(out, "      # {name}: {}", variable(spec.id, name));
    }
    for name in mode.optional {
        let _ = writeln!(
            out,
            "      # {name}: {}   # optional",
            variable(spec.id, name)
        );
    }
    out
}

/// `; help` for an auth key: its own, else what its kind is.
fn auth_help(spec: &VendorSpec, name: &str) -> String {
    match spec.auth_key(name) {
        Some(key) if !key.help.is_empty() => format!("; {}", key.help),
        Some(key) if key.kind == KeyKind::Url => "; an https:// URL".into(),
        _ => String::new(),
    }
}

/// `filters:` with the required ones written and the others commented out; commented out
/// entirely when none is required (an empty `filters:` is not a mapping).
fn filters(spec: &VendorSpec, variables: &mut Vec<String>) -> String {
    if spec.filters.is_empty() {
        return format!("    # filters: none ({} takes no filters)\n", spec.id);
    }
    let any_required = spec.filters.iter().any(|f| f.required);
    let mut out = match any_required {
        true => "    filters:\n".to_string(),
        false => "    # filters:\n".to_string(),
    };
    for filter in spec.filters {
        let help = format!("{}: {}", filter.kind.describe(), filter.help);
        if filter.required {
            let value = placeholder(spec, filter.name, variables);
            let _ = writeln!(out, "      {}: {value}   # required, {help}", filter.name);
        } else {
            let example = filter_example(spec, filter);
            let _ = writeln!(out, "      # {}: {example}   # {help}", filter.name);
        }
    }
    out
}

/// A value to uncomment: a real one where the kind has one, else a placeholder.
fn filter_example(spec: &VendorSpec, filter: &FilterSpec) -> String {
    match filter.kind {
        FilterKind::Boolean => "true".into(),
        FilterKind::Date => "2025-01-01".into(),
        FilterKind::DateTime => "2025-01-01T00:00:00Z".into(),
        // Quoted when it reads as a number, as the API sends it: `status: "1000"`.
        FilterKind::OneOf(values) => match values.first().copied().unwrap_or("") {
            number if number.parse::<f64>().is_ok() => format!("\"{number}\""),
            word => word.to_string(),
        },
        FilterKind::Integer | FilterKind::Text => variable(spec.id, filter.name),
    }
}

/// `${VENDOR_KEY}`, remembered for the header's list of variables to set.
fn placeholder(spec: &VendorSpec, key: &str, variables: &mut Vec<String>) -> String {
    let value = variable(spec.id, key);
    let name = value
        .trim_start_matches("${")
        .trim_end_matches('}')
        .to_string();
    if !variables.contains(&name) {
        variables.push(name);
    }
    value
}

/// `${CRAYON_ORGANIZATION_ID}` for `crayon`'s `organizationId`: the vendor and the key in
/// upper snake case.
pub fn variable(vendor: &str, key: &str) -> String {
    format!("${{{}_{}}}", upper_snake(vendor), upper_snake(key))
}

fn upper_snake(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    out
}

/// Canonical columns for every vendor, a Parquet file per vendor and one CSV across them.
fn transform_and_outputs(source_count: usize) -> String {
    let csv = match source_count {
        1 => "customers.csv",
        _ => "all-vendors.csv   # no {vendor}: one file across vendors",
    };
    format!(
        "transform:
  fields: canonical   # canonical (the same columns for every vendor) | all | a mapping {{column: path}}
  arrays: explode     # explode (a row per tenant) | json | tables
outputs:
  # Relative paths resolve against --output-dir (else the current folder); s3://, az://, gs:// work too.
  - format: parquet   # parquet | csv | ndjson | xlsx
    path: output/{{pipeline}}/{{vendor}}/{{run_date}}/customers.parquet
  - format: csv
    path: output/{{pipeline}}/{{run_date}}/{csv}
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{EnvMode, parse};

    fn validates(vendors: &[&'static dyn Vendor]) {
        let text = starter(vendors, None);
        let parsed = parse(
            &text,
            Path::new("pipeline.yaml"),
            false,
            EnvMode::Lenient,
            &|_| None,
        );
        if let Err(problems) = parsed {
            panic!("{problems:?}\n{text}");
        }
    }

    #[test]
    fn every_vendors_starter_validates() {
        for vendor in vendors::ALL {
            validates(&[*vendor]);
        }
        validates(vendors::ALL);
    }

    #[test]
    fn placeholders_are_upper_snake_case() {
        assert_eq!(
            variable("crayon", "organizationId"),
            "${CRAYON_ORGANIZATION_ID}"
        );
        assert_eq!(
            variable("adobe_vipmp", "from-created-date"),
            "${ADOBE_VIPMP_FROM_CREATED_DATE}"
        );
        assert_eq!(variable("c3", "client_secret"), "${C3_CLIENT_SECRET}");
    }

    #[test]
    fn a_vendor_needing_one_key_or_another_gets_the_first() {
        let appxite = vendors::find("appxite").unwrap();
        assert_eq!(needed_settings(appxite), ["referer", "organization_id"]);
    }

    #[test]
    fn the_name_comes_from_a_clean_file_name() {
        assert_eq!(
            pipeline_name(Some(Path::new("dir/nightly.yaml"))),
            "nightly"
        );
        assert_eq!(pipeline_name(Some(Path::new("my file.yaml"))), "customers");
        assert_eq!(pipeline_name(None), "customers");
    }
}

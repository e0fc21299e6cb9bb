//! Issue 12, open schema: any field a vendor returns can become a column. Whole runs against a
//! sandbox that drifts (fields beyond each vendor's documentation) map undeclared paths of every
//! vendor into typed columns, and the files are read back and compared with what was served;
//! `undeclared: columns` promotes them; the canonical columns mean the same for every vendor.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use customer_export::model::record::Status;
use customer_export::run::{RunOptions, run_pipeline};
use customer_export::sandbox::{Sandbox, SandboxConfig};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Value, json};

/// A sandbox where every other record drifts, so every page has drift to find.
fn drifting() -> SandboxConfig {
    SandboxConfig {
        customers: 120,
        drift: 0.5,
        ..SandboxConfig::default()
    }
}

/// A pipeline of every vendor against `sandbox`, with `transform` (YAML lines under
/// `transform:`), writing Parquet and CSV per vendor.
fn pipeline(sandbox: &Sandbox, transform: &str) -> String {
    let mut text = String::from("name: open\nsources:\n");
    for (vendor, _) in common::vendors() {
        let id = vendor.id();
        text.push_str(&format!(
            "  - {}\n    base_url: {}\n{}{}\n",
            common::vendor_line(id),
            sandbox.base_url(id),
            common::auth_block(sandbox, id),
            common::demo_block(id, Some(40)),
        ));
    }
    text.push_str(&format!("transform:\n{transform}\noutputs:\n"));
    text.push_str("  - format: parquet\n    path: out/{vendor}.parquet\n");
    text.push_str(
        "  - format: csv\n    path: out/{vendor}.csv\n    csv:\n      spreadsheet_safe: false\n",
    );
    text
}

async fn run(text: &str, root: &Path) -> Value {
    let plan = common::plan(text, &[]);
    let options = RunOptions {
        output_root: customer_export::load::Location::Local(root.to_path_buf()),
        ..Default::default()
    };
    let report = run_pipeline(plan, &options)
        .await
        .expect("the run succeeds");
    let manifest = std::fs::read_to_string(report.manifest_path.unwrap()).unwrap();
    serde_json::from_str(&manifest).unwrap()
}

fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

fn file(root: &Path, vendor: &str, ext: &str) -> PathBuf {
    root.join("out").join(format!("{vendor}.{ext}"))
}

/// The CSV's rows as maps from column to text.
fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// A column of Parquet batches as JSON values (null, text, integer or instant in µs).
fn column(batches: &[RecordBatch], name: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for batch in batches {
        let array = batch
            .column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"));
        for i in 0..array.len() {
            out.push(if array.is_null(i) {
                Value::Null
            } else {
                match array.data_type() {
                    DataType::Utf8 => json!(array.as_string::<i32>().value(i)),
                    DataType::Int64 => json!(array.as_primitive::<Int64Type>().value(i)),
                    DataType::Timestamp(..) => {
                        json!(array.as_primitive::<TimestampMicrosecondType>().value(i))
                    }
                    other => panic!("{name}: unexpected {other}"),
                }
            });
        }
    }
    out
}

/// Microseconds since the epoch of an RFC 3339 instant.
fn micros(text: &str) -> i64 {
    text.parse::<jiff::Timestamp>().unwrap().as_microsecond()
}

/// The record key of a served record, as the files' `id` column holds it.
fn key_of(vendor: &str, record: &Value) -> String {
    let key = common::vendor(vendor).spec().record.key;
    match &record[key] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_paths_of_every_vendor_become_typed_columns_equal_to_what_was_served() {
    let config = drifting();
    let sandbox = common::sandbox(config.clone()).await;
    let root = tempfile::tempdir().unwrap();
    let transform = "  arrays: json\n  fields:\n    id: source_record_id\n    score: {path: accountHealth.score, type: int}\n    reviewed: {path: accountHealth.reviewedAt, type: timestamp}\n    tier: loyaltyTier\n    nowhere: no.such.path\n    _extra: _extra";
    let manifest = run(&pipeline(&sandbox, transform), root.path()).await;
    sandbox.shutdown().await;

    for (vendor, _) in common::vendors() {
        let vendor = vendor.id();
        let served = common::expected(vendor, &config);
        let by_key: BTreeMap<String, &Value> =
            served.iter().map(|r| (key_of(vendor, r), r)).collect();
        let drifted = served.iter().filter(|r| r.get("loyaltyTier").is_some());
        let not_numbers = drifted
            .clone()
            .filter(|r| !r["accountHealth"]["score"].is_number())
            .count();
        assert!(drifted.count() > 10, "{vendor}: too little drift to test");
        assert!(not_numbers > 0, "{vendor}: no wrong-typed score to test");

        // Parquet: declared types, every value as served; a score that is not a number is null,
        // kept in `_extra`, counted.
        let batches = read_parquet(&file(root.path(), vendor, "parquet"));
        let schema = batches[0].schema();
        assert_eq!(
            schema.field_with_name("score").unwrap().data_type(),
            &DataType::Int64
        );
        assert!(matches!(
            schema.field_with_name("reviewed").unwrap().data_type(),
            DataType::Timestamp(..)
        ));
        let ids = column(&batches, "id");
        assert_eq!(ids.len(), served.len(), "{vendor}: one row per record");
        let (score, reviewed, tier, extra) = (
            column(&batches, "score"),
            column(&batches, "reviewed"),
            column(&batches, "tier"),
            column(&batches, "_extra"),
        );
        let csv = read_csv(&file(root.path(), vendor, "csv"));
        assert_eq!(csv.len(), served.len(), "{vendor}: CSV rows");
        for (n, id) in ids.iter().enumerate() {
            let record = by_key[id.as_str().unwrap()];
            let health = &record["accountHealth"];
            let want_score = health["score"].as_i64().map_or(Value::Null, |s| json!(s));
            assert_eq!(score[n], want_score, "{vendor} {id}: score");
            let want_reviewed = health["reviewedAt"]
                .as_str()
                .map_or(Value::Null, |t| json!(micros(t)));
            assert_eq!(reviewed[n], want_reviewed, "{vendor} {id}: reviewedAt");
            assert_eq!(tier[n], record["loyaltyTier"], "{vendor} {id}: tier");
            let want_extra = match &health["score"] {
                Value::String(text) => json!({"score": text}).to_string(),
                _ => String::new(),
            };
            assert_eq!(
                extra[n].as_str().unwrap_or(""),
                want_extra,
                "{vendor} {id}: _extra"
            );
            // The CSV says the same, as text.
            let row = &csv[n];
            assert_eq!(row["id"], id.as_str().unwrap());
            let text = |v: &Value| match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(row["score"], text(&want_score), "{vendor} {id}: CSV score");
            assert_eq!(
                row["reviewed"],
                text(&health["reviewedAt"]),
                "{vendor} {id}: CSV reviewedAt"
            );
            assert_eq!(row["tier"], text(&record["loyaltyTier"]));
            assert_eq!(row["_extra"], want_extra);
            assert_eq!(row["nowhere"], "");
        }
        let source = (manifest["sources"].as_array().unwrap().iter())
            .find(|s| s["vendor"] == vendor)
            .unwrap();
        assert_eq!(
            source["type_mismatches"],
            json!(not_numbers),
            "{vendor}: each wrong-typed score counted"
        );
        // A mapped path no record has is reported, never silently all-null.
        assert_eq!(source["empty_columns"], json!(["nowhere"]), "{vendor}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undeclared_columns_promotes_the_first_pages_drift_to_typed_columns() {
    let config = drifting();
    let sandbox = common::sandbox(config.clone()).await;
    let root = tempfile::tempdir().unwrap();
    let transform = "  fields: all\n  arrays: json\n  undeclared: columns";
    run(&pipeline(&sandbox, transform), root.path()).await;
    sandbox.shutdown().await;

    for (vendor, _) in common::vendors() {
        let vendor = vendor.id();
        let served = common::expected(vendor, &config);
        let batches = read_parquet(&file(root.path(), vendor, "parquet"));
        let schema = batches[0].schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        // The scalar paths of the drift, ordered by path, before the arrays and `_extra`; a
        // score that is sometimes "n/a" is text (no number column would hold it).
        let at = |name: &str| {
            names
                .iter()
                .position(|n| *n == name)
                .unwrap_or_else(|| panic!("{vendor}: no column {name} in {names:?}"))
        };
        assert!(at("accountHealth_reviewedAt") < at("accountHealth_score"));
        assert!(at("accountHealth_score") < at("loyaltyTier"));
        assert!(at("loyaltyTier") < at("_extra"));
        let key = common::vendor(vendor).spec().record.key;
        let keys: Vec<String> = served.iter().map(|r| key_of(vendor, r)).collect();
        let tier = column(&batches, "loyaltyTier");
        let extra = column(&batches, "_extra");
        assert_eq!(tier.len(), served.len(), "{vendor}");
        for (n, record) in served.iter().enumerate() {
            assert_eq!(tier[n], record["loyaltyTier"], "{vendor} {}", keys[n]);
            // Promoted paths are not drift any more: nothing of them in `_extra`.
            let extra = extra[n].as_str().unwrap_or("{}");
            assert!(
                !extra.contains("loyaltyTier") && !extra.contains("accountHealth"),
                "{vendor} {key}={}: {extra}",
                keys[n]
            );
        }
    }
}

#[tokio::test]
async fn canonical_columns_mean_the_same_for_every_vendor() {
    let config = SandboxConfig::default();
    let sandbox = common::sandbox(config.clone()).await;
    let text = pipeline(&sandbox, "  fields: canonical\n  arrays: json");
    let plan = common::plan(&text, &[]);
    let transformers = plan.transformers();
    let vocabulary: HashSet<&str> = [
        Status::Active,
        Status::Inactive,
        Status::Suspended,
        Status::Pending,
        Status::Deleted,
        Status::Unknown,
    ]
    .iter()
    .map(|s| s.word())
    .collect();
    for (source, t) in plan.sources.iter().zip(&transformers) {
        let t = t.get(0);
        let vendor = source.vendor.id();
        let schema = &t.tables()[0].schema;
        let at = |name: &str| schema.iter().position(|c| c.name == name).unwrap();
        let mut ids = HashSet::new();
        let mut rows = Vec::new();
        for record in common::expected(vendor, &config) {
            rows.clear();
            common::rows_of(t, &record, &mut rows);
            let row = &rows[0].1;
            // One status vocabulary; the vendor's value kept beside it.
            let status = match &row[at("status")] {
                customer_export::model::Cell::Str(s) => s.to_string(),
                other => panic!("{vendor}: status {other:?}"),
            };
            assert!(vocabulary.contains(status.as_str()), "{vendor}: {status}");
            if status != "unknown" {
                assert_ne!(
                    row[at("status_raw")],
                    customer_export::model::Cell::Null,
                    "{vendor}: a known status without the vendor's value"
                );
            }
            // `customer_id` is unique per vendor.
            let id = format!("{:?}", row[at("customer_id")]);
            assert!(ids.insert(id.clone()), "{vendor}: customer_id {id} twice");
        }
        assert!(!ids.is_empty());
    }
}

#[tokio::test]
async fn the_adobe_rows_carry_country_and_contact_email_from_the_customer_resource() {
    let config = SandboxConfig::default();
    let sandbox = common::sandbox(config.clone()).await;
    let vendor = "adobe_vipmp";
    let text = pipeline(&sandbox, "  fields: canonical");
    let plan = common::plan(&text, &[]);
    let i = plan
        .sources
        .iter()
        .position(|s| s.vendor.id() == vendor)
        .unwrap();
    let transforms = plan.transformers();
    let t = transforms[i].get(0);
    let schema = &t.tables()[0].schema;
    let at = |name: &str| schema.iter().position(|c| c.name == name).unwrap();
    let mut rows = Vec::new();
    let served = common::expected(vendor, &config);
    assert!(!served.is_empty());
    for record in &served {
        rows.clear();
        common::rows_of(t, record, &mut rows);
        assert_eq!(
            rows.len(),
            1,
            "one row per customer: contacts are not exploded"
        );
        let row = &rows[0].1;
        let text = |i: usize| match &row[i] {
            customer_export::model::Cell::Str(s) => json!(s.as_ref()),
            customer_export::model::Cell::Null => Value::Null,
            other => panic!("{other:?}"),
        };
        let profile = &record["companyProfile"];
        assert_eq!(text(at("country")), profile["address"]["country"]);
        assert_eq!(text(at("contact_email")), profile["contacts"][0]["email"]);
        assert_ne!(text(at("contact_email")), Value::Null);
    }
}

#[tokio::test]
async fn snake_case_names_every_vendors_columns_so_their_files_union() {
    let sandbox = common::sandbox(SandboxConfig::default()).await;
    let text = pipeline(
        &sandbox,
        "  fields: all\n  arrays: tables\n  naming: snake_case",
    )
    .replace("{vendor}.", "{vendor}-{table}.");
    let plan = common::plan(&text, &[]);
    for t in plan.transformers() {
        for table in t.get(0).tables() {
            let mut seen = HashSet::new();
            for c in table.schema.iter() {
                let snake = c
                    .name
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
                assert!(snake, "{}: {}", table.name, c.name);
                assert!(
                    seen.insert(c.name.clone()),
                    "{}: {} twice",
                    table.name,
                    c.name
                );
            }
        }
    }
}

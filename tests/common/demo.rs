//! The demo pipeline (every vendor of the registry; Parquet, NDJSON and CSV) pointed at a sandbox
//! the test started, and the checks that read every output back and compare it with the sandbox's
//! truth.
//! Included with `#[path = "common/demo.rs"] mod demo;` by the reliability tests only.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use customer_export::load::local::{JOURNAL_FILE, LOCK_FILE};
use customer_export::model::{Cell, VendorRecord};
use customer_export::pipeline::Plan;
use customer_export::run::{RunOptions, run_pipeline};
use customer_export::sandbox::{Sandbox, SandboxConfig};
use customer_export::transform::Transformer;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// The columns compared row by row: together they name each exported row.
pub const KEY_COLUMNS: [&str; 4] = ["vendor", "customer_id", "tenant_id", "source_record_id"];

/// Pages of the demo: small, so that a few hundred customers take many requests.
const DEMO_PAGE_SIZE: u32 = 40;

/// The demo pipeline against `sandbox`: every vendor, Parquet + NDJSON per vendor, one CSV across
/// vendors. `per_source` is appended to every source block (indented by 4).
pub fn demo_text(sandbox: &Sandbox, name: &str, on_error: &str, per_source: &str) -> String {
    let mut text = format!("name: {name}\non_error: {on_error}\nsources:\n");
    for (vendor, _) in crate::common::vendors() {
        let vendor = vendor.id();
        text.push_str(&format!(
            "  - {}\n    base_url: {}\n{}",
            crate::common::vendor_line(vendor),
            sandbox.base_url(vendor),
            crate::common::auth_block(sandbox, vendor)
        ));
        let demo = crate::common::demo_block(vendor, Some(DEMO_PAGE_SIZE));
        for block in [demo.as_str(), per_source] {
            if !block.is_empty() {
                text.push_str(block);
                text.push('\n');
            }
        }
    }
    text.push_str(
        "transform:\n  fields: canonical\n  arrays: explode\noutputs:\n  - format: parquet\n    path: out/{pipeline}/{vendor}/customers.parquet\n  - format: ndjson\n    path: out/{pipeline}/{vendor}/customers.ndjson\n  - format: csv\n    path: out/{pipeline}/all-vendors.csv\n",
    );
    text
}

/// The rows (as [`KEY_COLUMNS`] text) the plan must export from a sandbox with `config`, by vendor,
/// computed by the real transform over the sandbox's truth.
pub fn expected_rows(plan: &Plan, config: &SandboxConfig) -> BTreeMap<String, Vec<Vec<String>>> {
    let vendors: Vec<VendorRecord> = plan.sources.iter().map(|s| s.vendor.record()).collect();
    let mut out = BTreeMap::new();
    for source in &plan.sources {
        let id = source.vendor.id();
        let transformer = Transformer::new(source.vendor.record(), &plan.transforms[0], &vendors);
        let schema = transformer.tables()[0].schema.clone();
        let at: Vec<usize> = KEY_COLUMNS
            .iter()
            .map(|k| {
                schema
                    .iter()
                    .position(|c| c.name == *k)
                    .expect("key column")
            })
            .collect();
        let records = crate::common::expected(id, config);
        assert!(!records.is_empty(), "{id}: the sandbox serves nothing");
        let mut rows = Vec::new();
        let mut buf = Vec::new();
        for record in &records {
            buf.clear();
            crate::common::rows_of(&transformer, record, &mut buf);
            for (table, row) in &buf {
                if *table == 0 {
                    rows.push(at.iter().map(|&i| cell_text(&row[i])).collect());
                }
            }
        }
        out.insert(id.to_string(), rows);
    }
    out
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Str(s) => s.to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::Float(f) => f.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Timestamp(t) => t.to_string(),
        Cell::Date(d) => d.to_string(),
    }
}

/// Runs `plan` in-process with `root` as the output root.
pub async fn run(
    plan: Plan,
    root: &Path,
) -> Result<customer_export::run::RunReport, customer_export::run::RunError> {
    let options = RunOptions {
        output_root: customer_export::load::Location::Local(root.to_path_buf()),
        dry_run: false,
        ..Default::default()
    };
    run_pipeline(plan, &options).await
}

/// Reads every output of a demo run under `root` and checks it holds exactly `want`: the same rows
/// in the same order, per vendor in Parquet and NDJSON and across vendors in the CSV; no
/// duplicate; every expected customer id present. Also checks the manifest's row counts.
pub fn check_outputs(root: &Path, name: &str, want: &BTreeMap<String, Vec<Vec<String>>>) {
    let dir = root.join("out").join(name);
    let mut all_csv = Vec::new();
    for (vendor, _) in crate::common::vendors() {
        let vendor = vendor.id();
        let rows = &want[vendor];
        let parquet = read_parquet(&dir.join(vendor).join("customers.parquet"));
        assert_rows(&parquet, rows, &format!("{vendor} parquet"));
        let ndjson = read_ndjson(&dir.join(vendor).join("customers.ndjson"));
        assert_rows(&ndjson, rows, &format!("{vendor} ndjson"));
        all_csv.extend(rows.iter().cloned());
    }
    let csv = read_csv(&dir.join("all-vendors.csv"));
    assert_rows(&csv, &all_csv, "all-vendors csv");

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("manifest"))
            .expect("manifest is JSON");
    assert_eq!(manifest["status"], "succeeded", "{manifest:#}");
    for output in manifest["outputs"].as_array().expect("outputs") {
        // Paths are relative to the manifest's folder.
        let path = dir.join(output["path"].as_str().expect("path"));
        let bytes = std::fs::metadata(&path)
            .expect("listed output exists")
            .len();
        assert_eq!(output["bytes"].as_u64(), Some(bytes), "{}", path.display());
    }
    assert_no_temp_files(root);
}

fn assert_rows(got: &[Vec<String>], want: &[Vec<String>], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: row count");
    let distinct: HashSet<&Vec<String>> = got.iter().collect();
    assert_eq!(distinct.len(), got.len(), "{what}: duplicate rows");
    if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
        panic!(
            "{what}: row {i} differs: got {:?}, want {:?}",
            got[i], want[i]
        );
    }
}

/// No temporary or backup file anywhere under `root`, and an empty journal.
pub fn assert_no_temp_files(root: &Path) {
    let temps = temp_files(root);
    assert!(temps.is_empty(), "temporary files left: {temps:?}");
    let journal = root.join(JOURNAL_FILE);
    if journal.exists() {
        assert_eq!(
            std::fs::read(&journal).unwrap(),
            b"",
            "the journal is not empty"
        );
    }
}

/// Every `.*.cetmp` (temporary) and `.*.cebak` (backup) file under `root`.
pub fn temp_files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(".cetmp")
                || path.to_string_lossy().ends_with(".cebak")
            {
                found.push(path);
            }
        }
    }
    found
}

/// Every regular file under `root` with its bytes, by path; the root's lock and journal (which
/// every run rewrites) are not outputs and are left out.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                stack.push(path);
            } else if name != LOCK_FILE && name != JOURNAL_FILE {
                files.insert(path.clone(), std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    files
}

pub fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("{} does not open: {e}", path.display()));
    let headers = reader.headers().expect("header row").clone();
    let at: Vec<usize> = KEY_COLUMNS
        .iter()
        .map(|k| headers.iter().position(|h| h == *k).expect("key column"))
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            at.iter().map(|&i| r[i].to_string()).collect()
        })
        .collect()
}

pub fn read_ndjson(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} does not open: {e}", path.display()));
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: bad line {line:?}: {e}", path.display()));
            KEY_COLUMNS
                .iter()
                .map(|k| match &v[*k] {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

pub fn read_parquet(path: &Path) -> Vec<Vec<String>> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{} does not open: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap_or_else(|e| panic!("{}: not Parquet: {e}", path.display()))
        .build()
        .expect("reader");
    let mut rows = Vec::new();
    for batch in reader {
        let batch: RecordBatch = batch.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let columns: Vec<&dyn Array> = KEY_COLUMNS
            .iter()
            .map(|k| batch.column_by_name(k).expect("key column").as_ref())
            .collect();
        for i in 0..batch.num_rows() {
            rows.push(columns.iter().map(|c| array_text(*c, i)).collect());
        }
    }
    rows
}

fn array_text(array: &dyn Array, i: usize) -> String {
    if array.is_null(i) {
        return String::new();
    }
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value(i).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(i).to_string(),
        other => panic!("unexpected key column type {other:?}"),
    }
}

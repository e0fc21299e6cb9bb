//! `customer-export diff` against the sandbox's truth: the same pipeline runs on two "nights" —
//! the sandbox serving more Valomnia customers, fewer Crayon ones, and a loyalty tier rolled out
//! to some records (schema drift) — and the change set `diff` writes is exactly the one the two
//! datasets imply, customer by customer and field by field, computed here by the real transform
//! over the sandbox's records. Also: `--key`, `--fail-on-change`, and inputs it cannot use.

mod common;
#[path = "common/xlsx.rs"]
mod xlsx;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

use customer_export::model::{Cell, VendorRecord};
use customer_export::pipeline::Plan;
use customer_export::run::{RunOptions, run_pipeline};
use customer_export::sandbox::{Sandbox, SandboxConfig};
use customer_export::transform::Transformer;
use serde_json::Value;

const VENDORS: [&str; 2] = ["crayon", "valomnia"];
const COLUMNS: [&str; 5] = ["vendor", "customer_id", "name", "status", "tier"];

fn pipeline(sandbox: &Sandbox) -> String {
    let mut text = String::from("name: nightly\nsources:\n");
    for vendor in VENDORS {
        text.push_str(&format!(
            "  - vendor: {vendor}\n    base_url: {}\n{}\n{}\n",
            sandbox.base_url(vendor),
            common::auth_block(sandbox, vendor),
            common::demo_block(vendor, Some(50))
        ));
    }
    // `tier` is a path the vendors do not declare yet: it appears with the drift.
    text.push_str("transform:\n  fields:\n    vendor: vendor\n    customer_id: customer_id\n    name: customer_name\n    status: status\n    tier: loyaltyTier\n  arrays: json\noutputs:\n  - format: parquet\n    path: out/{vendor}/customers.parquet\n");
    text
}

/// Runs the pipeline against a sandbox serving `config`, into `root`.
async fn export(config: &SandboxConfig, root: &Path) -> Plan {
    export_against(config, root, None).await
}

/// [`export`], with the change set against `previous` (`run --diff-against`).
async fn export_against(config: &SandboxConfig, root: &Path, previous: Option<&Path>) -> Plan {
    let sandbox = common::sandbox(config.clone()).await;
    let plan = common::plan(&pipeline(&sandbox), &[]);
    let options = RunOptions {
        output_root: customer_export::load::Location::Local(root.to_path_buf()),
        diff_against: previous.map(|p| p.to_string_lossy().into_owned()),
        ..Default::default()
    };
    run_pipeline(plan.clone(), &options)
        .await
        .expect("the export runs");
    sandbox.shutdown().await;
    plan
}

/// The rows the plan exports from a sandbox serving `config`, by (vendor, customer_id).
fn truth(plan: &Plan, config: &SandboxConfig) -> BTreeMap<(String, String), Vec<Option<String>>> {
    let vendors: Vec<VendorRecord> = plan.sources.iter().map(|s| s.vendor.record()).collect();
    let mut rows = BTreeMap::new();
    for source in &plan.sources {
        let transformer = Transformer::new(source.vendor.record(), &plan.transforms[0], &vendors);
        for record in common::expected(source.vendor.id(), config) {
            let mut out = Vec::new();
            common::rows_of(&transformer, &record, &mut out);
            for (_, row) in out {
                let cells: Vec<Option<String>> = (row.iter())
                    .map(|c| match c {
                        Cell::Null => None,
                        Cell::Str(s) => Some(s.to_string()),
                        other => panic!("a text column holds {other:?}"),
                    })
                    .collect();
                let key = (cells[0].clone().unwrap(), cells[1].clone().unwrap());
                rows.insert(key, cells);
            }
        }
    }
    rows
}

type Line = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The change set two truths imply: (change, vendor, customer_id, column, old, new).
fn expected_changes(
    old: &BTreeMap<(String, String), Vec<Option<String>>>,
    new: &BTreeMap<(String, String), Vec<Option<String>>>,
) -> BTreeSet<Line> {
    let mut lines = BTreeSet::new();
    for (key, row) in new {
        match old.get(key) {
            None => {
                lines.insert((
                    "added".into(),
                    key.0.clone(),
                    key.1.clone(),
                    None,
                    None,
                    None,
                ));
            }
            Some(before) => {
                for (i, column) in COLUMNS.iter().enumerate().skip(2) {
                    if before[i] != row[i] {
                        let column = Some(column.to_string());
                        let (was, now) = (before[i].clone(), row[i].clone());
                        lines.insert((
                            "changed".into(),
                            key.0.clone(),
                            key.1.clone(),
                            column,
                            was,
                            now,
                        ));
                    }
                }
            }
        }
    }
    for key in old.keys().filter(|k| !new.contains_key(*k)) {
        lines.insert((
            "removed".into(),
            key.0.clone(),
            key.1.clone(),
            None,
            None,
            None,
        ));
    }
    lines
}

fn customer_export(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_customer-export"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The change set a run wrote as Parquet, as [`Line`]s.
fn read_parquet_changes(path: &Path) -> BTreeSet<Line> {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    let file = std::fs::File::open(path).expect("the change set");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut lines = BTreeSet::new();
    for batch in reader {
        let batch = batch.unwrap();
        let text = |name: &str, i: usize| {
            let column = batch.column_by_name(name).unwrap().as_string::<i32>();
            (!column.is_null(i)).then(|| column.value(i).to_string())
        };
        for i in 0..batch.num_rows() {
            let (vendor, id) = (text("vendor", i).unwrap(), text("customer_id", i).unwrap());
            let line = (
                text("change", i).unwrap(),
                vendor,
                id,
                text("column", i),
                text("old", i),
                text("new", i),
            );
            lines.insert(line);
        }
    }
    lines
}

fn read_changes(path: &Path) -> BTreeSet<Line> {
    let text = |v: &Value, k: &str| v[k].as_str().map(str::to_string);
    (std::fs::read_to_string(path)
        .expect("the change set")
        .lines())
    .map(|line| {
        let v: Value = serde_json::from_str(line).unwrap();
        let vendor = text(&v, "vendor").unwrap();
        let id = text(&v, "customer_id").unwrap();
        (
            text(&v, "change").unwrap(),
            vendor,
            id,
            text(&v, "column"),
            text(&v, "old"),
            text(&v, "new"),
        )
    })
    .collect()
}

/// The sandbox on two nights: `customers` of each vendor, then 10 % more Valomnia customers, 13 %
/// fewer Crayon ones, and a loyalty tier rolled out to a fifth of the records (drift).
fn two_nights(customers: u64) -> (SandboxConfig, SandboxConfig) {
    let first = SandboxConfig {
        customers,
        drift: 0.0,
        ..SandboxConfig::default()
    };
    let second = SandboxConfig {
        vendor_customers: vec![
            ("valomnia".into(), customers + customers / 10),
            ("crayon".into(), customers - customers * 13 / 100),
        ],
        drift: 0.2,
        ..first.clone()
    };
    (first, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_reports_exactly_what_the_sandbox_changed_between_two_nights() {
    let (first, second) = two_nights(300);
    let dir = tempfile::tempdir().unwrap();
    let (night1, night2) = (dir.path().join("night1"), dir.path().join("night2"));
    let plan = export(&first, &night1).await;
    export(&second, &night2).await;

    let want = expected_changes(&truth(&plan, &first), &truth(&plan, &second));
    let count = |kind: &str| want.iter().filter(|l| l.0 == kind).count();
    assert!(count("added") >= 30, "valomnia grew: {}", count("added"));
    assert!(
        count("removed") > 0 && count("changed") > 0,
        "crayon shrank, tiers came"
    );

    let changes = dir.path().join("changes.ndjson");
    let out = customer_export(&[
        "diff",
        night1.join("out").to_str().unwrap(),
        night2.join("out").to_str().unwrap(),
        "--output",
        changes.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(read_changes(&changes), want);
    let total = stdout.lines().find(|l| l.starts_with("total")).unwrap();
    let numbers: Vec<&str> = total.split_whitespace().skip(1).collect();
    let changed_customers: BTreeSet<(&str, &str)> = (want.iter())
        .filter(|l| l.0 == "changed")
        .map(|l| (l.1.as_str(), l.2.as_str()))
        .collect();
    let expected_total = [count("added"), count("removed"), changed_customers.len()];
    assert_eq!(
        numbers[..3],
        expected_total
            .map(|n| n.to_string())
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()[..],
        "{stdout}"
    );

    // Nothing changed against itself; --fail-on-change exits 1 only when something did.
    let same = customer_export(&[
        "diff",
        night1.join("out").to_str().unwrap(),
        night1.join("out").to_str().unwrap(),
        "--fail-on-change",
    ]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    let differ = customer_export(&[
        "diff",
        night1.join("out").to_str().unwrap(),
        night2.join("out").to_str().unwrap(),
        "--fail-on-change",
    ]);
    assert_eq!(differ.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_does_not_tell_rows_apart_or_a_missing_input_is_a_usage_error() {
    let config = SandboxConfig {
        customers: 50,
        ..SandboxConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    export(&config, dir.path()).await;
    let out_dir = dir.path().join("out");
    let out_dir = out_dir.to_str().unwrap();
    let out = customer_export(&["diff", out_dir, out_dir, "--key", "vendor"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("share their key with another row") && err.contains("--key"),
        "{err}"
    );
    let out = customer_export(&["diff", out_dir, out_dir, "--key", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--key nope: not a column of both exports")
    );
    for missing in [
        "/nonexistent/manifest.json",
        "/nonexistent/customers.parquet",
    ] {
        let out = customer_export(&["diff", missing, out_dir]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{missing}: {err}");
        assert!(err.contains(missing), "{err}");
    }
}

/// `run --diff-against`: the second night's run writes its change set beside its manifest, lists
/// it there, and it holds what the sandbox changed; a first night (nothing at the path) publishes
/// without one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_writes_its_change_set_against_the_previous_export() {
    let (first, second) = two_nights(200);
    let dir = tempfile::tempdir().unwrap();
    let (night1, night2) = (dir.path().join("night1"), dir.path().join("night2"));
    let missing = dir.path().join("no-export-yet");
    let plan = export_against(&first, &night1, Some(&missing)).await;
    assert!(
        !night1.join("out/changes.parquet").exists(),
        "a first night has no change set"
    );
    export_against(&second, &night2, Some(&night1.join("out/manifest.json"))).await;

    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(night2.join("out/manifest.json")).unwrap())
            .unwrap();
    let listed: Vec<&str> = (manifest["outputs"].as_array().unwrap().iter())
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert!(listed.contains(&"changes.parquet"), "{listed:?}");
    let want = expected_changes(&truth(&plan, &first), &truth(&plan, &second));
    assert!(!want.is_empty());
    assert_eq!(
        read_parquet_changes(&night2.join("out/changes.parquet")),
        want
    );
}

/// (change, id, column, old, new)
type Brief = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Two CSV files with columns of their own: the shared columns are compared, the others listed;
/// an empty CSV cell reads as empty on both sides, and `--key` picks the identity.
#[test]
fn csv_files_with_different_columns_compare_on_the_shared_ones() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.csv");
    let new = dir.path().join("new.csv");
    std::fs::write(
        &old,
        "Id,Name,Zip,Legacy\n1,Alpha,06000,x\n2,Beta,,y\n3,Gamma,1000,z\n",
    )
    .unwrap();
    std::fs::write(
        &new,
        "Id,Name,Zip,Score\n1,Alpha,06000,5\n2,Beta Ltd,,7\n4,Delta,2000,9\n",
    )
    .unwrap();
    // `diff OLD NEW --key Id --output {output}`.
    let diff_to = |output: &Path| {
        customer_export(&[
            "diff",
            old.to_str().unwrap(),
            new.to_str().unwrap(),
            "--key",
            "Id",
            "--output",
            output.to_str().unwrap(),
        ])
    };
    let changes = dir.path().join("changes.ndjson");
    let out = diff_to(&changes);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("columns only in OLD (not compared): Legacy"),
        "{stdout}"
    );
    assert!(
        stdout.contains("columns only in NEW (not compared): Score"),
        "{stdout}"
    );
    let lines: Vec<Value> = (std::fs::read_to_string(&changes).unwrap().lines())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let brief: Vec<Brief> = (lines.iter())
        .map(|v| {
            let text = |k: &str| v[k].as_str().map(str::to_string);
            (
                text("change").unwrap(),
                text("Id").unwrap(),
                text("column"),
                text("old"),
                text("new"),
            )
        })
        .collect();
    assert_eq!(
        brief,
        [
            ("added".into(), "4".into(), None, None, None),
            (
                "changed".into(),
                "2".into(),
                Some("Name".into()),
                Some("Beta".into()),
                Some("Beta Ltd".into())
            ),
            ("removed".into(), "3".into(), None, None, None),
        ]
    );
    // As a spreadsheet: one sheet per kind of change, each with its own frozen header.
    let sheet = dir.path().join("changes.xlsx");
    let out = diff_to(&sheet);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let book = xlsx::Book::read(&sheet);
    let names: Vec<&str> = book.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["added", "changed", "removed"]);
    let text = |s: &xlsx::Sheet| -> Vec<Vec<String>> {
        (s.grid().iter())
            .map(|row| {
                row.iter()
                    .map(|c| c.as_ref().map_or(String::new(), |c| c.value.clone()))
                    .collect()
            })
            .collect()
    };
    assert!(book.sheets.iter().all(|s| s.header_frozen()));
    assert_eq!(text(&book.sheets[0])[1][..2], ["added", "4"]);
    assert_eq!(
        text(&book.sheets[1])[1],
        ["changed", "2", "Name", "Beta", "Beta Ltd"]
    );
    assert_eq!(text(&book.sheets[2])[1][..2], ["removed", "3"]);

    // Without --key, files that are not canonical exports ask for one.
    let out = customer_export(&["diff", old.to_str().unwrap(), new.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--key Id"));
}

/// An object-store URL whose store the environment does not set up (no Azure account here) is a
/// usage error naming the URL and where credentials come from, before any request; a URL holding
/// a password is refused without echoing it.
#[test]
fn a_store_url_without_credentials_or_with_a_password_is_a_usage_error() {
    let diff = |old: &str| {
        Command::new(env!("CARGO_BIN_EXE_customer-export"))
            .env_clear()
            .args(["diff", old, "az://lake/night2"])
            .output()
            .expect("the binary runs")
    };
    let out = diff("az://lake/night1");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("az://lake/night1: cannot use the store")
            && err.contains("credentials and settings come from the environment"),
        "{err}"
    );
    let out = diff("s3://AKIDEXAMPLE:hunter2secret@lake/night1");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("holds a password") && !err.contains("hunter2secret"),
        "{err}"
    );
}

/// `run --diff-against` compares the outputs that identify customers: a pipeline whose outputs
/// are all `fields: all` (no vendor, customer_id) is refused before it runs, naming what to add;
/// beside a `fields: all` Parquet, a canonical CSV is the one compared (the change set is CSV).
#[test]
fn run_diff_against_compares_the_outputs_with_customer_keys() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let file = at("raw.yaml");
    let init = customer_export(&["init", "valomnia", "--output", &file]);
    assert!(init.status.success(), "{init:?}");
    let starter = std::fs::read_to_string(&file).unwrap();
    let raw_parquet =
        "  - format: parquet\n    path: out/raw.parquet\n    transform:\n      fields: all\n";
    let only_raw = format!(
        "{}outputs:\n{raw_parquet}",
        starter.split("outputs:").next().unwrap()
    );
    std::fs::write(&file, &only_raw).unwrap();
    let (night1, night2) = (at("night1"), at("night2"));
    let run = |previous: &str, out: &str| {
        customer_export(&[
            "run",
            &file,
            "--sandbox-customers",
            "30",
            "--quiet",
            "--output-dir",
            out,
            "--diff-against",
            previous,
        ])
    };
    let refused = run(&at("nothing"), &night1);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(
        err.contains("has no Parquet or CSV output with vendor and customer_id columns"),
        "{err}"
    );
    assert!(!Path::new(&night1).exists(), "nothing ran");

    let with_csv = format!("{only_raw}  - format: csv\n    path: out/customers.csv\n");
    std::fs::write(&file, with_csv).unwrap();
    for (previous, out) in [(at("nothing"), &night1), (format!("{night1}/out"), &night2)] {
        let ran = run(&previous, out);
        assert!(
            ran.status.success(),
            "{}",
            String::from_utf8_lossy(&ran.stderr)
        );
    }
    let changes = std::fs::read_to_string(format!("{night2}/out/changes.csv")).unwrap();
    assert_eq!(
        changes.lines().next(),
        Some("change,vendor,customer_id,tenant_id,column,old,new")
    );
    // The same data both nights: the change set is its header alone.
    assert_eq!(changes.lines().count(), 1, "{changes}");
}

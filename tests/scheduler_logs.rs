//! What a scheduler parses: with `--log-format json`, every stderr line is a JSON object, numbers
//! are numbers (an unknown total is absent, never `"None"`), and the run ends with one
//! `run_finished` event carrying its status, id, counts, manifest and time — on failure too.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_customer-export");

/// Runs the demo (embedded sandbox) into `out` with JSON logs; returns (exit code, events).
fn run_demo(out: &Path) -> (Option<i32>, Vec<Value>) {
    let output = Command::new(BIN)
        .args([
            "run",
            "pipelines/demo.yaml",
            "--log-format",
            "json",
            "--output-dir",
        ])
        .arg(out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let events = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    (output.status.code(), events)
}

fn fields(event: &Value) -> &Value {
    &event["fields"]
}

#[test]
fn a_run_ends_with_typed_events_and_a_run_finished_event() {
    let dir = tempfile::tempdir().unwrap();
    let (code, events) = run_demo(dir.path());
    assert_eq!(code, Some(0), "{events:?}");
    let summaries: Vec<&Value> = events
        .iter()
        .map(fields)
        .filter(|f| f["event"] == "source_summary")
        .collect();
    assert_eq!(summaries.len(), 5, "{events:?}");
    for s in &summaries {
        assert!(s["records"].is_u64() && s["pages"].is_u64(), "{s}");
        let total = &s["api_total"];
        assert!(
            total.is_null() || total.is_u64(),
            "api_total must be a number or absent: {s}"
        );
    }
    let crayon = summaries.iter().find(|s| s["source"] == "crayon").unwrap();
    assert_eq!(crayon["api_total"], 800);

    let last = fields(events.last().unwrap());
    assert_eq!(last["event"], "run_finished", "{last}");
    assert_eq!(last["status"], "succeeded");
    assert_eq!(last["sources"], 5);
    assert_eq!(last["failed_sources"], 0);
    let records: u64 = summaries
        .iter()
        .map(|s| s["records"].as_u64().unwrap())
        .sum();
    assert_eq!(last["records"], records);
    assert!(last["elapsed_s"].as_f64().unwrap() > 0.0);
    assert!(
        last["run_id"].as_str().is_some_and(|id| id.len() == 36),
        "{last}"
    );
    let manifest = last["manifest"].as_str().unwrap();
    let written: Value = serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    assert_eq!(written["run_id"], last["run_id"]);
}

#[test]
fn a_failed_run_ends_with_a_run_finished_event_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    // The output root is a file: nothing can be written under it.
    let blocked = dir.path().join("a-file");
    std::fs::write(&blocked, b"").unwrap();
    let (code, events) = run_demo(&blocked);
    assert_eq!(code, Some(1), "{events:?}");
    let last = fields(events.last().unwrap());
    assert_eq!(last["event"], "run_finished", "{last}");
    assert_eq!(last["status"], "failed");
    assert!(
        last["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{last}"
    );
    assert_eq!(events.last().unwrap()["level"], "ERROR");
}

#[test]
fn pipeline_warnings_are_json_events_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sheet.yaml");
    std::fs::write(
        &file,
        "name: sheet\nsandbox: true\nsources:\n  - vendor: crayon\n    filters:\n      organizationId: 4703\n  - vendor: adobe_vipmp\n    reseller_id: \"1000396138\"\ntransform:\n  fields:\n    id: Id\noutputs:\n  - format: csv\n    path: out/sheet.csv\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args([
            "run",
            "sheet.yaml",
            "--log-format",
            "json",
            "--output-dir",
            "out",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let events: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let warning = events
        .iter()
        .find(|e| e["fields"]["event"] == "pipeline_warning")
        .expect("a warning event");
    assert_eq!(warning["level"], "WARN");
    assert!(
        warning["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("adobe_vipmp does not"),
        "{warning}"
    );
}

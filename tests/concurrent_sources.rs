//! Sources run at once (`sources_at_once:`, default all): while the sandbox serves them, it sees
//! several vendors' listings in progress together (and never with `sources_at_once: 1`); files
//! several sources share hold them in pipeline order, so the bytes are those of the sources run
//! one after the other — whichever finishes first; a source failing under `on_error: fail` stops
//! the others before they finish and nothing is published.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use customer_export::load::Location;
use customer_export::run::{RunError, RunOptions, RunReport, run_pipeline};
use customer_export::sandbox::{Sandbox, SandboxConfig};

/// Crayon first, with the most customers and one page at a time: it finishes last, so the later
/// sources write their rows of the shared files before their turn.
const VENDORS: [&str; 3] = ["crayon", "valomnia", "adobe_vipmp"];

fn config() -> SandboxConfig {
    SandboxConfig {
        customers: 150,
        vendor_customers: vec![("crayon".into(), 500)],
        list_delay_ms: 15,
        drift: 0.1,
        ..SandboxConfig::default()
    }
}

/// The three sources into two files they share (CSV, Parquet) and a NDJSON file each.
fn pipeline(sandbox: &Sandbox, vendors: &[&str], top: &str) -> String {
    let mut text = format!("name: together\n{top}sources:\n");
    for vendor in vendors {
        text.push_str(&format!(
            "  - vendor: {vendor}\n    base_url: {}\n{}\n{}\n    concurrency: 1\n",
            sandbox.base_url(vendor),
            common::auth_block(sandbox, vendor),
            common::demo_block(vendor, Some(50)),
        ));
    }
    text.push_str(
        "outputs:\n  - format: csv\n    path: out/all.csv\n  - format: parquet\n    path: out/all.parquet\n  - format: ndjson\n    path: out/{vendor}.ndjson\n",
    );
    text
}

/// Runs `text` into `root` against `sandbox`, watching the sandbox's counts as it goes: the
/// run's result, and the most vendors seen with a listing begun and not yet at its final count.
async fn run_watched(
    sandbox: &Sandbox,
    text: &str,
    root: &Path,
) -> (Result<RunReport, RunError>, usize) {
    let plan = common::plan(text, &[]);
    let options = RunOptions {
        output_root: Location::Local(root.to_path_buf()),
        ..Default::default()
    };
    let done = Arc::new(AtomicBool::new(false));
    let mut snapshots = Vec::new();
    let run = {
        let done = done.clone();
        tokio::spawn(async move {
            let result = run_pipeline(plan, &options).await;
            done.store(true, Ordering::SeqCst);
            result
        })
    };
    while !done.load(Ordering::SeqCst) {
        snapshots.push(list_requests(sandbox));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let result = run.await.expect("the run's task");
    let last = list_requests(sandbox);
    let in_progress = |s: &BTreeMap<String, u64>| {
        (s.iter())
            .filter(|(vendor, n)| **n > 0 && **n < last[*vendor])
            .count()
    };
    let most = snapshots.iter().map(in_progress).max().unwrap_or(0);
    (result, most)
}

fn list_requests(sandbox: &Sandbox) -> BTreeMap<String, u64> {
    (sandbox.stats().vendors.into_iter())
        .map(|(vendor, stats)| (vendor, stats.list_requests))
        .collect()
}

/// Every file under `dir` but the manifest (it names the run), by relative path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("out")).expect("the outputs") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name != "manifest.json" {
            found.insert(name, std::fs::read(&path).unwrap());
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_at_once_write_the_bytes_of_sources_one_after_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let (together, one_by_one) = (dir.path().join("together"), dir.path().join("one-by-one"));

    let sandbox = common::sandbox(config()).await;
    let text = pipeline(&sandbox, &VENDORS, "");
    let (result, most) = run_watched(&sandbox, &text, &together).await;
    result.expect("the run succeeds");
    sandbox.shutdown().await;
    assert!(most >= 2, "the sources ran one at a time: {most}");

    let sandbox = common::sandbox(config()).await;
    let text = pipeline(&sandbox, &VENDORS, "sources_at_once: 1\n");
    let (result, most) = run_watched(&sandbox, &text, &one_by_one).await;
    result.expect("the run succeeds");
    sandbox.shutdown().await;
    assert_eq!(most, 1, "sources_at_once: 1 ran sources together");

    let (a, b) = (files(&together), files(&one_by_one));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        [
            "adobe_vipmp.ndjson",
            "all.csv",
            "all.parquet",
            "crayon.ndjson",
            "valomnia.ndjson"
        ]
    );
    for (name, bytes) in &a {
        assert!(*bytes == b[name], "{name} differs between the two runs");
    }
    // The shared CSV holds crayon's rows first (the most: it finished last), then valomnia's,
    // then adobe's.
    let csv = String::from_utf8(a["all.csv"].clone()).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let vendor_at = (reader.headers().unwrap().iter())
        .position(|h| h == "vendor")
        .unwrap();
    let mut order: Vec<(String, usize)> = Vec::new();
    for record in reader.records() {
        let vendor = record.unwrap()[vendor_at].to_string();
        match order.last_mut() {
            Some((last, n)) if *last == vendor => *n += 1,
            _ => order.push((vendor, 1)),
        }
    }
    let vendors: Vec<&str> = order.iter().map(|(v, _)| v.as_str()).collect();
    assert_eq!(vendors, VENDORS, "{order:?}");
    assert!(order[0].1 > order[1].1, "{order:?}");
}

/// A source whose credentials are refused fails the run (`on_error: fail`): the slow source
/// beside it stops before its last page, and no file is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_source_stops_the_others_and_publishes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = common::sandbox(SandboxConfig {
        customers: 2000,
        list_delay_ms: 30,
        reject_tokens: vec!["crayon".into()],
        ..SandboxConfig::default()
    })
    .await;
    let text = pipeline(&sandbox, &["valomnia", "crayon"], "on_error: fail\n");
    let (result, _) = run_watched(&sandbox, &text, dir.path()).await;
    let stopped = list_requests(&sandbox)["valomnia"];
    sandbox.shutdown().await;
    match result {
        Err(RunError::Sources(failures)) => {
            assert_eq!(failures.len(), 1, "{failures:?}");
            assert!(failures[0].starts_with("crayon"), "{failures:?}");
        }
        other => panic!("the run should fail with crayon's error: {other:?}"),
    }
    // 2000 customers, 50 a page: 40 pages one at a time.
    assert!(stopped < 40, "valomnia was not stopped: {stopped} pages");
    let left: Vec<_> = walk(dir.path());
    assert!(left.is_empty(), "files left: {left:?}");
}

/// The files under `dir`, but the run's own state folder.
fn walk(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with(".customer-export") {
            continue;
        }
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path.display().to_string());
        }
    }
    found
}

//! Issue 12, `customer-export inspect`: the binary reads a source's first pages from the
//! embedded sandbox (which drifts: fields beyond each vendor's documentation) and prints what
//! they hold; `--emit-mapping` prints a `fields:` block that validates and runs.

mod common;

use std::process::{Command, Output};

fn customer_export(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_customer-export"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/demo.yaml");

/// A sandbox pipeline of every vendor in the registry.
fn every_vendor(dir: &std::path::Path) -> String {
    let mut text = String::from("name: every\nsandbox: true\nsources:\n");
    for (vendor, _) in common::vendors() {
        let id = vendor.id();
        text.push_str(&format!(
            "  - {}\n{}\n",
            common::vendor_line(id),
            common::demo_block(id, None)
        ));
    }
    text.push_str("outputs:\n  - format: csv\n    path: out/{vendor}.csv\n");
    let file = dir.join("every.yaml");
    std::fs::write(&file, text).unwrap();
    file.to_str().unwrap().to_string()
}

#[test]
fn inspect_shows_each_vendors_paths_with_drift_marked_undeclared() {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let pipeline = every_vendor(dir.path());
    for (vendor, _) in common::vendors() {
        let id = vendor.id();
        let out = customer_export(
            &[
                "inspect",
                &pipeline,
                "--sandbox",
                "--source",
                id,
                "--pages",
                "5",
            ],
            work.path(),
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{id}: {stderr}");
        let line = |path: &str| {
            stdout
                .lines()
                .find(|l| l.split_whitespace().next() == Some(path))
                .unwrap_or_else(|| panic!("{id}: no line for {path}:\n{stdout}"))
                .to_string()
        };
        let key = vendor.spec().record.key;
        assert!(line(key).ends_with(" declared"), "{id}: {}", line(key));
        assert!(line(key).contains("100%"), "{id}: {}", line(key));
        for drift in ["loyaltyTier", "accountHealth.score"] {
            assert!(
                line(drift).ends_with("undeclared (drift)"),
                "{id}: {}",
                line(drift)
            );
        }
        assert!(stdout.starts_with(&format!("{id}: ")), "{stdout}");
    }
    // Nothing is written.
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0);
}

#[test]
fn an_emitted_mapping_validates_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = customer_export(
        &[
            "inspect",
            DEMO,
            "--sandbox",
            "--source",
            "5",
            "--emit-mapping",
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let emitted = String::from_utf8(out.stdout).unwrap();
    assert!(emitted.contains("transform:\n  fields:\n"), "{emitted}");
    assert!(
        emitted.contains("    company_profile_address_country: companyProfile.address.country\n"),
        "{emitted}"
    );
    let pipeline = format!(
        "name: emitted\nsandbox: true\nsources:\n  - vendor: adobe_vipmp\n    reseller_id: \"1000396138\"\n{emitted}\noutputs:\n  - format: csv\n    path: out/emitted.csv\n"
    );
    let file = dir.path().join("emitted.yaml");
    std::fs::write(&file, pipeline).unwrap();
    let file = file.to_str().unwrap();
    let out = customer_export(&["validate", file], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = customer_export(&["run", file, "--quiet"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut csv = csv::Reader::from_path(dir.path().join("out/emitted.csv")).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
    for column in [
        "customer_id",
        "company_profile_address_country",
        "loyalty_tier",
    ] {
        assert!(header.iter().any(|h| h == column), "{column} in {header:?}");
    }
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.unwrap()).collect();
    let country = header
        .iter()
        .position(|h| h == "company_profile_address_country")
        .unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|r| !r[country].is_empty()));
}

#[test]
fn a_source_the_pipeline_lacks_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = customer_export(
        &["inspect", DEMO, "--sandbox", "--source", "pax8"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "--source \"pax8\": the pipeline has no such source; its sources: c3, crayon"
        ),
        "{stderr}"
    );
}

//! The sandbox as a newcomer uses it, through the binary: its size, seed and fault rate from the
//! pipeline (`sandbox: {customers, seed, faults}`) or the command line (`--sandbox-customers`),
//! and `--sandbox` standing in for every `${VAR}` a production pipeline leaves unset.

use std::path::Path;
use std::process::{Command, Output};

use customer_export::sandbox::{SandboxConfig, expected_records};
use serde_json::Value;

/// Runs the binary in `dir` with an environment holding nothing but `PATH` and `HOME`: no
/// vendor secret can come from the machine running the test.
fn customer_export(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_customer-export"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .output()
        .expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The records each source of the run's manifest counted, by source name.
fn counts(manifest: &Path) -> Vec<(String, u64)> {
    let text = std::fs::read_to_string(manifest).expect("the manifest");
    let manifest: Value = serde_json::from_str(&text).unwrap();
    (manifest["sources"].as_array().unwrap().iter())
        .map(|s| {
            let name = s["name"].as_str().unwrap().to_string();
            (name, s["records"].as_u64().unwrap())
        })
        .collect()
}

fn valomnia_truth(config: &SandboxConfig) -> u64 {
    expected_records("valomnia", config, &[]).unwrap().len() as u64
}

#[test]
fn the_pipeline_sets_the_sandbox_size_seed_and_faults() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = "name: sized\nsandbox:\n  customers: 250\n  seed: 7\n  faults: 0\nsources:\n  - vendor: valomnia\n    page_size: 100\noutputs:\n  - format: csv\n    path: out/{vendor}.csv\n";
    std::fs::write(dir.path().join("p.yaml"), pipeline).unwrap();
    let out = customer_export(dir.path(), &["run", "p.yaml", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let config = SandboxConfig {
        customers: 250,
        seed: 7,
        ..SandboxConfig::default()
    };
    let want = valomnia_truth(&config);
    assert!(want > 100, "more than one page");
    let got = counts(&dir.path().join("out/manifest.json"));
    assert_eq!(got, [("valomnia".to_string(), want)]);
    // The seed is the data: another seed serves other customers.
    let other = expected_records(
        "valomnia",
        &SandboxConfig {
            seed: 8,
            ..config.clone()
        },
        &[],
    );
    assert_ne!(
        other.unwrap(),
        expected_records("valomnia", &config, &[]).unwrap()
    );
}

#[test]
fn sandbox_customers_on_the_command_line_wins_and_implies_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = "name: sized\nsandbox: {customers: 250}\nsources:\n  - vendor: valomnia\noutputs:\n  - format: ndjson\n    path: out/{vendor}.ndjson\n";
    std::fs::write(dir.path().join("p.yaml"), pipeline).unwrap();
    let out = customer_export(
        dir.path(),
        &["run", "p.yaml", "--sandbox-customers", "120", "-q"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let config = SandboxConfig {
        customers: 120,
        ..SandboxConfig::default()
    };
    let got = counts(&dir.path().join("out/manifest.json"));
    assert_eq!(got, [("valomnia".to_string(), valomnia_truth(&config))]);
}

/// The shipped production pipeline names 19 `${VAR}`s and real hosts; with `--sandbox` (and
/// none of the variables set) every source runs against the sandbox with its credentials.
#[test]
fn a_production_pipeline_runs_with_sandbox_alone() {
    let dir = tempfile::tempdir().unwrap();
    let nightly = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/pipelines/nightly-example.yaml"
    );
    let out = customer_export(dir.path(), &["run", nightly]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "without --sandbox the variables are needed"
    );
    assert!(
        stderr(&out).contains("C3_TENANT_ID is not set"),
        "{}",
        stderr(&out)
    );

    let out = customer_export(dir.path(), &["run", nightly, "--sandbox", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = counts(&dir.path().join("manifest.json"));
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["c3", "crayon", "valomnia", "appxite", "adobe_vipmp"]
    );
    for (name, records) in &got {
        assert!(*records > 0, "{name} exported nothing");
    }
}

#[test]
fn a_bad_sandbox_block_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = "name: x\nsandbox:\n  customer: 5\n  faults: 2\nsources:\n  - vendor: valomnia\noutputs:\n  - format: csv\n    path: x.csv\n";
    std::fs::write(dir.path().join("p.yaml"), pipeline).unwrap();
    let out = customer_export(dir.path(), &["validate", "p.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "p.yaml:3:3: sandbox: unknown key `customer` (did you mean `customers`?); allowed: customers, seed, faults\np.yaml:4:11: sandbox.faults: expected a share from 0 to 1 (0.05 is 5 %), found \"2\"\n"
    );
}

/// The first hour's path: `init` writes a starter with `${VAR}`s, and it runs against the sandbox
/// before any credential exists.
#[test]
fn an_init_starter_runs_with_sandbox_alone() {
    let dir = tempfile::tempdir().unwrap();
    let out = customer_export(
        dir.path(),
        &["init", "crayon", "adobe_vipmp", "--output", "p.yaml"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = customer_export(dir.path(), &["run", "p.yaml", "--sandbox", "--quiet"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let manifest = (walk(dir.path()).into_iter())
        .find(|p| p.ends_with("manifest.json"))
        .expect("a manifest");
    let got = counts(&manifest);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["crayon", "adobe_vipmp"]);
    assert!(got.iter().all(|(_, records)| *records > 0), "{got:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// The README's reconciliation recipe: two vendors without credentials or required filters in
/// the file, a column mapped per vendor, one spreadsheet across them — runs with `--sandbox`.
#[test]
fn the_reconciliation_recipe_runs_with_sandbox_alone() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = "name: reconcile\nsources:\n  - vendor: crayon\n  - vendor: adobe_vipmp\ntransform:\n  fields:\n    vendor: vendor\n    id: {crayon: Id, adobe_vipmp: customerId}\n    name: customer_name\noutputs:\n  - format: xlsx\n    path: sheets/customers.xlsx\n";
    std::fs::write(dir.path().join("reconcile.yaml"), pipeline).unwrap();
    let out = customer_export(dir.path(), &["validate", "reconcile.yaml"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "without the sandbox the credentials are missing"
    );
    let err = stderr(&out);
    assert!(
        !err.contains("unknown key `crayon`"),
        "a failed source's vendor is still named: {err}"
    );
    let out = customer_export(
        dir.path(),
        &["run", "reconcile.yaml", "--sandbox", "--quiet"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let got = counts(&dir.path().join("sheets/manifest.json"));
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["crayon", "adobe_vipmp"]);
    assert!(dir.path().join("sheets/customers.xlsx").exists());
}

//! The command line's contract: `validate` accepts the shipped pipelines and rejects each bad
//! fixture with exit 2 and a `file:line:column` message; `vendors` lists every connector.

use std::path::Path;
use std::process::{Command, Output};

fn customer_export(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_customer-export"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CUSTOMER_EXPORT_TEST_UNSET_TOKEN")
        .output()
        .expect("the binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn shipped_pipelines_validate() {
    let out = customer_export(&[
        "validate",
        "pipelines/demo.yaml",
        "pipelines/nightly-example.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// (fixture, a phrase the message must contain, the line it must point at)
const BAD: &[(&str, &str, u32)] = &[
    (
        "unknown-vendor",
        "allowed: c3, crayon, valomnia, appxite, adobe_vipmp",
        3,
    ),
    ("unknown-key", "unknown field `page_sise`", 5),
    ("unknown-filter", "unknown filter `customerStatus`", 9),
    (
        "bad-filter-value",
        "expected one of 1000, 1002, 1004, 1026",
        9,
    ),
    ("unknown-format", "allowed: parquet, csv, ndjson", 6),
    (
        "wrong-type",
        "page_size: expected a whole number from 1 to 1000",
        7,
    ),
    ("wrong-shape", "sequence", 3),
    (
        "missing-var",
        "CUSTOMER_EXPORT_TEST_UNSET_TOKEN is not set",
        6,
    ),
    ("bad-rate-limit", "expected a rate like `10/s`", 5),
    ("bad-placeholder", "unknown placeholder `{vendr}`", 7),
    ("escaping-path", "contains `..`", 7),
    ("not-yaml", "", 3),
];

#[test]
fn each_bad_fixture_exits_2_naming_file_line_and_column() {
    for (name, phrase, line) in BAD {
        let file = format!("tests/fixtures/bad/{name}.yaml");
        assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join(&file).exists());
        let out = customer_export(&["validate", "--require-env", &file]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(&format!("{file}:{line}:")), "{name}: {err}");
        assert!(err.contains(phrase), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
}

#[test]
fn run_rejects_a_bad_file_with_exit_2_too() {
    let out = customer_export(&["run", "tests/fixtures/bad/missing-var.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("missing-var.yaml:6:14"));
}

#[test]
fn validate_without_require_env_warns_about_unset_variables() {
    let out = customer_export(&["validate", "tests/fixtures/bad/missing-var.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("CUSTOMER_EXPORT_TEST_UNSET_TOKEN is not set here"));
}

#[test]
fn several_errors_are_reported_at_once() {
    let out = customer_export(&["validate", "tests/fixtures/bad/several-errors.yaml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    for phrase in [
        "several-errors.yaml:6:7: filters: unknown filter `organisationId`",
        "several-errors.yaml:7:17: rate_limit",
        "several-errors.yaml:8:13: vendor: unknown vendor \"nope\"",
        "several-errors.yaml:11:11: path: unknown placeholder `{day}`",
        "several-errors.yaml:12:13: format: \"excel\"",
    ] {
        assert!(err.contains(phrase), "missing {phrase:?} in:\n{err}");
    }
}

#[test]
fn missing_file_and_bad_usage_exit_2() {
    assert_eq!(
        customer_export(&["validate", "nope.yaml"]).status.code(),
        Some(2)
    );
    assert_eq!(customer_export(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(customer_export(&["vendors", "nope"]).status.code(), Some(2));
}

#[test]
fn vendors_lists_all_five_with_their_filters() {
    let out = customer_export(&["vendors"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for id in ["c3", "crayon", "valomnia", "appxite", "adobe_vipmp"] {
        assert!(
            text.lines().any(|l| l.starts_with(id)),
            "{id} missing:\n{text}"
        );
    }
    for filter in [
        "organizationId (required)",
        "dateCreated_gte",
        "customerStatus",
        "from-created-date",
    ] {
        assert!(text.contains(filter), "{filter} missing:\n{text}");
    }
}

#[test]
fn vendors_shows_one_vendor_in_detail() {
    let out = customer_export(&["vendors", "crayon"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for phrase in [
        "https://api.crayon.com",
        "customerTenantType",
        "Organization_Id",
        "page_size: default 200, at most 1000",
    ] {
        assert!(text.contains(phrase), "{phrase} missing:\n{text}");
    }
}

#[test]
fn help_and_version_exit_0() {
    let help = customer_export(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("validate"));
    assert_eq!(customer_export(&["--version"]).status.code(), Some(0));
}

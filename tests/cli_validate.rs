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
    (
        "unknown-key",
        "unknown key `page_sise` for valomnia (did you mean `page_size`?); allowed:",
        5,
    ),
    ("unknown-filter", "unknown filter `customerStatus`", 9),
    (
        "bad-filter-value",
        "expected one of 1000, 1002, 1004, 1026",
        9,
    ),
    ("unknown-format", "allowed: parquet, csv, ndjson, xlsx", 6),
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

/// Validates pipeline text written to a temporary file; returns (exit code, stderr).
/// Each line of `validate`'s stderr after the file name: `line:column: message`.
fn messages(err: &str) -> Vec<&str> {
    (err.lines())
        .map(|l| l.split_once("p.yaml:").map_or(l, |(_, rest)| rest))
        .collect()
}

fn validate_text(text: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.yaml");
    std::fs::write(&file, text).unwrap();
    let out = customer_export(&["validate", file.to_str().unwrap()]);
    (out.status.code(), stderr(&out))
}

#[test]
fn a_vendors_own_keys_are_checked_against_that_vendor() {
    // Another vendor's key is unknown here, and the message lists this vendor's own keys.
    let (code, err) = validate_text(
        "name: t\nsources:\n  - vendor: crayon\n    reseller_id: \"1\"\n    filters:\n      organizationId: 1\n    auth:\n      client_id: a\n      client_secret: b\n      username: c\n      password: d\n      subscription_key: e\noutputs:\n  - format: csv\n    path: x.csv\n",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "p.yaml:4:5: unknown key `reseller_id` for crayon; allowed: vendor, definition, name, base_url"
        ),
        "{err}"
    );
    assert!(err.contains("p.yaml:12:7: auth: unknown key `subscription_key` for crayon; allowed: client_id, client_secret, password, scope, token_url, username"), "{err}");
    // A vendor's own setting is listed among what it allows, and a missing one is named.
    let (code, err) = validate_text(
        "name: t\nsources:\n  - vendor: adobe_vipmp\n    resellerid: \"1\"\n    auth:\n      client_id: a\n      client_secret: b\noutputs:\n  - format: csv\n    path: x.csv\n",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "unknown key `resellerid` for adobe_vipmp (did you mean `reseller_id`?); allowed:"
        ),
        "{err}"
    );
    assert!(err.contains(", reseller_id"), "{err}");
    assert!(
        err.contains("adobe_vipmp: `reseller_id` is required"),
        "{err}"
    );
    // One key or the other, not both.
    let (code, err) = validate_text(
        "name: t\nsources:\n  - vendor: appxite\n    organization_id: a\n    organization_ids: [b, c]\n    referer: https://x\n    auth:\n      client_id: a\n      client_secret: b\n      subscription_key: c\n      token_url: https://login.example/token\noutputs:\n  - format: csv\n    path: x.csv\n",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("p.yaml:5:23: give `organization_id` (one GUID) or `organization_ids` (a list), not both"), "{err}");
}

#[test]
fn an_unknown_source_key_hides_no_other_error() {
    let (code, err) = validate_text(
        "name: t\nsources:\n  - vendor: valomnia\n    base_url: https://x.valomnia.com\n    page_sise: 10\n    rate_limit: fast\n    auth:\n      token: t\noutputs:\n  - format: csv\n    path: x.csv\n",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("p.yaml:5:5: unknown key `page_sise` for valomnia"),
        "{err}"
    );
    assert!(err.contains("p.yaml:6:17: rate_limit"), "{err}");
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
fn vendors_lists_every_vendor_with_their_filters() {
    let out = customer_export(&["vendors"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for id in customer_export::vendors::ids() {
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
    // The definitions in vendors/ are listed beside them, each with its file.
    let declared = text.split("Declared in YAML:").nth(1).unwrap_or_default();
    for line in [
        "pax8         Pax8 partner API (companies)",
        "definition: vendors/pax8.yaml",
        "partner_center Microsoft Partner Center (customers)",
        "definition: vendors/partner-center.yaml",
        "selfServiceAllowed, billOnBehalfOfEnabled",
    ] {
        assert!(declared.contains(line), "{line} missing:\n{text}");
    }
}

#[test]
fn vendors_shows_a_declared_vendor_and_refuses_a_bad_definition() {
    for arg in ["pax8", "vendors/pax8.yaml"] {
        let out = customer_export(&["vendors", arg]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        for phrase in [
            "endpoint:  GET {base_url}/v1/companies",
            "page_size: default 200, at most 200",
            "oauth2 client credentials: client_id, client_secret",
            "address_country",
        ] {
            assert!(text.contains(phrase), "{arg}: {phrase} missing:\n{text}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "vendor: acme\nauth: {type: bearer}\nrequest: {path: /c}\npaging: {type: endless}\nrecords: data\nkey: id\n").unwrap();
    let out = customer_export(&["vendors", "--definitions", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad.yaml:4:16: paging.type: \"endless\" is not allowed"),
        "{}",
        stderr(&out)
    );
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

#[test]
fn a_dry_run_lists_every_file_each_table_goes_to_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tables.yaml");
    std::fs::write(
        &file,
        "name: lake\nsandbox: true\nsources:\n  - vendor: appxite\ntransform:\n  fields: all\n  arrays: tables\noutputs:\n  - format: parquet\n    path: lake/{vendor}/{table}.parquet\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = customer_export(&[
        "run",
        file.to_str().unwrap(),
        "--dry-run",
        "--output-dir",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for table in ["customers", "tenants", "custom_properties", "industries"] {
        let path = out_dir.join(format!("lake/appxite/{table}.parquet"));
        assert!(
            text.contains(&format!("→ parquet {}", path.display())),
            "{table} missing:\n{text}"
        );
    }
    assert!(!out_dir.exists(), "a dry run writes nothing");
}

/// Issue 11, item 7: two outputs at one path, or an output where the manifest goes, are refused
/// by `validate` (and so by `run`), at the later output's line.
#[test]
fn two_outputs_at_one_path_or_at_the_manifest_are_refused() {
    let head = "name: t\nsandbox: true\nsources:\n  - vendor: valomnia\noutputs:\n";
    let (code, err) = validate_text(&format!(
        "{head}  - format: csv\n    path: out/{{vendor}}.csv\n  - format: ndjson\n    path: out/{{vendor}}.csv\n"
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("p.yaml:9:11: path: out/valomnia.csv is also where output 1 writes"),
        "{err}"
    );
    let (code, err) = validate_text(&format!(
        "{head}  - format: csv\n    path: out/x.csv\n  - format: ndjson\n    path: out/manifest.json\n"
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "p.yaml:9:11: path: out/manifest.json is where the run writes its manifest.json"
        ),
        "{err}"
    );
    // One output shared by every vendor is one file, not a clash.
    let (code, err) = validate_text(
        "name: t\nsandbox: true\nsources:\n  - vendor: valomnia\n  - vendor: c3\noutputs:\n  - format: csv\n    path: out/all.csv\n",
    );
    assert_eq!(code, Some(0), "{err}");
}

/// Issue 11, item 10: a pipeline file that is not a regular file (a pipe, `/dev/zero`) is read no
/// further than the size cap.
#[test]
fn a_pipeline_from_a_pipe_or_dev_zero_is_capped() {
    let out = customer_export(&["validate", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("too large for a pipeline file"));
}

/// Issue 11, item 11: `user:password@` in a URL would be sent as Basic auth beside the token;
/// it is refused, and the message does not repeat the password.
#[test]
fn credentials_in_a_url_are_refused() {
    let (code, err) = validate_text(
        "name: t\nsources:\n  - vendor: valomnia\n    base_url: https://me:hunter22@x.valomnia.com\n    auth:\n      token: t\noutputs:\n  - format: csv\n    path: x.csv\n",
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("p.yaml:4:15: base_url: a URL with user:password@"),
        "{err}"
    );
    assert!(!err.contains("hunter22"), "{err}");
}

/// Issue 12: a mapping may name any path. One no source declares is a warning at its
/// `file:line:column` (the field may exist in production); a type that does not exist is an
/// error naming the types there are; so is a key a mapped column does not take.
#[test]
fn a_mapping_to_an_undeclared_path_warns_and_an_unknown_type_is_refused() {
    let head = "name: t\nsandbox: true\nsources:\n  - vendor: adobe_vipmp\ntransform:\n  fields:\n";
    let tail = "outputs:\n  - format: csv\n    path: out/x.csv\n";
    let (code, err) = validate_text(&format!(
        "{head}    country: companyProfile.address.country\n    first_contact: companyProfile.contacts.0.email\n    gse: {{path: globalSalesEnabled, type: bool}}\n    score: {{path: accountHealth.score, type: int}}\n{tail}"
    ));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("p.yaml:10:19: transform.fields.score: no source (adobe_vipmp) declares `accountHealth.score`")
            && err.contains("(warning)"),
        "{err}"
    );
    assert!(
        !err.contains("companyProfile"),
        "declared paths warn of nothing: {err}"
    );

    let (code, err) = validate_text(&format!(
        "{head}    score: {{path: accountHealth.score, type: integer}}\n{tail}"
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("p.yaml:7:46: transform.fields.score.type: \"integer\" is not a type (did you mean `int`?); allowed: string, int, float, bool, timestamp, date, json"),
        "{err}"
    );

    let (code, err) = validate_text(&format!(
        "{head}    score: {{path: accountHealth.score, kind: int}}\n    bare: {{type: int}}\n{tail}"
    ));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("transform.fields.score: unknown key `kind`; allowed: path, type, or the vendor of a source (adobe_vipmp)")
            && err.contains("transform.fields.bare: give a `path`, or a path per vendor (adobe_vipmp)"),
        "{err}"
    );
}

#[test]
fn object_storage_outputs_are_checked_and_named() {
    let head = "name: lake\nsandbox: true\nsources:\n  - vendor: valomnia\noutputs:\n";
    // Every output in one bucket: validate names the store and each final key.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lake.yaml");
    let text = format!(
        "{head}  - format: parquet\n    path: s3://acme-lake/raw/{{vendor}}/customers.parquet\nstorage:\n  region: eu-west-1\n  endpoint: http://127.0.0.1:9000\n  allow_http: true\n  path_style: true\n"
    );
    std::fs::write(&file, text).unwrap();
    let out = customer_export(&["validate", file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout.contains("object storage at s3://acme-lake"),
        "{stdout}"
    );
    assert!(
        stdout.contains("valomnia → parquet s3://acme-lake/raw/valomnia/customers.parquet"),
        "{stdout}"
    );

    // One bucket for all; a bucket written out; plain HTTP to loopback only; known keys only.
    for (outputs, storage, line_col, phrase) in [
        (
            "  - format: parquet\n    path: s3://a/x.parquet\n  - format: csv\n    path: out/x.csv\n",
            "",
            "9:11",
            "publishes its files together into one place",
        ),
        (
            "  - format: parquet\n    path: s3://{vendor}/x.parquet\n",
            "",
            "7:11",
            "placeholders go in the path",
        ),
        (
            "  - format: parquet\n    path: s3://a/x.parquet\n",
            "storage:\n  endpoint: http://minio.example.com:9000\n  allow_http: true\n",
            "10:15",
            "plain HTTP is allowed only to an endpoint on this machine",
        ),
        (
            "  - format: parquet\n    path: s3://a/x.parquet\n",
            "storage:\n  colour: blue\n",
            "9:3",
            "storage: unknown key `colour`; allowed: region, endpoint, path_style, allow_http",
        ),
    ] {
        let (code, err) = validate_text(&format!("{head}{outputs}{storage}"));
        assert_eq!(code, Some(2), "{err}");
        assert!(
            err.contains(&format!("p.yaml:{line_col}:")),
            "{line_col}: {err}"
        );
        assert!(err.contains(phrase), "{phrase}: {err}");
    }

    // --output-dir with a scheme the tool does not know is a usage error.
    let out = customer_export(&["run", "pipelines/demo.yaml", "--output-dir", "ftp://host/x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("allowed: s3://, az://, abfss://, gs://, file://"),
        "{}",
        stderr(&out)
    );
}

/// The exact messages a newcomer's typos get: every error at once, in line order, each naming
/// what was probably meant.
#[test]
fn typos_get_did_you_mean_in_line_order() {
    let text = "name: x\nsandbox: true\nsources:\n  - vendor: adobe\n  - vendor: crayon\n    page_sise: 10\n    filters:\n      organizationId: 4703\n      domainPrefx: acme\noutputs:\n  - format: parquett\n    path: out/{vendr}.parquet\n";
    let (code, err) = validate_text(text);
    assert_eq!(code, Some(2), "{err}");
    let lines: Vec<&str> = err
        .lines()
        .map(|l| l.split_once("p.yaml:").unwrap().1)
        .collect();
    assert_eq!(
        lines,
        [
            "4:13: vendor: unknown vendor \"adobe\" (did you mean `adobe_vipmp`?); allowed: c3, crayon, valomnia, appxite, adobe_vipmp",
            "6:5: unknown key `page_sise` for crayon (did you mean `page_size`?); allowed: vendor, definition, name, base_url, auth, filters, page_size, rate_limit, concurrency, max_attempts, max_retry_secs, timeout_secs, max_body_mb, allow_count_mismatch, allow_insecure_http, max_records, max_pages",
            "9:7: filters: unknown filter `domainPrefx` for crayon (did you mean `domainPrefix`?); allowed: organizationId, search, domainPrefix, publisherId, customerTenantType",
            "11:13: format: \"parquett\" is not allowed (did you mean `parquet`?); allowed: parquet, csv, ndjson, xlsx",
            "12:11: path: unknown placeholder `{vendr}` (did you mean `{vendor}`?); allowed: {pipeline}, {vendor}, {table}, {run_date}, {run_id}, {format}",
        ]
    );
    let (code, err) = validate_text("name: x\nsource:\n  - vendor: crayon\noutputs: []\n");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("2:1: unknown key `source` (did you mean `sources`?); allowed: name, sandbox, on_error, sources_at_once, sources, transform, outputs, storage"),
        "{err}"
    );
}

/// A mapping across vendors names the sources whose vendor lacks a mapped path: their rows would
/// be empty in that column. A warning, or with `--strict` an error, in `validate` and `run`.
#[test]
fn a_mapped_path_one_vendor_lacks_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sheet.yaml");
    std::fs::write(
        &file,
        "name: sheet\nsandbox: true\nsources:\n  - vendor: crayon\n    filters:\n      organizationId: 4703\n  - vendor: adobe_vipmp\n    reseller_id: \"1000396138\"\ntransform:\n  fields:\n    id: Id\n    status: status\noutputs:\n  - format: csv\n    path: out/sheet.csv\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let out = customer_export(&["validate", file]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("sheet.yaml:11:9: transform.fields.id: crayon declares `Id` but adobe_vipmp does not: adobe_vipmp rows get an empty `id`"),
        "{err}"
    );
    assert!(err.contains("(warning)"), "{err}");
    let out = customer_export(&["validate", "--strict", file]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = customer_export(&["run", "--strict", file, "--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--strict: warnings are errors"));
}

/// One message per cause: an unset `${VAR}` is reported once, at its value — not again as a
/// missing auth key or a missing required filter.
#[test]
fn an_unset_variable_is_reported_once() {
    let text = "name: t\nsources:\n  - vendor: crayon\n    auth:\n      client_id: ${CE_TEST_UNSET_A}\n      client_secret: ${CE_TEST_UNSET_B}\n      username: u\n      password: ${CE_TEST_UNSET_C}\n    filters:\n      organizationId: ${CE_TEST_UNSET_D}\noutputs:\n  - format: csv\n    path: x.csv\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.yaml");
    std::fs::write(&file, text).unwrap();
    let out = customer_export(&["validate", "--require-env", file.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    for (line, var) in lines.iter().zip(["A", "B", "C", "D"]) {
        assert!(
            line.contains(&format!("CE_TEST_UNSET_{var} is not set")),
            "{err}"
        );
    }
}

/// A secret written in the file is a warning (the file could not be shared or committed), and
/// the warning does not repeat the secret.
#[test]
fn a_literal_secret_is_a_warning_that_does_not_repeat_it() {
    let (code, err) = validate_text(
        "name: t\nsources:\n  - vendor: crayon\n    auth:\n      client_id: abc\n      client_secret: hunter2-literal\n      username: u\n      password: pw-literal-42\n    filters:\n      organizationId: 1\noutputs:\n  - format: csv\n    path: x.csv\n",
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(
            "p.yaml:6:22: auth.client_secret: a secret written in the file; write it as ${VAR}"
        ),
        "{err}"
    );
    assert!(
        err.contains("p.yaml:8:17: auth.password: a secret written in the file"),
        "{err}"
    );
    assert!(!err.contains("client_id: a secret"), "{err}");
    assert!(
        !err.contains("hunter2-literal") && !err.contains("pw-literal-42"),
        "{err}"
    );
}

/// A column mapped per vendor (`{crayon: Id, adobe_vipmp: customerId}`), an output with its own
/// transform: the exact messages, errors first run, then the warnings of the corrected file.
#[test]
fn per_vendor_paths_and_per_output_transforms_are_checked() {
    let sources = "name: sheet\nsandbox: true\nsources:\n  - vendor: crayon\n    filters:\n      organizationId: 4703\n  - vendor: adobe_vipmp\n    reseller_id: \"1000396138\"\n  - vendor: valomnia\n";
    let bad = format!(
        "{sources}transform:\n  fields:\n    id: {{crayon: Id, adobe_vipmp: customerId}}\n    name: {{crayon: Name, adobe: companyProfile.companyName}}\n    domain: {{path: DomainPrefix, type: strin}}\n  arrays: jsn\noutputs:\n  - format: csv\n    path: out/sheet.csv\n    transform:\n      fields: alll\n  - format: parquet\n    path: out/{{vendor}}.parquet\n    transform:\n      fields: all\n      arrays: tables\n"
    );
    let (code, err) = validate_text(&bad);
    assert_eq!(code, Some(2), "{err}");
    let lines = messages(&err);
    assert_eq!(
        lines,
        [
            "13:26: transform.fields.name: unknown key `adobe` (did you mean `adobe_vipmp`?); allowed: path, type, or the vendor of a source (crayon, adobe_vipmp, valomnia)",
            "14:40: transform.fields.domain.type: \"strin\" is not a type (did you mean `string`?); allowed: string, int, float, bool, timestamp, date, json",
            "15:11: transform.arrays: \"jsn\" is not allowed (did you mean `json`?); allowed: explode, json, tables",
            "20:15: transform.fields: \"alll\" is not allowed (did you mean `all`?); allowed: canonical, all, or a mapping {column: path}",
            "22:11: path: `arrays: tables` writes one file per table; add {table} to the path",
        ]
    );

    let good = format!(
        "{sources}transform:\n  fields:\n    id: {{crayon: Id, adobe_vipmp: customerId}}\n    country: {{crayon: Nope, path: country}}\noutputs:\n  - format: csv\n    path: out/sheet.csv\n  - format: parquet\n    path: out/{{vendor}}-{{table}}.parquet\n    transform:\n      fields: all\n      arrays: tables\n"
    );
    let (code, err) = validate_text(&good);
    assert_eq!(code, Some(0), "{err}");
    let lines = messages(&err);
    assert_eq!(
        lines,
        [
            "12:9: transform.fields.id: no path for valomnia: their rows leave `id` empty; add `valomnia: <path>`, or `path: <path>` for every vendor not named (warning)",
            "13:23: transform.fields.country: no source (crayon) declares `Nope`; it is read where a record has it, and the column stays empty where none does (`customer-export inspect` shows what a source sends) (warning)",
        ]
    );
}

/// Every problem in the file at once, in line order: unknown keys at every level (the top level
/// too) do not stop the parse, and a required key that is missing is one message — none when an
/// unknown key is that key misspelt.
#[test]
fn unknown_and_missing_keys_hide_no_other_problem() {
    let text = "name: x\nsource:\n  - vendor: crayon\ntransfrom: {}\noutputs:\n  - fromat: csv\n    path: x.csv\n    csv: {bomb: true}\n  - path: y/{vendor}.csv\n";
    let (code, err) = validate_text(text);
    assert_eq!(code, Some(2), "{err}");
    let lines = messages(&err);
    assert_eq!(
        lines,
        [
            "2:1: unknown key `source` (did you mean `sources`?); allowed: name, sandbox, on_error, sources_at_once, sources, transform, outputs, storage",
            "4:1: unknown key `transfrom` (did you mean `transform`?); allowed: name, sandbox, on_error, sources_at_once, sources, transform, outputs, storage",
            "6:5: outputs: unknown key `fromat` (did you mean `format`?); allowed: format, path, transform, csv, ndjson, parquet",
            "8:11: csv: unknown key `bomb` (did you mean `bom`?); allowed: spreadsheet_safe, bom, delimiter",
            "9:5: outputs: `format` is missing; allowed: parquet, csv, ndjson, xlsx",
        ]
    );
    // No `outputs:` at all, and a bad filter value: both reported.
    let text = "name: x\nsources:\n  - vendor: crayon\n    auth:\n      token: ${CE_TEST_TOKEN}\n    filters:\n      organizationId: abc\n";
    let (code, err) = validate_text(text);
    assert_eq!(code, Some(2), "{err}");
    let lines = messages(&err);
    assert_eq!(lines[0], "1:1: outputs: missing; list at least one output");
    assert!(
        lines.contains(&"7:23: filters.organizationId: expected a whole number, found \"abc\""),
        "{err}"
    );
}

/// `format: xlsx` takes no options block of its own, nor another format's.
#[test]
fn an_xlsx_output_validates_and_takes_no_options() {
    let sources = "name: x\nsandbox: true\nsources:\n  - vendor: c3\noutputs:\n";
    let (code, err) = validate_text(&format!("{sources}  - format: xlsx\n    path: x.xlsx\n"));
    assert_eq!(code, Some(0), "{err}");
    let text = format!(
        "{sources}  - format: xlsx\n    path: x.xlsx\n    csv: {{bom: true}}\n  - format: xlsx\n    path: y.xlsx\n    xlsx: {{sheet: s}}\n"
    );
    let (code, err) = validate_text(&text);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(
        messages(&err),
        [
            "6:13: `csv:` options given for a xlsx output; remove them or change the format",
            "11:5: outputs: unknown key `xlsx`; allowed: format, path, transform, csv, ndjson, parquet",
        ]
    );
}

/// YAML syntax errors in the author's terms, at the parser's place: what is wrong and how to
/// write it.
#[test]
fn yaml_syntax_errors_say_what_to_write() {
    let cases: &[(&str, &str)] = &[
        (
            "name: x\nsources:\n  - vendor: crayon\n   page_size: 10\noutputs: []\n",
            "4:4: wrong indentation: this line is indented 3 space(s), but the keys of the list item on line 3 are indented 4; indent it by 4 to continue that item, or start a new item with `- `",
        ),
        (
            "name: x\nsources:\n  - vendor: crayon\noutputs:\n  - format: csv\n    path: x.csv\n  -format: csv\n",
            "7:3: a list item needs a space after `-`: write `- format: csv`",
        ),
        (
            "name: x\nsources:\n  - vendor: crayon\n\tpage_size: 10\noutputs: []\n",
            "3:13: a tab in the indentation: YAML indents with spaces only; replace the tab with spaces",
        ),
        (
            "name: x\nsources:\n  - vendor: crayon\n    filters: {organizationId: 4703\noutputs: []\n",
            "5:8: a `{ … }` mapping is not closed, or its items are not separated by `,`: check the braces before here (a `${VAR}` inside `{ … }` must be quoted)",
        ),
        (
            "name: x\nsources:\n  - vendor: \"crayon\noutputs: []\n",
            "3:13: a quoted value is not closed: add its closing quote",
        ),
        (
            "name: x\nname: y\nsources: []\noutputs: []\n",
            "2:1: `name` is given twice in this mapping; keep one",
        ),
        (
            "name: x\nsources:\n  - vendor: crayon\n    page_size 10\noutputs: []\n",
            "4:5: expected `key: value`: a key needs a `:` and a space after it",
        ),
    ];
    for (text, want) in cases {
        let (code, err) = validate_text(text);
        assert_eq!(code, Some(2), "{err}");
        let got = err.trim_end().split_once("p.yaml:").unwrap().1;
        assert_eq!(got, *want, "{text}");
    }
}

//! Issue 13: vendors declared in YAML. Crayon, Valomnia (static token) and Adobe, declared as
//! definitions, export from the sandbox byte-identical to their built-in connectors; bad
//! definitions are refused at their line and column; a definition whose paging never ends fails.

mod common;

use std::path::Path;

use customer_export::model::ColumnType;
use customer_export::model::record::{ArraySpec, Field, From, Status};
use customer_export::run::{RunOptions, run_pipeline};
use customer_export::sandbox::{Sandbox, SandboxConfig};
use customer_export::vendors::VendorSpec;

/// How each built-in connector talks to its API, as a definition says it.
const CRAYON: &str = r#"vendor: crayon
title: Crayon Cloud-iQ
base_url: https://api.crayon.com
auth:
  type: oauth2_password
  token_url: /api/v1/connect/token/
  client_auth: basic
  params: {scope: CustomerApi}
  token_field: AccessToken
  expires_in_field: ExpiresIn
  error_field: Error
  error_description_field: ErrorDescription
request:
  path: /api/v1/customertenants/
filters:
  organizationId: {kind: integer, required: true}
  search: {}
  domainPrefix: {}
  publisherId: {kind: integer}
  customerTenantType: {values: [0, 1, 2]}
paging:
  type: page_number
  page_param: page
  size_param: pageSize
  first_page: 1
  max_size: 1000
page_size: 200
records: Items
total: TotalHits
errors:
  message: [Message, ErrorCode]
"#;

const VALOMNIA: &str = r#"vendor: valomnia
auth:
  type: bearer
request:
  path: /api/v1.0/customers
  query: {sort: id, order: asc}
filters:
  isActive: {kind: boolean}
  reference: {}
paging:
  type: offset
  offset_param: offset
  limit_param: max
  max_size: 1000
page_size: 100
records: data
total: paging.total
errors:
  message: [error_description, error, message]
"#;

const ADOBE: &str = r#"vendor: adobe_vipmp
base_url: https://partners.adobe.io
settings:
  reseller_id: {required: true, help: the reseller whose customers are listed}
auth:
  type: oauth2_client_credentials
  token_url: https://ims-na1.adobelogin.com/ims/token/v3
  params: {scope: "{auth.scope}"}
  headers:
    X-Api-Key: "{auth.client_id}"
    X-Request-Id: "{uuid}"
request:
  path: /v3/resellers/{reseller_id}/customers
  query: {order-by: asc}
  headers: {Content-Type: application/json}
filters:
  status: {values: [1000, 1002, 1004, 1026]}
  order-by: {values: [asc, desc]}
paging:
  type: offset
  offset_param: offset
  limit_param: limit
  max_size: 50
page_size: 50
records: [accounts, customers]
total: totalCount
errors:
  message: [message, error_description, error]
"#;

/// The record part of a definition, written from a built-in vendor's declaration: fields,
/// arrays, explode and canonical mapping, as YAML.
fn record_yaml(spec: &VendorSpec) -> String {
    let record = &spec.record;
    let q = |s: &str| common::quoted(s);
    let ty = |t: ColumnType| match t {
        ColumnType::Utf8 => "string",
        ColumnType::Int64 => "int",
        ColumnType::Float64 => "float",
        ColumnType::Boolean => "bool",
        ColumnType::Timestamp => "timestamp",
        ColumnType::Date => "date",
    };
    let fields = |fields: &[Field], indent: &str| -> String {
        fields
            .iter()
            .map(|f| format!("{indent}- {{path: {}, type: {}}}\n", q(f.path), ty(f.ty)))
            .collect()
    };
    let mut out = format!(
        "key: {}\nfields:\n{}",
        q(record.key),
        fields(record.fields, "  ")
    );
    if !record.arrays.is_empty() {
        out.push_str("arrays:\n");
        for ArraySpec {
            name,
            path,
            fields: element,
            scalar,
        } in record.arrays
        {
            out.push_str(&format!("  - name: {}\n    path: {}\n", q(name), q(path)));
            match scalar {
                Some(t) if element.is_empty() => out.push_str(&format!("    type: {}\n", ty(*t))),
                _ => out.push_str(&format!("    fields:\n{}", fields(element, "      "))),
            }
        }
    }
    if let Some(explode) = record.default_explode {
        out.push_str(&format!("explode: {}\n", q(explode)));
    }
    let c = &record.canonical;
    let from = |f: From| match f {
        From::Field(p) => q(p),
        From::Element(a, p) => format!("{{element: {}, field: {}}}", q(a), q(p)),
        From::First(a, p) => format!("{{first: {}, field: {}}}", q(a), q(p)),
        From::Const(v) => format!("{{const: {}}}", q(v)),
        From::Lacking(why) => format!("{{lacking: {}}}", q(why)),
    };
    out.push_str("canonical:\n");
    for (name, f) in [
        ("customer_id", c.customer_id),
        ("customer_reference", c.customer_reference),
        ("customer_name", c.customer_name),
        ("status", c.status),
        ("country", c.country),
        ("created_at", c.created_at),
        ("reseller_id", c.reseller_id),
        ("tenant_id", c.tenant_id),
        ("tenant_domain", c.tenant_domain),
        ("contact_email", c.contact_email),
    ] {
        out.push_str(&format!("  {name}: {}\n", from(f)));
    }
    let words: Vec<String> = (c.status_codes.iter())
        .map(|(code, status)| format!("{}: {}", q(code), status_word(*status)))
        .collect();
    out.push_str(&format!("  status_codes: {{{}}}\n", words.join(", ")));
    out
}

fn status_word(status: Status) -> &'static str {
    status.word()
}

/// The `auth:` block of `vendor` against `sandbox`; Valomnia with its static token.
fn auth(sandbox: &Sandbox, vendor: &str) -> String {
    if vendor == "valomnia" {
        let token = sandbox.credential(vendor, "auth.token");
        return format!("    auth:\n      token: {}\n", common::quoted(token));
    }
    common::auth_block(sandbox, vendor)
}

/// A one-source pipeline of `vendor` (built in, or `definition` when given) writing every format.
fn pipeline(sandbox: &Sandbox, vendor: &str, definition: Option<&Path>, fields: &str) -> String {
    let source = match definition {
        Some(path) => format!("definition: {}", common::quoted(path.to_str().unwrap())),
        None => format!("vendor: {vendor}"),
    };
    format!(
        "name: same\nsources:\n  - {source}\n    base_url: {}\n{}{}\ntransform:\n  fields: {fields}\n  arrays: json\noutputs:\n  - format: parquet\n    path: out/{{vendor}}.parquet\n  - format: csv\n    path: out/{{vendor}}.csv\n  - format: ndjson\n    path: out/{{vendor}}.ndjson\n",
        sandbox.base_url(vendor),
        auth(sandbox, vendor),
        common::demo_block(vendor, Some(40)),
    )
}

async fn run(text: &str, root: &Path) {
    let plan = common::plan(text, &[]);
    let options = RunOptions {
        output_root: customer_export::load::Location::Local(root.to_path_buf()),
        ..Default::default()
    };
    run_pipeline(plan, &options)
        .await
        .expect("the run succeeds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_crayon_valomnia_and_adobe_export_byte_identical_to_the_built_in_connectors() {
    let config = SandboxConfig {
        customers: 300,
        ..SandboxConfig::default()
    };
    let sandbox = common::sandbox(config).await;
    let dir = tempfile::tempdir().unwrap();
    for (vendor, connector) in [
        ("crayon", CRAYON),
        ("valomnia", VALOMNIA),
        ("adobe_vipmp", ADOBE),
    ] {
        let spec = common::vendor(vendor).spec();
        let definition = dir.path().join(format!("{vendor}.yaml"));
        std::fs::write(&definition, format!("{connector}{}", record_yaml(spec))).unwrap();
        for fields in ["all", "canonical"] {
            let built_in = dir.path().join(format!("{vendor}-{fields}-built-in"));
            let declared = dir.path().join(format!("{vendor}-{fields}-declared"));
            run(&pipeline(&sandbox, vendor, None, fields), &built_in).await;
            run(
                &pipeline(&sandbox, vendor, Some(&definition), fields),
                &declared,
            )
            .await;
            for ext in ["parquet", "csv", "ndjson"] {
                let name = format!("out/{vendor}.{ext}");
                let a = std::fs::read(built_in.join(&name)).unwrap();
                let b = std::fs::read(declared.join(&name)).unwrap();
                assert!(
                    a.len() > 1000,
                    "{vendor} {fields} {ext}: too small to compare"
                );
                assert!(
                    a == b,
                    "{vendor} {fields}: {ext} differs from the built-in's"
                );
            }
        }
    }
    sandbox.shutdown().await;
}

/// Validates a pipeline whose one source is `definition` (written to a file); (code, stderr).
fn validate(definition: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("def.yaml"), definition).unwrap();
    let file = dir.path().join("p.yaml");
    std::fs::write(
        &file,
        "name: t\nsources:\n  - definition: def.yaml\n    base_url: https://api.example.com\n    auth:\n      token: x\noutputs:\n  - format: csv\n    path: out/x.csv\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_customer-export"))
        .args(["validate", file.to_str().unwrap()])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const MINIMAL: &str = "vendor: acme\nauth: {type: bearer}\nrequest: {path: /v1/customers}\npaging: {type: page_number, page_param: page, size_param: size}\nrecords: data\nkey: id\n";

#[test]
fn a_minimal_definition_validates() {
    let (code, err) = validate(MINIMAL);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn bad_definitions_exit_2_naming_file_line_and_column() {
    for (definition, expected) in [
        (
            MINIMAL.replace("type: page_number", "type: pages"),
            "def.yaml:4:16: paging.type: \"pages\" is not allowed; allowed: none, offset, page_number, cursor, next_link, continuation",
        ),
        (
            MINIMAL.replace("records: data\n", ""),
            "def.yaml:5:1: missing field `records`",
        ),
        (
            MINIMAL.replace(
                "paging: {type: page_number, page_param: page, size_param: size}",
                "paging: {type: cursor, cursor_param: after}",
            ),
            "def.yaml:4:9: paging.cursor_path: required for cursor paging",
        ),
        (
            MINIMAL.replace("/v1/customers", "\"/v1/{tenant}/customers\""),
            "def.yaml:3:17: request.path: the placeholder {tenant} names no setting",
        ),
        (
            MINIMAL.replace("type: bearer", "type: oauth"),
            "def.yaml:2:14: auth.type: \"oauth\" is not allowed; allowed: none, bearer, api_key, basic",
        ),
    ] {
        let (code, err) = validate(&definition);
        assert_eq!(code, Some(2), "{definition}\n{err}");
        assert!(err.contains(expected), "expected {expected:?} in:\n{err}");
    }
}

/// A server whose paging never ends: `/cursor` gives the same cursor on every page, `/link` a
/// next link back to the page itself; each page brings a record never seen before. `/renamed`
/// gives its cursor as `meta.nextCursor`; every page says there are 99 records in all.
async fn endless() -> std::net::SocketAddr {
    use axum::extract::{Path as UrlPath, RawQuery};
    use std::sync::atomic::{AtomicU64, Ordering};
    static SERVED: AtomicU64 = AtomicU64::new(0);
    let page = |UrlPath(case): UrlPath<String>, _q: RawQuery| async move {
        let n = SERVED.fetch_add(1, Ordering::Relaxed);
        let next = match case.as_str() {
            "cursor" => serde_json::json!({"cursor": "c-1"}),
            // The cursor is under another name than a definition says.
            "renamed" => serde_json::json!({"nextCursor": format!("c-{n}")}),
            _ => serde_json::json!({"next": format!("/{case}/v1/customers")}),
        };
        axum::Json(serde_json::json!({"data": [{"id": n}], "meta": next, "total": 99}))
    };
    let app = axum::Router::new().route("/{case}/v1/customers", axum::routing::get(page));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_definition_whose_paging_never_ends_or_whose_cursor_is_never_there_fails_the_run() {
    let addr = endless().await;
    for (case, paging, expected) in [
        (
            "cursor",
            "{type: cursor, cursor_path: meta.cursor, cursor_param: after}",
            "the vendor gave the next link token c-1 a second time; its paging does not advance",
        ),
        (
            "link",
            "{type: next_link, next_path: meta.next}",
            "a second time; its paging does not advance",
        ),
        // A cursor path the responses never hold would end every run after one page.
        (
            "renamed",
            "{type: cursor, cursor_path: meta.cursor, cursor_param: after}\ntotal: total",
            "endless.yaml:4:37: paging: `meta.cursor` is not in the first page, yet more follow (the API reports 99 records and the page holds 1): the paging would stop here. The page has: meta.nextCursor, total",
        ),
    ] {
        let definition = format!(
            "vendor: endless\nauth: {{type: none}}\nrequest: {{path: /v1/customers}}\npaging: {paging}\nrecords: data\nkey: id\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let def = dir.path().join("endless.yaml");
        std::fs::write(&def, definition).unwrap();
        let text = format!(
            "name: e\nsources:\n  - definition: {}\n    base_url: http://{addr}/{case}\noutputs:\n  - format: csv\n    path: out/e.csv\n",
            common::quoted(def.to_str().unwrap())
        );
        let plan = common::plan(&text, &[]);
        let options = RunOptions {
            output_root: customer_export::load::Location::Local(dir.path().to_path_buf()),
            ..Default::default()
        };
        let err = run_pipeline(plan, &options).await.unwrap_err().to_string();
        assert!(err.contains(expected), "{case}: {err}");
        assert!(
            !dir.path().join("out/e.csv").exists(),
            "{case}: nothing is published"
        );
    }
}

/// The shipped definitions (Pax8, Partner Center) export exactly the sandbox's dataset under
/// everything at once: 20 % faults, short-lived tokens and a server rate limit below the
/// source's, with the count check against the API's total (Pax8's `totalElements`, the sum of
/// Partner Center's per-page `totalCount`) and de-duplication on. (The shared tests, which these
/// vendors run too, take 1-second tokens alone: with a 1-second `Retry-After` from a server that
/// also throttles its token endpoint, every retry would first need a new token, which takes the
/// one request the server then allows; tokens here outlive the pause.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_definitions_export_exactly_under_faults_expiring_tokens_and_throttling() {
    assert!(common::shipped().len() >= 2, "the shipped definitions");
    for (vendor, _) in common::shipped() {
        let id = vendor.id();
        let config = SandboxConfig {
            customers: 230,
            faults: 0.2,
            token_ttl_secs: 3,
            rate_limit: Some(6.0),
            seed: 7,
            ..SandboxConfig::default()
        };
        let sandbox = common::sandbox(config.clone()).await;
        let keys = common::demo_block(id, Some(20));
        let extra = "    rate_limit: 10/s\n    concurrency: 2\n    max_attempts: 10";
        let src = common::source(&sandbox, id, &format!("{keys}\n{extra}"));
        let (records, extracted) = common::extract_all(&src)
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let key = vendor.spec().record.key;
        let ids = |records: &[serde_json::Value]| -> Vec<String> {
            records.iter().map(|r| r[key].to_string()).collect()
        };
        let want = common::expected(id, &config);
        assert_eq!(ids(&records), ids(&want), "{id}: not the sandbox's dataset");
        assert_eq!(extracted.counts.api_total, Some(want.len() as u64), "{id}");
        assert!(!extracted.count_mismatch, "{id}");
        let stats = sandbox.stats().vendors[id].clone();
        assert!(stats.faults > 0, "{id}: no fault: {stats:?}");
        assert!(
            stats.tokens_issued >= 2,
            "{id}: no token renewed: {stats:?}"
        );
        assert!(stats.rate_limited > 0, "{id}: never throttled: {stats:?}");
        sandbox.shutdown().await;
    }
}

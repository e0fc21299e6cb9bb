//! Hostile or broken servers: a tiny axum server on 127.0.0.1 serves one pathology per path prefix
//! to a Valomnia source (static token), and the full run must end in a successful retry or a clear
//! error — never a panic, never a silently short export, never a file at a final path that does
//! not hold every record.

mod common;
#[path = "common/demo.rs"]
mod demo;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use customer_export::sandbox::{SandboxConfig, expected_records};
use serde_json::{Value, json};

const RECORDS: u64 = 12;
const PAGE: u64 = 5;

/// The good data: the sandbox's Valomnia records.
fn records() -> Vec<Value> {
    let config = SandboxConfig {
        customers: RECORDS,
        ..SandboxConfig::default()
    };
    expected_records("valomnia", &config, &[]).unwrap()
}

#[derive(Default)]
struct Hits(std::sync::Mutex<HashMap<String, AtomicU64>>);

impl Hits {
    /// Counts a request to `case`; returns how many came before it.
    fn bump(&self, case: &str) -> u64 {
        let mut map = self.0.lock().unwrap();
        map.entry(case.to_string())
            .or_default()
            .fetch_add(1, Ordering::Relaxed)
    }

    fn get(&self, case: &str) -> u64 {
        let map = self.0.lock().unwrap();
        map.get(case).map_or(0, |c| c.load(Ordering::Relaxed))
    }
}

struct Server {
    addr: SocketAddr,
    hits: Arc<Hits>,
}

fn page(pairs: &HashMap<String, String>, mutate: impl Fn(&mut Value)) -> Value {
    let offset: u64 = pairs
        .get("offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let max: u64 = pairs
        .get("max")
        .and_then(|v| v.parse().ok())
        .unwrap_or(PAGE);
    let mut data: Vec<Value> = records()
        .into_iter()
        .skip(offset as usize)
        .take(max as usize)
        .collect();
    data.iter_mut().for_each(mutate);
    let next =
        (offset + max < RECORDS).then(|| format!("/api/v1.0/customers?offset={}", offset + max));
    json!({"data": data, "paging": {"total": RECORDS, "offset": offset, "max": max, "next": next}})
}

fn html(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html")],
        format!(
            "<html><head><title>{text}</title></head><body><h1>{text}</h1><hr>nginx</body></html>"
        ),
    )
        .into_response()
}

async fn customers(
    State(hits): State<Arc<Hits>>,
    UrlPath(case): UrlPath<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let pairs: HashMap<String, String> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let seen = hits.bump(&case);
    let good = || axum::Json(page(&pairs, |_| {})).into_response();
    match case.as_str() {
        "good" => good(),
        "malformed-json" => (StatusCode::OK, "{\"data\": [{\"id\": 1,").into_response(),
        "malformed-json-once" if seen == 0 => (StatusCode::OK, "{\"data\": [").into_response(),
        "html-502" => html(StatusCode::BAD_GATEWAY, "502 Bad Gateway"),
        "html-502-once" if seen == 0 => html(StatusCode::BAD_GATEWAY, "502 Bad Gateway"),
        "html-200" => html(StatusCode::OK, "Please sign in to the proxy"),
        "empty-200" => StatusCode::OK.into_response(),
        "html-403" => html(StatusCode::FORBIDDEN, "403 Forbidden"),
        "wrong-types" => axum::Json(page(&pairs, |r| {
            r["creditLimit"] = json!("a lot");
            r["isActive"] = json!("yes");
        }))
        .into_response(),
        "big-numbers" => {
            // Numbers beyond 64 bits, declared (an integer and a float field) and undeclared:
            // written as JSON text, since no `Value` holds them.
            let body = page(&pairs, |r| {
                r["maxChequePeriod"] = json!("__INT__");
                r["creditLimit"] = json!("__FLOAT__");
                r["ledgerId"] = json!({"big": "__UNDECLARED__"});
            })
            .to_string()
            .replace("\"__INT__\"", "99999999999999999999999")
            .replace("\"__FLOAT__\"", "18446744073709551616123")
            .replace("\"__UNDECLARED__\"", "123456789012345678901234567890");
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        "wrong-paging-types" => {
            let mut body = page(&pairs, |_| {});
            body["data"] = json!({"not": "a list"});
            axum::Json(body).into_response()
        }
        "drift" => axum::Json(page(&pairs, |r| {
            r["loyaltyTier"] = json!("gold");
            r["newNested"] = json!({"a": [1, 2]});
        }))
        .into_response(),
        "huge" => {
            // 3 MiB of otherwise valid JSON against a 1 MiB cap.
            let mut body = page(&pairs, |_| {});
            body["padding"] = json!("x".repeat(3 << 20));
            axum::Json(body).into_response()
        }
        "gzip-bomb" => {
            // 3 KiB on the wire that inflate to 3 MiB, against a 1 MiB cap.
            use std::io::Write;
            let mut body = page(&pairs, |_| {});
            body["padding"] = json!("x".repeat(3 << 20));
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(body.to_string().as_bytes()).unwrap();
            let bytes = gz.finish().unwrap();
            (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::CONTENT_ENCODING, "gzip"),
                ],
                bytes,
            )
                .into_response()
        }
        "redirect-loop" => (
            StatusCode::FOUND,
            [(header::LOCATION, "/redirect-loop/api/v1.0/customers")],
        )
            .into_response(),
        "silent" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            good()
        }
        "echo-401" => {
            // A gateway that quotes the credential it refused.
            let authorization = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let body = json!({"error": "invalid_token", "error_description": format!("token rejected: {authorization}")});
            (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
        }
        "forge" => {
            // An error body that tries to forge a log line and clear the terminal.
            let text =
                "oops\n2026-11-30T06:00:00.000000Z  INFO Source finished.\u{1b}[2J\u{1b}[31m";
            let body = json!({"error": "server_error", "error_description": text});
            (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
        }
        "endless" => {
            // Every page new records, a total that grows faster than the pages, always a next.
            let offset: u64 = pairs
                .get("offset")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let max: u64 = pairs
                .get("max")
                .and_then(|v| v.parse().ok())
                .unwrap_or(PAGE);
            let data: Vec<Value> = (offset..offset + max)
                .map(|i| json!({"id": 1_000_000 + i, "name": format!("endless {i}")}))
                .collect();
            let next = format!("/api/v1.0/customers?offset={}", offset + max);
            let paging =
                json!({"total": offset + 2 * max + 10, "offset": offset, "max": max, "next": next});
            axum::Json(json!({"data": data, "paging": paging})).into_response()
        }
        "stuck" => {
            // The first page, whatever is asked, with the same next link every time.
            let mut body = page(&HashMap::new(), |_| {});
            body["paging"]["total"] = json!(1000);
            axum::Json(body).into_response()
        }
        "short" => {
            // The total promises more than the pages hold, and `next` says the end has come.
            let mut body = page(&pairs, |_| {});
            body["paging"]["total"] = json!(RECORDS + 3);
            axum::Json(body).into_response()
        }
        _ => good(),
    }
}

/// A token endpoint that echoes the form it was sent (client secret included) in its refusal.
async fn echo_token(body: String) -> Response {
    let body =
        json!({"error": "invalid_client", "error_description": format!("bad client: {body}")});
    (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
}

async fn serve() -> Server {
    let hits = Arc::new(Hits::default());
    let app = Router::new()
        .route("/{case}/api/v1.0/customers", get(customers))
        .route("/{case}/oauth/token", axum::routing::post(echo_token))
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Server { addr, hits }
}

fn pipeline(server: &Server, case: &str, fields: &str, extra: &str) -> String {
    let attempts = if extra.contains("max_attempts") {
        ""
    } else {
        "    max_attempts: 3\n"
    };
    format!(
        "name: hostile\nsources:\n  - vendor: valomnia\n    base_url: http://{}/{case}\n    auth:\n      token: static-test-token\n    page_size: {PAGE}\n{attempts}{extra}\ntransform:\n  fields: {fields}\n  arrays: json\noutputs:\n  - format: ndjson\n    path: out/customers.ndjson\n  - format: csv\n    path: out/customers.csv\n  - format: parquet\n    path: out/customers.parquet\n",
        server.addr
    )
}

/// Runs the case; on success returns the NDJSON rows, on failure the error text, after checking
/// that nothing was published.
async fn run(server: &Server, case: &str, fields: &str, extra: &str) -> Result<Vec<Value>, String> {
    let root = tempfile::tempdir().unwrap();
    let plan = common::plan(&pipeline(server, case, fields, extra), &[]);
    let outcome = demo::run(plan, root.path()).await;
    demo::assert_no_temp_files(root.path());
    match outcome {
        Ok(_) => Ok(read_ndjson(&root.path().join("out/customers.ndjson"))),
        Err(e) => {
            let published = demo::snapshot(root.path());
            assert!(
                published.is_empty(),
                "{case}: a failed run published {published:?}"
            );
            Err(e.to_string())
        }
    }
}

fn read_ndjson(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ids(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

fn all_ids() -> Vec<i64> {
    records()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

fn assert_clear_error(case: &str, err: &str, needles: &[&str]) {
    assert!(!err.contains("panicked"), "{case}: {err}");
    for needle in needles {
        assert!(err.contains(needle), "{case}: {needle:?} not in {err:?}");
    }
    assert!(
        !err.contains("static-test-token"),
        "{case}: the token leaked: {err}"
    );
}

#[tokio::test]
async fn the_control_case_exports_every_record() {
    let server = serve().await;
    let rows = run(&server, "good", "all", "").await.unwrap();
    assert_eq!(ids(&rows), all_ids());
}

#[tokio::test]
async fn a_passing_fault_is_retried_and_nothing_is_lost() {
    let server = serve().await;
    for case in ["malformed-json-once", "html-502-once"] {
        let rows = run(&server, case, "all", "").await.unwrap();
        assert_eq!(ids(&rows), all_ids(), "{case}");
        assert!(server.hits.get(case) > 3, "{case}: no retry");
    }
}

#[tokio::test]
async fn lasting_garbage_fails_with_a_clear_error_after_the_retries() {
    let server = serve().await;
    let cases: [(&str, &[&str]); 5] = [
        ("malformed-json", &["valomnia", "after 3 attempt", "200"]),
        (
            "html-502",
            &["valomnia", "after 3 attempt", "502", "Bad Gateway"],
        ),
        ("html-200", &["valomnia", "after 3 attempt", "200"]),
        ("empty-200", &["valomnia", "after 3 attempt"]),
        ("wrong-paging-types", &["valomnia", "data"]),
    ];
    for (case, needles) in cases {
        let err = run(&server, case, "all", "").await.unwrap_err();
        assert_clear_error(case, &err, needles);
    }
}

#[tokio::test]
async fn a_proxy_refusal_fails_at_once() {
    let server = serve().await;
    let err = run(&server, "html-403", "all", "").await.unwrap_err();
    assert_clear_error("html-403", &err, &["valomnia", "403"]);
    assert_eq!(server.hits.get("html-403"), 1, "a 403 is not retried");
}

#[tokio::test]
async fn wrong_types_are_kept_in_extra_not_dropped() {
    let server = serve().await;
    let rows = run(&server, "wrong-types", "all", "").await.unwrap();
    assert_eq!(ids(&rows), all_ids());
    for row in &rows {
        assert!(row["creditLimit"].is_null(), "{row}");
        let extra: Value = serde_json::from_str(row["_extra"].as_str().expect("_extra")).unwrap();
        assert_eq!(extra["creditLimit"], "a lot", "{row}");
        assert_eq!(extra["isActive"], "yes", "{row}");
    }
}

#[tokio::test]
async fn unknown_fields_are_kept_in_extra_and_reported() {
    let server = serve().await;
    let rows = run(&server, "drift", "all", "").await.unwrap();
    assert_eq!(ids(&rows), all_ids());
    for row in &rows {
        let extra: Value = serde_json::from_str(row["_extra"].as_str().expect("_extra")).unwrap();
        assert_eq!(extra["loyaltyTier"], "gold", "{row}");
        assert_eq!(extra["newNested"], json!({"a": [1, 2]}), "{row}");
    }
    // Canonical fields drop what they do not map, by definition; the export is still whole.
    let rows = run(&server, "drift", "canonical", "").await.unwrap();
    assert_eq!(rows.len(), RECORDS as usize);
}

#[tokio::test]
async fn schema_drift_is_reported_in_the_log() {
    let server = serve().await;
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("p.yaml");
    std::fs::write(&file, pipeline(&server, "drift", "all", "")).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_customer-export"))
            .arg("run")
            .arg(&file)
            .arg("--output-dir")
            .arg(file.parent().unwrap())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Drift loses nothing (`all` keeps it in `_extra`): the summary says it, not a warning.
    assert!(
        stderr.contains("field(s) beyond the vendor's declaration (schema drift")
            && !stderr.contains("WARN"),
        "{stderr}"
    );
}

/// Issue 11, item 10: a body over the cap, plain or a gzip body inflating past it, is refused
/// at once — never downloaded again by a retry.
#[tokio::test]
async fn a_body_over_the_cap_is_refused_at_once() {
    let server = serve().await;
    for case in ["huge", "gzip-bomb"] {
        let err = run(&server, case, "all", "    max_body_mb: 1")
            .await
            .unwrap_err();
        assert_clear_error(
            case,
            &err,
            &["valomnia", "larger than 1048576 bytes", "max_body_mb"],
        );
        assert_eq!(server.hits.get(case), 1, "{case}: downloaded again");
    }
}

#[tokio::test]
async fn a_redirect_loop_is_refused_at_once() {
    let server = serve().await;
    let err = run(&server, "redirect-loop", "all", "").await.unwrap_err();
    assert_clear_error("redirect-loop", &err, &["valomnia", "redirect"]);
    assert_eq!(
        server.hits.get("redirect-loop"),
        1,
        "a redirect is not followed"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = serve().await;
    let started = std::time::Instant::now();
    let err = run(
        &server,
        "silent",
        "all",
        "    timeout_secs: 1\n    max_attempts: 2",
    )
    .await
    .unwrap_err();
    assert_clear_error(
        "silent",
        &err,
        &["valomnia", "timed out", "after 2 attempt"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_short_export_is_never_silent() {
    let server = serve().await;
    let err = run(&server, "short", "all", "").await.unwrap_err();
    assert_clear_error("short", &err, &["valomnia", "12", "15"]);
}

#[tokio::test]
async fn no_server_at_all_fails_clearly() {
    // A port nobody listens on: connection refused, retried, then a clear error.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let server = Server {
        addr,
        hits: Arc::default(),
    };
    let err = run(&server, "good", "all", "    max_attempts: 2")
        .await
        .unwrap_err();
    assert_clear_error("refused", &err, &["valomnia", "could not connect"]);
}

/// Runs the binary on a pipeline text in a fresh folder with `env` set; returns its output and
/// the folder (the output root).
fn run_binary(text: &str, env: &[(&str, &str)]) -> (std::process::Output, tempfile::TempDir) {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("p.yaml");
    std::fs::write(&file, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_customer-export"))
        .arg("run")
        .arg(&file)
        .arg("--output-dir")
        .arg(root.path())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (out, root)
}

/// Issue 11, item 4: a 401 body quoting the bearer token and a token endpoint echoing the client
/// secret are neither printed nor published in the manifest (`on_error: skip` publishes one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_echoed_by_a_server_are_never_printed_or_published() {
    let server = serve().await;
    let addr = server.addr;
    let secrets = [
        ("ECHO_TOKEN", "echo-static-token-5e1f"),
        ("ECHO_SECRET", "echo-client-secret-9a2b"),
        ("ECHO_KEY", "echo-subscription-key-77c4"),
    ];
    let text = format!(
        "name: echo\non_error: skip\nsources:\n  - vendor: valomnia\n    base_url: http://{addr}/echo-401\n    max_attempts: 2\n    auth:\n      token: ${{ECHO_TOKEN}}\n  - vendor: appxite\n    base_url: http://{addr}/appxite\n    organization_id: 97ab7e3c-74cb-4a72-a2c4-144a8996b7f9\n    referer: https://echo.test\n    max_attempts: 2\n    auth:\n      client_id: echo-client\n      client_secret: ${{ECHO_SECRET}}\n      subscription_key: ${{ECHO_KEY}}\n      token_url: http://{addr}/echo-secret/oauth/token\noutputs:\n  - format: csv\n    path: out/{{vendor}}.csv\n"
    );
    let (out, root) = tokio::task::spawn_blocking(move || run_binary(&text, &secrets))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("token rejected: Bearer ***"), "{stderr}");
    assert!(stderr.contains("bad client:"), "{stderr}");
    let manifest = std::fs::read_to_string(root.path().join("manifest.json")).expect("manifest");
    assert!(
        manifest.contains("token rejected: Bearer ***"),
        "{manifest}"
    );
    for (_, secret) in secrets {
        let url: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for form in [secret.to_string(), url] {
            assert!(!stderr.contains(&form), "{secret} printed: {stderr}");
            assert!(!manifest.contains(&form), "{secret} published: {manifest}");
        }
    }
}

/// Issue 11, item 5: newlines and ANSI escapes in an error body are escaped, never written raw.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_text_cannot_forge_log_lines() {
    let server = serve().await;
    let text = pipeline(&server, "forge", "all", "    max_attempts: 2");
    let (out, _root) = tokio::task::spawn_blocking(move || run_binary(&text, &[]))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("oops"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "an escape reached the terminal: {stderr:?}"
    );
    // The forged text stays inside the error line, escaped; it never starts a line of its own.
    assert!(stderr.contains("oops\\n2026-11-30T06:00:00"), "{stderr}");
    assert!(
        !stderr.lines().any(|l| l.starts_with("2026-11-30T06:00:00")),
        "a forged line: {stderr}"
    );
}

/// Issue 11, item 3: a server that always says more follow, with a growing total, is stopped at a
/// ceiling (10× the first total by default, `max_records` to set it), and one that serves the
/// same page again is stopped at once: every run ends, and nothing is published.
#[tokio::test]
async fn a_run_that_never_ends_is_stopped() {
    let server = serve().await;
    let err = run(&server, "endless", "all", "").await.unwrap_err();
    assert_clear_error(
        "endless",
        &err,
        &[
            "valomnia",
            "paging stopped",
            "past the ceiling of 10000",
            "max_records",
        ],
    );
    let hits = server.hits.get("endless");
    assert!(hits <= 10_000 / PAGE + 2, "{hits} requests");
    let err = run(&server, "endless", "all", "    max_records: 40")
        .await
        .unwrap_err();
    assert_clear_error("endless", &err, &["past the ceiling of 40 (max_records)"]);
    let err = run(&server, "stuck", "all", "").await.unwrap_err();
    assert_clear_error(
        "stuck",
        &err,
        &["valomnia", "paging stopped", "does not advance"],
    );
}

/// Issue 11, item 11: a number beyond 64 bits, in a declared field or an undeclared one, is kept in
/// `_extra` exactly as the vendor wrote it, never rounded through a float.
#[tokio::test]
async fn numbers_beyond_64_bits_are_kept_verbatim() {
    let server = serve().await;
    let root = tempfile::tempdir().unwrap();
    let plan = common::plan(&pipeline(&server, "big-numbers", "all", ""), &[]);
    demo::run(plan, root.path()).await.unwrap();
    let text = std::fs::read_to_string(root.path().join("out/customers.ndjson")).unwrap();
    for line in text.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        assert!(
            row["maxChequePeriod"].is_null() && row["creditLimit"].is_null(),
            "{row}"
        );
        let extra = row["_extra"].as_str().expect("_extra");
        for verbatim in [
            "\"maxChequePeriod\":99999999999999999999999",
            "\"creditLimit\":18446744073709551616123",
            "\"ledgerId\":{\"big\":123456789012345678901234567890}",
        ] {
            assert!(extra.contains(verbatim), "{verbatim} not in {extra}");
        }
    }
}

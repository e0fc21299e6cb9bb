//! Regression (issue 15, the soak's token race): a token fetched for a page, then held back by a
//! pause another page's 429 opened, lapses before it goes out. Its refusal is a lapse, not
//! refused credentials: the source renews the token again and exports everything.
//!
//! A tiny Valomnia (session login; tokens without an announced lifetime that live [`LIFETIME`])
//! springs the race on purpose instead of waiting for the soak to hit it:
//! 1. the first list request that comes while a lower page is still unanswered (two pages in
//!    flight) is held, and its token expires there and then;
//! 2. the other page, which must still send a request, is refused and fetches a token for itself;
//! 3. that token request first answers the held page 429 with `Retry-After`, so the whole source
//!    pauses, and only then gives out the token, which waits out the pause, lapses, and is
//!    refused when it is used.
//!
//! Before the fix that refusal failed the run: "401 invalid_token; check the credentials". Should
//! the client outrun a step (a very busy machine), the trap is set again for the next pair.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use customer_export::sandbox::{SandboxConfig, expected_records};
use serde_json::{Value, json};
use tokio::sync::oneshot;

const RECORDS: u64 = 100;
const PAGE: u64 = 5;
/// How long the server accepts a token after issuing it.
const LIFETIME: Duration = Duration::from_secs(1);
/// The pause the held page's 429 asks for, in seconds: well beyond [`LIFETIME`].
const RETRY_AFTER: &str = "3";
/// How long the token request waits after answering the held page 429: time for the client to
/// take in the 429 and pause before the token arrives.
const SETTLE: Duration = Duration::from_millis(300);
/// How long a page takes to answer: longer than the client's 100 ms between requests, so that
/// two pages are in flight at once.
const SLOW: Duration = Duration::from_millis(250);
/// A held page not released by then is refused, and the trap is set again.
const HOLD_AT_MOST: Duration = Duration::from_secs(3);

struct Vendor {
    records: Vec<Value>,
    state: Mutex<Trap>,
}

struct Trap {
    /// Each token and when it was issued.
    issued: HashMap<String, Instant>,
    /// Tokens expired early by the trap.
    expired: HashSet<String>,
    /// The offsets of the pages answered.
    served: HashSet<u64>,
    /// Whether the next list request beside a pending lower page is to be held.
    armed: bool,
    /// Releases the held request (with a 429); sent by the next token request.
    held: Option<oneshot::Sender<()>>,
    /// Tokens given out while the source was pausing after the held page's 429.
    issued_in_pause: HashSet<String>,
    /// How many of those were refused as lapsed: the race was sprung.
    lapsed_in_pause: u64,
}

/// What the server does with one list request.
enum Verdict {
    Unknown,
    Lapsed,
    Hold(oneshot::Receiver<()>),
    Valid,
}

impl Trap {
    fn judge(&mut self, token: &str, offset: u64) -> Verdict {
        let Some(issued) = self.issued.get(token) else {
            return Verdict::Unknown;
        };
        if self.expired.contains(token) || issued.elapsed() >= LIFETIME {
            if self.issued_in_pause.contains(token) {
                self.lapsed_in_pause += 1;
            }
            return Verdict::Lapsed;
        }
        let lower_pending = (0..offset)
            .step_by(PAGE as usize)
            .any(|o| !self.served.contains(&o));
        if self.armed && lower_pending {
            self.armed = false;
            self.expired.insert(token.to_string());
            let (release, released) = oneshot::channel();
            self.held = Some(release);
            return Verdict::Hold(released);
        }
        if self.issued_in_pause.contains(token) && self.lapsed_in_pause == 0 {
            // The token outran the pause: the race was not sprung; set the trap again.
            self.armed = self.held.is_none();
        }
        Verdict::Valid
    }
}

impl Vendor {
    fn trap(&self) -> std::sync::MutexGuard<'_, Trap> {
        self.state.lock().unwrap()
    }
}

async fn login() -> Response {
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, "/login/ajaxSuccess"),
            (header::SET_COOKIE, "JSESSIONID=S1; Path=/; HttpOnly"),
        ],
    )
        .into_response()
}

async fn token(State(vendor): State<Arc<Vendor>>) -> Response {
    let held = vendor.trap().held.take();
    let in_pause = held.is_some_and(|release| release.send(()).is_ok());
    if in_pause {
        tokio::time::sleep(SETTLE).await;
    }
    let mut trap = vendor.trap();
    let token = format!("t{}", trap.issued.len() + 1);
    trap.issued.insert(token.clone(), Instant::now());
    if in_pause {
        trap.issued_in_pause.insert(token.clone());
    }
    axum::Json(json!({"success": true, "token": token, "user": {"id": 2}})).into_response()
}

async fn customers(
    State(vendor): State<Arc<Vendor>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let pairs: HashMap<String, String> =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let number = |key: &str, default: u64| {
        pairs
            .get(key)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (offset, max) = (number("offset", 0), number("max", PAGE));
    let verdict = vendor.trap().judge(token, offset);
    match verdict {
        Verdict::Unknown | Verdict::Lapsed => refused(),
        Verdict::Hold(released) => hold(&vendor, released).await,
        Verdict::Valid => {
            tokio::time::sleep(SLOW).await;
            vendor.trap().served.insert(offset);
            page(&vendor.records, offset, max)
        }
    }
}

/// The held request: 429 once a token request releases it, else (the other page never came)
/// refused, and the trap set again.
async fn hold(vendor: &Vendor, released: oneshot::Receiver<()>) -> Response {
    if let Ok(Ok(())) = tokio::time::timeout(HOLD_AT_MOST, released).await {
        let body = json!({"error": "too_many_requests"});
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, RETRY_AFTER)],
            axum::Json(body),
        )
            .into_response();
    }
    let mut trap = vendor.trap();
    trap.held = None;
    trap.armed = true;
    refused()
}

fn refused() -> Response {
    let body = json!({"error": "invalid_token"});
    (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
}

fn page(records: &[Value], offset: u64, max: u64) -> Response {
    let data: Vec<&Value> = records
        .iter()
        .skip(offset as usize)
        .take(max as usize)
        .collect();
    let next =
        (offset + max < RECORDS).then(|| format!("/api/v1.0/customers?offset={}", offset + max));
    let paging = json!({"total": RECORDS, "offset": offset, "max": max, "next": next});
    axum::Json(json!({"data": data, "paging": paging})).into_response()
}

async fn serve(vendor: Arc<Vendor>) -> SocketAddr {
    let app = Router::new()
        .route("/j_spring_security_check", post(login))
        .route("/login/ajaxSuccess", get(token))
        .route("/api/v1.0/customers", get(customers))
        .with_state(vendor);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_lapses_while_its_page_waits_out_a_pause_is_renewed_not_fatal() {
    let config = SandboxConfig {
        customers: RECORDS,
        ..SandboxConfig::default()
    };
    let records = expected_records("valomnia", &config, &[]).unwrap();
    let vendor = Arc::new(Vendor {
        records: records.clone(),
        state: Mutex::new(Trap {
            issued: HashMap::new(),
            expired: HashSet::new(),
            served: HashSet::new(),
            armed: true,
            held: None,
            issued_in_pause: HashSet::new(),
            lapsed_in_pause: 0,
        }),
    });
    let addr = serve(vendor.clone()).await;
    let text = format!(
        "name: lapse\nsources:\n  - vendor: valomnia\n    base_url: http://{addr}\n    auth:\n      username: u\n      password: p\n    page_size: {PAGE}\n    rate_limit: 10/s\n    concurrency: 2\noutputs:\n  - format: csv\n    path: out/x.csv\n"
    );
    let source = common::plan(&text, &[]).sources.remove(0);
    let (got, _) = common::extract_all(&source)
        .await
        .unwrap_or_else(|e| panic!("the export failed: {e}"));
    let trap = vendor.trap();
    assert!(
        trap.lapsed_in_pause > 0,
        "the race was never sprung: no token given out in a pause lapsed ({} tokens issued)",
        trap.issued.len()
    );
    let ids = |rows: &[Value]| rows.iter().map(|r| r["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&got), ids(&records));
}

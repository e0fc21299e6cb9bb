//! What every emulation shares: the request counters, issued tokens, rate limits, fault dice and
//! the middleware every vendor request passes (counting, the vendor's own first check, the rate
//! limit, faults), plus small HTTP helpers. Vendor specifics come from the [`Emulator`]s.

use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use super::{ALL, Emulator, RetryAfter, SandboxConfig, Stats, VendorStats};

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    list_requests: AtomicU64,
    /// List requests being answered now, and the most at once.
    lists_in_flight: AtomicU64,
    max_lists_in_flight: AtomicU64,
    token_requests: AtomicU64,
    tokens_issued: AtomicU64,
    rate_limited: AtomicU64,
    faults: AtomicU64,
    unauthorized: AtomicU64,
    bad_requests: AtomicU64,
    duplicate_request_ids: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A token bucket: `rate` tokens per second, at most `burst` saved up.
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// The outcome of checking a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    Valid,
    Missing,
    Expired,
    Unknown,
}

/// Bounded memory: beyond this many live entries a map is pruned (tokens: expired ones first).
const MAX_ENTRIES: usize = 200_000;

/// Everything the handlers share.
pub struct Shared {
    pub config: SandboxConfig,
    /// Per emulation, in registry order: its counters and its rate-limit bucket.
    vendors: Vec<(&'static dyn Emulator, Counters, Mutex<Bucket>)>,
    /// Issued tokens: the vendor they were issued for and when they expire.
    tokens: Mutex<HashMap<String, (&'static str, Instant)>>,
    rng: Mutex<fastrand::Rng>,
    /// Logical requests (method + path + query) whose last attempt was faulted.
    faulted: Mutex<HashSet<String>>,
    /// Cached ordered index lists of filtered or re-sorted views, by a canonical query key.
    views: Mutex<HashMap<String, Arc<Vec<u32>>>>,
    /// Each emulation's own state (sessions, seen request ids …), by type.
    states: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

/// Locks a mutex, recovering from poisoning (a panicked handler must not wedge the server).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(super) fn new(config: SandboxConfig) -> Shared {
        let now = Instant::now();
        let vendors = ALL
            .iter()
            .map(|&emulator| {
                let bucket = Bucket {
                    tokens: burst(config.rate_limit),
                    last: now,
                };
                (emulator, Counters::default(), Mutex::new(bucket))
            })
            .collect();
        Shared {
            rng: Mutex::new(fastrand::Rng::with_seed(config.seed ^ 0x5EED_FA17)),
            config,
            vendors,
            tokens: Mutex::new(HashMap::new()),
            faulted: Mutex::new(HashSet::new()),
            views: Mutex::new(HashMap::new()),
            states: Mutex::new(HashMap::new()),
        }
    }

    /// The emulation a request path belongs to (`None` for the sandbox's own routes).
    fn of_path(&self, path: &str) -> Option<usize> {
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        (self.vendors.iter()).position(|(e, _, _)| e.prefixes().contains(&first))
    }

    fn counters(&self, vendor: &str) -> Option<&Counters> {
        (self.vendors.iter())
            .find(|(e, _, _)| e.id() == vendor)
            .map(|(_, c, _)| c)
    }

    /// Counts a request `vendor` refused for reusing a request id.
    pub fn duplicate_request_id(&self, vendor: &str) {
        if let Some(c) = self.counters(vendor) {
            bump(&c.duplicate_request_ids);
        }
    }

    /// The state of type `T` an emulation keeps beside the shared machinery, made on first use.
    pub fn state<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut states = lock(&self.states);
        let state = states
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        drop(states);
        state
            .downcast::<T>()
            .unwrap_or_else(|_| Arc::new(T::default()))
    }

    pub(super) fn stats(&self) -> Stats {
        let vendors = (self.vendors.iter())
            .map(|(emulator, c, _)| {
                let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
                let s = VendorStats {
                    requests: get(&c.requests),
                    list_requests: get(&c.list_requests),
                    max_lists_in_flight: get(&c.max_lists_in_flight),
                    token_requests: get(&c.token_requests),
                    tokens_issued: get(&c.tokens_issued),
                    rate_limited: get(&c.rate_limited),
                    faults: get(&c.faults),
                    unauthorized: get(&c.unauthorized),
                    bad_requests: get(&c.bad_requests),
                    duplicate_request_ids: get(&c.duplicate_request_ids),
                };
                (emulator.id().to_string(), s)
            })
            .collect();
        Stats { vendors }
    }

    /// Issues a token for `vendor` valid for `token_ttl_secs`; returns it and its lifetime.
    pub fn issue_token(&self, vendor: &'static str) -> (String, u64) {
        let ttl = self.config.token_ttl_secs;
        let token = format!("sbx-{vendor}-{}", uuid::Uuid::new_v4().simple());
        let mut tokens = lock(&self.tokens);
        if tokens.len() >= MAX_ENTRIES {
            let now = Instant::now();
            tokens.retain(|_, (_, expiry)| *expiry > now);
            if tokens.len() >= MAX_ENTRIES {
                tokens.clear();
            }
        }
        tokens.insert(
            token.clone(),
            (vendor, Instant::now() + Duration::from_secs(ttl)),
        );
        if let Some(c) = self.counters(vendor) {
            bump(&c.tokens_issued);
        }
        (token, ttl)
    }

    /// Checks the `Authorization: Bearer` header against the tokens issued for `vendor`.
    pub fn check_bearer(&self, vendor: &str, headers: &HeaderMap) -> TokenCheck {
        let Some(token) = bearer(headers) else {
            return TokenCheck::Missing;
        };
        self.check_token(vendor, token)
    }

    pub fn check_token(&self, vendor: &str, token: &str) -> TokenCheck {
        let tokens = lock(&self.tokens);
        match tokens.get(token) {
            Some((v, expiry)) if *v == vendor => {
                if *expiry > Instant::now() {
                    TokenCheck::Valid
                } else {
                    TokenCheck::Expired
                }
            }
            _ => TokenCheck::Unknown,
        }
    }

    /// Takes one request from vendor `v`'s bucket; false when over the rate limit.
    fn admit(&self, v: usize) -> bool {
        let Some(rate) = self.config.rate_limit.filter(|r| *r > 0.0 && r.is_finite()) else {
            return true;
        };
        let mut bucket = lock(&self.vendors[v].2);
        let now = Instant::now();
        let refill = now.duration_since(bucket.last).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refill).min(burst(Some(rate)));
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Rolls the fault dice for one request; never faults two attempts in a row of the same request.
    fn roll_fault(&self, vendor: &dyn Emulator, key: &str) -> Option<Fault> {
        let p = self.config.faults;
        if p <= 0.0 || p.is_nan() {
            return None;
        }
        let mut faulted = lock(&self.faulted);
        if faulted.remove(key) {
            return None;
        }
        let mut rng = lock(&self.rng);
        if rng.f64() >= p {
            return None;
        }
        let fault = match rng.u8(0..7) {
            0 => Fault::Status(StatusCode::INTERNAL_SERVER_ERROR),
            1 => Fault::Status(StatusCode::BAD_GATEWAY),
            2 => Fault::Status(StatusCode::SERVICE_UNAVAILABLE),
            3 => Fault::Throttle(retry_after_value(vendor.retry_after(), &mut rng)),
            4 => Fault::Slow,
            5 => Fault::Drop,
            _ => Fault::Truncate,
        };
        if faulted.len() >= MAX_ENTRIES {
            faulted.clear();
        }
        faulted.insert(key.to_string());
        Some(fault)
    }

    /// The cached ordered index list for `key`, built by `build` on a miss.
    pub fn view(&self, key: String, build: impl FnOnce() -> Vec<u32>) -> Arc<Vec<u32>> {
        if let Some(v) = lock(&self.views).get(&key) {
            return v.clone();
        }
        // Built outside the lock: a rare duplicate build is cheaper than serialising all requests.
        let built = Arc::new(build());
        let mut views = lock(&self.views);
        if views.len() >= 64 {
            views.clear();
        }
        views.insert(key, built.clone());
        built
    }
}

fn burst(rate: Option<f64>) -> f64 {
    rate.map_or(1.0, |r| (r / 10.0).clamp(1.0, 10.0))
}

fn retry_after_value(policy: RetryAfter, rng: &mut fastrand::Rng) -> Option<String> {
    let use_date = match policy {
        RetryAfter::Never => return None,
        RetryAfter::Always => false,
        RetryAfter::Mixed => match rng.u8(0..3) {
            0 => return None,
            1 => false,
            _ => true,
        },
    };
    if use_date {
        let when = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
        let printer = jiff::fmt::rfc2822::DateTimePrinter::new();
        printer.timestamp_to_rfc9110_string(&when).ok()
    } else {
        Some("1".to_string())
    }
}

#[derive(Debug, Clone)]
enum Fault {
    Status(StatusCode),
    Throttle(Option<String>),
    Slow,
    Drop,
    Truncate,
}

/// The middleware every vendor request passes: counting, the vendor's own first check, the rate
/// limit, outages, faults.
async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let Some(v) = shared.of_path(&path) else {
        return next.run(request).await;
    };
    let (emulator, counters, _) = &shared.vendors[v];
    bump(&counters.requests);
    let listing = !emulator.is_token_path(&path);
    if listing {
        bump(&counters.list_requests);
        let now = counters.lists_in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        counters
            .max_lists_in_flight
            .fetch_max(now, Ordering::Relaxed);
    } else {
        bump(&counters.token_requests);
    }
    let response = gated(&shared, v, &path, request, next).await;
    if listing {
        counters.lists_in_flight.fetch_sub(1, Ordering::Relaxed);
    }
    match response.status() {
        StatusCode::BAD_REQUEST => bump(&counters.bad_requests),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => bump(&counters.unauthorized),
        _ => {}
    }
    response
}

async fn gated(shared: &Shared, v: usize, path: &str, request: Request, next: Next) -> Response {
    let (emulator, counters, _) = &shared.vendors[v];
    let emulator = *emulator;
    // Some checks come before anything else can fail the request (a reused request id).
    if let Some(refused) = emulator.screen(shared, path, request.headers()) {
        return refused;
    }
    if !shared.admit(v) {
        bump(&counters.rate_limited);
        let seconds = shared
            .config
            .rate_limit
            .map_or(1, |r| (1.0 / r).ceil().max(1.0) as u64);
        let retry_after =
            (emulator.retry_after() != RetryAfter::Never).then(|| seconds.to_string());
        return throttled(emulator, retry_after);
    }
    let mut request = request;
    if !emulator.is_token_path(path)
        && let Some(response) = list_trouble(shared, emulator, counters, &mut request).await
    {
        return response;
    }
    let key = format!("{} {}", request.method(), request.uri());
    let Some(fault) = shared.roll_fault(emulator, &key) else {
        return next.run(request).await;
    };
    bump(&counters.faults);
    match fault {
        Fault::Status(status) => emulator.server_error(status),
        Fault::Throttle(retry_after) => throttled(emulator, retry_after),
        Fault::Slow => {
            tokio::time::sleep(Duration::from_millis(shared.config.slow_ms)).await;
            next.run(request).await
        }
        Fault::Drop => dropped(),
        Fault::Truncate => truncated(next.run(request).await).await,
    }
}

/// The lasting troubles a configuration gives a vendor's list: an outage (503), revoked tokens,
/// a slow server.
async fn list_trouble(
    shared: &Shared,
    emulator: &dyn Emulator,
    counters: &Counters,
    request: &mut Request,
) -> Option<Response> {
    let id = emulator.id();
    if shared.config.outage.iter().any(|v| v == id) {
        bump(&counters.faults);
        return Some(emulator.server_error(StatusCode::SERVICE_UNAVAILABLE));
    }
    if shared.config.reject_tokens.iter().any(|v| v == id) {
        // A token the sandbox never issued: the vendor's own 401 for an unknown token.
        request.headers_mut().insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer sbx-revoked"),
        );
    }
    if shared.config.list_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(shared.config.list_delay_ms)).await;
    }
    None
}

/// The vendor's 429, with `Retry-After` when given.
fn throttled(emulator: &dyn Emulator, retry_after: Option<String>) -> Response {
    let seconds = retry_after
        .as_deref()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(1);
    let mut response = emulator.throttled(seconds);
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A response whose body fails at once: the connection is aborted before a complete answer.
fn dropped() -> Response {
    let stream =
        futures_util::stream::iter([Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault: dropped connection",
        ))]);
    Response::new(Body::from_stream(stream))
}

/// `response` with its full `Content-Length` but only half its body, then the connection closed.
async fn truncated(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(full) = axum::body::to_bytes(body, usize::MAX).await else {
        return dropped();
    };
    let half = full.slice(..full.len() / 2);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(full.len()));
    let stream = futures_util::stream::iter([
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault: truncated body",
        )),
    ]);
    Response::from_parts(parts, Body::from_stream(stream))
}

pub(super) fn router(shared: Arc<Shared>) -> Router {
    let routes = ALL.iter().fold(Router::new(), |router, emulator| {
        router.merge(emulator.routes())
    });
    routes
        .route("/_sandbox/stats", get(stats_handler))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

async fn stats_handler(State(shared): State<Arc<Shared>>) -> Response {
    json(
        StatusCode::OK,
        &serde_json::to_value(shared.stats()).unwrap_or(Value::Null),
    )
}

// ---------------------------------------------------------------------------------------------
// Small helpers for the vendor modules.

/// A JSON response.
pub fn json(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        bytes,
    )
        .into_response()
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The decoded `key=value` pairs of a query string, in order.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The last value of parameter `name`.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A record index as the u32 the view caches hold (datasets are capped below 2^32 records).
pub fn count_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A bounded set of texts seen (request ids): beyond its bound the oldest is forgotten.
#[derive(Default)]
pub struct Seen {
    set: HashSet<String>,
    order: std::collections::VecDeque<String>,
}

impl Seen {
    /// Records `id`; false when it was seen before.
    pub fn first_time(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() >= MAX_ENTRIES
            && let Some(oldest) = self.order.pop_front()
        {
            self.set.remove(&oldest);
        }
        self.set.insert(id.to_string());
        self.order.push_back(id.to_string());
        true
    }
}

//! The sandbox: faithful emulations of the five vendor APIs, served by one embedded HTTP server.
//!
//! It is the quick-start demo server, the fixture of every integration test and the benchmark
//! server, so it promises:
//! - **Strictness.** Each vendor module follows its vendor's documentation (the vendors' pages and `shared/vendors/README.md`):
//!   auth flows, paging, filters, error bodies and quirks. A client that passes here should pass
//!   against the real API; where the docs are silent the choice is written in the module header.
//! - **Determinism.** Data is a pure function of (seed, vendor, index): the same config serves
//!   byte-identical pages, and [`expected_records`] is the truth tests compare exports against.
//! - **Speed.** Pages are generated on the fly; only index lists for filtered or re-sorted views
//!   are cached (4 bytes per matching record), never records.
//! - **Hostility on demand.** `faults`, `rate_limit` and `token_ttl_secs` inject 5xx, 429 (with and
//!   without `Retry-After`, as each vendor does), slow, dropped and truncated responses, and token
//!   expiry. A request whose previous identical attempt was faulted is always served normally, so a
//!   client that retries at least once always gets through. `outage` and `reject_tokens` make a
//!   vendor's list fail for good (503; 401 even to a fresh token); `list_delay_ms` slows it down.
//!
//! Routes (all on 127.0.0.1): `/c3/…` and `/aad/{tenant}/oauth2/token`; `/crayon/…`;
//! `/valomnia/…` (the list is also served at `/api/v1.0/customers`, so a `next` link resolved
//! against the host works as well as one appended to the base URL); `/appxite/…`; `/adobe/…` and
//! `/ims/ims/token/v3`; `GET /_sandbox/stats` (not counted).

// Handlers reject a request with the vendor's own error `Response`; boxing it on this cold path
// would only add noise.
#![allow(clippy::result_large_err)]

mod adobe_vipmp;
pub mod appxite;
mod c3;
mod crayon;
pub mod data;
pub mod embedded;
mod valomnia;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
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

use crate::secret::Secret;

/// The vendor ids, in the order the CLI and the stats list them.
pub const VENDORS: [&str; 5] = ["c3", "crayon", "valomnia", "appxite", "adobe_vipmp"];

/// How the sandbox behaves; `customer-export sandbox` takes these as flags.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxConfig {
    /// TCP port on 127.0.0.1; 0 picks any free port.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Customers per vendor.
    #[arg(long, default_value_t = 1000)]
    pub customers: u64,
    /// Per-vendor override of `customers`, e.g. `--vendor-customers adobe_vipmp=50` (repeatable).
    #[arg(long = "vendor-customers", value_parser = parse_vendor_count)]
    pub vendor_customers: Vec<(String, u64)>,
    /// Seed of the synthetic data and of the fault dice.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Probability (0..1) that a vendor request gets a fault (5xx, 429, slow, dropped, truncated).
    #[arg(long, default_value_t = 0.0)]
    pub faults: f64,
    /// Maximum requests per second per vendor; over it the vendor's 429.
    #[arg(long = "rate-limit")]
    pub rate_limit: Option<f64>,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long = "token-ttl", default_value_t = 3600)]
    pub token_ttl_secs: u64,
    /// Valomnia: customers inserted (with ids below every existing one) after each list page served.
    #[arg(long = "live-inserts", default_value_t = 0)]
    pub live_inserts: u32,
    /// Delay of the "slow response" fault, in milliseconds.
    #[arg(long = "fault-delay-ms", default_value_t = 300)]
    pub slow_ms: u64,
    /// C3: answer every customer list with HTTP 200 and `Status:"Error"` (an application error).
    #[arg(long = "c3-application-error")]
    pub c3_application_error: bool,
    /// Vendors whose customer list always answers 503 with the vendor's error body (a lasting
    /// outage; their token endpoints still work), e.g. `--outage crayon` (repeatable).
    #[arg(long = "outage", value_parser = parse_vendor)]
    pub outage: Vec<String>,
    /// Vendors whose customer list refuses every token with the vendor's own 401, even a fresh one
    /// (revoked credentials), e.g. `--reject-tokens appxite` (repeatable).
    #[arg(long = "reject-tokens", value_parser = parse_vendor)]
    pub reject_tokens: Vec<String>,
    /// Delay added to every customer-list response, in milliseconds (a slow vendor; makes a run
    /// last long enough to interrupt it mid-write).
    #[arg(long = "list-delay-ms", default_value_t = 0)]
    pub list_delay_ms: u64,
    /// What the token endpoints accept (the documented demo values by default).
    #[arg(skip)]
    pub credentials: Credentials,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            port: 0,
            customers: 1000,
            vendor_customers: Vec::new(),
            seed: 42,
            faults: 0.0,
            rate_limit: None,
            token_ttl_secs: 3600,
            live_inserts: 0,
            slow_ms: 300,
            c3_application_error: false,
            outage: Vec::new(),
            reject_tokens: Vec::new(),
            list_delay_ms: 0,
            credentials: Credentials::default(),
        }
    }
}

impl SandboxConfig {
    /// The number of customers `vendor` serves (the last matching override wins).
    pub fn customers_for(&self, vendor: &str) -> u64 {
        self.vendor_customers
            .iter()
            .rev()
            .find(|(v, _)| v == vendor)
            .map_or(self.customers, |(_, n)| *n)
    }
}

/// Checks a vendor id for `--outage` and `--reject-tokens`.
pub fn parse_vendor(s: &str) -> Result<String, String> {
    if VENDORS.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "unknown vendor {s:?}; one of {}",
            VENDORS.join(", ")
        ))
    }
}

/// Parses `VENDOR=COUNT` for `--vendor-customers`.
pub fn parse_vendor_count(s: &str) -> Result<(String, u64), String> {
    let (vendor, count) = s
        .split_once('=')
        .ok_or_else(|| format!("expected VENDOR=COUNT, got {s:?}"))?;
    if !VENDORS.contains(&vendor) {
        return Err(format!(
            "unknown vendor {vendor:?}; one of {}",
            VENDORS.join(", ")
        ));
    }
    let count = count
        .parse::<u64>()
        .map_err(|_| format!("expected a whole number of customers, got {count:?}"))?;
    Ok((vendor.to_string(), count))
}

/// Credentials each vendor's token endpoint accepts. `Default` gives the documented demo values.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub c3: C3Credentials,
    pub crayon: CrayonCredentials,
    pub valomnia: ValomniaCredentials,
    pub appxite: AppxiteCredentials,
    pub adobe_vipmp: AdobeCredentials,
}

#[derive(Debug, Clone)]
pub struct C3Credentials {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: Secret,
    pub resource: String,
}

impl Default for C3Credentials {
    fn default() -> Self {
        C3Credentials {
            tenant_id: "sandbox-c3-tenant".into(),
            client_id: "sandbox-c3-client".into(),
            client_secret: Secret::new("sandbox-c3-secret"),
            resource: "api://sandbox-c3".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CrayonCredentials {
    pub client_id: String,
    pub client_secret: Secret,
    pub username: String,
    pub password: Secret,
}

impl Default for CrayonCredentials {
    fn default() -> Self {
        CrayonCredentials {
            client_id: "sandbox-crayon-client".into(),
            client_secret: Secret::new("sandbox-crayon-secret"),
            username: "sandbox-crayon-user".into(),
            password: Secret::new("sandbox-crayon-password"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ValomniaCredentials {
    pub username: String,
    pub password: Secret,
    pub static_token: Secret,
}

impl Default for ValomniaCredentials {
    fn default() -> Self {
        ValomniaCredentials {
            username: "sandbox-valomnia-user".into(),
            password: Secret::new("sandbox-valomnia-password"),
            static_token: Secret::new("sandbox-valomnia-token"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppxiteCredentials {
    pub client_id: String,
    pub client_secret: Secret,
    pub subscription_key: Secret,
    /// The required `X-Referer` value; `None` accepts any non-empty value.
    pub referer: Option<String>,
}

impl Default for AppxiteCredentials {
    fn default() -> Self {
        AppxiteCredentials {
            client_id: "sandbox-appxite-client".into(),
            client_secret: Secret::new("sandbox-appxite-secret"),
            subscription_key: Secret::new("sandbox-appxite-subscription-key"),
            referer: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AdobeCredentials {
    pub client_id: String,
    pub client_secret: Secret,
    pub reseller_id: String,
}

impl Default for AdobeCredentials {
    fn default() -> Self {
        AdobeCredentials {
            client_id: "sandbox-adobe-client".into(),
            client_secret: Secret::new("sandbox-adobe-secret"),
            reseller_id: "1000396138".into(),
        }
    }
}

/// A snapshot of the request counters, per vendor id.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub vendors: BTreeMap<String, VendorStats>,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct VendorStats {
    pub requests: u64,
    pub list_requests: u64,
    pub token_requests: u64,
    pub tokens_issued: u64,
    /// 429s caused by `rate_limit` (fault-injected 429s count in `faults`).
    pub rate_limited: u64,
    pub faults: u64,
    /// Responses with status 401 or 403.
    pub unauthorized: u64,
    /// Responses with status 400.
    pub bad_requests: u64,
    pub duplicate_request_ids: u64,
}

/// The truth for tests: every record of `vendor` a full listing with these query `filters` returns,
/// in the order full paging returns them, exactly as the API serialises them.
///
/// Paging parameters in `filters` are ignored. Crayon needs `organizationId`; AppXite takes the
/// organisation as `organization_id` (or `organizationId`, default the demo distributor) and a
/// comma-separated `organization_ids` for the POST form; Adobe ignores `reseller_id`.
pub fn expected_records(
    vendor: &str,
    config: &SandboxConfig,
    filters: &[(String, String)],
) -> Result<Vec<Value>, String> {
    match vendor {
        "c3" => Ok(c3::expected(config)),
        "crayon" => crayon::expected(config, filters),
        "valomnia" => valomnia::expected(config, filters),
        "appxite" => appxite::expected(config, filters),
        "adobe_vipmp" => adobe_vipmp::expected(config, filters),
        other => Err(format!("unknown vendor {other:?}")),
    }
}

/// A running sandbox. Dropping it stops the server too; [`Sandbox::shutdown`] waits for that.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Sandbox {
    /// Binds 127.0.0.1:`config.port` and serves on a spawned tokio task.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let app = router(shared.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = server.await {
                tracing::warn!(%error, "Sandbox server stopped with an error.");
            }
        });
        Ok(Sandbox {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The connector `base_url` for `vendor`, e.g. `http://127.0.0.1:PORT/c3`.
    pub fn base_url(&self, vendor: &str) -> String {
        let prefix = match vendor {
            "adobe_vipmp" => "adobe",
            other => other,
        };
        format!("http://{}/{prefix}", self.addr)
    }

    /// The token endpoint a connector should use (`None` for Valomnia, which logs in by session).
    pub fn token_url(&self, vendor: &str) -> Option<String> {
        let creds = &self.shared.config.credentials;
        let path = match vendor {
            "c3" => format!("/aad/{}/oauth2/token", creds.c3.tenant_id),
            "crayon" => "/crayon/api/v1/connect/token/".to_string(),
            "appxite" => "/appxite/oauth2/token".to_string(),
            "adobe_vipmp" => "/ims/ims/token/v3".to_string(),
            _ => return None,
        };
        Some(format!("http://{}{path}", self.addr))
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.shared.config
    }

    /// Stops accepting, lets in-flight requests finish (at most 5 s), then returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves until Ctrl-C, after printing the URLs and demo credentials (public demo values).
pub async fn serve_forever(config: SandboxConfig) -> std::io::Result<()> {
    let sandbox = Sandbox::start(config).await?;
    println!("Sandbox listening on http://{}", sandbox.addr());
    let creds = &sandbox.config().credentials;
    for vendor in VENDORS {
        let token = sandbox.token_url(vendor).unwrap_or_else(|| "-".into());
        println!(
            "  {vendor:<12} base_url {}  token_url {token}",
            sandbox.base_url(vendor)
        );
    }
    let c3 = &creds.c3;
    println!(
        "  c3: tenant_id={} client_id={} client_secret={} resource={}",
        c3.tenant_id,
        c3.client_id,
        c3.client_secret.expose(),
        c3.resource
    );
    let cr = &creds.crayon;
    println!(
        "  crayon: client_id={} client_secret={} username={} password={} organizationId={}",
        cr.client_id,
        cr.client_secret.expose(),
        cr.username,
        cr.password.expose(),
        crayon::DEMO_ORGANIZATION_ID
    );
    let va = &creds.valomnia;
    println!(
        "  valomnia: username={} password={} token={}",
        va.username,
        va.password.expose(),
        va.static_token.expose()
    );
    let ax = &creds.appxite;
    println!(
        "  appxite: client_id={} client_secret={} subscription_key={} organization_id={} referer={}",
        ax.client_id,
        ax.client_secret.expose(),
        ax.subscription_key.expose(),
        appxite::DISTRIBUTOR_ID,
        ax.referer.as_deref().unwrap_or("<any non-empty>")
    );
    let ad = &creds.adobe_vipmp;
    println!(
        "  adobe_vipmp: client_id={} client_secret={} reseller_id={}",
        ad.client_id,
        ad.client_secret.expose(),
        ad.reseller_id
    );
    let _ = tokio::signal::ctrl_c().await;
    println!("Stopping the sandbox.");
    sandbox.shutdown().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Shared machinery: vendors, counters, tokens, rate limits, faults.

/// A vendor, as an index into the per-vendor tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Vendor {
    C3 = 0,
    Crayon = 1,
    Valomnia = 2,
    Appxite = 3,
    Adobe = 4,
}

impl Vendor {
    fn id(self) -> &'static str {
        VENDORS[self as usize]
    }

    /// Which vendor a request path belongs to (`None` for the sandbox's own routes).
    fn of_path(path: &str) -> Option<Vendor> {
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        match first {
            "c3" | "aad" => Some(Vendor::C3),
            "crayon" => Some(Vendor::Crayon),
            "valomnia" | "api" => Some(Vendor::Valomnia),
            "appxite" => Some(Vendor::Appxite),
            "adobe" | "ims" => Some(Vendor::Adobe),
            _ => None,
        }
    }

    fn is_token_path(self, path: &str) -> bool {
        match self {
            Vendor::C3 => path.starts_with("/aad/"),
            Vendor::Crayon => path.contains("/connect/token"),
            Vendor::Valomnia => {
                path.ends_with("/j_spring_security_check") || path.ends_with("/login/ajaxSuccess")
            }
            Vendor::Appxite => path.ends_with("/oauth2/token"),
            Vendor::Adobe => path.starts_with("/ims/"),
        }
    }

    /// Whether the vendor sends `Retry-After` with its 429s.
    fn retry_after(self) -> RetryAfter {
        match self {
            Vendor::Appxite => RetryAfter::Always,
            Vendor::Adobe => RetryAfter::Never,
            _ => RetryAfter::Mixed,
        }
    }

    /// The vendor's 5xx answer.
    fn server_error(self, status: StatusCode) -> Response {
        match self {
            Vendor::C3 => c3::server_error(status),
            Vendor::Crayon => crayon::server_error(status),
            Vendor::Valomnia => valomnia::server_error(status),
            Vendor::Appxite => appxite::server_error(status),
            Vendor::Adobe => adobe_vipmp::server_error(status),
        }
    }

    /// The vendor's 429 answer, with `Retry-After` when given.
    fn throttled(self, retry_after: Option<String>) -> Response {
        let seconds = retry_after
            .as_deref()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(1);
        let mut response = match self {
            Vendor::C3 => c3::throttled(),
            Vendor::Crayon => crayon::throttled(),
            Vendor::Valomnia => valomnia::throttled(),
            Vendor::Appxite => appxite::throttled(seconds),
            Vendor::Adobe => adobe_vipmp::throttled(),
        };
        if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

#[derive(Debug, Clone, Copy)]
enum RetryAfter {
    Always,
    Never,
    Mixed,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    list_requests: AtomicU64,
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
pub(crate) enum TokenCheck {
    Valid,
    Missing,
    Expired,
    Unknown,
}

/// Bounded memory: beyond this many live entries a map is pruned (tokens: expired ones first).
const MAX_ENTRIES: usize = 200_000;

/// Everything the handlers share.
pub(crate) struct Shared {
    pub(crate) config: SandboxConfig,
    counters: [Counters; 5],
    tokens: Mutex<HashMap<String, (Vendor, Instant)>>,
    buckets: [Mutex<Bucket>; 5],
    rng: Mutex<fastrand::Rng>,
    /// Logical requests (method + path + query) whose last attempt was faulted.
    faulted: Mutex<HashSet<String>>,
    adobe_request_ids: Mutex<(HashSet<String>, VecDeque<String>)>,
    pub(crate) valomnia_sessions: Mutex<HashMap<String, Instant>>,
    /// Valomnia live inserts made so far.
    pub(crate) valomnia_inserted: AtomicU64,
    /// Cached ordered index lists of filtered or re-sorted views, by a canonical query key.
    views: Mutex<HashMap<String, Arc<Vec<u32>>>>,
}

/// Locks a mutex, recovering from poisoning (a panicked handler must not wedge the server).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn new(config: SandboxConfig) -> Shared {
        let now = Instant::now();
        let bucket = || {
            Mutex::new(Bucket {
                tokens: 0.0,
                last: now,
            })
        };
        let mut buckets = [bucket(), bucket(), bucket(), bucket(), bucket()];
        for b in &mut buckets {
            lock(b).tokens = burst(config.rate_limit);
        }
        Shared {
            rng: Mutex::new(fastrand::Rng::with_seed(config.seed ^ 0x5EED_FA17)),
            config,
            counters: Default::default(),
            tokens: Mutex::new(HashMap::new()),
            buckets,
            faulted: Mutex::new(HashSet::new()),
            adobe_request_ids: Mutex::new((HashSet::new(), VecDeque::new())),
            valomnia_sessions: Mutex::new(HashMap::new()),
            valomnia_inserted: AtomicU64::new(0),
            views: Mutex::new(HashMap::new()),
        }
    }

    fn counters(&self, vendor: Vendor) -> &Counters {
        &self.counters[vendor as usize]
    }

    fn stats(&self) -> Stats {
        let vendors = [
            Vendor::C3,
            Vendor::Crayon,
            Vendor::Valomnia,
            Vendor::Appxite,
            Vendor::Adobe,
        ]
        .into_iter()
        .map(|v| {
            let c = self.counters(v);
            let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
            let s = VendorStats {
                requests: get(&c.requests),
                list_requests: get(&c.list_requests),
                token_requests: get(&c.token_requests),
                tokens_issued: get(&c.tokens_issued),
                rate_limited: get(&c.rate_limited),
                faults: get(&c.faults),
                unauthorized: get(&c.unauthorized),
                bad_requests: get(&c.bad_requests),
                duplicate_request_ids: get(&c.duplicate_request_ids),
            };
            (v.id().to_string(), s)
        })
        .collect();
        Stats { vendors }
    }

    /// Issues a token for `vendor` valid for `token_ttl_secs`; returns it and its lifetime.
    pub(crate) fn issue_token(&self, vendor: Vendor) -> (String, u64) {
        let ttl = self.config.token_ttl_secs;
        let token = format!("sbx-{}-{}", vendor.id(), uuid::Uuid::new_v4().simple());
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
        bump(&self.counters(vendor).tokens_issued);
        (token, ttl)
    }

    /// Checks the `Authorization: Bearer` header against the tokens issued for `vendor`.
    pub(crate) fn check_bearer(&self, vendor: Vendor, headers: &HeaderMap) -> TokenCheck {
        let Some(token) = bearer(headers) else {
            return TokenCheck::Missing;
        };
        self.check_token(vendor, token)
    }

    pub(crate) fn check_token(&self, vendor: Vendor, token: &str) -> TokenCheck {
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

    /// Takes one request from `vendor`'s bucket; false when over the rate limit.
    fn admit(&self, vendor: Vendor) -> bool {
        let Some(rate) = self.config.rate_limit.filter(|r| *r > 0.0 && r.is_finite()) else {
            return true;
        };
        let mut bucket = lock(&self.buckets[vendor as usize]);
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
    fn roll_fault(&self, vendor: Vendor, key: &str) -> Option<Fault> {
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

    /// Adobe: records `X-Request-Id`; false when it was seen before.
    fn fresh_request_id(&self, id: &str) -> bool {
        let mut guard = lock(&self.adobe_request_ids);
        let (seen, order) = &mut *guard;
        if seen.contains(id) {
            return false;
        }
        if order.len() >= MAX_ENTRIES
            && let Some(oldest) = order.pop_front()
        {
            seen.remove(&oldest);
        }
        seen.insert(id.to_string());
        order.push_back(id.to_string());
        true
    }

    /// The cached ordered index list for `key`, built by `build` on a miss.
    pub(crate) fn view(&self, key: String, build: impl FnOnce() -> Vec<u32>) -> Arc<Vec<u32>> {
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

/// The middleware every vendor request passes: counting, Adobe request ids, rate limit, faults.
async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let Some(vendor) = Vendor::of_path(&path) else {
        return next.run(request).await;
    };
    let counters = shared.counters(vendor);
    bump(&counters.requests);
    if vendor.is_token_path(&path) {
        bump(&counters.token_requests);
    } else {
        bump(&counters.list_requests);
    }
    let response = gated(&shared, vendor, &path, request, next).await;
    match response.status() {
        StatusCode::BAD_REQUEST => bump(&counters.bad_requests),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => bump(&counters.unauthorized),
        _ => {}
    }
    response
}

async fn gated(
    shared: &Shared,
    vendor: Vendor,
    path: &str,
    request: Request,
    next: Next,
) -> Response {
    let counters = shared.counters(vendor);
    // Adobe rejects a reused X-Request-Id even on a retry of a failed call, so every id is
    // recorded before anything else can fail the request.
    if vendor == Vendor::Adobe
        && path.starts_with("/adobe/")
        && let Some(id) = request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
        && !shared.fresh_request_id(id)
    {
        bump(&counters.duplicate_request_ids);
        return adobe_vipmp::duplicate_request_id(id);
    }
    if !shared.admit(vendor) {
        bump(&counters.rate_limited);
        let retry_after = match vendor.retry_after() {
            RetryAfter::Never => None,
            _ => Some(
                shared
                    .config
                    .rate_limit
                    .map_or(1, |r| (1.0 / r).ceil().max(1.0) as u64)
                    .to_string(),
            ),
        };
        return vendor.throttled(retry_after);
    }
    let mut request = request;
    if !vendor.is_token_path(path) {
        let id = vendor.id();
        if shared.config.outage.iter().any(|v| v == id) {
            bump(&counters.faults);
            return vendor.server_error(StatusCode::SERVICE_UNAVAILABLE);
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
    }
    let key = format!("{} {}", request.method(), request.uri());
    let Some(fault) = shared.roll_fault(vendor, &key) else {
        return next.run(request).await;
    };
    bump(&counters.faults);
    match fault {
        Fault::Status(status) => vendor.server_error(status),
        Fault::Throttle(retry_after) => vendor.throttled(retry_after),
        Fault::Slow => {
            tokio::time::sleep(Duration::from_millis(shared.config.slow_ms)).await;
            next.run(request).await
        }
        Fault::Drop => dropped(),
        Fault::Truncate => truncated(next.run(request).await).await,
    }
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

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(c3::routes())
        .merge(crayon::routes())
        .merge(valomnia::routes())
        .merge(appxite::routes())
        .merge(adobe_vipmp::routes())
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
pub(crate) fn json(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        bytes,
    )
        .into_response()
}

/// The token of an `Authorization: Bearer …` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The decoded `key=value` pairs of a query string, in order.
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The last value of parameter `name`.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A record index as the u32 the view caches hold (datasets are capped below 2^32 records).
pub(crate) fn count_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_counts_parse() {
        assert_eq!(
            parse_vendor_count("adobe_vipmp=50"),
            Ok(("adobe_vipmp".into(), 50))
        );
        assert!(parse_vendor_count("nope=1").is_err());
        assert!(parse_vendor_count("c3").is_err());
        let mut config = SandboxConfig::default();
        config.vendor_customers.push(("c3".into(), 7));
        assert_eq!(config.customers_for("c3"), 7);
        assert_eq!(config.customers_for("crayon"), 1000);
    }

    #[test]
    fn paths_map_to_vendors() {
        assert_eq!(Vendor::of_path("/aad/x/oauth2/token"), Some(Vendor::C3));
        assert_eq!(
            Vendor::of_path("/api/v1.0/customers"),
            Some(Vendor::Valomnia)
        );
        assert_eq!(Vendor::of_path("/_sandbox/stats"), None);
    }
}

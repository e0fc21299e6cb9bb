//! The sandbox: faithful emulations of the vendor APIs, served by one embedded HTTP server.
//!
//! It is the quick-start demo server, the fixture of every integration test and the benchmark
//! server, so it promises:
//! - **Strictness.** Each [`Emulator`] follows its vendor's documentation (the vendors' pages and
//!   `shared/vendors/README.md`): auth flows, paging, filters, error bodies and quirks. A client
//!   that passes here should pass against the real API; where the docs are silent the choice is
//!   written in the module header. It never calls the connectors' code.
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
//! The emulations are a registry, `ALL`, mirroring the vendors' registry: one module each, one
//! line here. The machinery they share (counters, tokens, rate limits, faults) is in `shared`.
//! `GET /_sandbox/stats` gives the counters (not counted).

// Handlers reject a request with the vendor's own error `Response`; boxing it on this cold path
// would only add noise.
#![allow(clippy::result_large_err)]

mod aad;
pub mod data;
mod shared;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;

use crate::console;
use crate::model::Secret;
pub use shared::Shared;
use shared::router;
use shared::{bearer, count_u32, json, param, query_pairs};

/// One vendor's emulation: its routes, its demo settings, its truth, and its own way of saying
/// "slow down" and "failed". The shared machinery asks these; it knows no vendor by name.
pub trait Emulator: Send + Sync + 'static {
    /// The vendor id, as in the vendors' registry.
    fn id(&self) -> &'static str;

    /// The first path segments of its routes (`c3` for `/c3/…`, `aad` for its token endpoint).
    fn prefixes(&self) -> &'static [&'static str];

    /// Its routes.
    fn routes(&self) -> Router<Arc<Shared>>;

    /// Whether `path` is one of its token or login endpoints (counted apart from list requests).
    fn is_token_path(&self, path: &str) -> bool;

    /// The path a source's `base_url` points at (`/c3`).
    fn base_path(&self) -> &'static str;

    /// The path of its token endpoint, when the vendor has one (`auth.token_url`).
    fn token_path(&self, config: &SandboxConfig) -> Option<String>;

    /// Settings a source needs against this emulation, as pipeline keys.
    fn demo(&self) -> &'static Demo;

    /// Every record a full listing with these query `filters` returns, in the order full paging
    /// returns them, exactly as the API serialises them. Paging parameters are ignored.
    fn expected(
        &self,
        config: &SandboxConfig,
        filters: &[(String, String)],
    ) -> Result<Vec<Value>, String>;

    /// Whether its 429s carry `Retry-After`.
    fn retry_after(&self) -> RetryAfter;

    /// Its answer to a server failure (5xx).
    fn server_error(&self, status: StatusCode) -> Response;

    /// Its 429; `seconds` is the wait it announces, in its body where the vendor says it there.
    fn throttled(&self, seconds: u64) -> Response;

    /// A check the vendor makes before anything else can fail a request (a reused request id).
    fn screen(&self, _shared: &Shared, _path: &str, _headers: &HeaderMap) -> Option<Response> {
        None
    }

    /// Whether `application_error` can make its list fail inside an HTTP 200.
    fn has_application_errors(&self) -> bool {
        false
    }
}

/// What a source needs to run against an emulation, as the keys of a pipeline file.
#[derive(Debug)]
pub struct Demo {
    /// The values the emulation checks: credentials (`auth.client_secret`) and the settings it
    /// verifies (`reseller_id`). A pipeline running in sandbox mode may give its own, which the
    /// sandbox then accepts instead.
    pub accepted: &'static [(&'static str, &'static str)],
    /// Other settings a source needs here (`organization_id`), filled in when missing.
    pub settings: &'static [(&'static str, &'static str)],
    /// The query a demo source sends: required filters, and those the tests' truth depends on.
    pub filters: &'static [(&'static str, &'static str)],
}

/// Whether a vendor's 429s carry `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    Always,
    Never,
    /// Sometimes seconds, sometimes an HTTP date, sometimes none.
    Mixed,
}

/// Declares each emulation's module and lists it in `ALL`: an emulation is one line.
macro_rules! registry {
    ($($module:ident::$emulator:ident),* $(,)?) => {
        $(mod $module;)*

        /// Every emulation, in the vendors' catalogue order.
        pub const ALL: &[&dyn Emulator] = &[$(&$module::$emulator),*];
    };
}

registry! {
    c3::C3,
    crayon::Crayon,
    valomnia::Valomnia,
    appxite::Appxite,
    adobe_vipmp::AdobeVipmp,
    pax8::Pax8,
    partner_center::PartnerCenter,
}

/// The emulation of vendor `id`.
pub fn find(id: &str) -> Option<&'static dyn Emulator> {
    ALL.iter().copied().find(|e| e.id() == id)
}

/// The emulated vendor ids, in order.
pub fn ids() -> Vec<&'static str> {
    ALL.iter().map(|e| e.id()).collect()
}

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
    /// Share (0..1) of records carrying fields beyond the vendor's documentation (schema drift:
    /// `accountHealth`, `loyaltyTier`), as a vendor rolling out new fields does.
    #[arg(long, default_value_t = DEFAULT_DRIFT)]
    pub drift: f64,
    /// Maximum requests per second per vendor; over it the vendor's 429.
    #[arg(long = "rate-limit")]
    pub rate_limit: Option<f64>,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long = "token-ttl", default_value_t = 3600)]
    pub token_ttl_secs: u64,
    /// Customers inserted mid-export (with ids below every existing one) after each list page
    /// served, where the emulated vendor pages by offset over live data.
    #[arg(long = "live-inserts", default_value_t = 0)]
    pub live_inserts: u32,
    /// Delay of the "slow response" fault, in milliseconds.
    #[arg(long = "fault-delay-ms", default_value_t = 300)]
    pub slow_ms: u64,
    /// Vendors whose customer list fails inside an HTTP 200 (an application error the vendor
    /// reports in its envelope), e.g. `--application-error c3` (repeatable).
    #[arg(long = "application-error", value_parser = parse_application_error)]
    pub application_error: Vec<String>,
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
    /// What the emulations accept instead of their demo values (see [`Demo::accepted`]).
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
            drift: DEFAULT_DRIFT,
            rate_limit: None,
            token_ttl_secs: 3600,
            live_inserts: 0,
            slow_ms: 300,
            application_error: Vec::new(),
            outage: Vec::new(),
            reject_tokens: Vec::new(),
            list_delay_ms: 0,
            credentials: Credentials::default(),
        }
    }
}

/// The sandbox's default drift: a few records in a hundred carry undeclared fields, so that
/// `inspect` and `undeclared: columns` have something to find, as they would on a real account.
pub const DEFAULT_DRIFT: f64 = 0.02;

impl SandboxConfig {
    /// The number of customers `vendor` serves (the last matching override wins).
    pub fn customers_for(&self, vendor: &str) -> u64 {
        self.vendor_customers
            .iter()
            .rev()
            .find(|(v, _)| v == vendor)
            .map_or(self.customers, |(_, n)| *n)
    }

    /// The value `vendor`'s emulation accepts for `key` (a pipeline key such as
    /// `auth.client_secret`): the one given in [`SandboxConfig::credentials`], else its demo value;
    /// empty when it checks no such key.
    pub fn credential(&self, vendor: &str, key: &str) -> &str {
        if let Some(given) = self.credentials.get(vendor, key) {
            return given.expose();
        }
        find(vendor)
            .and_then(|e| e.demo().accepted.iter().find(|(k, _)| *k == key))
            .map_or("", |(_, v)| v)
    }
}

/// Values the emulations accept instead of their demo ones, by vendor and pipeline key.
#[derive(Debug, Clone, Default)]
pub struct Credentials(BTreeMap<(String, String), Accepted>);

/// A value an emulation accepts: a secret (kept out of every log and message) or a plain
/// setting such as a reseller id, which is no secret and stays readable.
#[derive(Debug, Clone)]
pub enum Accepted {
    Secret(Secret),
    Plain(String),
}

impl Accepted {
    pub fn expose(&self) -> &str {
        match self {
            Accepted::Secret(s) => s.expose(),
            Accepted::Plain(p) => p,
        }
    }
}

impl Credentials {
    /// Makes `vendor`'s emulation accept the secret `value` for `key` (`auth.password`).
    pub fn set(&mut self, vendor: &str, key: &str, value: impl Into<Secret>) {
        let accepted = Accepted::Secret(value.into());
        self.0
            .insert((vendor.to_string(), key.to_string()), accepted);
    }

    /// Makes `vendor`'s emulation accept `value` for the plain setting `key` (`reseller_id`).
    pub fn set_plain(&mut self, vendor: &str, key: &str, value: &str) {
        let accepted = Accepted::Plain(value.to_string());
        self.0
            .insert((vendor.to_string(), key.to_string()), accepted);
    }

    pub fn get(&self, vendor: &str, key: &str) -> Option<&Accepted> {
        self.0.get(&(vendor.to_string(), key.to_string()))
    }
}

/// Checks a vendor id for `--outage` and `--reject-tokens`.
pub fn parse_vendor(s: &str) -> Result<String, String> {
    match find(s) {
        Some(e) => Ok(e.id().to_string()),
        None => Err(format!("unknown vendor {s:?}; one of {}", ids().join(", "))),
    }
}

/// Checks a vendor id for `--application-error`.
pub fn parse_application_error(s: &str) -> Result<String, String> {
    let id = parse_vendor(s)?;
    let able: Vec<&str> = ALL
        .iter()
        .filter(|e| e.has_application_errors())
        .map(|e| e.id())
        .collect();
    if able.contains(&id.as_str()) {
        Ok(id)
    } else {
        Err(format!(
            "{id} reports no application errors inside an HTTP 200; one of {}",
            able.join(", ")
        ))
    }
}

/// Parses `VENDOR=COUNT` for `--vendor-customers`.
pub fn parse_vendor_count(s: &str) -> Result<(String, u64), String> {
    let (vendor, count) = s
        .split_once('=')
        .ok_or_else(|| format!("expected VENDOR=COUNT, got {s:?}"))?;
    let vendor = parse_vendor(vendor)?;
    let count = count
        .parse::<u64>()
        .map_err(|_| format!("expected a whole number of customers, got {count:?}"))?;
    Ok((vendor, count))
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
    /// The most list requests answered at once (a client paging concurrently, or not).
    #[serde(default)]
    pub max_lists_in_flight: u64,
    pub token_requests: u64,
    pub tokens_issued: u64,
    /// 429s caused by `rate_limit` (fault-injected 429s count in `faults`).
    pub rate_limited: u64,
    pub faults: u64,
    /// Responses with status 401 or 403.
    pub unauthorized: u64,
    /// Responses with status 400.
    pub bad_requests: u64,
    /// Requests the vendor refused for reusing a request id.
    pub duplicate_request_ids: u64,
}

/// The truth for tests: every record of `vendor` a full listing with these query `filters` returns
/// (see [`Emulator::expected`]).
pub fn expected_records(
    vendor: &str,
    config: &SandboxConfig,
    filters: &[(String, String)],
) -> Result<Vec<Value>, String> {
    find(vendor)
        .ok_or_else(|| format!("unknown vendor {vendor:?}"))?
        .expected(config, filters)
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
        let path = find(vendor).map_or("", |e| e.base_path());
        format!("http://{}{path}", self.addr)
    }

    /// The token endpoint a connector should use (`None` for a vendor without one).
    pub fn token_url(&self, vendor: &str) -> Option<String> {
        let path = find(vendor)?.token_path(self.config())?;
        Some(format!("http://{}{path}", self.addr))
    }

    /// The value `vendor`'s emulation accepts for `key`; see [`SandboxConfig::credential`].
    pub fn credential(&self, vendor: &str, key: &str) -> &str {
        self.config().credential(vendor, key)
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

/// Serves until Ctrl-C, after printing the URLs and demo settings (public demo values).
pub async fn serve_forever(config: SandboxConfig) -> std::io::Result<()> {
    let sandbox = Sandbox::start(config).await?;
    console::out(format!("Sandbox listening on http://{}", sandbox.addr()));
    for emulator in ALL {
        let id = emulator.id();
        let token = sandbox.token_url(id).unwrap_or_else(|| "-".into());
        console::out(format!(
            "  {id:<12} base_url {}  token_url {token}",
            sandbox.base_url(id)
        ));
        let demo = emulator.demo();
        let mut settings: Vec<String> = (demo.accepted.iter())
            .map(|(key, _)| format!("{key}={}", sandbox.credential(id, key)))
            .collect();
        settings.extend(demo.settings.iter().map(|(k, v)| format!("{k}={v}")));
        settings.extend(demo.filters.iter().map(|(k, v)| format!("filters.{k}={v}")));
        console::out(format!("  {:<12} {}", "", settings.join(" ")));
    }
    let _ = tokio::signal::ctrl_c().await;
    console::out("Stopping the sandbox.");
    sandbox.shutdown().await;
    Ok(())
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
    fn every_emulation_serves_under_its_own_prefixes() {
        for emulator in ALL {
            assert!(
                (emulator.prefixes().iter()).any(|p| emulator.base_path() == format!("/{p}")),
                "{}: its base path is one of its prefixes",
                emulator.id()
            );
        }
    }

    #[test]
    fn given_credentials_replace_the_demo_ones() {
        let mut config = SandboxConfig::default();
        let demo = config.credential("crayon", "auth.password").to_string();
        assert!(!demo.is_empty());
        config.credentials.set("crayon", "auth.password", "mine");
        assert_eq!(config.credential("crayon", "auth.password"), "mine");
        assert_eq!(config.credential("crayon", "nope"), "");
    }
}

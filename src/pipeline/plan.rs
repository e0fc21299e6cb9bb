//! The validated plan: what the extract, transform and load stages run. Built from a
//! [`RawPipeline`] by [`resolve`], which fills in `${VAR}`, resolves vendors and URLs, checks every
//! value against what its vendor declares and collects every problem it finds with its location.

use std::path::PathBuf;
use std::time::Duration;

use serde_saphyr::Spanned;
use url::Url;

use super::Diagnostic;
use super::rate::{RATE_LIMIT_HELP, RateLimit};
use super::raw::{Pairs, RawFields, RawOutput, RawPipeline, RawSource, Scalar, ScalarKind, Value};
use super::template::PathTemplate;
use super::vars;
use crate::secret::Secret;
use crate::vendors::{self, VendorSpec};

/// A pipeline ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub file: PathBuf,
    /// Run every source against the embedded sandbox.
    pub sandbox: bool,
    pub on_error: OnError,
    pub sources: Vec<SourcePlan>,
    pub transform: TransformPlan,
    pub outputs: Vec<OutputPlan>,
}

/// What happens to the run when one source fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// The run fails and publishes nothing (the default: yesterday's files stay as they were).
    Fail,
    /// The failed source is left out; the others are published and the run still exits 1.
    Skip,
}

/// One source: a vendor, where it is, how to authenticate, and how hard to push it.
#[derive(Debug, Clone)]
pub struct SourcePlan {
    /// Unique within the pipeline: the vendor id, or `vendor-2` for a second source of a vendor.
    pub name: String,
    pub vendor: &'static VendorSpec,
    /// `None` only in sandbox mode, where the sandbox supplies it.
    pub base_url: Option<Url>,
    pub auth: Auth,
    /// Query parameters, checked against the vendor's filters, in file order.
    pub filters: Vec<(String, String)>,
    pub page_size: u32,
    pub rate_limit: Option<RateLimit>,
    /// Pages fetched at once when the first page tells the total.
    pub concurrency: usize,
    pub max_attempts: u32,
    pub max_retry: Duration,
    pub timeout: Duration,
    /// Responses larger than this are refused (a proxy's endless body, a wrong endpoint).
    pub max_body_bytes: usize,
    /// Publish even when the record count differs from the API's total.
    pub allow_count_mismatch: bool,
    /// Send credentials over plain http to a host that is not loopback.
    pub allow_insecure_http: bool,
    pub reseller_id: Option<String>,
    pub organization_ids: Vec<String>,
    pub referer: Option<String>,
}

/// Credentials and token settings; which keys a vendor needs is in its spec's `auth_modes`.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub resource: Option<String>,
    pub scope: Option<String>,
    pub token: Option<Secret>,
    pub subscription_key: Option<Secret>,
    pub token_url: Option<Url>,
}

impl Auth {
    fn has(&self, key: &str) -> bool {
        match key {
            "tenant_id" => self.tenant_id.is_some(),
            "client_id" => self.client_id.is_some(),
            "client_secret" => self.client_secret.is_some(),
            "username" => self.username.is_some(),
            "password" => self.password.is_some(),
            "resource" => self.resource.is_some(),
            "scope" => self.scope.is_some(),
            "token" => self.token.is_some(),
            "subscription_key" => self.subscription_key.is_some(),
            "token_url" => self.token_url.is_some(),
            _ => false,
        }
    }

    /// Every secret value, for tests and redaction.
    pub fn secrets(&self) -> Vec<&Secret> {
        [
            &self.client_secret,
            &self.password,
            &self.token,
            &self.subscription_key,
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransformPlan {
    pub fields: Fields,
    pub arrays: ArrayMode,
    /// The array `explode` unrolls; `None` means each vendor's default.
    pub explode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    /// The same columns for every vendor.
    Canonical,
    /// Every declared field of the vendor, flattened.
    All,
    /// `(output_column, source.path)` pairs, in file order.
    Mapping(Vec<(String, String)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayMode {
    Explode,
    Json,
    Tables,
}

#[derive(Debug, Clone)]
pub struct OutputPlan {
    pub format: OutputFormat,
    pub path: PathTemplate,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutputFormat {
    Csv {
        spreadsheet_safe: bool,
        bom: bool,
        delimiter: u8,
    },
    Ndjson {
        /// Write each vendor record as it came (nested), instead of the flattened rows.
        nested: bool,
    },
    Parquet {
        row_group_rows: usize,
        zstd_level: i32,
    },
}

impl OutputFormat {
    pub fn name(&self) -> &'static str {
        match self {
            OutputFormat::Csv { .. } => "csv",
            OutputFormat::Ndjson { .. } => "ndjson",
            OutputFormat::Parquet { .. } => "parquet",
        }
    }
}

const FORMATS: &str = "parquet, csv, ndjson";
const DEFAULT_CONCURRENCY: u32 = 4;
const DEFAULT_MAX_ATTEMPTS: u32 = 5;
const DEFAULT_MAX_RETRY_SECS: u64 = 300;
const DEFAULT_TIMEOUT_SECS: u64 = 60;
/// A large C3 partner answers tens of MB in one response.
const DEFAULT_MAX_BODY_MB: usize = 512;

/// Resolves a raw pipeline. `sandbox_override` is `run --sandbox`.
///
/// With `env: EnvMode::Lenient` (`validate`), a `${VAR}` that is not set is a warning and the checks
/// that need its value are skipped, so pipeline files can be linted where the secrets are absent.
pub fn resolve(
    raw: RawPipeline,
    file: PathBuf,
    sandbox_override: bool,
    env: EnvMode,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(Plan, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut c = Checker {
        lookup,
        lenient: env == EnvMode::Lenient,
        diagnostics: Vec::new(),
        warnings: Vec::new(),
    };
    let name = c.text(&raw.name, "name").unwrap_or_default();
    if name.trim().is_empty() {
        c.error(&raw.name, "name: must not be empty");
    }
    let sandbox = sandbox_override
        || raw
            .sandbox
            .as_ref()
            .and_then(|v| c.boolean(v, "sandbox"))
            .unwrap_or(false);
    let on_error = match raw.on_error.as_ref().map(|v| (v, c.text(v, "on_error"))) {
        None => OnError::Fail,
        Some((_, Some(t))) if t == "fail" => OnError::Fail,
        Some((_, Some(t))) if t == "skip" => OnError::Skip,
        Some((v, Some(t))) => {
            c.error(
                v,
                format!("on_error: {t:?} is not allowed; allowed: fail, skip"),
            );
            OnError::Fail
        }
        Some((_, None)) => OnError::Fail,
    };

    if raw.sources.value.is_empty() {
        c.error(&raw.sources, "sources: list at least one source");
    }
    let mut sources: Vec<SourcePlan> = Vec::new();
    for source in &raw.sources.value {
        if let Some(plan) = c.source(source, sandbox, &sources) {
            sources.push(plan);
        }
    }

    let transform = c.transform(&raw, &sources);

    if raw.outputs.value.is_empty() {
        c.error(&raw.outputs, "outputs: list at least one output");
    }
    let outputs: Vec<OutputPlan> = raw
        .outputs
        .value
        .iter()
        .filter_map(|o| c.output(o, &transform, raw.sources.value.len()))
        .collect();

    if c.diagnostics.is_empty() {
        let plan = Plan {
            name,
            file,
            sandbox,
            on_error,
            sources,
            transform,
            outputs,
        };
        Ok((plan, c.warnings))
    } else {
        Err(c.diagnostics)
    }
}

/// How a `${VAR}` that is not set is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvMode {
    /// An error (`run`).
    Strict,
    /// A warning; checks needing the value are skipped (`validate`).
    Lenient,
}

struct Checker<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    lenient: bool,
    diagnostics: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::at(&at.referenced, message));
    }

    /// The value's text with `${VAR}` filled in.
    fn text(&mut self, value: &Value, key: &str) -> Option<String> {
        self.text_or_unset(value, key).map(|(text, _)| text)
    }

    /// The value's text, and whether it used a variable that is not set (lenient mode only; the
    /// text then holds a stand-in and the caller skips its checks).
    fn text_or_unset(&mut self, value: &Value, key: &str) -> Option<(String, bool)> {
        let missing = std::cell::RefCell::new(Vec::new());
        let lenient = self.lenient;
        let lookup = |name: &str| {
            (self.lookup)(name).or_else(|| {
                lenient.then(|| {
                    missing.borrow_mut().push(name.to_string());
                    "0".to_string()
                })
            })
        };
        let result = vars::substitute(&value.value.text, &lookup);
        let missing = missing.into_inner();
        match result {
            Ok(text) => {
                if !missing.is_empty() {
                    self.warnings.push(Diagnostic::at(
                        &value.referenced,
                        format!(
                            "{key}: environment variable {} is not set here; `run` will need it",
                            missing.join(", ")
                        ),
                    ));
                }
                Some((text, !missing.is_empty()))
            }
            Err(message) => {
                self.error(value, format!("{key}: {message}"));
                None
            }
        }
    }

    /// A whole number in `min..=max`.
    fn integer(&mut self, value: &Value, key: &str, min: u64, max: u64) -> Option<u64> {
        let (text, unset) = self.text_or_unset(value, key)?;
        match text.trim().parse::<u64>() {
            _ if unset => Some(min),
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.error(
                    value,
                    format!(
                        "{key}: expected a whole number from {min} to {max}, found {}",
                        found(&value.value, &text)
                    ),
                );
                None
            }
        }
    }

    fn boolean(&mut self, value: &Value, key: &str) -> Option<bool> {
        let (text, unset) = self.text_or_unset(value, key)?;
        match text.trim() {
            _ if unset => Some(false),
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                self.error(
                    value,
                    format!(
                        "{key}: expected true or false, found {}",
                        found(&value.value, &text)
                    ),
                );
                None
            }
        }
    }

    fn url(&mut self, value: &Value, key: &str) -> Option<Url> {
        let (text, unset) = self.text_or_unset(value, key)?;
        match Url::parse(text.trim()) {
            _ if unset => Url::parse("https://unset.invalid").ok(),
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Some(url),
            _ => {
                // The text may hold a secret from ${VAR}; name the key, not the value.
                let shown = if value.value.text.contains("${") {
                    value.value.text.clone()
                } else {
                    text
                };
                self.error(
                    value,
                    format!("{key}: {shown:?} is not a URL; expected http(s)://host[/path]"),
                );
                None
            }
        }
    }

    fn source(
        &mut self,
        raw: &RawSource,
        sandbox: bool,
        earlier: &[SourcePlan],
    ) -> Option<SourcePlan> {
        let vendor_text = self.text(&raw.vendor, "vendor")?;
        let Some(vendor) = vendors::find(vendor_text.trim()) else {
            self.error(
                &raw.vendor,
                format!(
                    "vendor: unknown vendor {vendor_text:?}; allowed: {}",
                    vendors::ids().join(", ")
                ),
            );
            return None;
        };
        let before = self.diagnostics.len();
        let id = vendor.id;

        let name = match &raw.name {
            Some(v) => self.text(v, "name").unwrap_or_default(),
            None => {
                let same = earlier.iter().filter(|s| s.vendor.id == id).count();
                if same == 0 {
                    id.to_string()
                } else {
                    format!("{id}-{}", same + 1)
                }
            }
        };
        if earlier.iter().any(|s| s.name == name) {
            let at = raw.name.as_ref().unwrap_or(&raw.vendor);
            self.error(
                at,
                format!("name: another source is already called {name:?}; give each source a distinct `name`"),
            );
        }

        let base_url = match &raw.base_url {
            Some(v) => self.url(v, "base_url"),
            None => vendor.default_base_url.and_then(|u| Url::parse(u).ok()),
        };
        if base_url.is_none() && raw.base_url.is_none() && !sandbox {
            self.error(
                &raw.vendor,
                format!("{id}: `base_url` is required (each {id} customer has its own host), or run with --sandbox"),
            );
        }

        let auth = self.auth(raw, vendor, sandbox);
        let filters = self.filters(raw, vendor);

        let page_size = match (&raw.page_size, vendor.page_size.max) {
            (Some(v), 0) => {
                self.error(v, format!("page_size: {id} has no paging (one response holds every customer); remove page_size"));
                0
            }
            (Some(v), max) => self
                .integer(v, "page_size", 1, u64::from(max))
                .map_or(vendor.page_size.default, |n| n as u32),
            (None, _) => vendor.page_size.default,
        };
        let rate_limit = raw.rate_limit.as_ref().and_then(|v| {
            let (text, unset) = self.text_or_unset(v, "rate_limit")?;
            match text.parse::<RateLimit>() {
                _ if unset => None,
                Ok(rate) => Some(rate),
                Err(_) => {
                    self.error(
                        v,
                        format!("rate_limit: {text:?} does not parse; expected {RATE_LIMIT_HELP}"),
                    );
                    None
                }
            }
        });
        let concurrency = raw
            .concurrency
            .as_ref()
            .and_then(|v| self.integer(v, "concurrency", 1, 64))
            .map_or(DEFAULT_CONCURRENCY, |n| n as u32) as usize;
        let max_attempts = raw
            .max_attempts
            .as_ref()
            .and_then(|v| self.integer(v, "max_attempts", 1, 100))
            .map_or(DEFAULT_MAX_ATTEMPTS, |n| n as u32);
        let max_retry = Duration::from_secs(
            raw.max_retry_secs
                .as_ref()
                .and_then(|v| self.integer(v, "max_retry_secs", 0, 86_400))
                .unwrap_or(DEFAULT_MAX_RETRY_SECS),
        );
        let timeout = Duration::from_secs(
            raw.timeout_secs
                .as_ref()
                .and_then(|v| self.integer(v, "timeout_secs", 1, 3_600))
                .unwrap_or(DEFAULT_TIMEOUT_SECS),
        );
        let max_body_bytes = raw
            .max_body_mb
            .as_ref()
            .and_then(|v| self.integer(v, "max_body_mb", 1, 4096))
            .map_or(DEFAULT_MAX_BODY_MB, |n| n as usize)
            * 1024
            * 1024;
        let allow_count_mismatch = raw
            .allow_count_mismatch
            .as_ref()
            .and_then(|v| self.boolean(v, "allow_count_mismatch"))
            .unwrap_or(false);
        let allow_insecure_http = raw
            .allow_insecure_http
            .as_ref()
            .and_then(|v| self.boolean(v, "allow_insecure_http"))
            .unwrap_or(false);

        let reseller_id = self.setting(vendor, "reseller_id", raw.reseller_id.as_ref());
        let referer = self.setting(vendor, "referer", raw.referer.as_ref());
        let mut organization_ids: Vec<String> = self
            .setting(vendor, "organization_id", raw.organization_id.as_ref())
            .into_iter()
            .collect();
        if let Some(list) = &raw.organization_ids {
            if vendor.setting("organization_ids").is_none() {
                self.error(list, not_a_setting(vendor, "organization_ids"));
            } else {
                for v in &list.value {
                    if let Some(t) = self.text(v, "organization_ids") {
                        organization_ids.push(t);
                    }
                }
            }
        }
        for setting in vendor.settings.iter().filter(|s| s.required) {
            let given = match setting.name {
                "reseller_id" => reseller_id.is_some(),
                "referer" => referer.is_some(),
                _ => true,
            };
            // In sandbox mode the sandbox supplies its own reseller, referer and organization.
            if !given && !sandbox {
                self.error(
                    &raw.vendor,
                    format!("{id}: `{}` is required ({})", setting.name, setting.help),
                );
            }
        }
        if vendor.setting("organization_id").is_some() && organization_ids.is_empty() && !sandbox {
            self.error(
                &raw.vendor,
                format!("{id}: give `organization_id` (one GUID) or `organization_ids` (a list)"),
            );
        }

        if let (Some(url), false) = (&base_url, allow_insecure_http) {
            self.insecure(raw, url, "base_url");
        }
        if let (Some(url), false) = (&auth.token_url, allow_insecure_http) {
            self.insecure(raw, url, "auth.token_url");
        }

        (self.diagnostics.len() == before).then_some(SourcePlan {
            name,
            vendor,
            base_url,
            auth,
            filters,
            page_size,
            rate_limit,
            concurrency,
            max_attempts,
            max_retry,
            timeout,
            max_body_bytes,
            allow_count_mismatch,
            allow_insecure_http,
            reseller_id,
            organization_ids,
            referer,
        })
    }

    /// Credentials go over TLS unless the host is this machine.
    fn insecure(&mut self, raw: &RawSource, url: &Url, key: &str) {
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        if url.scheme() == "http" && !loopback {
            let at = raw.base_url.as_ref().unwrap_or(&raw.vendor);
            self.error(
                at,
                format!("{key}: plain http:// to {} would send credentials unencrypted; use https:// or set `allow_insecure_http: true`", url.host_str().unwrap_or("?")),
            );
        }
    }

    fn setting(
        &mut self,
        vendor: &VendorSpec,
        key: &'static str,
        value: Option<&Value>,
    ) -> Option<String> {
        let value = value?;
        if vendor.setting(key).is_none() {
            self.error(value, not_a_setting(vendor, key));
            return None;
        }
        self.text(value, key)
    }

    fn auth(&mut self, raw: &RawSource, vendor: &VendorSpec, sandbox: bool) -> Auth {
        let mut auth = Auth::default();
        let allowed = vendor.auth_keys();
        let empty = Pairs::default();
        let pairs = raw.auth.as_ref().map_or(&empty, |a| &a.value);
        for (key, value) in &pairs.0 {
            let k = key.value.as_str();
            if !allowed.contains(&k) {
                self.diagnostics.push(Diagnostic::at(
                    &key.referenced,
                    format!(
                        "auth: unknown key `{k}` for {}; allowed: {}",
                        vendor.id,
                        allowed.join(", ")
                    ),
                ));
                continue;
            }
            if k == "token_url" {
                auth.token_url = self.url(value, "auth.token_url");
                continue;
            }
            let Some(text) = self.text(value, &format!("auth.{k}")) else {
                continue;
            };
            match k {
                "tenant_id" => auth.tenant_id = Some(text),
                "client_id" => auth.client_id = Some(text),
                "client_secret" => auth.client_secret = Some(Secret::new(text)),
                "username" => auth.username = Some(text),
                "password" => auth.password = Some(Secret::new(text)),
                "resource" => auth.resource = Some(text),
                "scope" => auth.scope = Some(text),
                "token" => auth.token = Some(Secret::new(text)),
                _ => auth.subscription_key = Some(Secret::new(text)),
            }
        }
        let satisfied = vendor
            .auth_modes
            .iter()
            .any(|m| m.required.iter().all(|k| auth.has(k)));
        if !satisfied && !sandbox {
            let modes: Vec<String> = vendor
                .auth_modes
                .iter()
                .map(|m| format!("{} ({})", m.required.join(" + "), m.name))
                .collect();
            let message = format!(
                "auth: {} needs {}; write secrets as ${{VAR}}",
                vendor.id,
                modes.join(", or ")
            );
            match &raw.auth {
                Some(a) => self.error(a, message),
                None => self.error(&raw.vendor, message),
            }
        }
        auth
    }

    fn filters(&mut self, raw: &RawSource, vendor: &VendorSpec) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let empty = Pairs::default();
        let pairs = raw.filters.as_ref().map_or(&empty, |f| &f.value);
        for (key, value) in &pairs.0 {
            let Some(spec) = vendor.filter(&key.value) else {
                let allowed: Vec<&str> = vendor.filters.iter().map(|f| f.name).collect();
                let allowed = if allowed.is_empty() {
                    format!("{} takes no filters", vendor.id)
                } else {
                    format!("allowed: {}", allowed.join(", "))
                };
                self.diagnostics.push(Diagnostic::at(
                    &key.referenced,
                    format!(
                        "filters: unknown filter `{}` for {}; {allowed}",
                        key.value, vendor.id
                    ),
                ));
                continue;
            };
            let Some((text, unset)) = self.text_or_unset(value, &format!("filters.{}", spec.name))
            else {
                continue;
            };
            match spec.kind.check(&text) {
                _ if unset => out.push((spec.name.to_string(), text)),
                Ok(checked) => out.push((spec.name.to_string(), checked)),
                Err(message) => self.error(value, format!("filters.{}: {message}", spec.name)),
            }
        }
        for spec in vendor.filters.iter().filter(|f| f.required) {
            if !out.iter().any(|(k, _)| k == spec.name) {
                let message = format!(
                    "filters.{}: required by {} ({}, {})",
                    spec.name,
                    vendor.id,
                    spec.kind.describe(),
                    spec.help
                );
                match &raw.filters {
                    Some(f) => self.error(f, message),
                    None => self.error(&raw.vendor, message),
                }
            }
        }
        out
    }

    fn transform(&mut self, raw: &RawPipeline, sources: &[SourcePlan]) -> TransformPlan {
        let Some(t) = &raw.transform else {
            return TransformPlan {
                fields: Fields::Canonical,
                arrays: ArrayMode::Explode,
                explode: None,
            };
        };
        let fields = match &t.fields {
            None => Fields::Canonical,
            Some(spanned) => match &spanned.value {
                RawFields::Named(n) if n == "canonical" => Fields::Canonical,
                RawFields::Named(n) if n == "all" => Fields::All,
                RawFields::Named(n) => {
                    self.error(
                        spanned,
                        format!("transform.fields: {n:?} is not allowed; allowed: canonical, all, or a mapping {{output_column: source.path}}"),
                    );
                    Fields::Canonical
                }
                RawFields::Mapping(pairs) => Fields::Mapping(self.mapping(pairs, sources)),
            },
        };
        let arrays = match t
            .arrays
            .as_ref()
            .map(|v| (v, self.text(v, "transform.arrays")))
        {
            None | Some((_, None)) => ArrayMode::Explode,
            Some((_, Some(a))) if a == "explode" => ArrayMode::Explode,
            Some((_, Some(a))) if a == "json" => ArrayMode::Json,
            Some((_, Some(a))) if a == "tables" => ArrayMode::Tables,
            Some((v, Some(a))) => {
                self.error(
                    v,
                    format!(
                        "transform.arrays: {a:?} is not allowed; allowed: explode, json, tables"
                    ),
                );
                ArrayMode::Explode
            }
        };
        let explode = t.explode.as_ref().and_then(|v| {
            let name = self.text(v, "transform.explode")?;
            let known: Vec<&str> = sources
                .iter()
                .flat_map(|s| s.vendor.arrays.iter().map(|a| a.name))
                .collect();
            if known.contains(&name.as_str()) {
                Some(name)
            } else {
                self.error(
                    v,
                    format!(
                        "transform.explode: no source has an array {name:?}; arrays here: {}",
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    ),
                );
                None
            }
        });
        TransformPlan {
            fields,
            arrays,
            explode,
        }
    }

    fn mapping(&mut self, pairs: &Pairs, sources: &[SourcePlan]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (column, path) in &pairs.0 {
            let Some(path_text) = self.text(path, &format!("transform.fields.{}", column.value))
            else {
                continue;
            };
            if out.iter().any(|(c, _)| *c == column.value) {
                self.diagnostics.push(Diagnostic::at(
                    &column.referenced,
                    format!(
                        "transform.fields: column `{}` is mapped twice",
                        column.value
                    ),
                ));
                continue;
            }
            let known =
                crate::transform::is_known_path(&path_text, sources.iter().map(|s| s.vendor));
            if !known && !sources.is_empty() {
                let vendors: Vec<&str> = sources.iter().map(|s| s.vendor.id).collect();
                self.error(
                    path,
                    format!(
                        "transform.fields.{}: no source ({}) has a field `{path_text}`; see `customer-export vendors {}` for the paths",
                        column.value,
                        vendors.join(", "),
                        vendors[0]
                    ),
                );
                continue;
            }
            out.push((column.value.clone(), path_text));
        }
        out
    }

    fn output(
        &mut self,
        raw: &RawOutput,
        transform: &TransformPlan,
        source_count: usize,
    ) -> Option<OutputPlan> {
        let format_text = self.text(&raw.format, "format")?;
        let path_text = self.text(&raw.path, "path")?;
        let path = match PathTemplate::parse(&path_text) {
            Ok(p) => Some(p),
            Err(message) => {
                self.error(&raw.path, format!("path: {message}"));
                None
            }
        };
        let format = match format_text.as_str() {
            "csv" => {
                let o = raw.csv.as_ref();
                OutputFormat::Csv {
                    spreadsheet_safe: o
                        .and_then(|o| o.spreadsheet_safe.as_ref())
                        .and_then(|v| self.boolean(v, "csv.spreadsheet_safe"))
                        .unwrap_or(true),
                    bom: o
                        .and_then(|o| o.bom.as_ref())
                        .and_then(|v| self.boolean(v, "csv.bom"))
                        .unwrap_or(false),
                    delimiter: match o.and_then(|o| o.delimiter.as_ref()) {
                        None => b',',
                        Some(v) => {
                            match self.text(v, "csv.delimiter") {
                                Some(t) if t.len() == 1 && t.is_ascii() => t.as_bytes()[0],
                                Some(t) => {
                                    self.error(v, format!("csv.delimiter: expected one ASCII character, found {t:?}"));
                                    b','
                                }
                                None => b',',
                            }
                        }
                    },
                }
            }
            "ndjson" => OutputFormat::Ndjson {
                nested: raw
                    .ndjson
                    .as_ref()
                    .and_then(|o| o.nested.as_ref())
                    .and_then(|v| self.boolean(v, "ndjson.nested"))
                    .unwrap_or(false),
            },
            "parquet" => {
                let o = raw.parquet.as_ref();
                OutputFormat::Parquet {
                    row_group_rows: o
                        .and_then(|o| o.row_group_rows.as_ref())
                        .and_then(|v| self.integer(v, "parquet.row_group_rows", 1_000, 10_000_000))
                        .map_or(65_536, |n| n as usize),
                    zstd_level: o
                        .and_then(|o| o.zstd_level.as_ref())
                        .and_then(|v| self.integer(v, "parquet.zstd_level", 1, 22))
                        .map_or(crate::load::DEFAULT_ZSTD_LEVEL, |n| n as i32),
                }
            }
            other => {
                self.error(
                    &raw.format,
                    format!("format: {other:?} is not allowed; allowed: {FORMATS}"),
                );
                return None;
            }
        };
        let stray = [
            ("csv", raw.csv.is_some()),
            ("ndjson", raw.ndjson.is_some()),
            ("parquet", raw.parquet.is_some()),
        ];
        for (name, given) in stray {
            if given && name != format.name() {
                self.error(
                    &raw.format,
                    format!(
                        "`{name}:` options given for a {} output; remove them or change the format",
                        format.name()
                    ),
                );
            }
        }
        let path = path?;
        if !path.uses("vendor") && source_count > 1 && transform.fields == Fields::All {
            self.error(
                &raw.path,
                "path: without {vendor} one file holds every vendor, which needs the same columns for all: use `fields: canonical` or a mapping, or add {vendor} to the path",
            );
        }
        if transform.arrays == ArrayMode::Tables && !path.uses("table") {
            self.error(
                &raw.path,
                "path: `arrays: tables` writes one file per table; add {table} to the path",
            );
        }
        Some(OutputPlan { format, path })
    }
}

fn not_a_setting(vendor: &VendorSpec, key: &str) -> String {
    let allowed: Vec<&str> = vendor.settings.iter().map(|s| s.name).collect();
    format!(
        "{key}: not a setting of {}; {}",
        vendor.id,
        if allowed.is_empty() {
            format!("{} takes none besides the common keys", vendor.id)
        } else {
            format!("its settings: {}", allowed.join(", "))
        }
    )
}

/// How a value was written, for "found …" in messages.
fn found(scalar: &Scalar, text: &str) -> String {
    match scalar.kind {
        ScalarKind::String => format!("{text:?}"),
        kind => format!("{} {text}", kind.describe()),
    }
}

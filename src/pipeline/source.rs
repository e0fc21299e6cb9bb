//! One source of a pipeline: the keys every source has, checked here, and the vendor's own keys
//! (settings, `auth:`, filters), checked against the vendor's declared tables and its own checks.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_saphyr::{Location, Spanned};
use url::Url;

use super::check::Checker;
use super::plan::SourcePlan;
use super::raw::{Node, RawSource, Value};
use crate::extract::{Connector, Limits, RateLimit, rate::RATE_LIMIT_HELP};
use crate::model::suggest::hint;
use crate::vendors::settings::Value as Setting;
use crate::vendors::spec::{Key, KeyKind};
use crate::vendors::{self, Settings, SourceConfig, Vendor, VendorSpec};

/// The keys every source may have, whatever its vendor.
pub(super) const COMMON_KEYS: [&str; 17] = [
    "vendor",
    "definition",
    "name",
    "base_url",
    "auth",
    "filters",
    "page_size",
    "rate_limit",
    "concurrency",
    "max_attempts",
    "max_retry_secs",
    "timeout_secs",
    "max_body_mb",
    "allow_count_mismatch",
    "allow_insecure_http",
    "max_records",
    "max_pages",
];

impl SourcePlan {
    /// The vendor's connector for this source.
    pub fn connector(&self) -> Result<Arc<dyn Connector>, String> {
        let base_url = self.base_url.as_ref().ok_or("`base_url` is not set")?;
        self.vendor.connect(&SourceConfig {
            base_url,
            settings: &self.settings,
            filters: &self.filters,
            page_size: self.page_size,
        })
    }
}

/// A source's keys by name.
struct Keys<'r> {
    raw: &'r Spanned<RawSource>,
}

impl<'r> Keys<'r> {
    fn get(&self, name: &str) -> Option<&'r Spanned<Node>> {
        self.raw
            .value
            .0
            .iter()
            .find(|(k, _)| k.value == name)
            .map(|(_, v)| v)
    }
}

impl Checker<'_> {
    /// Checks one source; `None` when it has errors (they are recorded).
    pub(super) fn source(
        &mut self,
        raw: &Spanned<RawSource>,
        sandbox: bool,
        earlier: &[SourcePlan],
    ) -> Option<SourcePlan> {
        let keys = Keys { raw };
        let vendor = self.vendor(&keys)?;
        // Named even if the source fails below: a mapping's per-vendor keys are checked against it.
        self.named_vendors.push(vendor.id());
        let spec = vendor.spec();
        let before = self.diagnostics.len();
        let vendor_at = keys.get("vendor").map_or(raw.referenced, |v| v.referenced);
        self.unknown_source_keys(raw, spec);

        let name = self.source_name(&keys, spec.id, earlier, vendor_at);
        let base_url = match keys.get("base_url") {
            Some(node) => self
                .scalar(node, "base_url")
                .and_then(|v| self.url(&v, "base_url")),
            None => spec.default_base_url.and_then(|u| Url::parse(u).ok()),
        };
        if base_url.is_none() && keys.get("base_url").is_none() && !sandbox {
            let id = spec.id;
            self.error_at(
                &vendor_at,
                format!("{id}: `base_url` is required (each {id} customer has its own host), or run with --sandbox"),
            );
        }
        let mut settings = self.settings(&keys, spec, sandbox, vendor_at);
        self.auth(&keys, spec, sandbox, vendor_at, &mut settings);
        for problem in vendor.check(&settings, !sandbox) {
            let at = problem
                .key
                .and_then(|k| keys.get(k))
                .map_or(vendor_at, |n| n.referenced);
            self.error_at(&at, problem.message);
        }
        let filters = self.filters(&keys, spec, vendor_at, sandbox);
        let page_size = self.page_size(&keys, spec);
        let mut limits = self.limits(&keys);
        if limits.rate_limit.is_none() && keys.get("rate_limit").is_none() {
            limits.rate_limit = vendor.default_rate_limit().and_then(|r| r.parse().ok());
        }
        let allow_insecure_http = self.flag(&keys, "allow_insecure_http");
        if !allow_insecure_http {
            self.plain_http(&keys, spec, base_url.as_ref(), &settings, vendor_at);
        }
        (self.diagnostics.len() == before).then_some(SourcePlan {
            name,
            vendor,
            base_url,
            settings,
            filters,
            page_size,
            limits,
            allow_insecure_http,
        })
    }

    /// The source's vendor; `None` (with an error) when it is missing or unknown.
    fn vendor(&mut self, keys: &Keys<'_>) -> Option<&'static dyn Vendor> {
        if let Some(node) = keys.get("definition") {
            let vendor = self.definition(node)?;
            if let Some(named) = keys.get("vendor").and_then(|n| self.scalar(n, "vendor"))
                && let Some(text) = self.text(&named, "vendor")
                && text.trim() != vendor.id()
            {
                let message = format!(
                    "vendor: {text:?}, but the definition declares {:?}; name it as the definition does, or leave `vendor:` out",
                    vendor.id()
                );
                self.error(&named, message);
            }
            return Some(vendor);
        }
        let Some(node) = keys.get("vendor") else {
            let allowed = vendors::ids().join(", ");
            self.error(
                keys.raw,
                format!("vendor: every source names its vendor; allowed: {allowed}"),
            );
            return None;
        };
        let value = self.scalar(node, "vendor")?;
        let text = self.text(&value, "vendor")?;
        let found = vendors::find(text.trim());
        if found.is_none() {
            self.error(
                &value,
                format!(
                    "vendor: unknown vendor {text:?}{}; allowed: {}",
                    hint(text.trim(), &vendors::ids()),
                    vendors::ids().join(", ")
                ),
            );
        }
        found
    }

    /// The vendor a `definition:` declares: a file (relative to the pipeline's folder, else to
    /// the working directory) or the definition itself. Its problems are reported where they are, in whichever file.
    fn definition(&mut self, node: &Spanned<Node>) -> Option<&'static dyn Vendor> {
        use crate::vendors::declared::{self, DefinitionError};
        let (result, file) = match &node.value {
            Node::Definition(raw) => (
                declared::from_raw(raw, &self.file).map_err(DefinitionError::Invalid),
                None,
            ),
            Node::Scalar(_) => {
                let value = self.scalar(node, "definition")?;
                let text = self.text(&value, "definition")?;
                let path = definition_path(&self.dir, Path::new(text.trim()));
                (declared::load(&path), Some(path))
            }
            other => {
                let found = other.describe();
                self.error(node, format!("definition: expected a definition file's path or a definition, found {found}"));
                return None;
            }
        };
        match result {
            Ok(vendor) => Some(vendor),
            Err(DefinitionError::Invalid(problems)) => {
                for p in problems {
                    self.diagnostics.push(crate::pipeline::Diagnostic {
                        line: p.line,
                        column: p.column,
                        message: p.message,
                        file: file.clone(),
                    });
                }
                None
            }
            Err(DefinitionError::Read(path, e)) => {
                self.error(
                    node,
                    format!("definition: cannot read {}: {e}", path.display()),
                );
                None
            }
            Err(DefinitionError::TooLarge(path)) => {
                self.error(
                    node,
                    format!(
                        "definition: {} is too large for a definition",
                        path.display()
                    ),
                );
                None
            }
        }
    }

    /// Every key that is neither common nor the vendor's is an error naming what is allowed.
    fn unknown_source_keys(&mut self, raw: &Spanned<RawSource>, spec: &VendorSpec) {
        let mut seen: Vec<&str> = Vec::new();
        for (key, _) in &raw.value.0 {
            let name = key.value.as_str();
            if seen.contains(&name) {
                self.error(key, format!("`{name}` is given twice in this source"));
            }
            seen.push(name);
            if !COMMON_KEYS.contains(&name) && spec.setting(name).is_none() {
                let mut allowed: Vec<&str> = COMMON_KEYS.to_vec();
                allowed.extend(spec.settings.iter().map(|s| s.name));
                self.error(
                    key,
                    format!(
                        "unknown key `{name}` for {}{}; allowed: {}",
                        spec.id,
                        hint(name, &allowed),
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    /// `name:`, or the vendor id (`vendor-2` for a second source of a vendor); unique.
    fn source_name(
        &mut self,
        keys: &Keys<'_>,
        id: &str,
        earlier: &[SourcePlan],
        vendor_at: Location,
    ) -> String {
        let given = keys.get("name").and_then(|n| self.scalar(n, "name"));
        let name = match &given {
            Some(v) => self.text(v, "name").unwrap_or_default(),
            None => match earlier.iter().filter(|s| s.vendor.id() == id).count() {
                0 => id.to_string(),
                same => format!("{id}-{}", same + 1),
            },
        };
        if earlier.iter().any(|s| s.name == name) {
            let at = given.map_or(vendor_at, |g| g.referenced);
            self.error_at(
                &at,
                format!("name: another source is already called {name:?}; give each source a distinct `name`"),
            );
        }
        name
    }

    /// The vendor's own source keys, each in its declared kind; required ones must be there
    /// unless the sandbox fills them in.
    fn settings(
        &mut self,
        keys: &Keys<'_>,
        spec: &VendorSpec,
        sandbox: bool,
        vendor_at: Location,
    ) -> Settings {
        let mut settings = Settings::default();
        for key in spec.settings {
            match keys.get(key.name) {
                Some(node) => {
                    if let Some(value) = self.setting(node, key, key.name) {
                        settings.set(key.name, value);
                    }
                }
                None if key.required && !sandbox => {
                    let message = format!("{}: `{}` is required ({})", spec.id, key.name, key.help);
                    self.error_at(&vendor_at, message);
                }
                None => {}
            }
        }
        settings
    }

    /// One vendor key's value in its declared kind.
    fn setting(&mut self, node: &Spanned<Node>, key: &Key, shown: &str) -> Option<Setting> {
        if key.kind == KeyKind::List {
            let Node::List(items) = &node.value else {
                let found = node.value.describe();
                self.error(node, format!("{shown}: expected a list, found {found}"));
                return None;
            };
            let texts: Option<Vec<String>> = items.iter().map(|v| self.text(v, shown)).collect();
            return texts.map(Setting::List);
        }
        let value = self.scalar(node, shown)?;
        if key.kind == KeyKind::Url {
            return self.url(&value, shown).map(Setting::Url);
        }
        let text = self.text(&value, shown)?;
        Setting::parse(key.kind, text)
    }

    /// The `auth:` block: each key the vendor declares, in its kind; unknown keys are errors
    /// naming the allowed ones; some auth mode must be complete unless the sandbox fills it in.
    fn auth(
        &mut self,
        keys: &Keys<'_>,
        spec: &VendorSpec,
        sandbox: bool,
        vendor_at: Location,
        settings: &mut Settings,
    ) {
        let node = keys.get("auth");
        // Keys written in the file: one whose value failed has its own error already, and is not
        // reported again as missing.
        let mut written: Vec<String> = Vec::new();
        for (key, value) in self.pairs(node, "auth") {
            let name = key.value.as_str();
            written.push(format!("auth.{name}"));
            let Some(declared) = spec.auth_key(name) else {
                let names = spec.auth_key_names();
                let allowed = names.join(", ");
                let message = format!(
                    "auth: unknown key `{name}` for {}{}; allowed: {allowed}",
                    spec.id,
                    hint(name, &names)
                );
                self.error(key, message);
                continue;
            };
            let shown = format!("auth.{name}");
            let text = &value.value.text;
            let literal = !text.is_empty() && !super::vars::uses_variables(text);
            if declared.kind == KeyKind::Secret && literal && !sandbox {
                // The file then cannot be shared or committed, and every copy of it holds the key.
                let message = format!(
                    "{shown}: a secret written in the file; write it as ${{VAR}} and set the variable (or put it in a file read with --env-file)"
                );
                self.warning_at(&value.referenced, message);
            }
            let node = Spanned::new(
                Node::Scalar(value.value.clone()),
                value.referenced,
                value.defined,
            );
            if let Some(v) = self.setting(&node, declared, &shown) {
                settings.set(shown, v);
            }
        }
        let complete = |mode: &&crate::vendors::spec::AuthMode| {
            mode.required.iter().all(|k| {
                let key = format!("auth.{k}");
                settings.contains(&key) || written.contains(&key)
            })
        };
        if !sandbox && !spec.auth_modes.iter().any(|m| complete(&m)) {
            let modes: Vec<String> = (spec.auth_modes.iter())
                .map(|m| format!("{} ({})", m.required.join(" + "), m.name))
                .collect();
            let message = format!(
                "auth: {} needs {}; write secrets as ${{VAR}}",
                spec.id,
                modes.join(", or ")
            );
            self.error_at(&node.map_or(vendor_at, |n| n.referenced), message);
        }
    }

    /// `filters:`, checked against the vendor's filters, in file order; a required one may be
    /// left out in sandbox mode, where the sandbox supplies it.
    fn filters(
        &mut self,
        keys: &Keys<'_>,
        spec: &VendorSpec,
        vendor_at: Location,
        sandbox: bool,
    ) -> Vec<(String, String)> {
        let node = keys.get("filters");
        let mut out = Vec::new();
        // Filters written in the file: one whose value failed has its own error already.
        let mut written = Vec::new();
        for (key, value) in self.pairs(node, "filters") {
            written.push(key.value.clone());
            if let Some(checked) = self.filter(key, value, spec) {
                out.push(checked);
            }
        }
        for filter in spec.filters.iter().filter(|f| f.required && !sandbox) {
            if !written.iter().any(|k| k == filter.name) {
                let message = format!(
                    "filters.{}: required by {} ({}, {})",
                    filter.name,
                    spec.id,
                    filter.kind.describe(),
                    filter.help
                );
                self.error_at(&node.map_or(vendor_at, |n| n.referenced), message);
            }
        }
        out
    }

    /// One filter: a name the vendor documents and a value of its kind.
    fn filter(
        &mut self,
        key: &Spanned<String>,
        value: &Value,
        spec: &VendorSpec,
    ) -> Option<(String, String)> {
        let Some(filter) = spec.filter(&key.value) else {
            let names: Vec<&str> = spec.filters.iter().map(|f| f.name).collect();
            let allowed = if names.is_empty() {
                format!("{} takes no filters", spec.id)
            } else {
                format!("allowed: {}", names.join(", "))
            };
            let message = format!(
                "filters: unknown filter `{}` for {}{}; {allowed}",
                key.value,
                spec.id,
                hint(&key.value, &names)
            );
            self.error(key, message);
            return None;
        };
        let shown = format!("filters.{}", filter.name);
        let (text, unset) = self.text_or_unset(value, &shown)?;
        match filter.kind.check(&text) {
            _ if unset => Some((filter.name.to_string(), text)),
            Ok(checked) => Some((filter.name.to_string(), checked)),
            Err(message) => {
                self.error(value, format!("{shown}: {message}"));
                None
            }
        }
    }

    /// The pairs of a mapping key (`auth:`, `filters:`); none when it is absent or not a mapping
    /// (an error).
    fn pairs<'n>(
        &mut self,
        node: Option<&'n Spanned<Node>>,
        key: &str,
    ) -> &'n [(Spanned<String>, Value)] {
        match node {
            None => &[],
            Some(Spanned {
                value: Node::Map(pairs),
                ..
            }) => &pairs.0,
            Some(other) => {
                let found = other.value.describe();
                self.error(
                    other,
                    format!("{key}: expected a mapping of names to values, found {found}"),
                );
                &[]
            }
        }
    }

    /// `page_size:`, within what the vendor accepts; refused for a vendor without paging.
    fn page_size(&mut self, keys: &Keys<'_>, spec: &VendorSpec) -> u32 {
        let Some(value) = keys
            .get("page_size")
            .and_then(|n| self.scalar(n, "page_size"))
        else {
            return spec.page_size.default;
        };
        if !spec.pages() {
            let id = spec.id;
            self.error(&value, format!("page_size: {id} has no paging (one response holds every customer); remove page_size"));
            return 0;
        }
        self.integer(&value, "page_size", 1, u64::from(spec.page_size.max))
            .map_or(spec.page_size.default, |n| n as u32)
    }

    /// The engine's limits for the source: the defaults, overridden by the keys given.
    fn limits(&mut self, keys: &Keys<'_>) -> Limits {
        let defaults = Limits::default();
        let mut number = |key: &str, min: u64, max: u64| {
            let value = keys.get(key).and_then(|n| self.scalar(n, key))?;
            self.integer(&value, key, min, max)
        };
        let concurrency = number("concurrency", 1, 64).map_or(defaults.concurrency, |n| n as usize);
        let max_attempts =
            number("max_attempts", 1, 100).map_or(defaults.max_attempts, |n| n as u32);
        let max_retry =
            number("max_retry_secs", 0, 86_400).map_or(defaults.max_retry, Duration::from_secs);
        let timeout =
            number("timeout_secs", 1, 3_600).map_or(defaults.timeout, Duration::from_secs);
        let max_records = number("max_records", 1, 1_000_000_000_000);
        let max_pages = number("max_pages", 1, 1_000_000_000);
        let max_body_bytes = number("max_body_mb", 1, 4096)
            .map_or(defaults.max_body_bytes, |n| n as usize * 1024 * 1024);
        Limits {
            rate_limit: self.rate_limit(keys),
            concurrency,
            max_attempts,
            max_retry,
            timeout,
            max_body_bytes,
            allow_count_mismatch: self.flag(keys, "allow_count_mismatch"),
            max_records,
            max_pages,
        }
    }

    fn rate_limit(&mut self, keys: &Keys<'_>) -> Option<RateLimit> {
        let value = keys
            .get("rate_limit")
            .and_then(|n| self.scalar(n, "rate_limit"))?;
        let (text, unset) = self.text_or_unset(&value, "rate_limit")?;
        match text.parse::<RateLimit>() {
            _ if unset => None,
            Ok(rate) => Some(rate),
            Err(_) => {
                let message =
                    format!("rate_limit: {text:?} does not parse; expected {RATE_LIMIT_HELP}");
                self.error(&value, message);
                None
            }
        }
    }

    /// A `true`/`false` key, false when absent.
    fn flag(&mut self, keys: &Keys<'_>, key: &str) -> bool {
        keys.get(key)
            .and_then(|n| self.scalar(n, key))
            .and_then(|v| self.boolean(&v, key))
            .unwrap_or(false)
    }

    /// Every URL the source sends credentials to goes over TLS unless it is this machine.
    fn plain_http(
        &mut self,
        keys: &Keys<'_>,
        spec: &VendorSpec,
        base_url: Option<&Url>,
        settings: &Settings,
        vendor_at: Location,
    ) {
        if let Some(url) = base_url {
            let at = keys.get("base_url").map_or(vendor_at, |n| n.referenced);
            self.insecure(&at, url, "base_url");
        }
        let auth: &[(Spanned<String>, Value)] = match keys.get("auth").map(|n| &n.value) {
            Some(Node::Map(pairs)) => &pairs.0,
            _ => &[],
        };
        for key in spec.auth_keys.iter().filter(|k| k.kind == KeyKind::Url) {
            let shown = format!("auth.{}", key.name);
            if let Some(url) = settings.url(&shown) {
                let at = auth.iter().find(|(k, _)| k.value == key.name);
                let at = at.map_or(vendor_at, |(_, v)| v.referenced);
                self.insecure(&at, url, &shown);
            }
        }
    }
}

/// A definition file named relative to the pipeline's folder (`../vendors/pax8.yaml`), or, when
/// there is no such file, to the working directory (`vendors/pax8.yaml` from the project root).
fn definition_path(pipeline_dir: &Path, given: &Path) -> PathBuf {
    let beside = pipeline_dir.join(given);
    if given.is_relative() && !beside.exists() && given.exists() {
        return given.to_path_buf();
    }
    beside
}

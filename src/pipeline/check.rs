//! The [`Checker`]: reads the values of a raw pipeline — `${VAR}` filled in, each in the type its
//! key wants — and collects every problem with its location instead of stopping at the first.

use serde_saphyr::{Location, Spanned};
use url::Url;

use super::Diagnostic;
use super::raw::{Node, Scalar, ScalarKind, Value};
use super::vars;

/// How a `${VAR}` that is not set is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvMode {
    /// An error (`run`).
    Strict,
    /// A warning; checks needing the value are skipped (`validate`).
    Lenient,
}

/// Reads values and collects diagnostics.
pub(super) struct Checker<'a> {
    pub(super) lookup: &'a dyn Fn(&str) -> Option<String>,
    /// The pipeline file, and its folder: relative definition paths start there.
    pub(super) file: std::path::PathBuf,
    pub(super) dir: std::path::PathBuf,
    pub(super) lenient: bool,
    /// A `${VAR}` that is not set leaves its key out, for the sandbox to fill in (a source's
    /// keys, in sandbox mode).
    pub(super) sandbox_fills: bool,
    /// The vendors the file's sources name (those that failed their checks too).
    pub(super) named_vendors: Vec<&'static str>,
    pub(super) diagnostics: Vec<Diagnostic>,
    pub(super) warnings: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(super) fn error<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) {
        self.error_at(&at.referenced, message);
    }

    pub(super) fn error_at(&mut self, at: &Location, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic::at(at, message));
    }

    /// A problem with the file as a whole (a key it lacks), at its first line.
    pub(super) fn error_in_file(&mut self, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic {
            line: 1,
            column: 1,
            message: message.into(),
            file: None,
        });
    }

    /// The keys a block does not have, each with the nearest one it does; `block` prefixes the
    /// message (`outputs`, `transform`), none at the top level.
    pub(super) fn unknown_keys(
        &mut self,
        block: Option<&str>,
        unknown: &[Spanned<String>],
        allowed: &[&str],
    ) {
        for key in unknown {
            let prefix = block.map_or(String::new(), |b| format!("{b}: "));
            let message = format!(
                "{prefix}unknown key `{}`{}; allowed: {}",
                key.value,
                crate::model::suggest::hint(&key.value, allowed),
                allowed.join(", ")
            );
            self.error(key, message);
        }
    }

    /// Whether one of a block's unknown keys is `key` misspelt ("did you mean `key`?"): then
    /// `key` is not reported missing too.
    pub(super) fn misspelt(unknown: &[Spanned<String>], allowed: &[&str], key: &str) -> bool {
        (unknown.iter())
            .any(|u| crate::model::suggest::did_you_mean(&u.value, allowed) == Some(key))
    }

    /// A list the file must give and not leave empty (`sources`, `outputs`): its items, or none
    /// with the problem reported — unless an unknown key of the pipeline is it misspelt, reported
    /// already.
    pub(super) fn listed<'r, T>(
        &mut self,
        list: Option<&'r Spanned<Vec<T>>>,
        key: &str,
        misspelt: bool,
        what: &str,
    ) -> &'r [T] {
        match list {
            None => {
                if !misspelt {
                    self.error_in_file(format!("{key}: missing; {what}"));
                }
                &[]
            }
            Some(list) => {
                if list.value.is_empty() {
                    self.error(list, format!("{key}: {what}"));
                }
                &list.value
            }
        }
    }

    /// A problem that does not stop the file from running: `validate` prints it, `run` logs it.
    pub(super) fn warning_at(&mut self, at: &Location, message: impl Into<String>) {
        self.warnings.push(Diagnostic::at(at, message));
    }

    /// The value's text with `${VAR}` filled in.
    pub(super) fn text(&mut self, value: &Value, key: &str) -> Option<String> {
        self.text_or_unset(value, key).map(|(text, _)| text)
    }

    /// The value's text, and whether it used a variable that is not set (lenient mode only; the
    /// text then holds a stand-in and the caller skips its checks).
    pub(super) fn text_or_unset(&mut self, value: &Value, key: &str) -> Option<(String, bool)> {
        let missing = std::cell::RefCell::new(Vec::new());
        let stand_in = self.lenient || self.sandbox_fills;
        let lookup = |name: &str| {
            (self.lookup)(name).or_else(|| {
                stand_in.then(|| {
                    missing.borrow_mut().push(name.to_string());
                    "0".to_string()
                })
            })
        };
        let result = vars::substitute(&value.value.text, &lookup);
        let missing = missing.into_inner();
        if self.sandbox_fills && !missing.is_empty() {
            return None;
        }
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
    pub(super) fn integer(&mut self, value: &Value, key: &str, min: u64, max: u64) -> Option<u64> {
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

    pub(super) fn boolean(&mut self, value: &Value, key: &str) -> Option<bool> {
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

    pub(super) fn url(&mut self, value: &Value, key: &str) -> Option<Url> {
        let (text, unset) = self.text_or_unset(value, key)?;
        match Url::parse(text.trim()) {
            _ if unset => Url::parse("https://unset.invalid").ok(),
            Ok(url) if !url.username().is_empty() || url.password().is_some() => {
                self.error(
                    value,
                    format!("{key}: a URL with user:password@ would send them as Basic auth beside the token; remove them and give credentials under auth:"),
                );
                None
            }
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

    /// A node that must be a single value, as one; otherwise an error naming `key`.
    pub(super) fn scalar(&mut self, node: &Spanned<Node>, key: &str) -> Option<Value> {
        match &node.value {
            Node::Scalar(scalar) => {
                Some(Spanned::new(scalar.clone(), node.referenced, node.defined))
            }
            other => {
                let found = other.describe();
                self.error(
                    node,
                    format!("{key}: expected a single value, found {found}"),
                );
                None
            }
        }
    }

    /// Credentials go over TLS unless the host is this machine: a plain `http://` URL to another
    /// host is an error at `at`.
    pub(super) fn insecure(&mut self, at: &Location, url: &Url, key: &str) {
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        if url.scheme() == "http" && !loopback {
            let host = url.host_str().unwrap_or("?");
            self.error_at(
                at,
                format!("{key}: plain http:// to {host} would send credentials unencrypted; use https:// or set `allow_insecure_http: true`"),
            );
        }
    }
}

/// How a value was written, for "found …" in messages.
pub(super) fn found(scalar: &Scalar, text: &str) -> String {
    match scalar.kind {
        ScalarKind::String => format!("{text:?}"),
        kind => format!("{} {text}", kind.describe()),
    }
}

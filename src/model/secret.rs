//! A value that must never be printed: passwords, client secrets, tokens, API keys.
//!
//! `Debug` and `Display` print `***`; the only way to the text is [`Secret::expose`], so every
//! place that sends a secret over the wire is greppable.
//!
//! A server may still echo a secret back (a token endpoint repeating the form, a 401 quoting the
//! bearer token). So every secret made here is also remembered, in every form a server might
//! echo — as written, base64, URL-encoded, JSON-escaped — and [`redact`] removes them from any
//! text before it is logged or written to a manifest.

use std::borrow::Cow;
use std::fmt;
use std::sync::RwLock;

use base64::Engine;

/// A credential. Cloning is cheap enough; comparing is allowed (the sandbox checks credentials).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        remember(&value);
        Secret(value)
    }

    /// The secret's text, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

/// Secrets shorter than this are not redacted: they would match ordinary text.
const MIN_REDACTED: usize = 4;

/// What [`redact`] puts in a secret's place.
pub const REDACTED: &str = "***";

/// Every form of every secret seen, longest first (so a form containing another goes first).
static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers `value` and the forms a server might echo it in.
fn remember(value: &str) {
    if value.len() < MIN_REDACTED {
        return;
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let url: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let json = serde_json::to_string(value).unwrap_or_default();
    let json = json.trim_matches('"').to_string();
    remember_forms([value.to_string(), b64.encode(value), url, json]);
}

/// Remembers a credential made of secrets, as it goes on the wire (`base64(id:secret)` of
/// Basic auth).
pub fn remember_form(form: &str) {
    if form.len() >= MIN_REDACTED {
        remember_forms([form.to_string()]);
    }
}

fn remember_forms(forms: impl IntoIterator<Item = String>) {
    let mut known = KNOWN.write().unwrap_or_else(|p| p.into_inner());
    for form in forms {
        if form.len() >= MIN_REDACTED && !known.contains(&form) {
            known.push(form);
        }
    }
    known.sort_by_key(|f| std::cmp::Reverse(f.len()));
}

/// `text` with every form of every secret seen so far replaced by `***`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let known = KNOWN.read().unwrap_or_else(|p| p.into_inner());
    let mut out = Cow::Borrowed(text);
    for form in known.iter() {
        if out.contains(form.as_str()) {
            out = Cow::Owned(out.replace(form.as_str(), REDACTED));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_secrets_are_redacted_in_every_form() {
        let _secret = Secret::new("s3cr3t+/=&\"x");
        let b64 = base64::engine::general_purpose::STANDARD.encode("s3cr3t+/=&\"x");
        let echoed = format!(
            "token rejected: s3cr3t+/=&\"x; form s3cr3t%2B%2F%3D%26%22x; {b64}; json s3cr3t+/=&\\\"x"
        );
        let clean = redact(&echoed);
        assert!(!clean.contains("s3cr3t"), "{clean}");
        assert!(!clean.contains(&b64), "{clean}");
        assert_eq!(redact("nothing to hide"), "nothing to hide");
        let _short = Secret::new("abc");
        assert_eq!(redact("abc"), "abc", "too short to redact");
    }

    #[test]
    fn never_prints_its_value() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret} {secret:?}"), "*** ***");
        assert_eq!(secret.expose(), "hunter2");
    }
}

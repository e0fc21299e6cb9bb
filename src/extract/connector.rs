//! The contract between a vendor and the engine: a connector says *what* (how to authenticate, the
//! request for page N, where the records are, when paging ends, how to read an error body); the
//! engine does *how* (HTTP, rate limiting, retries, concurrency, ordering, counting).

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use url::Url;

use super::auth::Auth;
pub use super::page::Envelope;

/// What a vendor connector provides to the engine.
pub trait Connector: Send + Sync + 'static {
    /// How the source proves who it is: one of the flows in [`super::auth`].
    fn auth(&self) -> &dyn Auth;

    /// The request for page `index`, counted from 0 whatever the vendor's own numbering. `after`
    /// is what the previous page said of the next one (a cursor, a link, a continuation token),
    /// for a vendor whose pages follow one another ([`Connector::sequential`]).
    fn page_request(&self, index: u64, after: Option<&Next>) -> PageRequest;

    /// Whether the whole list comes in one response, however many records (no paging): it is
    /// then read as it arrives, its records handed on in batches, never held whole.
    fn one_response(&self) -> bool {
        false
    }

    /// Whether a page can only be asked for with what the previous one said (cursor, next-link
    /// and continuation paging): then pages are fetched one after another even when the total
    /// is known.
    fn sequential(&self) -> bool {
        false
    }

    /// Headers added to every attempt of every list request beyond what the auth flow adds.
    fn headers(&self, _headers: &mut HeaderMap) {}

    /// Where the records of a page body are. The engine reads them, each once, as it parses the
    /// page, and hands the vendor the rest: the [`Envelope`].
    fn records_at(&self) -> RecordsAt;

    /// Reads the envelope of a successful (2xx) page `index`: the total, whether it is the last
    /// page, or the vendor's own error in a 200 (`retryable: Some(false)` when retrying cannot
    /// help).
    fn read_page(&self, index: u64, page: &Envelope) -> Result<PageInfo, VendorError>;

    /// Reads an error response body (4xx/5xx) into the vendor's message and correlation id.
    fn parse_error(&self, body: &[u8]) -> VendorError;

    /// Whether a failure with this status is worth another try (a 429 always is, after its
    /// wait): by default 408 and every 5xx.
    fn retries(&self, status: u16) -> bool {
        matches!(status, 408 | 500..=599)
    }
}

/// One list request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub method: Method,
    pub url: Url,
    pub query: Vec<(String, String)>,
    /// A JSON body (AppXite's POST form with several organizations).
    pub json: Option<Value>,
    /// Headers of this page's request only (a continuation token sent back).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl PageRequest {
    pub fn get(url: Url, query: Vec<(String, String)>) -> Self {
        PageRequest {
            method: Method::GET,
            url,
            query,
            json: None,
            headers: Vec::new(),
        }
    }
}

/// What a page said of the one after it: a link to request instead of the list URL, a token (a
/// cursor or continuation) to send back, or both.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
pub struct Next {
    pub link: Option<String>,
    pub token: Option<String>,
}

impl Next {
    pub fn link(link: impl Into<String>) -> Next {
        Next {
            link: Some(link.into()),
            token: None,
        }
    }
}

impl std::fmt::Display for Next {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.link, &self.token) {
            (Some(link), None) => f.write_str(link),
            (None, Some(token)) => write!(f, "token {token}"),
            (Some(link), Some(token)) => write!(f, "{link} with token {token}"),
            (None, None) => f.write_str("(nothing)"),
        }
    }
}

/// What a page's envelope says about paging.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageInfo {
    /// The total the API reports (TotalHits, paging.total, totalCount), when it does.
    pub total: Option<u64>,
    /// How many records the API says this page holds, when it counts per page rather than in
    /// all: their sum is the total the count check compares.
    pub in_page: Option<u64>,
    /// The vendor says there is nothing after this page.
    pub last: bool,
    /// The vendor's own pointer to the next page (a link, a cursor), when it gives one: the same
    /// one twice means its paging is stuck.
    pub next: Option<Next>,
}

/// One page: its records as the run's reader made them, and what the vendor said about paging.
#[derive(Debug)]
pub struct Page<T> {
    pub records: Vec<T>,
    pub info: PageInfo,
}

/// Where a page's records are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordsAt {
    /// The list under the first of these keys the body object has (`data`, `Items`, …).
    Key(&'static [&'static str]),
    /// The list at this path of nested objects (`data`, `customers` for `data.customers`); the
    /// other keys on the way stay in the envelope, nested as they came.
    Path(&'static [&'static str]),
    /// The body itself is the list (AppXite).
    Body,
}

/// A vendor's own account of a failure.
#[derive(Debug, Clone, Default)]
pub struct VendorError {
    pub message: String,
    /// The vendor's correlation / request id, for its support desk.
    pub correlation_id: Option<String>,
    /// `Some(false)` when the vendor says retrying cannot help (an application error in a 200).
    pub retryable: Option<bool>,
}

impl VendorError {
    /// A vendor's account; its text may come from the server, so control characters are escaped
    /// and its length bounded ([`untrusted`]).
    pub fn new(message: impl AsRef<str>) -> Self {
        VendorError {
            message: untrusted(message.as_ref()),
            ..Default::default()
        }
    }

    pub fn fatal(mut self) -> Self {
        self.retryable = Some(false);
        self
    }

    pub fn with_correlation(mut self, id: Option<String>) -> Self {
        self.correlation_id = id.map(|id| untrusted(&id));
        self
    }
}

impl std::fmt::Display for VendorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(id) = &self.correlation_id {
            write!(f, " (correlation id {id})")?;
        }
        Ok(())
    }
}

/// The most of a server's text an error message shows, in characters.
const UNTRUSTED_CHARS: usize = 500;

/// Text that came from a server, made safe to log: control characters (newlines, ANSI escapes)
/// and Unicode direction overrides are escaped, so it cannot forge a log line or drive a
/// terminal, and it is cut at [`UNTRUSTED_CHARS`]. Escaping twice changes nothing.
pub fn untrusted(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(UNTRUSTED_CHARS + 8));
    for (n, c) in text.chars().enumerate() {
        if n == UNTRUSTED_CHARS {
            out.push('…');
            break;
        }
        let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A short, safe excerpt of a body for error messages (bodies may be huge, binary or hostile).
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let one_line = untrusted(&one_line);
    if body.len() > 300 {
        format!("{one_line}…")
    } else {
        one_line
    }
}

/// Reads the first of `keys` that is a string (or number) in a JSON error body, made safe to log
/// ([`untrusted`]).
pub fn json_text(body: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match body.get(*k)? {
        Value::String(s) if !s.is_empty() => Some(untrusted(s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// The common error-body reader: the vendor's message keys, else an excerpt of the body.
pub fn error_from_json(body: &[u8], message_keys: &[&str], id_keys: &[&str]) -> VendorError {
    match serde_json::from_slice::<Value>(body) {
        Ok(json) => {
            let message = json_text(&json, message_keys).unwrap_or_else(|| excerpt(body));
            VendorError::new(message).with_correlation(json_text(&json, id_keys))
        }
        Err(_) => VendorError::new(if body.is_empty() {
            "empty body".to_string()
        } else {
            excerpt(body)
        }),
    }
}

/// `base` (which may carry a path prefix) joined with `path`.
pub fn endpoint(base: &Url, path: &str) -> Result<Url, String> {
    let joined = format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    Url::parse(&joined).map_err(|e| format!("cannot build a URL from {base} and {path}: {e}"))
}

/// Reads a count that vendors send as a number or a numeric string.
pub fn json_count(json: &Value, key: &str) -> Option<u64> {
    json.get(key).and_then(count_of)
}

/// A count as vendors send it: a number or a numeric string.
pub fn count_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_cannot_forge_lines_or_drive_a_terminal() {
        let hostile = "denied\n2026-01-01 INFO Source finished.\u{1b}[2J\u{202E}txt";
        let safe = untrusted(hostile);
        assert!(!safe.chars().any(|c| c.is_control()), "{safe:?}");
        assert!(
            safe.contains("\\n2026") && safe.contains("\\u{1b}[2J"),
            "{safe}"
        );
        assert!(!safe.contains('\u{202E}'));
        assert_eq!(untrusted(&safe), safe, "escaping twice changes nothing");
        let long = "x".repeat(2000);
        assert_eq!(untrusted(&long).chars().count(), UNTRUSTED_CHARS + 1);
        assert!(!excerpt(b"a\x1b[31mred").contains('\u{1b}'));
    }
}

//! The contract between a vendor and the engine: a connector says *what* (how to authenticate, the
//! request for page N, where the records are, when paging ends, how to read an error body); the
//! engine does *how* (HTTP, rate limiting, retries, concurrency, ordering, counting).

use std::fmt;
use std::ops::Range;

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use url::Url;

use super::auth::AuthFlow;

/// What a vendor connector provides to the engine.
pub trait Connector: Send + Sync + 'static {
    /// How to obtain the bearer token (or none).
    fn auth(&self) -> &AuthFlow;

    /// The request for page `index`, counted from 0 whatever the vendor's own numbering.
    fn page_request(&self, index: u64) -> PageRequest;

    /// Headers added to every attempt of every list request (API keys, request ids — a fresh one
    /// per attempt where the vendor demands it).
    fn headers(&self, _headers: &mut HeaderMap) {}

    /// Reads a successful (2xx) response body of page `index` (with [`parse_envelope`] or
    /// [`parse_record_list`], which keep the records as text for the transform to read).
    fn parse_page(&self, index: u64, body: Vec<u8>) -> Result<Page, VendorError>;

    /// Reads an error response body (4xx/5xx) into the vendor's message and correlation id.
    fn parse_error(&self, body: &[u8]) -> VendorError;
}

/// One list request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub method: Method,
    pub url: Url,
    pub query: Vec<(String, String)>,
    /// A JSON body (AppXite's POST form with several organizations).
    pub json: Option<Value>,
}

impl PageRequest {
    pub fn get(url: Url, query: Vec<(String, String)>) -> Self {
        PageRequest {
            method: Method::GET,
            url,
            query,
            json: None,
        }
    }
}

/// One page of records as the vendor returned it.
#[derive(Debug, Default)]
pub struct Page {
    pub records: Records,
    /// The total the API reports (TotalHits, paging.total, totalCount), when it does.
    pub total: Option<u64>,
    /// The vendor says there is nothing after this page.
    pub last: bool,
}

/// The records of one page, still the vendor's JSON text: the page body and where each record
/// lies in it. The envelope is read here once; each record is read once more, by the transform,
/// straight into its columns — no tree of every record is built, sent and freed.
#[derive(Debug, Default, Clone)]
pub struct Records {
    text: String,
    spans: Vec<Range<usize>>,
}

impl Records {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Each record's JSON text, in page order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> {
        self.spans.iter().map(|span| &self.text[span.clone()])
    }

    /// Each record as a `Value` (for NDJSON in nested form, and for tests).
    pub fn values(&self) -> impl ExactSizeIterator<Item = Value> {
        // Every span was checked to be one JSON value when the page was read.
        self.iter()
            .map(|text| serde_json::from_str(text).unwrap_or(Value::Null))
    }

    /// Records made from values (tests, and sources that build records themselves).
    pub fn from_values(values: &[Value]) -> Records {
        let mut records = Records::default();
        for value in values {
            let start = records.text.len();
            records.text.push_str(&value.to_string());
            records.spans.push(start..records.text.len());
        }
        records
    }

    /// `list` borrows from `text`: the spans are where its items lie in it.
    fn from_raw(text: &str, list: &[&RawValue]) -> Vec<Range<usize>> {
        let base = text.as_ptr() as usize;
        list.iter()
            .map(|raw| {
                let start = raw.get().as_ptr() as usize - base;
                start..start + raw.get().len()
            })
            .collect()
    }
}

/// A page body read down to its envelope: the top-level keys as values, the records list as
/// [`Records`].
#[derive(Debug)]
pub struct Envelope {
    /// The top-level keys other than the records list (an empty object when the body is not one).
    pub fields: Value,
    records: Result<Records, String>,
}

impl Envelope {
    /// The records list: a missing key is an error, `null` is an empty list, anything else but a
    /// list is an error naming what it is.
    pub fn records(self) -> Result<Records, VendorError> {
        self.records.map_err(VendorError::new)
    }
}

/// Reads a page body whose records are the list under the first of `keys` the body has.
pub fn parse_envelope(body: Vec<u8>, keys: &[&str]) -> Result<Envelope, VendorError> {
    let text = body_text(body)?;
    let (fields, found) = {
        let mut de = serde_json::Deserializer::from_str(&text);
        let (fields, found) = EnvelopeVisitor { keys }
            .deserialize(&mut de)
            .and_then(|v| de.end().map(|()| v))
            .map_err(|e| not_json(&e, text.as_bytes()))?;
        let found = found.map(|(_, list)| match list {
            List::Items(items) => Ok(Records::from_raw(&text, &items)),
            List::Null => Ok(Vec::new()),
            List::Other(key, what) => Err(format!("`{key}` should be a list, found {what}")),
        });
        (fields, found)
    };
    let records = match found {
        Some(Ok(spans)) => Ok(Records { text, spans }),
        Some(Err(e)) => Err(e),
        None => Err(format!(
            "the response has no `{}` list",
            keys.join("` or `")
        )),
    };
    Ok(Envelope {
        fields: Value::Object(fields),
        records,
    })
}

/// Reads a page body that is itself the list of records (AppXite).
pub fn parse_record_list(body: Vec<u8>) -> Result<Records, VendorError> {
    let text = body_text(body)?;
    let list =
        serde_json::from_str::<List<'_>>(&text).map_err(|e| not_json(&e, text.as_bytes()))?;
    let spans = match list {
        List::Items(items) => Records::from_raw(&text, &items),
        List::Null => Vec::new(),
        List::Other(_, what) => {
            return Err(VendorError::new(format!(
                "expected a JSON list of records, found {what}"
            )));
        }
    };
    Ok(Records { text, spans })
}

fn body_text(body: Vec<u8>) -> Result<String, VendorError> {
    String::from_utf8(body).map_err(|e| {
        VendorError::new(format!(
            "the response is not UTF-8 text ({}); it starts: {}",
            e.utf8_error(),
            excerpt(e.as_bytes())
        ))
    })
}

fn not_json(e: &serde_json::Error, body: &[u8]) -> VendorError {
    VendorError::new(format!(
        "the response is not the JSON expected ({e}); it starts: {}",
        excerpt(body)
    ))
}

/// A records list as found: its items' raw text, `null`, or something else (named).
enum List<'de> {
    Items(Vec<&'de RawValue>),
    Null,
    Other(String, &'static str),
}

impl<'de> Deserialize<'de> for List<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ListVisitor)
    }
}

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = List<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            items.push(item);
        }
        Ok(List::Items(items))
    }
    fn visit_unit<E: de::Error>(self) -> Result<List<'de>, E> {
        Ok(List::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<List<'de>, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map))?;
        Ok(List::Other(String::new(), "an object"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<List<'de>, E> {
        Ok(List::Other(String::new(), "a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<List<'de>, E> {
        Ok(List::Other(String::new(), "a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<List<'de>, E> {
        Ok(List::Other(String::new(), "a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<List<'de>, E> {
        Ok(List::Other(String::new(), "a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<List<'de>, E> {
        Ok(List::Other(String::new(), "text"))
    }
}

/// The top-level keys of a page: the records list under the first of `keys` present kept raw,
/// every other key read as a value.
struct EnvelopeVisitor<'k> {
    keys: &'k [&'k str],
}

type EnvelopeParts<'de> = (Map<String, Value>, Option<(usize, List<'de>)>);

impl<'de> DeserializeSeed<'de> for EnvelopeVisitor<'_> {
    type Value = EnvelopeParts<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeVisitor<'_> {
    type Value = EnvelopeParts<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Map::new();
        let mut found: Option<(usize, List<'de>)> = None;
        while let Some(key) = map.next_key::<String>()? {
            match self.keys.iter().position(|k| *k == key) {
                Some(rank) if found.as_ref().is_none_or(|(r, _)| rank < *r) => {
                    let list = match map.next_value::<List<'de>>()? {
                        List::Other(_, what) => List::Other(key, what),
                        list => list,
                    };
                    found = Some((rank, list));
                }
                _ => {
                    let value = map.next_value::<Value>()?;
                    fields.insert(key, value);
                }
            }
        }
        Ok((fields, found))
    }

    // Not an object: no keys, so no records list (the caller says which was expected).
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
        Ok((Map::new(), None))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok((Map::new(), None))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok((Map::new(), None))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok((Map::new(), None))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok((Map::new(), None))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok((Map::new(), None))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok((Map::new(), None))
    }
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
    pub fn new(message: impl Into<String>) -> Self {
        VendorError {
            message: message.into(),
            ..Default::default()
        }
    }

    pub fn fatal(mut self) -> Self {
        self.retryable = Some(false);
        self
    }

    pub fn with_correlation(mut self, id: Option<String>) -> Self {
        self.correlation_id = id;
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

/// A short, safe excerpt of a body for error messages (bodies never hold our secrets, but may be
/// huge or binary).
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if body.len() > 300 {
        format!("{one_line}…")
    } else {
        one_line
    }
}

/// Reads the first of `keys` that is a string (or number) in a JSON error body.
pub fn json_text(body: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match body.get(*k)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
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
    match json.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

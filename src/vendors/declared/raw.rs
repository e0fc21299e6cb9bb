//! A vendor definition as written: serde structs that mirror the YAML, every value with its
//! location, nothing checked beyond the YAML's shape (`check.rs` does the rest). Mappings whose
//! order matters (headers, query parameters, filters) are read as [`Pairs`] in file order.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

/// A text value and where it stands.
pub type Text = Spanned<String>;

/// A mapping of names to values, in file order, each name with its location.
#[derive(Debug)]
pub struct Pairs<V>(pub Vec<(Text, Spanned<V>)>);

impl<V> Default for Pairs<V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Pairs<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for PairsVisitor<V> {
            type Value = Pairs<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of names to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<V>, A::Error> {
                let mut pairs = Vec::new();
                while let Some(key) = map.next_key::<Text>()? {
                    pairs.push((key, map.next_value::<Spanned<V>>()?));
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(PairsVisitor(PhantomData))
    }
}

/// A scalar written as text, a number or a boolean, kept as its text (`first_page: 1`,
/// `status_codes: {1000: active}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word(pub String);

impl<'de> Deserialize<'de> for Word {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WordVisitor;
        impl Visitor<'_> for WordVisitor {
            type Value = Word;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a single value (text, number or true/false)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Word, E> {
                Ok(Word(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Word, E> {
                Ok(Word(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Word, E> {
                Ok(Word(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Word, E> {
                Ok(Word(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Word, E> {
                Ok(Word(v.to_string()))
            }
        }
        deserializer.deserialize_any(WordVisitor)
    }
}

/// One text, or a list of them (`records: [accounts, customers]`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(one) => vec![one.as_str()],
            OneOrMany::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }
}

/// The whole definition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefinition {
    /// The id a pipeline's `vendor:` names and the `vendor` column holds.
    pub vendor: Text,
    pub title: Option<Text>,
    /// The host when a pipeline gives no `base_url`.
    pub base_url: Option<Text>,
    /// Source keys beyond the common ones (`reseller_id`), usable as `{reseller_id}`.
    #[serde(default)]
    pub settings: Pairs<RawKey>,
    pub auth: Spanned<RawAuth>,
    pub request: Spanned<RawRequest>,
    /// Query parameters a pipeline may set under `filters:`, checked like built-in filters.
    #[serde(default)]
    pub filters: Pairs<RawFilter>,
    pub paging: Spanned<RawPaging>,
    /// Where a page's records are: a key, alternative keys, a dotted path, or `$` (the body).
    pub records: Spanned<OneOrMany>,
    /// The field that identifies a record (de-duplication, `source_record_id`).
    pub key: Text,
    /// Where a page tells the total number of records (the count check).
    pub total: Option<Text>,
    /// Where a page tells how many records it holds, for an API that counts per page only
    /// (Partner Center's `totalCount`): their sum is the count check's total.
    pub page_total: Option<Text>,
    #[serde(default)]
    pub errors: RawErrors,
    /// Statuses retried besides 429 (default: 408 and every 5xx).
    pub retry: Option<Spanned<Vec<u16>>>,
    #[serde(default)]
    pub fields: Vec<Spanned<RawField>>,
    #[serde(default)]
    pub arrays: Vec<Spanned<RawArray>>,
    /// The array `arrays: explode` unrolls when a pipeline names none.
    pub explode: Option<Text>,
    #[serde(default)]
    pub canonical: Pairs<RawFrom>,
    /// Default page size (else the paging's `max_size`).
    pub page_size: Option<Spanned<u32>>,
    /// Default rate limit (`10/s`), when a pipeline sets none.
    pub rate_limit: Option<Text>,
}

/// A source or auth key the definition adds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    /// `text` (default), `secret`, `url`.
    pub kind: Option<Text>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub help: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    #[serde(rename = "type")]
    pub kind: Text,
    /// Further `auth:` keys (`tenant_id` for a token URL that names it).
    #[serde(default)]
    pub keys: Pairs<RawKey>,
    /// The token (or session) endpoint: relative to `base_url` or absolute, with placeholders.
    pub token_url: Option<Text>,
    /// `form` (default) or `json`.
    pub body: Option<Text>,
    /// Where the client's id and secret go: `body` (default) or `basic`.
    pub client_auth: Option<Text>,
    /// Further token-request fields (`scope`, `resource`, `audience`); values may hold
    /// placeholders, and a field whose placeholder is not set is left out.
    #[serde(default)]
    pub params: Pairs<String>,
    pub token_field: Option<Text>,
    pub expires_in_field: Option<Text>,
    pub error_field: Option<Text>,
    pub error_description_field: Option<Text>,
    /// `api_key`: `header` (default) or `query`, and the header's or parameter's name.
    #[serde(rename = "in")]
    pub place: Option<Text>,
    pub name: Option<Text>,
    /// `session_login`: the login form's URL and fields, and the session cookie's name.
    pub login_url: Option<Text>,
    pub username_field: Option<Text>,
    pub password_field: Option<Text>,
    #[serde(default)]
    pub form: Pairs<String>,
    pub cookie: Option<Text>,
    /// Headers on every list request: a fixed text with placeholders, or `{uuid}` for a fresh id.
    #[serde(default)]
    pub headers: Pairs<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    /// `GET` (default) or `POST`.
    pub method: Option<Text>,
    /// Relative to `base_url`, with placeholders (`/v3/resellers/{reseller_id}/customers`).
    pub path: Text,
    /// Query parameters sent on every page; a filter of the same name replaces one.
    #[serde(default)]
    pub query: Pairs<Word>,
    #[serde(default)]
    pub headers: Pairs<String>,
    /// A JSON body (POST).
    pub body: Option<Spanned<serde_json::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFilter {
    /// `text` (default), `integer`, `boolean`, `date`, `datetime`.
    pub kind: Option<Text>,
    /// The only values accepted.
    pub values: Option<Vec<Word>>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub help: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPaging {
    #[serde(rename = "type")]
    pub kind: Text,
    /// `offset`: the offset and limit parameters.
    pub offset_param: Option<Text>,
    pub limit_param: Option<Text>,
    /// `page_number`: the page parameter and the first page's number (0 or 1).
    pub page_param: Option<Text>,
    pub first_page: Option<Spanned<u64>>,
    /// The page-size parameter (`offset` has `limit_param`).
    pub size_param: Option<Text>,
    pub max_size: Option<Spanned<u32>>,
    /// `cursor`: where the next cursor is in the body, and the parameter it goes back in.
    pub cursor_path: Option<Text>,
    pub cursor_param: Option<Text>,
    /// `next_link`: where the next page's URL is in the body; or `link_header: true` for the
    /// `Link` header's `rel="next"`.
    pub next_path: Option<Text>,
    #[serde(default)]
    pub link_header: bool,
    /// `continuation`: where the token is (a body path or a response header), the request header
    /// it goes back in, and where the next page's URL is, when the body gives one.
    pub token_path: Option<Text>,
    pub token_header: Option<Text>,
    pub send_header: Option<Text>,
    pub link_path: Option<Text>,
    /// Where paging ends besides an empty page: a total-pages path, a has-more flag.
    pub total_pages: Option<Text>,
    pub has_more: Option<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawErrors {
    /// Keys of an error body that hold the message, the first present wins.
    pub message: Option<Spanned<OneOrMany>>,
    /// Keys of an error body that hold the vendor's correlation id.
    pub correlation: Option<Spanned<OneOrMany>>,
    /// An application error inside an HTTP 200.
    pub in_200: Option<Spanned<RawIn200>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIn200 {
    /// The path whose value says failure, and that value.
    pub path: Text,
    pub failure: Spanned<Word>,
    pub message: Option<Text>,
    pub correlation: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawField {
    pub path: Text,
    /// `string` (default), `int`, `float`, `bool`, `timestamp`, `date`.
    #[serde(rename = "type")]
    pub ty: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArray {
    /// The name pipelines, column prefixes and child tables use.
    pub name: Text,
    /// The JSON path holding the list.
    pub path: Text,
    #[serde(default)]
    pub fields: Vec<Spanned<RawField>>,
    /// For a list of scalars: their type.
    #[serde(rename = "type")]
    pub ty: Option<Text>,
}

/// Where a canonical column comes from: a path, or a mapping (`{element: tenants, field: Id}`,
/// `{first: …, field: …}`, `{const: …}`, `{lacking: why}`, and for `status_codes` the codes).
#[derive(Debug)]
pub enum RawFrom {
    Path(String),
    Map(Pairs<Word>),
}

impl<'de> Deserialize<'de> for RawFrom {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FromVisitor;
        impl<'de> Visitor<'de> for FromVisitor {
            type Value = RawFrom;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a path, or a mapping such as {element: tenants, field: DomainName}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawFrom, E> {
                Ok(RawFrom::Path(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFrom, A::Error> {
                let mut pairs = Vec::new();
                while let Some(key) = map.next_key::<Text>()? {
                    pairs.push((key, map.next_value::<Spanned<Word>>()?));
                }
                Ok(RawFrom::Map(Pairs(pairs)))
            }
        }
        deserializer.deserialize_any(FromVisitor)
    }
}

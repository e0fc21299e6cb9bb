//! The pipeline file as written: serde structs that mirror the YAML, with the location of every
//! value kept for later validation. Nothing here is checked beyond the YAML's shape; `plan.rs`
//! turns it into a validated [`super::Plan`].
//!
//! Scalars are read as [`Scalar`] (their text plus what kind of YAML scalar they were) rather than
//! as `u32` or `bool`, so that `${VAR}` works for every value and a wrong type is reported together
//! with the other errors instead of stopping the parse.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

/// A scalar value and where it stands in the file.
pub type Value = Spanned<Scalar>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    pub name: Value,
    pub sandbox: Option<Value>,
    pub on_error: Option<Value>,
    pub sources: Spanned<Vec<RawSource>>,
    #[serde(default)]
    pub transform: Option<RawTransform>,
    pub outputs: Spanned<Vec<RawOutput>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub vendor: Value,
    pub name: Option<Value>,
    pub base_url: Option<Value>,
    pub auth: Option<Spanned<Pairs>>,
    pub filters: Option<Spanned<Pairs>>,
    pub page_size: Option<Value>,
    pub rate_limit: Option<Value>,
    pub concurrency: Option<Value>,
    pub max_attempts: Option<Value>,
    pub max_retry_secs: Option<Value>,
    pub timeout_secs: Option<Value>,
    pub max_body_mb: Option<Value>,
    pub allow_count_mismatch: Option<Value>,
    pub allow_insecure_http: Option<Value>,
    // Vendor-specific settings; `plan.rs` checks that the vendor declares each one given.
    pub reseller_id: Option<Value>,
    pub organization_id: Option<Value>,
    pub organization_ids: Option<Spanned<Vec<Value>>>,
    pub referer: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransform {
    pub fields: Option<Spanned<RawFields>>,
    pub arrays: Option<Value>,
    pub explode: Option<Value>,
}

/// `fields: canonical | all | {output_column: source.path}`.
#[derive(Debug)]
pub enum RawFields {
    Named(String),
    Mapping(Pairs),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub format: Value,
    pub path: Value,
    pub csv: Option<RawCsv>,
    pub ndjson: Option<RawNdjson>,
    pub parquet: Option<RawParquet>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCsv {
    pub spreadsheet_safe: Option<Value>,
    pub bom: Option<Value>,
    pub delimiter: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNdjson {
    pub nested: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParquet {
    pub row_group_rows: Option<Value>,
    pub zstd_level: Option<Value>,
}

/// A YAML scalar: its text and whether it was written as a string.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub kind: ScalarKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    String,
    Integer,
    Float,
    Boolean,
}

impl ScalarKind {
    pub fn describe(self) -> &'static str {
        match self {
            ScalarKind::String => "text",
            ScalarKind::Integer => "a whole number",
            ScalarKind::Float => "a number",
            ScalarKind::Boolean => "a boolean",
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a single value (text, number or true/false)")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(scalar(v.to_string(), ScalarKind::Boolean))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(scalar(v.to_string(), ScalarKind::Integer))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(scalar(v.to_string(), ScalarKind::Integer))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(scalar(v.to_string(), ScalarKind::Float))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(scalar(v.to_string(), ScalarKind::String))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(scalar(v, ScalarKind::String))
    }
}

fn scalar(text: String, kind: ScalarKind) -> Scalar {
    Scalar { text, kind }
}

/// A mapping of names to scalars, in file order, each key with its location.
#[derive(Debug, Default)]
pub struct Pairs(pub Vec<(Spanned<String>, Value)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PairsVisitor)
    }
}

struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = Pairs;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of names to single values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
        let mut pairs = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Value>()?;
            pairs.push((key, value));
        }
        Ok(Pairs(pairs))
    }
}

impl<'de> Deserialize<'de> for RawFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = RawFields;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`canonical`, `all`, or a mapping {output_column: source.path}")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawFields, E> {
                Ok(RawFields::Named(v.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawFields, A::Error> {
                PairsVisitor.visit_map(map).map(RawFields::Mapping)
            }
        }
        deserializer.deserialize_any(FieldsVisitor)
    }
}

//! JSON values to typed cells: dotted-path lookup and the coercion rules of the transform.
//!
//! Promises: a coercion is only made when it loses nothing (`"123"` → `Int(123)`, `32` → `"32"`,
//! `"true"` → `Bool(true)`, `7` → `Float(7.0)`, an RFC 3339 or `YYYY-MM-DD` string → `Timestamp`,
//! a `YYYY-MM-DD` string → `Date`);
//! anything else is a [`Mismatch`], which the caller counts and keeps, never silently drops.
//! `null` is always `Null`; `""` is `Str("")` in a text column and `Null` in a typed one (an empty
//! value is not a wrong value). Nothing here panics on any input.

use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::{Number, Value};

use crate::model::{Cell, ColumnType};

/// A value as the coercion rules see it, wherever it was read from: a slot of the one-pass
/// reader or a `Value` (array elements).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scalar<'a> {
    Null,
    Bool(bool),
    Number(&'a Number),
    /// A whole number beyond 64 bits, as the vendor wrote it.
    Digits(&'a str),
    Str(&'a str),
    /// An object or array.
    Json(&'a Value),
    /// An array (or object) already written as compact JSON text.
    Text(&'a str),
}

impl<'a> From<&'a Value> for Scalar<'a> {
    fn from(value: &'a Value) -> Self {
        match value {
            Value::Null => Scalar::Null,
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => Scalar::Number(n),
            Value::String(s) => Scalar::Str(s),
            other => Scalar::Json(other),
        }
    }
}

/// A value as `_extra` keeps it: JSON text, numbers exactly as the vendor wrote them.
pub(crate) type Raw = Box<RawValue>;

/// The value itself, for `_extra`.
pub(crate) fn to_raw(value: Scalar<'_>) -> Raw {
    match value {
        Scalar::Null => raw(&Value::Null),
        Scalar::Bool(b) => raw(&Value::Bool(b)),
        Scalar::Number(n) => raw(&Value::Number(n.clone())),
        Scalar::Digits(d) => raw_text(d.to_string()),
        Scalar::Str(s) => raw(&Value::String(s.to_string())),
        Scalar::Json(v) => raw(v),
        Scalar::Text(t) => raw_text(t.to_string()),
    }
}

/// A value as compact JSON text.
pub(crate) fn raw(value: &Value) -> Raw {
    // Serialising a `Value` cannot fail (its keys are strings).
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| raw_text("null".into()))
}

/// JSON text as a [`Raw`] value; text that is not JSON is kept as a string.
pub(crate) fn raw_text(text: String) -> Raw {
    RawValue::from_string(text).unwrap_or_else(|e| raw(&Value::String(e.to_string())))
}

/// JSON text without the whitespace between its tokens (strings untouched), so a pretty-printed
/// page does not carry its indentation into `_extra`.
pub(crate) fn compact(text: &str) -> std::borrow::Cow<'_, str> {
    let mut in_string = false;
    let mut escaped = false;
    let needs = text.bytes().any(|b| b.is_ascii_whitespace());
    if !needs {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A dotted path split into its keys once, so a record lookup allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonPath(Box<[Box<str>]>);

impl JsonPath {
    /// `companyProfile.companyName` → `["companyProfile", "companyName"]`; `""` is the value itself.
    pub(crate) fn new(path: &str) -> JsonPath {
        if path.is_empty() {
            return JsonPath(Box::new([]));
        }
        JsonPath(path.split('.').map(Box::from).collect())
    }

    /// The value at this path, or `None` when a key is missing or a step is neither an object
    /// nor a list. A step into a list is its 0-based position (`contacts.0.email`).
    pub(crate) fn get<'a>(&self, mut value: &'a Value) -> Option<&'a Value> {
        for key in &self.0 {
            value = match value {
                Value::Object(map) => map.get(&**key)?,
                Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(value)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The path as written: its keys joined by dots.
    pub(crate) fn dotted(&self) -> String {
        self.0.join(".")
    }
}

/// A value that cannot become its column's type without losing something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mismatch;

/// Converts a value (absent = `None`) to a cell of type `ty`.
pub(crate) fn to_cell(value: Option<Scalar<'_>>, ty: ColumnType) -> Result<Cell<'_>, Mismatch> {
    let value = match value {
        None | Some(Scalar::Null) => return Ok(Cell::Null),
        Some(v) => v,
    };
    if ty == ColumnType::Utf8 {
        return Ok(Cell::Str(to_text(value)));
    }
    if let Scalar::Str(s) = value {
        // Vendors send "" (and padded blanks) for "no value" as often as null (C3 does both).
        let s = s.trim();
        if s.is_empty() {
            return Ok(Cell::Null);
        }
        return match ty {
            ColumnType::Int64 => parse_int(s).map(Cell::Int),
            ColumnType::Float64 => parse_float(s).map(Cell::Float),
            ColumnType::Boolean => parse_bool(s).map(Cell::Bool),
            ColumnType::Timestamp => parse_timestamp(s).map(Cell::Timestamp),
            ColumnType::Date => parse_date(s).map(Cell::Date),
            // Handled above; kept so the match stays exhaustive.
            ColumnType::Utf8 => Some(Cell::Str(Cow::Borrowed(s))),
        }
        .ok_or(Mismatch);
    }
    match (ty, value) {
        (ColumnType::Int64, Scalar::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().and_then(whole))
            .map(Cell::Int)
            .ok_or(Mismatch),
        (ColumnType::Float64, Scalar::Number(n)) => n
            .as_f64()
            .filter(|f| f.is_finite())
            .map(Cell::Float)
            .ok_or(Mismatch),
        (ColumnType::Boolean, Scalar::Bool(b)) => Ok(Cell::Bool(b)),
        // Beyond 64 bits no integer column holds it, and a float would round it.
        _ => Err(Mismatch),
    }
}

/// Any value as text: strings as they are, numbers and booleans as written, objects and
/// arrays as compact JSON.
pub(crate) fn to_text(value: Scalar<'_>) -> Cow<'_, str> {
    match value {
        Scalar::Str(s) | Scalar::Text(s) | Scalar::Digits(s) => Cow::Borrowed(s),
        Scalar::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
        Scalar::Number(n) => Cow::Owned(n.to_string()),
        Scalar::Null => Cow::Borrowed(""),
        Scalar::Json(v) => Cow::Owned(v.to_string()),
    }
}

/// The largest magnitude below which every whole `f64` is exact (2^53).
const EXACT_F64: f64 = 9_007_199_254_740_992.0;

/// A float that is a whole number small enough to be exact, as an integer (`5000.0` → `5000`).
fn whole(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && f.abs() <= EXACT_F64).then_some(f as i64)
}

fn parse_int(s: &str) -> Option<i64> {
    s.parse::<i64>()
        .ok()
        .or_else(|| parse_float(s).and_then(whole))
}

fn parse_float(s: &str) -> Option<f64> {
    // Rust reads "inf" and "NaN"; no loader can store them faithfully, so they are not numbers here.
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

fn parse_bool(s: &str) -> Option<bool> {
    // .NET vendors (C3, Crayon) write "True"/"False".
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Microseconds since the epoch for an RFC 3339 instant (`2025-08-27T12:57:22Z`,
/// `2025-08-27T14:57:22.5+02:00`) or a date `2025-01-01` (midnight UTC).
///
/// A date-time without an offset is refused: reading it as UTC would be a guess, and a wrong
/// instant in a data lake is worse than a counted mismatch with the raw text kept.
pub(crate) fn parse_timestamp(s: &str) -> Option<i64> {
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.as_microsecond());
    }
    if s.len() == 10 {
        let date = s.parse::<jiff::civil::Date>().ok()?;
        let zoned = date.to_zoned(jiff::tz::TimeZone::UTC).ok()?;
        return Some(zoned.timestamp().as_microsecond());
    }
    None
}

/// Days since 1970-01-01 for a calendar date `2026-06-30`. An instant is not a date: which day
/// it falls on depends on a zone, so it is a mismatch rather than a guess.
pub(crate) fn parse_date(s: &str) -> Option<i32> {
    if s.len() != 10 {
        return None;
    }
    let date = s.parse::<jiff::civil::Date>().ok()?;
    let seconds = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .ok()?
        .timestamp()
        .as_second();
    i32::try_from(seconds.div_euclid(86_400)).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn cell(v: Value, ty: ColumnType) -> Result<Cell<'static>, Mismatch> {
        to_cell(Some(Scalar::from(&v)), ty).map(Cell::into_owned)
    }

    #[test]
    fn paths_walk_nested_objects_and_stop_at_anything_else() {
        let v = json!({"a": {"b": {"c": 1}}, "s": "x"});
        assert_eq!(JsonPath::new("a.b.c").get(&v), Some(&json!(1)));
        assert_eq!(JsonPath::new("a.x").get(&v), None);
        assert_eq!(JsonPath::new("s.t").get(&v), None);
        assert_eq!(JsonPath::new("").get(&v), Some(&v));
        let v = json!({"a": [{"b": 1}, {"b": 2}]});
        assert_eq!(JsonPath::new("a.1.b").get(&v), Some(&json!(2)));
        assert_eq!(JsonPath::new("a.2.b").get(&v), None);
        assert_eq!(JsonPath::new("a.x").get(&v), None);
    }

    #[test]
    fn lossless_coercions_are_made() {
        use ColumnType::*;
        assert_eq!(cell(json!("123"), Int64), Ok(Cell::Int(123)));
        assert_eq!(cell(json!(" 42 "), Int64), Ok(Cell::Int(42)));
        assert_eq!(cell(json!(5000.0), Int64), Ok(Cell::Int(5000)));
        assert_eq!(cell(json!(32), Utf8), Ok(Cell::Str("32".into())));
        assert_eq!(cell(json!(1.5), Utf8), Ok(Cell::Str("1.5".into())));
        assert_eq!(cell(json!(true), Utf8), Ok(Cell::Str("true".into())));
        assert_eq!(cell(json!("true"), Boolean), Ok(Cell::Bool(true)));
        assert_eq!(cell(json!("False"), Boolean), Ok(Cell::Bool(false)));
        assert_eq!(cell(json!(7), Float64), Ok(Cell::Float(7.0)));
        assert_eq!(cell(json!("2.5"), Float64), Ok(Cell::Float(2.5)));
        assert_eq!(
            cell(json!({"a": [1]}), Utf8),
            Ok(Cell::Str(r#"{"a":[1]}"#.into()))
        );
    }

    #[test]
    fn lossy_coercions_are_mismatches() {
        use ColumnType::*;
        assert_eq!(cell(json!("abc"), Int64), Err(Mismatch));
        assert_eq!(cell(json!(1.5), Int64), Err(Mismatch));
        assert_eq!(cell(json!(u64::MAX), Int64), Err(Mismatch));
        assert_eq!(cell(json!(true), Int64), Err(Mismatch));
        assert_eq!(cell(json!(1), Boolean), Err(Mismatch));
        assert_eq!(cell(json!("yes"), Boolean), Err(Mismatch));
        assert_eq!(cell(json!("NaN"), Float64), Err(Mismatch));
        assert_eq!(cell(json!([1]), Float64), Err(Mismatch));
        assert_eq!(cell(json!({"a": 1}), Timestamp), Err(Mismatch));
        assert_eq!(cell(json!(1_700_000_000), Timestamp), Err(Mismatch));
        assert_eq!(cell(json!("2025-01-01T00:00:00"), Timestamp), Err(Mismatch));
    }

    #[test]
    fn null_and_empty_text_differ() {
        use ColumnType::*;
        assert_eq!(to_cell(None, Utf8), Ok(Cell::Null));
        assert_eq!(cell(Value::Null, Utf8), Ok(Cell::Null));
        assert_eq!(cell(json!(""), Utf8), Ok(Cell::Str("".into())));
        for ty in [Int64, Float64, Boolean, Timestamp, Date] {
            assert_eq!(cell(json!(""), ty), Ok(Cell::Null), "{ty:?}");
        }
    }

    #[test]
    fn timestamps_in_the_vendors_formats() {
        // Adobe `creationDate`, Valomnia `dateCreated`.
        assert_eq!(
            parse_timestamp("2025-08-27T12:57:22Z"),
            Some(1_756_299_442_000_000)
        );
        assert_eq!(
            parse_timestamp("2015-12-17T23:00:00Z"),
            Some(1_450_393_200_000_000)
        );
        assert_eq!(
            parse_timestamp("2015-12-18T00:00:00.5+01:00"),
            Some(1_450_393_200_500_000)
        );
        assert_eq!(parse_timestamp("2025-01-01"), Some(1_735_689_600_000_000));
        assert_eq!(parse_timestamp("2025-13-01"), None);
        // Adobe `cotermDate`.
        assert_eq!(parse_date("2025-01-01"), Some(20_089));
        assert_eq!(parse_date("1969-12-31"), Some(-1));
        assert_eq!(parse_date("2025-01-01T00:00:00Z"), None);
        assert_eq!(parse_date("2025-02-30"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}

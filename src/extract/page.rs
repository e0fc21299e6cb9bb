//! Reading a page body in one pass: the envelope's keys become a small `Value` for the vendor to
//! read (totals, paging, status), and each record of the list is handed, as it is parsed, to the
//! run's [`RecordReader`] — the transform — so no record is scanned twice or held as a tree.

use std::fmt;

use serde::Deserializer;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserialize, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::connector::{RecordsAt, VendorError, excerpt};
use crate::model::{KeyRef, key_hash};

/// Reads each record of a page as the page is parsed (in a run: the transform, into rows).
pub trait RecordReader: Send + Sync + 'static {
    /// What one record becomes, sent on to the writer.
    type Record: Send + 'static;

    /// Reads one record; any JSON value is a record (what does not fit is the reader's to count).
    /// An error is only ever the input's (not JSON).
    fn read<'de, D: Deserializer<'de>>(&self, input: D) -> Result<Self::Record, D::Error>;

    /// The 64-bit hash of a record's key for de-duplication; `None` when it has none.
    fn key_hash(&self, record: &Self::Record) -> Option<u64>;
}

/// A page's envelope: its top-level keys other than the records list, and how many records the
/// list held (or why there was none: no such key, or not a list).
#[derive(Debug)]
pub struct Envelope {
    /// An object (empty when the body is not one, or is the list itself).
    pub fields: Value,
    /// The response's headers (a `Link` to the next page, a continuation token).
    pub headers: reqwest::header::HeaderMap,
    records: Result<u64, String>,
}

impl Envelope {
    /// How many records the page holds: a missing list is an error, `null` is an empty list,
    /// anything else but a list is an error naming what it is.
    pub fn records(&self) -> Result<u64, VendorError> {
        self.records.clone().map_err(VendorError::new)
    }
}

/// Reads a successful page body: its envelope and its records, each through `reader`.
pub fn read_page<R: RecordReader>(
    body: &[u8],
    at: RecordsAt,
    reader: &R,
) -> Result<(Envelope, Vec<R::Record>), VendorError> {
    // simdutf8 checks 32 or 64 bytes at a time (its width chosen at run time), where std's
    // check cost about 1 % of an export's instructions; std's, on failure only, says where.
    let text = simdutf8::basic::from_utf8(body).map_err(|_| {
        let reason = std::str::from_utf8(body).err().map(|e| e.to_string());
        VendorError::new(format!(
            "the response is not UTF-8 text ({}); it starts: {}",
            reason.unwrap_or_default(),
            excerpt(body)
        ))
    })?;
    let mut input = serde_json::Deserializer::from_str(text);
    let mut records = Vec::new();
    let parts = read_parts(&mut input, at, reader, &mut records)
        .and_then(|parts| input.end().map(|()| parts))
        .map_err(|e| {
            VendorError::new(format!(
                "the response is not the JSON expected ({e}); it starts: {}",
                excerpt(body)
            ))
        })?;
    Ok((envelope(at, parts), records))
}

/// Reads a successful body as it arrives from `body`: its records go to `out` as they are
/// parsed, and its envelope is returned at the end.
pub fn read_streamed<R: RecordReader>(
    body: impl std::io::Read,
    at: RecordsAt,
    reader: &R,
    out: &mut dyn Collect<R::Record>,
) -> Result<Envelope, VendorError> {
    let mut input = serde_json::Deserializer::from_reader(body);
    let parts = read_parts(&mut input, at, reader, out)
        .and_then(|parts| input.end().map(|()| parts))
        .map_err(|e| VendorError::new(format!("the response is not the JSON expected ({e})")))?;
    Ok(envelope(at, parts))
}

/// The envelope's keys and the records list, read from `input`.
fn read_parts<'de, D: Deserializer<'de>, R: RecordReader>(
    input: D,
    at: RecordsAt,
    reader: &R,
    out: &mut dyn Collect<R::Record>,
) -> Result<EnvelopeParts, D::Error> {
    let list = ListSeed { reader, out };
    match at {
        RecordsAt::Key(keys) => EnvelopeSeed { keys, list }.deserialize(input),
        RecordsAt::Body => list
            .deserialize(input)
            .map(|list| (Map::new(), Some((0, list)))),
        RecordsAt::Path(path) => PathSeed { path, list }.deserialize(input),
    }
}

/// The envelope of a body read as `parts`: its other keys, and its records' count or why it has
/// none.
fn envelope(at: RecordsAt, (fields, found): EnvelopeParts) -> Envelope {
    let count = match (at, found) {
        (_, Some((_, List::Items(n)))) => Ok(n),
        (_, Some((_, List::Null))) => Ok(0),
        (RecordsAt::Key(keys), Some((rank, List::Other(what)))) => {
            Err(format!("`{}` should be a list, found {what}", keys[rank]))
        }
        (RecordsAt::Path(path), Some((_, List::Other(what)))) => Err(format!(
            "`{}` should be a list, found {what}",
            path.join(".")
        )),
        (RecordsAt::Path(path), None) => {
            Err(format!("the response has no `{}` list", path.join(".")))
        }
        (RecordsAt::Body, Some((_, List::Other(what)))) => {
            Err(format!("expected a JSON list of records, found {what}"))
        }
        (RecordsAt::Key(keys), None) => Err(format!(
            "the response has no `{}` list",
            keys.join("` or `")
        )),
        (RecordsAt::Body, None) => Err("the response is not a list".to_string()),
    };
    Envelope {
        fields: Value::Object(fields),
        headers: reqwest::header::HeaderMap::new(),
        records: count,
    }
}

/// Where a list's records go as they are read: a page's `Vec`, or batches handed on while a
/// long body still arrives ([`super::one_response`]).
pub trait Collect<T> {
    /// Takes one record; `Err` (a message) stops the reading.
    fn push(&mut self, record: T) -> Result<(), String>;
    /// How many records it has taken.
    fn taken(&self) -> usize;
    /// Forgets the records taken after the first `count` (a better list found later in the body).
    fn forget_after(&mut self, count: usize) -> Result<(), String>;
}

impl<T> Collect<T> for Vec<T> {
    fn push(&mut self, record: T) -> Result<(), String> {
        Vec::push(self, record);
        Ok(())
    }
    fn taken(&self) -> usize {
        self.len()
    }
    fn forget_after(&mut self, count: usize) -> Result<(), String> {
        self.truncate(count);
        Ok(())
    }
}

/// A records list as found: how many items it had, `null`, or something else (named).
enum List {
    Items(u64),
    Null,
    Other(&'static str),
}

/// Reads a list, each item through the reader into `out`.
struct ListSeed<'r, 'o, R: RecordReader> {
    reader: &'r R,
    out: &'o mut dyn Collect<R::Record>,
}

impl<'de, R: RecordReader> DeserializeSeed<'de> for ListSeed<'_, '_, R> {
    type Value = List;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<List, D::Error> {
        d.deserialize_any(self)
    }
}

/// One item of the list, read by the reader.
struct ItemSeed<'r, R>(&'r R);

impl<'de, R: RecordReader> DeserializeSeed<'de> for ItemSeed<'_, R> {
    type Value = R::Record;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<R::Record, D::Error> {
        self.0.read(d)
    }
}

impl<'de, R: RecordReader> Visitor<'de> for ListSeed<'_, '_, R> {
    type Value = List;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List, A::Error> {
        let before = self.out.taken();
        while let Some(record) = seq.next_element_seed(ItemSeed(self.reader))? {
            self.out.push(record).map_err(de::Error::custom)?;
        }
        Ok(List::Items((self.out.taken() - before) as u64))
    }
    fn visit_unit<E: de::Error>(self) -> Result<List, E> {
        Ok(List::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<List, E> {
        Ok(List::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<List, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map))?;
        Ok(List::Other("an object"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<List, E> {
        Ok(List::Other("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<List, E> {
        Ok(List::Other("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<List, E> {
        Ok(List::Other("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<List, E> {
        Ok(List::Other("a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<List, E> {
        Ok(List::Other("text"))
    }
}

/// The top-level keys of a page: the records list under the first of `keys` present read through
/// the reader, every other key read as a value. A body that is not an object has no list.
struct EnvelopeSeed<'k, 'r, 'o, R: RecordReader> {
    keys: &'k [&'k str],
    list: ListSeed<'r, 'o, R>,
}

type EnvelopeParts = (Map<String, Value>, Option<(usize, List)>);

/// The `visit_*` of an envelope visitor for a body that is not an object: no list there.
macro_rules! no_list_outside_an_object {
    () => {
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<EnvelopeParts, A::Error> {
            Value::deserialize(SeqAccessDeserializer::new(seq))?;
            Ok((Map::new(), None))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<EnvelopeParts, E> {
            Ok((Map::new(), None))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<EnvelopeParts, E> {
            Ok((Map::new(), None))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<EnvelopeParts, E> {
            Ok((Map::new(), None))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<EnvelopeParts, E> {
            Ok((Map::new(), None))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<EnvelopeParts, E> {
            Ok((Map::new(), None))
        }
        fn visit_unit<E: de::Error>(self) -> Result<EnvelopeParts, E> {
            Ok((Map::new(), None))
        }
    };
}

impl<'de, R: RecordReader> DeserializeSeed<'de> for EnvelopeSeed<'_, '_, '_, R> {
    type Value = EnvelopeParts;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<EnvelopeParts, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, R: RecordReader> Visitor<'de> for EnvelopeSeed<'_, '_, '_, R> {
    type Value = EnvelopeParts;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvelopeParts, A::Error> {
        let EnvelopeSeed { keys, list } = self;
        let mut fields = Map::new();
        let mut found: Option<(usize, List)> = None;
        let start = list.out.taken();
        while let Some(key) = map.next_key::<String>()? {
            match keys.iter().position(|k| *k == key) {
                // The list under the first of `keys` wins wherever it stands in the body (a vendor
                // sends one); the records of a lesser one read before it are dropped.
                Some(rank) if found.as_ref().is_none_or(|(r, _)| rank < *r) => {
                    list.out.forget_after(start).map_err(de::Error::custom)?;
                    let seed = ListSeed {
                        reader: list.reader,
                        out: &mut *list.out,
                    };
                    found = Some((rank, map.next_value_seed(seed)?));
                }
                _ => {
                    let value = map.next_value::<Value>()?;
                    fields.insert(key, value);
                }
            }
        }
        Ok((fields, found))
    }

    no_list_outside_an_object!();
}

/// The keys of an object on the way to the records list at `path`: the list read through the
/// reader, an object on the path walked the same way (kept in the envelope without the list),
/// every other key read as a value.
struct PathSeed<'p, 'r, 'o, R: RecordReader> {
    path: &'p [&'p str],
    list: ListSeed<'r, 'o, R>,
}

impl<'de, R: RecordReader> DeserializeSeed<'de> for PathSeed<'_, '_, '_, R> {
    type Value = EnvelopeParts;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<EnvelopeParts, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, R: RecordReader> Visitor<'de> for PathSeed<'_, '_, '_, R> {
    type Value = EnvelopeParts;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvelopeParts, A::Error> {
        let PathSeed { path, list } = self;
        let mut fields = Map::new();
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            match path.split_first() {
                Some((first, [])) if *first == key && found.is_none() => {
                    let seed = ListSeed {
                        reader: list.reader,
                        out: &mut *list.out,
                    };
                    found = Some((0, map.next_value_seed(seed)?));
                }
                Some((first, rest)) if *first == key && found.is_none() => {
                    let seed = PathSeed {
                        path: rest,
                        list: ListSeed {
                            reader: list.reader,
                            out: &mut *list.out,
                        },
                    };
                    let (inner, inner_found) = map.next_value_seed(seed)?;
                    found = inner_found;
                    fields.insert(key, Value::Object(inner));
                }
                _ => {
                    let value = map.next_value::<Value>()?;
                    fields.insert(key, value);
                }
            }
        }
        Ok((fields, found))
    }

    no_list_outside_an_object!();
}

/// The reader that keeps each record as a `Value` (for tools and tests that want the records
/// themselves), de-duplicating on the vendor's `record_key`.
#[derive(Debug, Clone, Copy)]
pub struct ValueReader {
    pub record_key: &'static str,
}

impl RecordReader for ValueReader {
    type Record = Value;

    fn read<'de, D: Deserializer<'de>>(&self, input: D) -> Result<Value, D::Error> {
        Value::deserialize(input)
    }

    fn key_hash(&self, record: &Value) -> Option<u64> {
        match record.get(self.record_key)? {
            Value::String(s) => Some(key_hash(KeyRef::Text(s))),
            Value::Number(n) => Some(key_hash(KeyRef::Number(n))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const DATA: RecordsAt = RecordsAt::Key(&["data", "items"]);
    const READER: ValueReader = ValueReader { record_key: "id" };

    fn read(body: &str, at: RecordsAt) -> Result<(Envelope, Vec<Value>), VendorError> {
        read_page(body.as_bytes(), at, &READER)
    }

    #[test]
    fn the_records_list_goes_through_the_reader_and_the_rest_is_the_envelope() {
        let (envelope, records) = read(
            r#"{"paging": {"total": 3}, "data": [{"id": 1}, "not a record", {"id": 2, "x": [1]}]}"#,
            DATA,
        )
        .unwrap();
        assert_eq!(
            records,
            [
                json!({"id": 1}),
                json!("not a record"),
                json!({"id": 2, "x": [1]})
            ]
        );
        assert_eq!(envelope.records().unwrap(), 3);
        assert_eq!(envelope.fields, json!({"paging": {"total": 3}}));
    }

    #[test]
    fn a_missing_null_or_wrong_list_is_told_apart() {
        let (envelope, records) = read(r#"{"Status": "Error"}"#, DATA).unwrap();
        assert!(records.is_empty());
        assert_eq!(envelope.fields, json!({"Status": "Error"}));
        let missing = envelope.records().unwrap_err().message;
        assert_eq!(missing, "the response has no `data` or `items` list");

        let (envelope, _) = read(r#"{"items": null}"#, DATA).unwrap();
        assert_eq!(envelope.records().unwrap(), 0);

        let (envelope, records) = read(
            r#"{"items": [{"id": 9}], "data": [{"id": 1}, {"id": 2}]}"#,
            DATA,
        )
        .unwrap();
        assert_eq!(
            records,
            [json!({"id": 1}), json!({"id": 2})],
            "`data` ranks first"
        );
        assert_eq!(envelope.records().unwrap(), 2);

        let (envelope, _) = read(r#"{"items": "none"}"#, DATA).unwrap();
        let wrong = envelope.records().unwrap_err().message;
        assert_eq!(wrong, "`items` should be a list, found text");

        let (envelope, _) = read(r#"[{"id": 1}]"#, DATA).unwrap();
        assert!(envelope.records().is_err(), "a list is not an envelope");
    }

    #[test]
    fn a_list_at_a_nested_path_keeps_the_rest_of_the_way_in_the_envelope() {
        const AT: RecordsAt = RecordsAt::Path(&["data", "customers"]);
        let (envelope, records) = read(
            r#"{"meta": 1, "data": {"total": 2, "customers": [{"id": 1}, {"id": 2}], "next": "c2"}}"#,
            AT,
        )
        .unwrap();
        assert_eq!(records, [json!({"id": 1}), json!({"id": 2})]);
        assert_eq!(envelope.records().unwrap(), 2);
        assert_eq!(
            envelope.fields,
            json!({"meta": 1, "data": {"total": 2, "next": "c2"}})
        );
        let (envelope, _) = read(r#"{"data": {"total": 0}}"#, AT).unwrap();
        let missing = envelope.records().unwrap_err().message;
        assert_eq!(missing, "the response has no `data.customers` list");
        let (envelope, _) = read(r#"{"data": {"customers": 3}}"#, AT).unwrap();
        let wrong = envelope.records().unwrap_err().message;
        assert_eq!(wrong, "`data.customers` should be a list, found a number");
    }

    #[test]
    fn a_body_that_is_the_list() {
        let (envelope, records) = read(r#"[{"id": 1}, {"id": 2}]"#, RecordsAt::Body).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(envelope.records().unwrap(), 2);
        let (envelope, _) = read(r#"{"id": 1}"#, RecordsAt::Body).unwrap();
        let wrong = envelope.records().unwrap_err().message;
        assert_eq!(wrong, "expected a JSON list of records, found an object");
    }

    #[test]
    fn bodies_that_are_not_json_are_errors_with_an_excerpt() {
        for body in [
            &b"<html>Bad gateway</html>"[..],
            br#"{"data": [{"id": 1}"#,
            br#"{"data": []} trailing"#,
            b"",
        ] {
            let message = read_page(body, DATA, &READER).unwrap_err().message;
            assert!(
                message.starts_with("the response is not the JSON expected"),
                "{message}"
            );
        }
        let message = read_page(b"{\"data\": [\"\xff\"]}", DATA, &READER)
            .unwrap_err()
            .message;
        // simdutf8 finds it; std's check, on failure only, says where.
        assert!(
            message.starts_with(
                "the response is not UTF-8 text (invalid utf-8 sequence of 1 bytes from index 11)"
            ),
            "{message}"
        );
    }

    #[test]
    fn text_and_number_keys_hash_apart() {
        let text = READER.key_hash(&json!({"id": "7"}));
        let number = READER.key_hash(&json!({"id": 7}));
        assert!(text.is_some() && number.is_some());
        assert_ne!(
            text, number,
            "a vendor's key has one JSON type; \"7\" and 7 differ"
        );
        assert_eq!(READER.key_hash(&json!({"id": null})), None);
        assert_eq!(READER.key_hash(&json!({"other": 1})), None);
    }
}

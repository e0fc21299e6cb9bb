//! One pass over a record's JSON text: every declared value lands in its slot, undeclared keys
//! are counted (and kept for `_extra`), and arrays are either streamed to compact JSON text or
//! kept whole for their elements — without building a tree of the whole record.
//!
//! Promises:
//! - It reads any JSON: a record that is not an object, a declared object that is a string, an
//!   array that is a number. What does not fit is counted and kept, never dropped, exactly as the
//!   Value-walking rules in `rows.rs` describe (the same reader runs over a `serde_json::Value`,
//!   which is how the tests drive it).
//! - Strings are borrowed from the page text when they hold no escapes: most cells cost no
//!   allocation until a loader copies them.
//! - Keys are matched by remembering, per object, which declared key followed which last time:
//!   a vendor writes its keys in one order, so nearly every key costs one comparison.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use serde::Deserializer;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::rows::{Drift, RecordReport};
use super::spare::{Spare, give_back_to, take_from};
use super::value::{Raw, compact, raw, raw_text};

/// The declared shape of a record (or array element) as a tree of keys.
#[derive(Debug, Default)]
pub(crate) struct Declared {
    /// A declared value lives here (a field or an array).
    pub(crate) leaf: bool,
    /// Where the reader puts this key's value, when the transform reads it.
    pub(crate) slot: Option<usize>,
    /// Declared keys below, when this is an object, sorted by key.
    pub(crate) children: Vec<(Box<str>, Declared)>,
    /// For each child (and, at the end, for "no key yet"), the child that followed it in the last
    /// record: the next key's likely match.
    follows: Vec<AtomicU32>,
}

/// No hint yet.
const NO_HINT: u32 = u32::MAX;

impl Declared {
    /// Declares `path` (a field or an array of the vendor spec, or a path a mapping reads).
    pub(crate) fn insert(&mut self, path: &str) -> &mut Declared {
        let node = self.node(path);
        node.leaf = true;
        node
    }

    /// The node of `path`, created when missing (not declared by that alone).
    pub(crate) fn node(&mut self, path: &str) -> &mut Declared {
        let mut node = self;
        for key in path.split('.') {
            let at = match node.children.binary_search_by(|(k, _)| (**k).cmp(key)) {
                Ok(at) => at,
                Err(at) => {
                    node.children.insert(at, (key.into(), Declared::default()));
                    node.follows = (0..=node.children.len())
                        .map(|_| AtomicU32::new(NO_HINT))
                        .collect();
                    at
                }
            };
            node = &mut node.children[at].1;
        }
        node
    }

    /// The declared node of `key`, or `None`. `previous` is the index of the child matched just
    /// before in the same object (`None` at its first key); it is updated to this key's.
    pub(crate) fn child(&self, key: &str, previous: &mut Option<usize>) -> Option<&Declared> {
        let from = previous.unwrap_or(self.children.len());
        let hint = self.follows.get(from).map_or(NO_HINT, |h| h.load(Relaxed));
        if let Some((k, node)) = self.children.get(hint as usize)
            && same_key(k, key)
        {
            *previous = Some(hint as usize);
            return Some(node);
        }
        let at = self
            .children
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()?;
        if let Some(h) = self.follows.get(from) {
            h.store(at as u32, Relaxed);
        }
        *previous = Some(at);
        Some(&self.children[at].1)
    }

    /// Calls `found(path, value, drift)` for every key of `object` (and of its declared nested
    /// objects) that is not declared; `at` is where `object` lies. A non-object where only an
    /// object was declared (`"companyProfile": "x"`) is a [`Drift::ShapeMismatch`], since its value
    /// would be lost.
    pub(crate) fn undeclared<'v>(
        &self,
        object: &'v Map<String, Value>,
        at: Option<&KeyPath<'_>>,
        found: &mut impl FnMut(&KeyPath<'_>, &'v Value, Drift),
    ) {
        let mut previous = None;
        for (key, value) in object {
            // AppXite's documented payloads carry comment keys such as `"// Addresses": ""`.
            if key.starts_with("//") {
                continue;
            }
            let path = KeyPath::new(at, key);
            match self.child(key, &mut previous) {
                None => found(&path, value, Drift::Undeclared),
                Some(node) => match value {
                    Value::Object(inner) if !node.children.is_empty() => {
                        node.undeclared(inner, Some(&path), found);
                    }
                    _ if node.leaf || value.is_null() => {}
                    _ => found(&path, value, Drift::ShapeMismatch),
                },
            }
        }
    }
}

/// Whether two keys are equal. Keys of up to 32 bytes (nearly all of a vendor's) are compared as
/// a few overlapping words, in place: matching a record's keys against the hints is most of
/// the reader's comparisons, and through a call to `memcmp` each they cost 3 % of an export's
/// cycles (callgrind, 10k: 1,046.1M → 1,034.8M instructions with this).
#[inline]
fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        let mut w = [0; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_ne_bytes(w)
    };
    let half = |s: &[u8], at: usize| {
        let mut w = [0; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_ne_bytes(w)
    };
    let same_at = |at: usize| word(a, at) == word(b, at);
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        8..=16 => same_at(0) && same_at(n - 8),
        17..=32 => same_at(0) && same_at(8) && same_at(n - 16) && same_at(n - 8),
        _ => a == b,
    }
}

/// Where a key lies in the record: the keys that lead to it, itself last. Kept on the stack and
/// written out as a dotted path only when a key needs naming (an undeclared key kept in `_extra`,
/// a shape mismatch), which most records never do.
#[derive(Clone, Copy)]
pub(crate) struct KeyPath<'k> {
    parent: Option<&'k KeyPath<'k>>,
    key: &'k str,
}

impl<'k> KeyPath<'k> {
    /// `key` inside the object at `parent` (`None`: the record, or the element, itself).
    pub(crate) fn new(parent: Option<&'k KeyPath<'k>>, key: &'k str) -> KeyPath<'k> {
        KeyPath { parent, key }
    }

    /// The dotted path: `a.b.c`.
    pub(crate) fn dotted(&self) -> String {
        let mut path = self.parent.map_or_else(String::new, |p| p.dotted() + ".");
        path.push_str(self.key);
        path
    }
}

/// How the reader keeps an array it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArrayRead {
    /// Only its elements' keys are checked (no column shows it).
    Check,
    /// As compact JSON text (a JSON column), its elements' keys checked on the way.
    Text,
    /// Whole, as a `Value`, for its elements (explode, element columns, child tables).
    Whole,
}

/// What a slot expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotKind {
    Scalar,
    /// A field declared as a number: read from its text, so a whole number beyond 64 bits is kept
    /// as written, not rounded to a float.
    Number,
    /// An array, with the index of its element shape in [`Shape::elements`].
    Array {
        read: ArrayRead,
        element: usize,
    },
}

/// The record shape the reader walks: the declared tree, what each slot expects, the arrays'
/// element shapes.
#[derive(Debug, Default)]
pub(crate) struct Shape {
    pub(crate) root: Declared,
    pub(crate) kinds: Vec<SlotKind>,
    pub(crate) elements: Vec<Declared>,
}

/// One value as the record had it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Slot<'de> {
    #[default]
    Absent,
    Null,
    Bool(bool),
    Number(Number),
    /// A number no 64-bit type holds (a whole number beyond 64 bits, a float beyond f64), as
    /// written.
    Digits(Cow<'de, str>),
    Str(Cow<'de, str>),
    /// An object or array (where a scalar was declared, or an array read whole).
    Json(Value),
    /// An array (or object) read as compact JSON text.
    Text(String),
}

/// A record read into its slots.
#[derive(Debug, Default)]
pub(crate) struct Parsed<'de> {
    pub(crate) slots: Vec<Slot<'de>>,
    pub(crate) report: RecordReport,
    /// Undeclared keys and shape mismatches by dotted path (kept only when `keep`); `_record`
    /// when the record is not an object.
    pub(crate) extra: BTreeMap<String, Raw>,
    pub(crate) keep: bool,
    /// How many slots hold one of the thread's text buffers (a list's text, a string unescaped),
    /// which [`Drop`] gives back.
    texts: usize,
}

/// A record's list texts and unescaped strings go back to its thread's spare buffers
/// ([`spare_text`]) once its rows are made, and its slots to [`SPARE_SLOTS`]: the next record's
/// are written into them rather than into fresh allocations. Only as many slots are looked at as
/// it takes to find the texts counted while reading.
impl Drop for Parsed<'_> {
    fn drop(&mut self) {
        let mut left = self.texts;
        for slot in &mut self.slots {
            if left == 0 {
                break;
            }
            if let Slot::Text(text) | Slot::Str(Cow::Owned(text)) = slot {
                left -= 1;
                give_back_text(std::mem::take(text));
            }
        }
        give_back_to(&SPARE_SLOTS, std::mem::take(&mut self.slots));
    }
}

thread_local! {
    /// The slots of this thread's last records, emptied, for the next records.
    static SPARE_SLOTS: Spare<Slot<'static>> = const { Spare::new() };
    /// Emptied text buffers of this thread's last records, for the next records' lists and
    /// strings with escapes. A record is read, its rows made and the record dropped on one
    /// thread, so the buffers stay where they are used, with no lock.
    static SPARE_TEXTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The most spare text buffers a thread keeps, and the largest: a record has a few lists of a
/// few KiB and a few strings with escapes; a buffer beyond is freed.
const SPARE_TEXTS_KEPT: usize = 16;
const SPARE_TEXT_BYTES: usize = 64 * 1024;

/// An empty text buffer: a spare one of this thread's, or a new one with room for a usual list.
fn spare_text() -> String {
    (SPARE_TEXTS.with_borrow_mut(Vec::pop))
        .unwrap_or_else(|| String::with_capacity(ARRAY_TEXT_START))
}

fn give_back_text(mut text: String) {
    if !(ARRAY_TEXT_START..=SPARE_TEXT_BYTES).contains(&text.capacity()) {
        return;
    }
    text.clear();
    // A thread's own storage is gone only while the thread ends: the buffer is freed then.
    let _ = SPARE_TEXTS.try_with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.len() < SPARE_TEXTS_KEPT {
            spare.push(text);
        }
    });
}

impl Shape {
    /// The slot of `path`, made on first use with `kind`.
    pub(crate) fn slot(&mut self, path: &str, kind: SlotKind) -> usize {
        let next = self.kinds.len();
        let node = self.root.node(path);
        *node.slot.get_or_insert_with(|| {
            self.kinds.push(kind);
            next
        })
    }

    /// Reads one record from `input` (page text or a `Value`).
    pub(crate) fn read<'de, D: Deserializer<'de>>(
        &self,
        input: D,
        keep: bool,
    ) -> Result<Parsed<'de>, D::Error> {
        let mut slots = take_from(&SPARE_SLOTS, self.kinds.len());
        // Not `vec![Slot::Absent; n]`, which clones the first through a match on every variant.
        slots.resize_with(self.kinds.len(), || Slot::Absent);
        let mut parsed = Parsed {
            slots,
            report: RecordReport::default(),
            extra: BTreeMap::new(),
            keep,
            texts: 0,
        };
        input.deserialize_any(RecordVisitor {
            shape: self,
            parsed: &mut parsed,
        })?;
        Ok(parsed)
    }
}

struct RecordVisitor<'s, 'p, 'de> {
    shape: &'s Shape,
    parsed: &'p mut Parsed<'de>,
}

/// Turns every `visit_*` of a visitor into one `fn(Value)`: for values that are kept as a whole.
macro_rules! visit_as_value {
    ($on_value:ident) => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(self.$on_value(Value::Bool(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(self.$on_value(Value::from(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(self.$on_value(Value::from(v)))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(self.$on_value(Number::from_f64(v).map_or(Value::Null, Value::Number)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(self.$on_value(Value::String(v.to_string())))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(self.$on_value(Value::Null))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(self.$on_value(Value::Null))
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            let value = Value::deserialize(d)?;
            Ok(self.$on_value(value))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            let value = Value::deserialize(SeqAccessDeserializer::new(seq))?;
            Ok(self.$on_value(value))
        }
    };
}

use serde::Deserialize as _;

impl<'de> Visitor<'de> for RecordVisitor<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        read_object(self.shape, &self.shape.root, &mut map, self.parsed, None)
    }

    visit_as_value!(not_a_record);
}

impl RecordVisitor<'_, '_, '_> {
    /// Not a record at all: one row of nulls, the value counted and (in `all`) kept.
    fn not_a_record(self, value: Value) {
        self.parsed.report.type_mismatches += 1;
        if self.parsed.keep {
            self.parsed.extra.insert("_record".to_string(), raw(&value));
        }
    }
}

/// Reads the keys of one object against its declared `node`; `at` is where the object lies
/// (`None`: the record itself).
fn read_object<'de, A: MapAccess<'de>>(
    shape: &Shape,
    node: &Declared,
    map: &mut A,
    parsed: &mut Parsed<'de>,
    at: Option<&KeyPath<'_>>,
) -> Result<(), A::Error> {
    let mut previous = None;
    while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
        if key.starts_with("//") {
            map.next_value::<IgnoredAny>()?;
            continue;
        }
        let Some(child) = node.child(&key, &mut previous) else {
            parsed.report.undeclared_fields += 1;
            if parsed.keep {
                // As the vendor wrote it: numbers of any size exactly, whitespace dropped.
                let value = map.next_value::<Raw>()?;
                let value = match compact(value.get()) {
                    Cow::Borrowed(_) => value,
                    Cow::Owned(text) => raw_text(text),
                };
                parsed.extra.insert(KeyPath::new(at, &key).dotted(), value);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            continue;
        };
        match (child.slot, child.children.is_empty()) {
            (Some(slot), true) => {
                parsed.slots[slot] = match shape.kinds[slot] {
                    SlotKind::Scalar => {
                        let value = map.next_value_seed(ScalarSeed)?;
                        parsed.texts += usize::from(matches!(value, Slot::Str(Cow::Owned(_))));
                        value
                    }
                    SlotKind::Number => map.next_value_seed(NumberSeed)?,
                    SlotKind::Array { read, element } => {
                        let list = map.next_value_seed(ArraySeed {
                            read,
                            element: &shape.elements[element],
                            report: &mut parsed.report,
                        })?;
                        parsed.texts += usize::from(matches!(list, Slot::Text(_)));
                        list
                    }
                };
            }
            // Read as a whole and declared inside too (a mapping that reads a declared object or
            // steps into a declared field's list): the slow way.
            (Some(slot), false) => {
                let value = map.next_value::<Value>()?;
                check_value(child, &value, parsed, &KeyPath::new(at, &key));
                fill_slots(shape, child, &value, parsed);
                parsed.slots[slot] = Slot::Json(value);
            }
            (None, false) => {
                map.next_value_seed(ObjectSeed {
                    shape,
                    node: child,
                    parsed,
                    at: KeyPath::new(at, &key),
                })?;
            }
            (None, true) => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(())
}

/// Fills the slots below `node` from `value`, read whole because a slot above them wanted it so.
fn fill_slots(shape: &Shape, node: &Declared, value: &Value, parsed: &mut Parsed<'_>) {
    let Value::Object(object) = value else {
        return;
    };
    for (key, child) in &node.children {
        let Some(inner) = object.get(&**key) else {
            continue;
        };
        if let Some(slot) = child.slot {
            parsed.slots[slot] = match (shape.kinds[slot], inner) {
                (
                    SlotKind::Array {
                        read: ArrayRead::Check,
                        ..
                    },
                    _,
                ) => Slot::Absent,
                (
                    SlotKind::Array {
                        read: ArrayRead::Text,
                        ..
                    },
                    Value::Array(_),
                ) => Slot::Text(inner.to_string()),
                (SlotKind::Array { element, .. }, Value::Array(items)) => {
                    count_elements(&shape.elements[element], items, &mut parsed.report);
                    Slot::Json(inner.clone())
                }
                _ => value_slot(inner),
            };
        }
        if !child.children.is_empty() {
            fill_slots(shape, child, inner, parsed);
        }
    }
}

/// A value already read as a slot.
fn value_slot(value: &Value) -> Slot<'static> {
    match value {
        Value::Null => Slot::Null,
        Value::Bool(b) => Slot::Bool(*b),
        Value::Number(n) => Slot::Number(n.clone()),
        Value::String(s) => Slot::Str(Cow::Owned(s.clone())),
        other => Slot::Json(other.clone()),
    }
}

/// The drift rules of [`Declared::undeclared`] for one value already read whole.
fn check_value(node: &Declared, value: &Value, parsed: &mut Parsed<'_>, path: &KeyPath<'_>) {
    match value {
        Value::Object(inner) => {
            let (report, extra, keep) = (&mut parsed.report, &mut parsed.extra, parsed.keep);
            node.undeclared(inner, Some(path), &mut |p, v, drift| {
                report.count(drift);
                if keep {
                    extra.insert(p.dotted(), raw(v));
                }
            });
        }
        _ if node.leaf || value.is_null() => {}
        other => {
            parsed.report.type_mismatches += 1;
            if parsed.keep {
                parsed.extra.insert(path.dotted(), raw(other));
            }
        }
    }
}

/// A map key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// A declared object (with declared keys below): walked in place.
struct ObjectSeed<'s, 'p, 'x, 'de> {
    shape: &'s Shape,
    node: &'s Declared,
    parsed: &'p mut Parsed<'de>,
    /// Where the object lies.
    at: KeyPath<'x>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_, '_, '_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_, '_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        read_object(self.shape, self.node, &mut map, self.parsed, Some(&self.at))
    }

    visit_as_value!(not_an_object);
}

impl ObjectSeed<'_, '_, '_, '_> {
    fn not_an_object(self, value: Value) {
        if value.is_null() || self.node.leaf {
            return;
        }
        self.parsed.report.type_mismatches += 1;
        if self.parsed.keep {
            self.parsed.extra.insert(self.at.dotted(), raw(&value));
        }
    }
}

/// A declared field: any JSON value into a [`Slot`].
struct ScalarSeed;

impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Slot<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Slot<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScalarSeed {
    type Value = Slot<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Slot<'de>, E> {
        Ok(Slot::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Slot<'de>, E> {
        Ok(Slot::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Slot<'de>, E> {
        Ok(Slot::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Slot<'de>, E> {
        Ok(Number::from_f64(v).map_or(Slot::Null, Slot::Number))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Slot<'de>, E> {
        Ok(Slot::Str(Cow::Borrowed(v)))
    }
    /// A string with escapes, unescaped by serde_json into its scratch space: copied into one
    /// of the thread's spare buffers (a record has a few: a name in quotes, an address on lines).
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Slot<'de>, E> {
        let mut text = spare_text();
        text.push_str(v);
        Ok(Slot::Str(Cow::Owned(text)))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Slot<'de>, E> {
        Ok(Slot::Str(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Slot<'de>, E> {
        Ok(Slot::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Slot<'de>, E> {
        Ok(Slot::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Slot<'de>, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Slot<'de>, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Slot::Json)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Slot<'de>, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(Slot::Json)
    }
}

/// A field declared as a number: its text, read as a number when it fits 64 bits, kept as
/// written when it is a whole number that does not, and read as any value otherwise.
///
/// The text comes through serde_json's raw-value protocol (the newtype name `RawValue` uses),
/// borrowed from the page when it can be: one scan of the token, no copy.
struct NumberSeed;

/// The newtype name under which serde_json hands out a value's raw text (`serde_json::value::
/// RawValue`); a test checks it still does.
const RAW_TOKEN: &str = "$serde_json::private::RawValue";

impl<'de> DeserializeSeed<'de> for NumberSeed {
    type Value = Slot<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Slot<'de>, D::Error> {
        d.deserialize_newtype_struct(RAW_TOKEN, self)
    }
}

impl<'de> Visitor<'de> for NumberSeed {
    type Value = Slot<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Slot<'de>, A::Error> {
        map.next_key::<IgnoredAny>()?;
        let text = map.next_value::<Key<'de>>()?.0;
        number_slot(text).map_err(de::Error::custom)
    }
}

/// The slot of a value's raw JSON text: numbers read directly (the common case), a number no
/// 64-bit type holds kept as written, anything else read as any value.
fn number_slot(text: Cow<'_, str>) -> Result<Slot<'_>, serde_json::Error> {
    let t = text.trim();
    match t.as_bytes().first() {
        Some(b'-' | b'0'..=b'9') => {}
        Some(b'n') if t == "null" => return Ok(Slot::Null),
        _ => {
            // A string, a boolean, an object or a list where a number was declared: rare.
            return match text {
                Cow::Borrowed(b) => {
                    ScalarSeed.deserialize(&mut serde_json::Deserializer::from_str(b))
                }
                Cow::Owned(o) => ScalarSeed
                    .deserialize(&mut serde_json::Deserializer::from_str(&o))
                    .map(Slot::into_owned),
            };
        }
    }
    let whole = !t.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
    let number = if whole {
        (t.parse::<i64>().ok().map(Number::from))
            .or_else(|| t.parse::<u64>().ok().map(Number::from))
    } else {
        t.parse::<f64>().ok().and_then(Number::from_f64)
    };
    Ok(match number {
        Some(n) => Slot::Number(n),
        // Beyond 64 bits, or beyond what a float can hold: as the vendor wrote it.
        None => Slot::Digits(match text {
            Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
            Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
        }),
    })
}

impl Slot<'_> {
    /// The same slot, owning its text.
    fn into_owned(self) -> Slot<'static> {
        match self {
            Slot::Absent => Slot::Absent,
            Slot::Null => Slot::Null,
            Slot::Bool(b) => Slot::Bool(b),
            Slot::Number(n) => Slot::Number(n),
            Slot::Digits(d) => Slot::Digits(Cow::Owned(d.into_owned())),
            Slot::Str(s) => Slot::Str(Cow::Owned(s.into_owned())),
            Slot::Json(v) => Slot::Json(v),
            Slot::Text(t) => Slot::Text(t),
        }
    }
}

/// A declared array, kept as [`ArrayRead`] says. A value that is not an array is kept as it is.
struct ArraySeed<'s, 'r> {
    read: ArrayRead,
    element: &'s Declared,
    report: &'r mut RecordReport,
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_, '_> {
    type Value = Slot<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Slot<'de>, D::Error> {
        if self.read == ArrayRead::Whole {
            let value = Value::deserialize(d)?;
            if let Value::Array(items) = &value {
                count_elements(self.element, items, self.report);
            }
            return Ok(Slot::Json(value));
        }
        d.deserialize_any(self)
    }
}

/// The bytes a list's JSON text starts with room for.
const ARRAY_TEXT_START: usize = 256;

/// The drift count of the elements of an array read whole.
pub(crate) fn count_elements(element: &Declared, items: &[Value], report: &mut RecordReport) {
    for item in items {
        if let Value::Object(object) = item {
            element.undeclared(object, None, &mut |_, _, drift| report.count(drift));
        }
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_, '_> {
    type Value = Slot<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Slot<'de>, A::Error> {
        // Room for a usual list's text from the start (grown a doubling at a time from nothing,
        // a list took four or five reallocations): the last records' buffers, emptied.
        let mut text = spare_text().into_bytes();
        let mut writer = JsonWriter {
            out: &mut text,
            declared: Some(self.element),
            report: self.report,
        };
        writer.write_list(seq)?;
        Ok(match self.read {
            ArrayRead::Check => {
                // Only its drift was wanted: the buffer goes back, empty, for the next list.
                text.clear();
                give_back_text(json_text(text));
                Slot::Absent
            }
            _ => Slot::Text(json_text(text)),
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Slot<'de>, A::Error> {
        // An object where a list was declared: kept as its JSON text; not elements to check.
        let value = Value::deserialize(MapAccessDeserializer::new(map))?;
        Ok(Slot::Text(value.to_string()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Slot<'de>, E> {
        ScalarSeed.visit_bool(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Slot<'de>, E> {
        ScalarSeed.visit_i64(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Slot<'de>, E> {
        ScalarSeed.visit_u64(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Slot<'de>, E> {
        ScalarSeed.visit_f64(v)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Slot<'de>, E> {
        ScalarSeed.visit_borrowed_str(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Slot<'de>, E> {
        ScalarSeed.visit_str(v)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Slot<'de>, E> {
        Ok(Slot::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Slot<'de>, E> {
        Ok(Slot::Null)
    }
}

/// Bytes written by [`JsonWriter`] are UTF-8 (they are JSON text from UTF-8 strings); should that
/// ever not hold, the text is repaired rather than a panic.
fn json_text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// What kind of value a [`JsonWriter`] saw, for the shape check of declared objects.
#[derive(PartialEq, Eq)]
enum Seen {
    Object,
    Null,
    Other,
}

/// Writes any JSON value as compact text (keys in the vendor's order), checking object keys
/// against `declared` where the value is a declared element or object.
struct JsonWriter<'o, 's, 'r> {
    out: &'o mut Vec<u8>,
    declared: Option<&'s Declared>,
    report: &'r mut RecordReport,
}

impl<'de> DeserializeSeed<'de> for &mut JsonWriter<'_, '_, '_> {
    type Value = Seen;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Seen, D::Error> {
        d.deserialize_any(self)
    }
}

impl JsonWriter<'_, '_, '_> {
    /// Writes a list, each element checked against `declared` (the element shape of a declared
    /// array), as a JSON array.
    fn write_list<'de, A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        self.out.push(b'[');
        let mut first = true;
        loop {
            if !first {
                self.out.push(b',');
            }
            if seq.next_element_seed(&mut *self)?.is_none() {
                if !first {
                    self.out.pop();
                }
                break;
            }
            first = false;
        }
        self.out.push(b']');
        Ok(())
    }

    fn scalar(&mut self, value: impl serde::Serialize) -> Seen {
        // Writing to a Vec cannot fail, and a number or string always serialises.
        let _ = serde_json::to_writer(&mut *self.out, &value);
        Seen::Other
    }

    /// Writes `text` as a JSON string. Most text needs no escaping (a string read without escapes
    /// from the page has none of the characters to escape): copied as it is, without serde_json's
    /// byte-by-byte escape table.
    fn string(&mut self, text: &str) {
        if needs_escape(text) {
            let _ = serde_json::to_writer(&mut *self.out, text);
        } else {
            self.out.reserve(text.len() + 2);
            self.out.push(b'"');
            self.out.extend_from_slice(text.as_bytes());
            self.out.push(b'"');
        }
    }
}

/// Whether `text` holds a character a JSON string must escape: `"`, `\` or a control character.
/// Eight bytes at a time (the bit tricks of serde_json's own scanner): a byte-by-byte loop cost
/// as much as the escaping it avoids.
fn needs_escape(text: &str) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Whether some byte of `x` is below `n` (for n ≤ 128), or is zero.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * n as u64) & !x & HIGHS;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut chunks = text.as_bytes().chunks_exact(8);
    for chunk in chunks.by_ref() {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        if below(x, 0x20) | zero(x ^ (ONES * b'"' as u64)) | zero(x ^ (ONES * b'\\' as u64)) != 0 {
            return true;
        }
    }
    (chunks.remainder())
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

impl<'de> Visitor<'de> for &mut JsonWriter<'_, '_, '_> {
    type Value = Seen;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Seen, E> {
        Ok(self.scalar(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seen, E> {
        Ok(self.scalar(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seen, E> {
        Ok(self.scalar(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seen, E> {
        Ok(self.scalar(Number::from_f64(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Seen, E> {
        self.string(v);
        Ok(Seen::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Seen, E> {
        self.out.extend_from_slice(b"null");
        Ok(Seen::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Seen, E> {
        self.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Seen, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Seen, A::Error> {
        // Keys below a list are not checked: only a declared array's own elements are.
        JsonWriter {
            out: &mut *self.out,
            declared: None,
            report: &mut *self.report,
        }
        .write_list(seq)?;
        Ok(Seen::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Seen, A::Error> {
        self.out.push(b'{');
        let mut previous = None;
        let mut first = true;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            if !first {
                self.out.push(b',');
            }
            first = false;
            self.string(&key);
            self.out.push(b':');
            let child = match self.declared {
                Some(node) if !key.starts_with("//") => match node.child(&key, &mut previous) {
                    None => {
                        self.report.undeclared_fields += 1;
                        None
                    }
                    Some(child) => Some(child),
                },
                _ => None,
            };
            let mut inner = JsonWriter {
                out: &mut *self.out,
                declared: child.filter(|c| !c.children.is_empty()),
                report: &mut *self.report,
            };
            let seen = map.next_value_seed(&mut inner)?;
            if let Some(child) = child
                && !child.children.is_empty()
                && seen == Seen::Other
                && !child.leaf
            {
                self.report.type_mismatches += 1;
            }
        }
        self.out.push(b'}');
        Ok(Seen::Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_length_are_told_apart() {
        let key: String = ('a'..='z').chain('A'..='Z').collect();
        for n in 0..=key.len() {
            let k = &key[..n];
            let copy = String::from(k);
            assert!(same_key(k, &copy), "{n} bytes, equal");
            for at in 0..n {
                let mut other = k.as_bytes().to_vec();
                other[at] = b'_';
                let other = String::from_utf8(other).unwrap();
                assert!(!same_key(k, &other), "{n} bytes, byte {at} differs");
            }
            assert!(
                !same_key(k, &key[..n.saturating_sub(1)]) || n == 0,
                "{n} bytes, shorter"
            );
        }
    }

    /// A record's list text is written into the buffer of the list before it, on one thread.
    #[test]
    fn a_list_is_written_into_the_last_records_buffer() {
        let mut shape = Shape::default();
        shape.root.insert("contacts");
        let read = ArrayRead::Text;
        let slot = shape.slot("contacts", SlotKind::Array { read, element: 0 });
        shape.elements = vec![Declared::default()];
        let list = |record: &str| {
            let mut input = serde_json::Deserializer::from_str(record);
            let parsed = shape.read(&mut input, false).unwrap();
            match &parsed.slots[slot] {
                Slot::Text(text) => (text.clone(), text.as_ptr()),
                other => panic!("a list read as text, not {other:?}"),
            }
        };
        let (first, at) = list(r#"{"contacts": [{"name": "Ann"}, 1]}"#);
        // A block of the same size taken meanwhile: had the first buffer been freed, the
        // allocator would hand it out here, and the second list would get another.
        let _meanwhile: Vec<u8> = Vec::with_capacity(ARRAY_TEXT_START);
        let (second, again) = list(r#"{"contacts": ["Bob", null], "id": 2}"#);
        assert_eq!(first, r#"[{"name":"Ann"},1]"#);
        assert_eq!(second, r#"["Bob",null]"#, "the buffer is emptied first");
        assert_eq!(at, again, "the same buffer");
    }

    #[test]
    fn needs_escape_agrees_with_serde_json_for_every_byte_at_every_place() {
        let escapes = |s: &str| serde_json::to_string(s).unwrap_or_default() != format!("\"{s}\"");
        for len in 1..20 {
            for at in 0..len {
                for b in 0u8..0x80 {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = b;
                    let text = String::from_utf8(bytes).unwrap_or_default();
                    assert_eq!(needs_escape(&text), escapes(&text), "{text:?}");
                }
            }
        }
        for text in [
            "",
            "Ωmega, é \u{7f}",
            "日本語のテキスト",
            "ÿÿÿÿÿÿÿÿ\"",
            "ÿÿÿÿÿÿÿÿ\u{1}",
        ] {
            assert_eq!(needs_escape(text), escapes(text), "{text:?}");
        }
    }
}

//! The record → rows transform of one source: [`Transformer`] is built once from the vendor's
//! declarations and the pipeline's `transform:` plan, then turns each vendor record into rows.
//!
//! Promises:
//! - The tables and their schemas depend only on the vendor specs and the plan, never on the data,
//!   so a (pipeline, vendor) writes the same columns every night.
//! - Every row has exactly one cell per schema column, each `Null` or of the column's type.
//! - Nothing is silently lost: a value that does not fit its column is counted in
//!   [`RecordReport::type_mismatches`], and in `fields: all` it is kept, raw, in the `_extra`
//!   column together with the keys the vendor spec does not declare (schema drift). `_extra` is a
//!   flat JSON object: undeclared keys under their dotted JSON path (`links.self.headers`, an
//!   exploded element's `customerTenants[].newKey`), mismatched values under their column name
//!   (`maxChequePeriod`); `Null` when there is nothing to keep.
//! - No I/O, no panics on any JSON input, and no per-record work that `new` could do once: paths
//!   are split, columns resolved and names built up front.

use std::ops::AddAssign;
use std::sync::Arc;

use std::collections::BTreeMap;

use serde::Deserializer;
use serde_json::Value;

use super::column_name;
use super::parse::{ArrayRead, Declared, Parsed, Shape, Slot, SlotKind};
use super::row::{Cell, Column, ColumnType, Row, Schema};
use super::value::{JsonPath, Scalar, to_cell, to_text, to_value};
use crate::extract::{self, KeyRef};
use crate::pipeline::plan::{ArrayMode, Fields, TransformPlan};
use crate::vendors::VendorSpec;
use crate::vendors::spec::{ArraySpec, CANONICAL_COLUMNS, From};

/// The name of the column that keeps undeclared keys and mismatched values in `fields: all`.
pub const EXTRA_COLUMN: &str = "_extra";

/// What the canonical `status` column shows for a vendor that reports status as a boolean
/// (Valomnia `isActive`), so it lines up with the other vendors' `Active`.
const STATUS_WORDS: [&str; 2] = ["Inactive", "Active"];

/// One output table of a source: "customers" first, then one per array in `tables` mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: String,
    pub schema: Schema,
}

/// What the transform noticed in one record, summed per source by the caller for the run summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RecordReport {
    /// Values that could not become their column's type without loss (the cell is `Null`).
    pub type_mismatches: u32,
    /// Keys the vendor spec does not declare, in the record, its nested objects and array elements
    /// (`//` keys excepted). Counted in every `fields` mode; kept in `_extra` in `fields: all`.
    pub undeclared_fields: u32,
}

impl AddAssign for RecordReport {
    fn add_assign(&mut self, other: RecordReport) {
        self.type_mismatches = self.type_mismatches.saturating_add(other.type_mismatches);
        self.undeclared_fields = self
            .undeclared_fields
            .saturating_add(other.undeclared_fields);
    }
}

/// Turns the records of one source into rows; built once per source, cheap per record.
#[derive(Debug)]
pub struct Transformer {
    vendor: &'static VendorSpec,
    tables: Vec<Table>,
    arrays: Vec<ArrayPlan>,
    /// The columns of table 0, in schema order.
    main: Vec<Col>,
    /// The array unrolled into one row per element (`arrays: explode`).
    explode: Option<usize>,
    /// The `_extra` column (`fields: all`): mismatched values are then kept, not only counted.
    extra: Option<usize>,
    /// `arrays: tables`: one child table per array, in `arrays` order after table 0.
    children: bool,
    /// What the reader walks: the keys a record may hold (for drift) and where values go.
    shape: Shape,
}

/// A vendor array with its paths split.
#[derive(Debug)]
struct ArrayPlan {
    spec: &'static ArraySpec,
    /// Where the reader puts it.
    slot: usize,
    /// Element fields; empty for an array of scalars.
    fields: Vec<(JsonPath, ColumnType)>,
    /// The element type of an array of scalars.
    scalar: ColumnType,
}

/// One record read by [`Transformer::read`], its values borrowed from the input where possible.
#[derive(Debug)]
pub struct ParsedRecord<'de>(Parsed<'de>);

/// Where one column's value comes from.
#[derive(Debug, Clone)]
enum Source {
    Null,
    Const(&'static str),
    /// The record key as text.
    Key,
    /// A declared field, by path, until [`Transformer::new`] gives it a slot.
    Field(&'static str),
    /// The value the reader put in this slot.
    Slot(usize),
    /// A field of an element of `array` (an empty path: the element itself): the exploded element
    /// when `array` is the exploded one, else the first element.
    Element {
        array: usize,
        path: JsonPath,
    },
    /// The whole array as JSON text.
    ArrayJson(usize),
    /// The 0-based position of the exploded element.
    Index,
    Extra,
}

#[derive(Debug, Clone)]
struct Col {
    source: Source,
    ty: ColumnType,
    /// Render a boolean as `Active`/`Inactive` (the canonical `status`).
    status_words: bool,
}

impl Col {
    fn new(source: Source, ty: ColumnType) -> Col {
        Col {
            source,
            ty,
            status_words: false,
        }
    }
}

impl Transformer {
    /// `vendors` = the vendors of ALL sources in the pipeline, so that a mapping's column types are
    /// the same for every vendor and one file across vendors is possible.
    pub fn new(
        vendor: &'static VendorSpec,
        plan: &TransformPlan,
        vendors: &[&'static VendorSpec],
    ) -> Transformer {
        let mut shape = Shape::default();
        shape.root.insert(vendor.record_key);
        for f in vendor.fields {
            shape.root.insert(f.path);
        }
        for a in vendor.arrays {
            shape.root.insert(a.path);
        }
        // The key's slot is made first: [`ParsedRecord::key`] finds it at 0.
        let key_slot = shape.slot(vendor.record_key, SlotKind::Scalar);
        debug_assert_eq!(key_slot, 0);
        let arrays: Vec<ArrayPlan> = (vendor.arrays.iter().enumerate())
            .map(|(i, spec)| {
                let read = ArrayRead::Check;
                let slot = shape.slot(spec.path, SlotKind::Array { read, element: i });
                ArrayPlan::new(spec, slot)
            })
            .collect();
        shape.elements = vendor.arrays.iter().map(element_shape).collect();
        let array_index = |name: &str| vendor.arrays.iter().position(|a| a.name == name);
        let explode =
            match plan.arrays {
                ArrayMode::Explode => {
                    plan.explode
                        .as_deref()
                        .and_then(array_index)
                        .or_else(|| match plan.fields {
                            // Canonical rows unroll the array their element columns come from (tenants).
                            Fields::Canonical => {
                                vendor.canonical.sources(vendor.id).iter().find_map(|from| {
                                    match from {
                                        From::Element(array, _) => array_index(array),
                                        _ => None,
                                    }
                                })
                            }
                            _ => vendor.default_explode.and_then(array_index),
                        })
                }
                ArrayMode::Json | ArrayMode::Tables => None,
            };

        let mut columns: Vec<Column> = Vec::new();
        let mut main: Vec<Col> = Vec::new();
        let mut push = |name: String, col: Col| {
            columns.push(Column::new(name, col.ty));
            main.push(col);
        };
        match &plan.fields {
            Fields::Canonical => {
                let sources = vendor.canonical.sources(vendor.id);
                for ((name, ty), from) in CANONICAL_COLUMNS.iter().zip(sources) {
                    let source = match *name {
                        "source_record_id" => Source::Key,
                        _ => canonical_source(vendor, from),
                    };
                    push(
                        name.to_string(),
                        Col {
                            source,
                            ty: *ty,
                            status_words: *name == "status",
                        },
                    );
                }
            }
            Fields::All => {
                for f in vendor.fields {
                    push(column_name(f.path), Col::new(Source::Field(f.path), f.ty));
                }
                if let Some(e) = explode {
                    let a = &arrays[e];
                    push(
                        format!("{}_index", a.spec.name),
                        Col::new(Source::Index, ColumnType::Int64),
                    );
                    if a.spec.fields.is_empty() {
                        push(
                            a.spec.name.to_string(),
                            Col::new(
                                Source::Element {
                                    array: e,
                                    path: JsonPath::new(""),
                                },
                                a.scalar,
                            ),
                        );
                    }
                    for f in a.spec.fields {
                        push(
                            column_name(&format!("{}.{}", a.spec.name, f.path)),
                            Col::new(
                                Source::Element {
                                    array: e,
                                    path: JsonPath::new(f.path),
                                },
                                f.ty,
                            ),
                        );
                    }
                }
                if plan.arrays != ArrayMode::Tables {
                    for (i, a) in arrays.iter().enumerate() {
                        if Some(i) != explode {
                            push(
                                a.spec.name.to_string(),
                                Col::new(Source::ArrayJson(i), ColumnType::Utf8),
                            );
                        }
                    }
                }
                push(
                    EXTRA_COLUMN.to_string(),
                    Col::new(Source::Extra, ColumnType::Utf8),
                );
            }
            Fields::Mapping(pairs) => {
                for (name, path) in pairs {
                    let mut col =
                        resolve(vendor, path).unwrap_or(Col::new(Source::Null, ColumnType::Utf8));
                    col.ty = mapping_type(path, vendor, vendors);
                    push(name.clone(), col);
                }
            }
        }

        let mut tables = vec![Table {
            name: "customers".to_string(),
            schema: Arc::from(columns),
        }];
        let children = plan.arrays == ArrayMode::Tables;
        if children {
            tables.extend(arrays.iter().map(ArrayPlan::table));
        }

        // Fields get their slots; each array is read as cheaply as its columns allow.
        for col in &mut main {
            if let Source::Field(path) = col.source {
                col.source = Source::Slot(shape.slot(path, SlotKind::Scalar));
            }
        }
        for (i, a) in arrays.iter().enumerate() {
            let whole = children
                || explode == Some(i)
                || main
                    .iter()
                    .any(|c| matches!(c.source, Source::Element { array, .. } if array == i));
            let text = main
                .iter()
                .any(|c| matches!(c.source, Source::ArrayJson(array) if array == i));
            let read = match (whole, text) {
                (true, _) => ArrayRead::Whole,
                (false, true) => ArrayRead::Text,
                (false, false) => ArrayRead::Check,
            };
            shape.kinds[a.slot] = SlotKind::Array { read, element: i };
        }

        let extra = main.iter().position(|c| matches!(c.source, Source::Extra));
        Transformer {
            vendor,
            tables,
            arrays,
            main,
            explode,
            extra,
            children,
            shape,
        }
    }

    /// The tables this source writes: "customers" first, then one per array in `tables` mode.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    /// The array `explode` unrolls for this source, if any.
    pub fn exploded_array(&self) -> Option<&'static str> {
        self.explode.map(|e| self.arrays[e].spec.name)
    }

    /// The record's key (the vendor's `record_key`) as text, for de-duplication; `None` when
    /// absent, null or empty.
    pub fn key(&self, record: &Value) -> Option<String> {
        self.read(record).ok()?.key()
    }

    /// Reads one record from JSON text (`serde_json::Deserializer`) or a `&Value`, in one pass.
    /// An error is only ever the input's: the reader accepts any JSON value.
    pub fn read<'de, D: Deserializer<'de>>(&self, input: D) -> Result<ParsedRecord<'de>, D::Error> {
        self.shape
            .read(input, self.extra.is_some())
            .map(ParsedRecord)
    }

    /// Appends the rows of one vendor record to `out`, as (table index, row): [`Transformer::read`]
    /// then [`Transformer::emit`].
    pub fn rows(&self, record: &Value, out: &mut Vec<(usize, Row<'static>)>) -> RecordReport {
        match self.read(record) {
            Ok(parsed) => {
                let mut rows = Vec::new();
                let report = self.emit(&parsed, &mut rows);
                out.extend(
                    rows.into_iter()
                        .map(|(t, row)| (t, row.into_iter().map(Cell::into_owned).collect())),
                );
                report
            }
            // Reading a `Value` cannot fail: every visitor takes every kind of value.
            Err(_) => RecordReport::default(),
        }
    }

    /// Appends the rows of one read record to `out`, as (table index, row).
    ///
    /// Table 0 gets one row per exploded element, or exactly one row when there is no exploded
    /// array or it is absent, null or empty. In `tables` mode each child table gets one row per
    /// element of its array.
    pub fn emit<'a>(
        &self,
        record: &'a ParsedRecord<'_>,
        out: &mut Vec<(usize, Row<'a>)>,
    ) -> RecordReport {
        let parsed = &record.0;
        let mut report = parsed.report;
        let keep = self.extra.is_some();
        // Drift found by the reader: undeclared keys and shape mismatches, by path.
        let mut extra: BTreeMap<String, Value> = parsed.extra.clone();

        let key = record.key();

        // The cells that are the same on every row of this record, computed once.
        let mut base: Row = Vec::with_capacity(self.main.len());
        for (i, col) in self.main.iter().enumerate() {
            let cell = match &col.source {
                Source::Element { array, .. } if Some(*array) == self.explode => Cell::Null,
                _ => match self.cell(col, parsed, None, key.as_deref()) {
                    Ok(cell) => cell,
                    Err(raw) => {
                        report.type_mismatches += 1;
                        if let (true, Some(raw)) = (keep, raw) {
                            extra.insert(self.tables[0].schema[i].name.clone(), raw);
                        }
                        Cell::Null
                    }
                },
            };
            base.push(cell);
        }

        let elements: &[Value] = match self.explode {
            None => &[],
            Some(e) => match &parsed.slots[self.arrays[e].slot] {
                Slot::Json(Value::Array(items)) => items,
                Slot::Absent | Slot::Null | Slot::Json(Value::Null) => &[],
                other => {
                    report.type_mismatches += 1;
                    if let (true, Some(value)) = (keep, scalar(other)) {
                        extra.insert(self.arrays[e].spec.name.to_string(), to_value(value));
                    }
                    &[]
                }
            },
        };

        // `_extra` as written when the row adds nothing of its own, serialised once per record.
        let record_extra: Option<String> = (!extra.is_empty()).then(|| json_object(&extra));

        let count = elements.len().max(1);
        let mut row_extra: Vec<(String, &Value)> = Vec::new();
        let mut prefix = String::new();
        for n in 0..count {
            let element = elements.get(n);
            let mut row = if n + 1 == count {
                std::mem::take(&mut base)
            } else {
                base.clone()
            };
            row_extra.clear();
            if let (Some(e), Some(item)) = (self.explode, element) {
                let a = &self.arrays[e];
                match item {
                    Value::Object(object) if keep && !a.fields.is_empty() => {
                        prefix.clear();
                        prefix.push_str(a.spec.path);
                        prefix.push_str("[].");
                        self.shape.elements[e].undeclared(
                            object,
                            &mut prefix,
                            &mut |path, value, _| {
                                row_extra.push((path.to_string(), value));
                            },
                        );
                    }
                    Value::Object(_) | Value::Null => {}
                    // An object array holding a scalar: its fields cannot be read.
                    other if !a.fields.is_empty() => {
                        report.type_mismatches += 1;
                        if keep {
                            row_extra.push((format!("{}[{n}]", a.spec.path), other));
                        }
                    }
                    _ => {}
                }
            }
            let mut raw_extra: Vec<(String, Value)> = Vec::new();
            for (i, col) in self.main.iter().enumerate() {
                match &col.source {
                    Source::Index => {
                        row[i] = element.map_or(Cell::Null, |_| Cell::Int(n as i64));
                    }
                    Source::Element { array, .. } if Some(*array) == self.explode => {
                        row[i] = match self.cell(col, parsed, element, key.as_deref()) {
                            Ok(cell) => cell,
                            Err(raw) => {
                                report.type_mismatches += 1;
                                if let (true, Some(raw)) = (keep, raw) {
                                    raw_extra.push((self.tables[0].schema[i].name.clone(), raw));
                                }
                                Cell::Null
                            }
                        };
                    }
                    _ => {}
                }
            }
            if let Some(x) = self.extra {
                row[x] = if row_extra.is_empty() && raw_extra.is_empty() {
                    record_extra
                        .clone()
                        .map_or(Cell::Null, |x| Cell::Str(x.into()))
                } else {
                    let mut all = extra.clone();
                    for (path, value) in row_extra.drain(..) {
                        all.insert(path, value.clone());
                    }
                    all.extend(raw_extra);
                    Cell::Str(json_object(&all).into())
                };
            }
            out.push((0, row));
        }

        if self.children {
            for (t, a) in self.arrays.iter().enumerate() {
                let items = match &parsed.slots[a.slot] {
                    Slot::Json(Value::Array(items)) => items,
                    Slot::Absent | Slot::Null | Slot::Json(Value::Null) => continue,
                    _ => {
                        report.type_mismatches += 1;
                        continue;
                    }
                };
                for (n, item) in items.iter().enumerate() {
                    out.push((
                        1 + t,
                        a.child_row(self.vendor.id, &key, n, item, &mut report),
                    ));
                }
            }
        }
        report
    }

    /// One cell from the record (and the exploded element); `Err` carries the raw value that did
    /// not fit the column's type.
    fn cell<'a>(
        &self,
        col: &Col,
        parsed: &'a Parsed<'_>,
        element: Option<&'a Value>,
        key: Option<&str>,
    ) -> Result<Cell<'a>, Option<Value>> {
        let value = match &col.source {
            Source::Null | Source::Index | Source::Extra | Source::Field(_) => {
                return Ok(Cell::Null);
            }
            Source::Const(text) => return Ok(text_cell(Some(text), col.ty)),
            Source::Key => return Ok(text_cell(key, col.ty).into_owned()),
            Source::Slot(slot) => scalar(&parsed.slots[*slot]),
            Source::ArrayJson(a) => scalar(&parsed.slots[self.arrays[*a].slot]),
            Source::Element { array, path } => {
                let element = if Some(*array) == self.explode {
                    element
                } else {
                    match &parsed.slots[self.arrays[*array].slot] {
                        Slot::Json(Value::Array(items)) => items.first(),
                        _ => None,
                    }
                };
                element.and_then(|e| path.get(e)).map(Scalar::from)
            }
        };
        if let (true, Some(Scalar::Bool(b))) = (col.status_words, value) {
            return Ok(Cell::Str(STATUS_WORDS[usize::from(b)].into()));
        }
        to_cell(value, col.ty).map_err(|_| value.map(to_value))
    }
}

impl ParsedRecord<'_> {
    fn key_scalar(&self) -> Option<Scalar<'_>> {
        // The key slot is the first one made.
        scalar(self.0.slots.first()?)
    }

    /// The record's key as text; `None` when absent, null or empty.
    pub fn key(&self) -> Option<String> {
        key_text(self.key_scalar())
    }

    /// The 64-bit hash of the key for de-duplication ([`extract::key_hash`]); `None` when the
    /// record has no key to compare.
    pub fn key_hash(&self) -> Option<u64> {
        match self.key_scalar()? {
            Scalar::Str(s) => Some(extract::key_hash(KeyRef::Text(s))),
            Scalar::Number(n) => Some(extract::key_hash(KeyRef::Number(n))),
            _ => None,
        }
    }
}

/// A slot as the coercion rules see it; `None` when the record did not have it.
fn scalar<'a>(slot: &'a Slot<'_>) -> Option<Scalar<'a>> {
    Some(match slot {
        Slot::Absent => return None,
        Slot::Null => Scalar::Null,
        Slot::Bool(b) => Scalar::Bool(*b),
        Slot::Number(n) => Scalar::Number(n),
        Slot::Str(s) => Scalar::Str(s),
        Slot::Json(v) => Scalar::from(v),
        Slot::Text(t) => Scalar::Text(t),
    })
}

/// `_extra`'s text: a JSON object, keys sorted.
fn json_object(map: &BTreeMap<String, Value>) -> String {
    serde_json::to_string(map).unwrap_or_default()
}

impl ArrayPlan {
    fn new(spec: &'static ArraySpec, slot: usize) -> ArrayPlan {
        ArrayPlan {
            spec,
            slot,
            fields: spec
                .fields
                .iter()
                .map(|f| (JsonPath::new(f.path), f.ty))
                .collect(),
            scalar: spec.scalar.unwrap_or(ColumnType::Utf8),
        }
    }

    /// The child table of `arrays: tables`.
    fn table(&self) -> Table {
        let mut columns = vec![
            Column::new("vendor", ColumnType::Utf8),
            Column::new("customer_key", ColumnType::Utf8),
            Column::new("index", ColumnType::Int64),
        ];
        if self.spec.fields.is_empty() {
            columns.push(Column::new("value", self.scalar));
        }
        columns.extend(
            self.spec
                .fields
                .iter()
                .map(|f| Column::new(column_name(f.path), f.ty)),
        );
        Table {
            name: self.spec.name.to_string(),
            schema: Arc::from(columns),
        }
    }

    fn child_row<'a>(
        &self,
        vendor: &'static str,
        key: &Option<String>,
        n: usize,
        item: &'a Value,
        report: &mut RecordReport,
    ) -> Row<'a> {
        let mut row: Row<'a> = Vec::with_capacity(3 + self.fields.len().max(1));
        row.push(Cell::Str(vendor.into()));
        row.push(key.clone().map_or(Cell::Null, |k| Cell::Str(k.into())));
        row.push(Cell::Int(n as i64));
        if self.fields.is_empty() {
            row.push(counted_cell(Some(item), self.scalar, report));
            return row;
        }
        if !matches!(item, Value::Object(_) | Value::Null) {
            report.type_mismatches += 1;
        }
        for (path, ty) in &self.fields {
            row.push(counted_cell(path.get(item), *ty, report));
        }
        row
    }
}

/// A child-table cell: a value that does not fit is counted and left null.
fn counted_cell<'a>(
    value: Option<&'a Value>,
    ty: ColumnType,
    report: &mut RecordReport,
) -> Cell<'a> {
    to_cell(value.map(Scalar::from), ty).unwrap_or_else(|_| {
        report.type_mismatches += 1;
        Cell::Null
    })
}

/// A text value (a constant, the record key) as a cell of `ty`.
fn text_cell(text: Option<&str>, ty: ColumnType) -> Cell<'_> {
    match (text, ty) {
        (None, _) => Cell::Null,
        (Some(t), ColumnType::Utf8) => Cell::Str(t.into()),
        (Some(t), _) => to_cell(Some(Scalar::Str(t)), ty).unwrap_or(Cell::Null),
    }
}

fn key_text(value: Option<Scalar<'_>>) -> Option<String> {
    match value? {
        Scalar::Null => None,
        // An empty key identifies nothing; de-duplicating on it would merge unrelated records.
        v => Some(to_text(v).into_owned()).filter(|t| !t.is_empty()),
    }
}

/// The declared shape of an array's elements.
fn element_shape(spec: &'static ArraySpec) -> Declared {
    let mut declared = Declared::default();
    for f in spec.fields {
        declared.insert(f.path);
    }
    declared
}

/// The record's key (the vendor's `record_key`) as text, for callers without a [`Transformer`].
pub fn record_key(vendor: &VendorSpec, record: &Value) -> Option<String> {
    key_text(
        JsonPath::new(vendor.record_key)
            .get(record)
            .map(Scalar::from),
    )
}

fn canonical_source(vendor: &VendorSpec, from: From) -> Source {
    match from {
        From::Field(path) => Source::Field(path),
        From::Element(array, field) => match vendor.arrays.iter().position(|a| a.name == array) {
            Some(array) => Source::Element {
                array,
                path: JsonPath::new(field),
            },
            None => Source::Null,
        },
        From::Const(text) => Source::Const(text),
        From::None => Source::Null,
    }
}

/// What a mapping path means for one vendor, with the vendor's type for it; `None` when the
/// vendor does not have it. The vendor's own names win over the canonical ones.
fn resolve(vendor: &VendorSpec, path: &str) -> Option<Col> {
    if let Some(f) = vendor.fields.iter().find(|f| f.path == path) {
        return Some(Col::new(Source::Field(f.path), f.ty));
    }
    for (i, a) in vendor.arrays.iter().enumerate() {
        if a.name == path || a.path == path {
            return Some(Col::new(Source::ArrayJson(i), ColumnType::Utf8));
        }
        let field = [a.name, a.path]
            .iter()
            .filter_map(|prefix| path.strip_prefix(prefix)?.strip_prefix('.'))
            .find_map(|rest| a.fields.iter().find(|f| f.path == rest));
        if let Some(f) = field {
            return Some(Col::new(
                Source::Element {
                    array: i,
                    path: JsonPath::new(f.path),
                },
                f.ty,
            ));
        }
    }
    let sources = vendor.canonical.sources(vendor.id);
    let (i, (name, ty)) = CANONICAL_COLUMNS
        .iter()
        .enumerate()
        .find(|(_, (name, _))| *name == path)?;
    let source = match (*name, sources[i]) {
        ("source_record_id", _) => Source::Key,
        (_, From::None) => return None,
        (_, from) => canonical_source(vendor, from),
    };
    Some(Col {
        source,
        ty: *ty,
        status_words: *name == "status",
    })
}

/// A mapping column's type: the vendors' type for the path when all that have it agree, else text
/// (which every value renders to), so one file across vendors has one schema.
fn mapping_type(
    path: &str,
    vendor: &'static VendorSpec,
    vendors: &[&'static VendorSpec],
) -> ColumnType {
    let mut types = vendors
        .iter()
        .copied()
        .chain(std::iter::once(vendor))
        .filter_map(|v| resolve(v, path).map(|c| c.ty));
    match types.next() {
        Some(first) if types.all(|t| t == first) => first,
        _ => ColumnType::Utf8,
    }
}

/// Whether `path` means something for `vendor` in a field mapping.
pub(crate) fn resolves(vendor: &VendorSpec, path: &str) -> bool {
    resolve(vendor, path).is_some()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::transform::is_known_path;
    use crate::vendors::{adobe_vipmp, appxite, crayon};

    #[test]
    fn drift_skips_comment_keys_and_reports_full_paths() {
        let mut declared = Declared::default();
        declared.insert("a.b");
        declared.insert("c");
        let record =
            json!({"// note": "", "a": {"b": 1, "z": 2}, "c": {"x": 1}, "d": 3, "e": null});
        let mut found = Vec::new();
        declared.undeclared(
            record.as_object().unwrap(),
            &mut String::new(),
            &mut |path, value, shape| found.push((path.to_string(), value.clone(), shape)),
        );
        found.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(
            found,
            [
                ("a.z".to_string(), json!(2), false),
                ("d".to_string(), json!(3), false),
                ("e".to_string(), Value::Null, false),
            ]
        );
    }

    #[test]
    fn mapping_paths_resolve_as_the_validator_accepts_them() {
        for path in [
            "companyProfile.companyName",
            "tenants",
            "customerTenants",
            "tenants.DomainName",
            "customerTenants.DomainName",
            "customer_name",
            "vendor",
            "source_record_id",
        ] {
            assert!(
                is_known_path(path, [&appxite::SPEC, &adobe_vipmp::SPEC]),
                "{path}"
            );
        }
        assert!(!is_known_path("tenants.Nope", [&appxite::SPEC]));
        assert!(!is_known_path("companyProfile", [&adobe_vipmp::SPEC]));
        // Crayon has no country: the canonical name is known, but resolves to nothing for it.
        assert!(resolve(&crayon::SPEC, "country").is_none());
        assert_eq!(
            mapping_type("Organization.Id", &appxite::SPEC, &[&crayon::SPEC]),
            ColumnType::Int64
        );
    }
}

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
use super::options::{ArrayMode, Fields, Options};
use super::parse::{ArrayRead, Declared, Parsed, Shape, Slot, SlotKind};
use super::value::{JsonPath, Raw, Scalar, raw, to_cell, to_raw, to_text};
use crate::model::record::{ArraySpec, CANONICAL_COLUMNS, From, RecordSpec};
use crate::model::{Cell, Column, ColumnType, KeyRef, Row, Schema, VendorRecord, key_hash};

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
    vendor: VendorRecord,
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
    pub fn new(vendor: VendorRecord, plan: &Options, vendors: &[VendorRecord]) -> Transformer {
        let record = vendor.record;
        let mut shape = Shape::default();
        shape.root.insert(record.key);
        for f in record.fields {
            shape.root.insert(f.path);
        }
        for a in record.arrays {
            shape.root.insert(a.path);
        }
        // The key's slot is made first: [`ParsedRecord::key`] finds it at 0.
        let key_slot = shape.slot(record.key, SlotKind::Scalar);
        debug_assert_eq!(key_slot, 0);
        let arrays: Vec<ArrayPlan> = (record.arrays.iter().enumerate())
            .map(|(i, spec)| {
                let read = ArrayRead::Check;
                let slot = shape.slot(spec.path, SlotKind::Array { read, element: i });
                ArrayPlan::new(spec, slot)
            })
            .collect();
        shape.elements = record.arrays.iter().map(element_shape).collect();
        let explode = exploded(vendor, plan);

        let mut columns = Columns::default();
        match &plan.fields {
            Fields::Canonical => columns.canonical(vendor),
            Fields::All => columns.all(record, &arrays, explode, plan.arrays),
            Fields::Mapping(pairs) => columns.mapping(vendor, pairs, vendors),
        }
        let Columns { columns, mut main } = columns;

        let mut tables = vec![Table {
            name: "customers".to_string(),
            schema: Arc::from(columns),
        }];
        let children = plan.arrays == ArrayMode::Tables;
        if children {
            tables.extend(arrays.iter().map(ArrayPlan::table));
        }
        assign_slots(&mut shape, record, &mut main, &arrays, explode, children);

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

    /// Reads one record from JSON text (`serde_json::Deserializer`) or a `&Value`, in one pass.
    /// An error is only ever the input's: the reader accepts any JSON value.
    pub fn read<'de, D: Deserializer<'de>>(&self, input: D) -> Result<ParsedRecord<'de>, D::Error> {
        self.shape
            .read(input, self.extra.is_some())
            .map(ParsedRecord)
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
        // Drift found by the reader: undeclared keys and shape mismatches, by path.
        let mut extra: BTreeMap<String, Raw> = parsed.extra.clone();
        let key = record.key();
        let mut base = self.base_row(parsed, key.as_deref(), &mut report, &mut extra);
        let elements = self.exploded_elements(parsed, &mut report, &mut extra);
        // `_extra` as written when the row adds nothing of its own, serialised once per record.
        let record_extra: Option<String> = (!extra.is_empty()).then(|| json_object(&extra));

        let count = elements.len().max(1);
        let mut row_extra = RowExtra::default();
        for n in 0..count {
            let element = elements.get(n);
            let mut row = if n + 1 == count {
                std::mem::take(&mut base)
            } else {
                base.clone()
            };
            row_extra.clear();
            if let (Some(e), Some(item)) = (self.explode, element) {
                self.element_drift(e, n, item, &mut report, &mut row_extra);
            }
            self.element_cells(
                &mut row,
                parsed,
                element,
                n,
                key.as_deref(),
                &mut report,
                &mut row_extra,
            );
            if let Some(x) = self.extra {
                row[x] = match (row_extra.is_empty(), &record_extra) {
                    (true, None) => Cell::Null,
                    (true, Some(text)) => Cell::Str(text.clone().into()),
                    (false, _) => Cell::Str(row_extra.merged(&extra).into()),
                };
            }
            out.push((0, row));
        }
        if self.children {
            self.child_rows(parsed, &key, &mut report, out);
        }
        report
    }

    /// The cells that are the same on every row of a record, computed once; the exploded
    /// element's cells are left null.
    fn base_row<'a>(
        &self,
        parsed: &'a Parsed<'_>,
        key: Option<&str>,
        report: &mut RecordReport,
        extra: &mut BTreeMap<String, Raw>,
    ) -> Row<'a> {
        let keep = self.extra.is_some();
        let mut base: Row = Vec::with_capacity(self.main.len());
        for (i, col) in self.main.iter().enumerate() {
            let cell = match &col.source {
                Source::Element { array, .. } if Some(*array) == self.explode => Cell::Null,
                _ => match self.cell(col, parsed, None, key) {
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
        base
    }

    /// The elements of the exploded array; a value that is not a list is counted (and kept in
    /// `_extra`) and explodes into nothing.
    fn exploded_elements<'a>(
        &self,
        parsed: &'a Parsed<'_>,
        report: &mut RecordReport,
        extra: &mut BTreeMap<String, Raw>,
    ) -> &'a [Value] {
        let Some(e) = self.explode else {
            return &[];
        };
        match &parsed.slots[self.arrays[e].slot] {
            Slot::Json(Value::Array(items)) => items,
            Slot::Absent | Slot::Null | Slot::Json(Value::Null) => &[],
            other => {
                report.type_mismatches += 1;
                if let (true, Some(value)) = (self.extra.is_some(), scalar(other)) {
                    extra.insert(self.arrays[e].spec.name.to_string(), to_raw(value));
                }
                &[]
            }
        }
    }

    /// What element `n` of exploded array `e` holds beyond its declared fields, for `_extra`.
    fn element_drift<'v>(
        &self,
        e: usize,
        n: usize,
        item: &'v Value,
        report: &mut RecordReport,
        row_extra: &mut RowExtra<'v>,
    ) {
        let keep = self.extra.is_some();
        let a = &self.arrays[e];
        match item {
            Value::Object(object) if keep && !a.fields.is_empty() => {
                let prefix = &mut row_extra.prefix;
                prefix.clear();
                prefix.push_str(a.spec.path);
                prefix.push_str("[].");
                let found = &mut row_extra.found;
                self.shape.elements[e].undeclared(object, prefix, &mut |path, value, _| {
                    found.push((path.to_string(), value));
                });
            }
            Value::Object(_) | Value::Null => {}
            // An object array holding a scalar: its fields cannot be read.
            other if !a.fields.is_empty() => {
                report.type_mismatches += 1;
                if keep {
                    row_extra
                        .found
                        .push((format!("{}[{n}]", a.spec.path), other));
                }
            }
            _ => {}
        }
    }

    /// Fills the cells that come from exploded element `n` (or its index).
    #[allow(clippy::too_many_arguments)]
    fn element_cells<'a>(
        &self,
        row: &mut Row<'a>,
        parsed: &'a Parsed<'_>,
        element: Option<&'a Value>,
        n: usize,
        key: Option<&str>,
        report: &mut RecordReport,
        row_extra: &mut RowExtra<'_>,
    ) {
        for (i, col) in self.main.iter().enumerate() {
            match &col.source {
                Source::Index => {
                    row[i] = element.map_or(Cell::Null, |_| Cell::Int(n as i64));
                }
                Source::Element { array, .. } if Some(*array) == self.explode => {
                    row[i] = match self.cell(col, parsed, element, key) {
                        Ok(cell) => cell,
                        Err(raw) => {
                            report.type_mismatches += 1;
                            if let (true, Some(raw)) = (self.extra.is_some(), raw) {
                                let name = self.tables[0].schema[i].name.clone();
                                row_extra.raw.push((name, raw));
                            }
                            Cell::Null
                        }
                    };
                }
                _ => {}
            }
        }
    }

    /// The rows of the child tables (`arrays: tables`): one per element of each array.
    fn child_rows<'a>(
        &self,
        parsed: &'a Parsed<'_>,
        key: &Option<String>,
        report: &mut RecordReport,
        out: &mut Vec<(usize, Row<'a>)>,
    ) {
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
                out.push((1 + t, a.child_row(self.vendor.id, key, n, item, report)));
            }
        }
    }

    /// One cell from the record (and the exploded element); `Err` carries the raw value that did
    /// not fit the column's type.
    fn cell<'a>(
        &self,
        col: &Col,
        parsed: &'a Parsed<'_>,
        element: Option<&'a Value>,
        key: Option<&str>,
    ) -> Result<Cell<'a>, Option<Raw>> {
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
        to_cell(value, col.ty).map_err(|_| value.map(to_raw))
    }
}

/// What one output row keeps in `_extra` beyond its record's drift: the exploded element's
/// undeclared keys and the element values that did not fit their columns.
#[derive(Default)]
struct RowExtra<'v> {
    found: Vec<(String, &'v Value)>,
    raw: Vec<(String, Raw)>,
    /// Scratch for the element's paths.
    prefix: String,
}

impl RowExtra<'_> {
    fn clear(&mut self) {
        self.found.clear();
        self.raw.clear();
    }

    fn is_empty(&self) -> bool {
        self.found.is_empty() && self.raw.is_empty()
    }

    /// The record's drift with this row's added, as `_extra`'s text.
    fn merged(&mut self, record: &BTreeMap<String, Raw>) -> String {
        let mut all = record.clone();
        for (path, value) in self.found.drain(..) {
            all.insert(path, raw(value));
        }
        all.extend(self.raw.drain(..));
        json_object(&all)
    }
}

/// The columns of table 0 as they are declared, with where each value comes from.
#[derive(Default)]
struct Columns {
    columns: Vec<Column>,
    main: Vec<Col>,
}

impl Columns {
    fn push(&mut self, name: String, col: Col) {
        self.columns.push(Column::new(name, col.ty));
        self.main.push(col);
    }

    /// `fields: canonical`: the same columns for every vendor.
    fn canonical(&mut self, vendor: VendorRecord) {
        let sources = vendor.record.canonical.sources(vendor.id);
        for ((name, ty), from) in CANONICAL_COLUMNS.iter().zip(sources) {
            let source = match *name {
                "source_record_id" => Source::Key,
                _ => canonical_source(vendor.record, from),
            };
            let col = Col {
                source,
                ty: *ty,
                status_words: *name == "status",
            };
            self.push(name.to_string(), col);
        }
    }

    /// `fields: all`: every declared field, the exploded array's fields, the other arrays as JSON
    /// (unless they become tables), and `_extra`.
    fn all(
        &mut self,
        record: &RecordSpec,
        arrays: &[ArrayPlan],
        explode: Option<usize>,
        mode: ArrayMode,
    ) {
        for f in record.fields {
            self.push(column_name(f.path), Col::new(Source::Field(f.path), f.ty));
        }
        if let Some(e) = explode {
            self.exploded(e, &arrays[e]);
        }
        if mode != ArrayMode::Tables {
            for (i, a) in arrays.iter().enumerate() {
                if Some(i) != explode {
                    let col = Col::new(Source::ArrayJson(i), ColumnType::Utf8);
                    self.push(a.spec.name.to_string(), col);
                }
            }
        }
        self.push(
            EXTRA_COLUMN.to_string(),
            Col::new(Source::Extra, ColumnType::Utf8),
        );
    }

    /// The columns of exploded array `e`: its index, then the element (scalars) or its fields.
    fn exploded(&mut self, e: usize, a: &ArrayPlan) {
        let name = a.spec.name;
        let index = Col::new(Source::Index, ColumnType::Int64);
        self.push(format!("{name}_index"), index);
        let element = |path: &str| Source::Element {
            array: e,
            path: JsonPath::new(path),
        };
        if a.spec.fields.is_empty() {
            self.push(name.to_string(), Col::new(element(""), a.scalar));
        }
        for f in a.spec.fields {
            let column = column_name(&format!("{name}.{}", f.path));
            self.push(column, Col::new(element(f.path), f.ty));
        }
    }

    /// A mapping `{output_column: source.path}`; a path this vendor lacks is a null column.
    fn mapping(
        &mut self,
        vendor: VendorRecord,
        pairs: &[(String, String)],
        vendors: &[VendorRecord],
    ) {
        for (name, path) in pairs {
            let mut col = resolve(vendor, path).unwrap_or(Col::new(Source::Null, ColumnType::Utf8));
            col.ty = mapping_type(path, vendor, vendors);
            self.push(name.clone(), col);
        }
    }
}

/// The array `arrays: explode` unrolls for this vendor: the one the pipeline names when this
/// vendor has it, else (for canonical rows) the array the canonical element columns come from (the
/// tenants), else the vendor's default.
fn exploded(vendor: VendorRecord, plan: &Options) -> Option<usize> {
    let record = vendor.record;
    let index = |name: &str| record.arrays.iter().position(|a| a.name == name);
    if plan.arrays != ArrayMode::Explode {
        return None;
    }
    plan.explode
        .as_deref()
        .and_then(index)
        .or_else(|| match plan.fields {
            Fields::Canonical => {
                record
                    .canonical
                    .sources(vendor.id)
                    .iter()
                    .find_map(|from| match from {
                        From::Element(array, _) => index(array),
                        _ => None,
                    })
            }
            _ => record.default_explode.and_then(index),
        })
}

/// Gives each field column its slot, and tells the reader how to keep each array: whole when its
/// elements are needed, as JSON text when only a JSON column shows it, else only checked.
fn assign_slots(
    shape: &mut Shape,
    record: &RecordSpec,
    main: &mut [Col],
    arrays: &[ArrayPlan],
    explode: Option<usize>,
    children: bool,
) {
    for col in main.iter_mut() {
        if let Source::Field(path) = col.source {
            let declared = record.fields.iter().find(|f| f.path == path).map(|f| f.ty);
            let kind = match declared {
                Some(ColumnType::Int64 | ColumnType::Float64) => SlotKind::Number,
                _ => SlotKind::Scalar,
            };
            col.source = Source::Slot(shape.slot(path, kind));
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

    /// The 64-bit hash of the key for de-duplication ([`key_hash`]); `None` when the
    /// record has no key to compare.
    pub fn key_hash(&self) -> Option<u64> {
        match self.key_scalar()? {
            Scalar::Str(s) => Some(key_hash(KeyRef::Text(s))),
            Scalar::Number(n) => Some(key_hash(KeyRef::Number(n))),
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
        Slot::Digits(d) => Scalar::Digits(d),
        Slot::Str(s) => Scalar::Str(s),
        Slot::Json(v) => Scalar::from(v),
        Slot::Text(t) => Scalar::Text(t),
    })
}

/// `_extra`'s text: a JSON object, keys sorted.
fn json_object(map: &BTreeMap<String, Raw>) -> String {
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

fn canonical_source(record: &RecordSpec, from: From) -> Source {
    match from {
        From::Field(path) => Source::Field(path),
        From::Element(array, field) => match record.arrays.iter().position(|a| a.name == array) {
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
fn resolve(vendor: VendorRecord, path: &str) -> Option<Col> {
    let record = vendor.record;
    if let Some(f) = record.fields.iter().find(|f| f.path == path) {
        return Some(Col::new(Source::Field(f.path), f.ty));
    }
    for (i, a) in record.arrays.iter().enumerate() {
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
    let sources = record.canonical.sources(vendor.id);
    let (i, (name, ty)) = CANONICAL_COLUMNS
        .iter()
        .enumerate()
        .find(|(_, (name, _))| *name == path)?;
    let source = match (*name, sources[i]) {
        ("source_record_id", _) => Source::Key,
        (_, From::None) => return None,
        (_, from) => canonical_source(record, from),
    };
    Some(Col {
        source,
        ty: *ty,
        status_words: *name == "status",
    })
}

/// A mapping column's type: the vendors' type for the path when all that have it agree, else text
/// (which every value renders to), so one file across vendors has one schema.
fn mapping_type(path: &str, vendor: VendorRecord, vendors: &[VendorRecord]) -> ColumnType {
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
pub(crate) fn resolves(vendor: VendorRecord, path: &str) -> bool {
    resolve(vendor, path).is_some()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::transform::is_known_path;

    fn vendor(id: &str) -> VendorRecord {
        crate::vendors::find(id)
            .expect("a built-in vendor")
            .record()
    }

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
                is_known_path(path, [vendor("appxite"), vendor("adobe_vipmp")]),
                "{path}"
            );
        }
        assert!(!is_known_path("tenants.Nope", [vendor("appxite")]));
        assert!(!is_known_path("companyProfile", [vendor("adobe_vipmp")]));
        // Crayon has no country: the canonical name is known, but resolves to nothing for it.
        assert!(resolve(vendor("crayon"), "country").is_none());
        assert_eq!(
            mapping_type("Organization.Id", vendor("appxite"), &[vendor("crayon")]),
            ColumnType::Int64
        );
    }
}

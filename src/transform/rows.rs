//! The record → rows transform of one source: [`Transformer`] is built once from the vendor's
//! declarations and the pipeline's `transform:` plan, then turns each vendor record into rows.
//!
//! Promises:
//! - The tables and their schemas depend only on the vendor specs and the plan (and, with
//!   `undeclared: columns`, the paths promoted before the first record), never on the records
//!   themselves, so a (pipeline, vendor) writes the same columns every night.
//! - Every row has exactly one cell per schema column, each `Null` or of the column's type.
//! - Nothing is silently lost: a value that does not fit its column is counted in
//!   [`RecordReport::type_mismatches`] and kept, raw, in the `_extra` column where there is one
//!   (`fields: all`, or a mapping that names it) — in `fields: all` together with the keys the
//!   vendor spec does not declare (schema drift), in child tables too. `_extra` is a
//!   flat JSON object: undeclared keys under their dotted JSON path (`links.self.headers`, an
//!   exploded element's `customerTenants[].newKey`), mismatched values under their column name
//!   (`maxChequePeriod`); `Null` when there is nothing to keep.
//! - No I/O, no panics on any JSON input, and no per-record work that `new` could do once: paths
//!   are split, columns resolved and names built up front.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use serde::Deserializer;
use serde_json::Value;

use super::columns::{
    ArrayPlan, Col, Columns, Promoted, Render, Source, assign_slots, element_shape, exploded,
};
use super::options::{ArrayMode, Fields, Options};
use super::parse::{ArrayRead, Declared, Parsed, Shape, Slot, SlotKind};
use super::spare::{Spare, give_back_to, take_from};
use super::value::{Raw, Scalar, raw, to_cell, to_raw, to_text};
use crate::model::record::Status;
use crate::model::{Cell, ColumnType, KeyRef, Row, Schema, VendorRecord, key_hash};

thread_local! {
    /// The cells of this thread's last rows, emptied, for the next rows: a row is packed for the
    /// writer as soon as it is made, so its buffer is free again.
    static SPARE_CELLS: Spare<Cell<'static>> = const { Spare::new() };
}

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

/// How a value strays from the vendor spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drift {
    /// A key the spec does not declare.
    Undeclared,
    /// A declared key whose value has another shape (a scalar where an object was declared).
    ShapeMismatch,
}

impl RecordReport {
    /// Counts one value that strays from the spec.
    pub(crate) fn count(&mut self, drift: Drift) {
        match drift {
            Drift::Undeclared => self.undeclared_fields += 1,
            Drift::ShapeMismatch => self.type_mismatches += 1,
        }
    }
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
    /// The `_extra` column (`fields: all`, or a mapping that names it): mismatched values are then
    /// kept, not only counted.
    extra: Option<usize>,
    /// `fields: all`: undeclared keys are kept in `_extra` too.
    keep_drift: bool,
    /// `arrays: tables`: one child table per array, in `arrays` order after table 0.
    children: bool,
    /// What the reader walks: the keys a record may hold (for drift) and where values go.
    shape: Shape,
    /// For a mapping, whether each column of table 0 has held a value yet.
    filled: Option<Box<[AtomicBool]>>,
    /// A column (or the child tables) writes the record's key: its text is made only then, not
    /// for every record (`fields: all` has no such column).
    writes_key: bool,
}

/// One record read by [`Transformer::read`], its values borrowed from the input where possible.
#[derive(Debug)]
pub struct ParsedRecord<'de>(Parsed<'de>);

impl Transformer {
    /// `vendors` = the vendors of ALL sources in the pipeline, so that a mapping's column types are
    /// the same for every vendor and one file across vendors is possible.
    pub fn new(vendor: VendorRecord, plan: &Options, vendors: &[VendorRecord]) -> Transformer {
        Transformer::with_promoted(vendor, plan, vendors, &[])
    }

    /// As [`Transformer::new`], with undeclared paths promoted to columns of their own
    /// (`undeclared: columns`, decided from the source's first page).
    pub fn with_promoted(
        vendor: VendorRecord,
        plan: &Options,
        vendors: &[VendorRecord],
        promoted: &[Promoted],
    ) -> Transformer {
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

        let Columns {
            columns, mut main, ..
        } = Columns::plan(vendor, plan, vendors, &arrays, explode, promoted);
        let keep_drift = plan.fields == Fields::All;
        let mut tables = vec![Table {
            name: "customers".to_string(),
            schema: Arc::from(columns),
        }];
        let children = plan.arrays == ArrayMode::Tables;
        if children {
            tables.extend(arrays.iter().map(|a| a.table(plan.naming, keep_drift)));
        }
        assign_slots(&mut shape, &mut main, &arrays, explode, children);

        let extra = main.iter().position(|c| matches!(c.source, Source::Extra));
        let filled = matches!(plan.fields, Fields::Mapping(_))
            .then(|| main.iter().map(|_| AtomicBool::new(false)).collect());
        let writes_key = children || main.iter().any(|c| matches!(c.source, Source::Key));
        Transformer {
            vendor,
            tables,
            arrays,
            main,
            explode,
            extra,
            keep_drift,
            children,
            shape,
            filled,
            writes_key,
        }
    }

    /// The tables this source writes: "customers" first, then one per array in `tables` mode.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    /// The mapped columns no record has filled so far: read after the last record, the columns
    /// that are all null (the mapped path was in no record, or always null). Empty unless the
    /// fields are a mapping.
    pub fn empty_columns(&self) -> Vec<String> {
        let Some(filled) = &self.filled else {
            return Vec::new();
        };
        (self.tables[0].schema.iter())
            .zip(filled.iter())
            .filter(|(_, filled)| !filled.load(Relaxed))
            .map(|(column, _)| column.name.clone())
            .collect()
    }

    /// The array `explode` unrolls for this source, if any.
    pub fn exploded_array(&self) -> Option<&'static str> {
        self.explode.map(|e| self.arrays[e].spec.name)
    }

    /// Reads one record from JSON text (`serde_json::Deserializer`) or a `&Value`, in one pass.
    /// An error is only ever the input's: the reader accepts any JSON value.
    pub fn read<'de, D: Deserializer<'de>>(&self, input: D) -> Result<ParsedRecord<'de>, D::Error> {
        self.shape.read(input, self.keep_drift).map(ParsedRecord)
    }

    /// Hands the rows of one read record to `out` as they are made, as (table index, row), each
    /// lent only for the call: its buffer is the thread's for the next row ([`SPARE_CELLS`]).
    ///
    /// Table 0 gets one row per exploded element, or exactly one row when there is no exploded
    /// array or it is absent, null or empty. In `tables` mode each child table gets one row per
    /// element of its array.
    pub fn emit(
        &self,
        record: &ParsedRecord<'_>,
        out: &mut impl FnMut(usize, &[Cell<'_>]),
    ) -> RecordReport {
        let parsed = &record.0;
        let mut report = parsed.report;
        // Drift found by the reader: undeclared keys and shape mismatches, by path.
        let mut extra: BTreeMap<String, Raw> = parsed.extra.clone();
        let key = if self.writes_key { record.key() } else { None };
        let key = key.as_deref();
        let mut base = self.base_row(parsed, key, &mut report, &mut extra);
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
                let mut row = take_from(&SPARE_CELLS, base.len());
                row.extend_from_slice(&base);
                row
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
                key,
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
            if let Some(filled) = &self.filled {
                for (cell, filled) in row.iter().zip(filled.iter()) {
                    if *cell != Cell::Null && !filled.load(Relaxed) {
                        filled.store(true, Relaxed);
                    }
                }
            }
            out(0, &row);
            give_back_to(&SPARE_CELLS, row);
        }
        if self.children {
            self.child_rows(parsed, key, &mut report, out);
        }
        report
    }

    /// The cells that are the same on every row of a record, computed once; the exploded
    /// element's cells are left null.
    fn base_row<'a>(
        &self,
        parsed: &'a Parsed<'_>,
        key: Option<&'a str>,
        report: &mut RecordReport,
        extra: &mut BTreeMap<String, Raw>,
    ) -> Row<'a> {
        let keep = self.extra.is_some();
        let mut base = take_from(&SPARE_CELLS, self.main.len());
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
            Value::Object(object) if self.keep_drift && !a.fields.is_empty() => {
                let found = &mut row_extra.found;
                self.shape.elements[e].undeclared(object, None, &mut |path, value, _| {
                    found.push((format!("{}[].{}", a.spec.path, path.dotted()), value));
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
        key: Option<&'a str>,
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
        key: Option<&'a str>,
        report: &mut RecordReport,
        out: &mut impl FnMut(usize, &[Cell<'_>]),
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
            let drift = self.keep_drift.then(|| &self.shape.elements[t]);
            for (n, item) in items.iter().enumerate() {
                let row = a.child_row(self.vendor.id, key, n, item, drift, report);
                out(1 + t, &row);
                give_back_to(&SPARE_CELLS, row);
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
        key: Option<&'a str>,
    ) -> Result<Cell<'a>, Option<Raw>> {
        if let Some(cell) = plain_cell(col, parsed) {
            return Ok(cell);
        }
        let value = match &col.source {
            Source::Null | Source::Index | Source::Extra | Source::Path { .. } => None,
            Source::Const(text) => Some(Scalar::Str(text)),
            Source::Key => return Ok(text_cell(key, col.ty)),
            Source::Slot { slot, rest } => match &parsed.slots[*slot] {
                slot if rest.is_empty() => scalar(slot),
                Slot::Json(value) => rest.get(value).map(Scalar::from),
                _ => None,
            },
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
        match col.render {
            Render::Typed => to_cell(value, col.ty).map_err(|_| value.map(to_raw)),
            Render::Json => Ok(value.map_or(Cell::Null, json_cell)),
            Render::Status(codes) => {
                let status = match value {
                    None | Some(Scalar::Null) => Status::Unknown,
                    Some(v) => Status::of(&to_text(v), codes),
                };
                Ok(Cell::Str(status.word().into()))
            }
        }
    }
}

/// What one output row keeps in `_extra` beyond its record's drift: the exploded element's
/// undeclared keys and the element values that did not fit their columns.
#[derive(Default)]
struct RowExtra<'v> {
    found: Vec<(String, &'v Value)>,
    raw: Vec<(String, Raw)>,
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

impl ParsedRecord<'_> {
    fn key_scalar(&self) -> Option<Scalar<'_>> {
        // The key slot is the first one made.
        scalar(self.0.slots.first()?)
    }

    /// The record's key as text (borrowed from the record when it is text); `None` when absent,
    /// null or empty.
    pub fn key(&self) -> Option<Cow<'_, str>> {
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

/// The cell of the commonest column, a value of the record in its own slot and already of the
/// column's type (text for text, an integer for an integer, or nothing), read without the general
/// path's conversions; `None` for any other column or value. Exactly what that path gives.
fn plain_cell<'a>(col: &Col, parsed: &'a Parsed<'_>) -> Option<Cell<'a>> {
    let (Source::Slot { slot, rest }, Render::Typed) = (&col.source, &col.render) else {
        return None;
    };
    if !rest.is_empty() {
        return None;
    }
    match (parsed.slots.get(*slot)?, col.ty) {
        (Slot::Absent | Slot::Null, _) => Some(Cell::Null),
        (Slot::Str(text), ColumnType::Utf8) => Some(Cell::Str(Cow::Borrowed(text))),
        (Slot::Text(text), ColumnType::Utf8) => Some(Cell::Str(Cow::Borrowed(text))),
        (Slot::Number(n), ColumnType::Int64) => n.as_i64().map(Cell::Int),
        _ => None,
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

/// A value as compact JSON text (a mapping's `type: json`); JSON `null` is a null cell.
fn json_cell(value: Scalar<'_>) -> Cell<'_> {
    match value {
        Scalar::Null => Cell::Null,
        Scalar::Str(s) => Cell::Str(Value::from(s).to_string().into()),
        Scalar::Bool(b) => Cell::Str(b.to_string().into()),
        Scalar::Number(n) => Cell::Str(n.to_string().into()),
        Scalar::Digits(t) | Scalar::Text(t) => Cell::Str(t.into()),
        Scalar::Json(v) => Cell::Str(v.to_string().into()),
    }
}

/// `_extra`'s text: a JSON object, keys sorted.
fn json_object(map: &BTreeMap<String, Raw>) -> String {
    serde_json::to_string(map).unwrap_or_default()
}

impl ArrayPlan {
    /// One row of this array's child table. With `drift` (the element's declared shape, in
    /// `fields: all`), its `_extra` keeps the element's undeclared keys and the values that did not
    /// fit their columns.
    fn child_row<'a>(
        &self,
        vendor: &'static str,
        key: Option<&'a str>,
        n: usize,
        item: &'a Value,
        drift: Option<&Declared>,
        report: &mut RecordReport,
    ) -> Row<'a> {
        let mut row: Row<'a> = take_from(&SPARE_CELLS, 4 + self.fields.len().max(1));
        row.push(Cell::Str(vendor.into()));
        row.push(key.map_or(Cell::Null, |k| Cell::Str(k.into())));
        row.push(Cell::Int(n as i64));
        let mut extra: BTreeMap<String, Raw> = BTreeMap::new();
        let mut cell = |value: Option<&'a Value>, ty: ColumnType, name: &str| {
            to_cell(value.map(Scalar::from), ty).unwrap_or_else(|_| {
                report.type_mismatches += 1;
                if let (Some(_), Some(value)) = (drift, value) {
                    extra.insert(name.to_string(), raw(value));
                }
                Cell::Null
            })
        };
        if self.fields.is_empty() {
            row.push(cell(Some(item), self.scalar, "value"));
        } else {
            for (path, ty) in &self.fields {
                row.push(cell(path.get(item), *ty, &path.dotted()));
            }
            match item {
                Value::Object(_) | Value::Null => {}
                other => {
                    report.type_mismatches += 1;
                    if drift.is_some() {
                        extra.insert("_element".to_string(), raw(other));
                    }
                }
            }
        }
        if let Some(declared) = drift {
            if let Value::Object(object) = item
                && !self.fields.is_empty()
            {
                declared.undeclared(object, None, &mut |path, value, _| {
                    extra.insert(path.dotted(), raw(value));
                });
            }
            let text = (!extra.is_empty()).then(|| json_object(&extra));
            row.push(text.map_or(Cell::Null, |t| Cell::Str(t.into())));
        }
        row
    }
}

/// A text value (a constant, the record key) as a cell of `ty`.
fn text_cell(text: Option<&str>, ty: ColumnType) -> Cell<'_> {
    match (text, ty) {
        (None, _) => Cell::Null,
        (Some(t), ColumnType::Utf8) => Cell::Str(t.into()),
        (Some(t), _) => to_cell(Some(Scalar::Str(t)), ty).unwrap_or(Cell::Null),
    }
}

fn key_text(value: Option<Scalar<'_>>) -> Option<Cow<'_, str>> {
    match value? {
        Scalar::Null => None,
        // An empty key identifies nothing; de-duplicating on it would merge unrelated records.
        v => Some(to_text(v)).filter(|t| !t.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_plain_cell_is_what_the_general_path_gives() {
        use crate::transform::value::JsonPath;
        let number = |text: &str| Slot::Number(serde_json::from_str(text).unwrap());
        let slots = [
            Slot::Absent,
            Slot::Null,
            Slot::Bool(true),
            number("7"),
            number("-7"),
            number("7.0"),
            number("7.5"),
            number("18446744073709551615"),
            Slot::Digits("123456789012345678901234567890".into()),
            Slot::Str("12".into()),
            Slot::Str(" 12 ".into()),
            Slot::Str("".into()),
            Slot::Str("Ωmega".into()),
            Slot::Text("[1,2]".into()),
            Slot::Json(json!({"a": 1})),
        ];
        let types = [
            ColumnType::Utf8,
            ColumnType::Int64,
            ColumnType::Float64,
            ColumnType::Boolean,
            ColumnType::Timestamp,
            ColumnType::Date,
        ];
        let mut taken = 0;
        for slot in &slots {
            for ty in types {
                let mut parsed = Parsed::default();
                parsed.slots.push(slot.clone());
                let source = Source::Slot {
                    slot: 0,
                    rest: JsonPath::new(""),
                };
                let render = Render::Typed;
                let col = Col { source, ty, render };
                // What `Transformer::cell` does for such a column when the plain path declines.
                let general = to_cell(scalar(&parsed.slots[0]), ty).ok();
                if let Some(plain) = plain_cell(&col, &parsed) {
                    assert_eq!(Some(plain), general, "{slot:?} in a {ty:?} column");
                    taken += 1;
                }
            }
        }
        // Null and absent in all six types, text in text (four strings and a list), 7 and -7 in
        // an integer column; every other pair went the general way.
        assert_eq!(taken, 2 * 6 + 5 + 2);
    }

    #[test]
    fn drift_skips_comment_keys_and_reports_full_paths() {
        let mut declared = Declared::default();
        declared.insert("a.b");
        declared.insert("c");
        declared.insert("f.g");
        let record = json!({"// note": "", "a": {"b": 1, "z": 2}, "c": {"x": 1}, "d": 3, "e": null,
            "f": "not an object"});
        let mut found = Vec::new();
        declared.undeclared(
            record.as_object().unwrap(),
            None,
            &mut |path, value, drift| found.push((path.dotted(), value.clone(), drift)),
        );
        found.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(
            found,
            [
                ("a.z".to_string(), json!(2), Drift::Undeclared),
                ("d".to_string(), json!(3), Drift::Undeclared),
                ("e".to_string(), Value::Null, Drift::Undeclared),
                (
                    "f".to_string(),
                    json!("not an object"),
                    Drift::ShapeMismatch
                ),
            ]
        );
    }
}

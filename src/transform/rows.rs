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

use serde_json::{Map, Value};

use super::column_name;
use super::row::{Cell, Column, ColumnType, Row, Schema};
use super::value::{JsonPath, to_cell, to_text};
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
    key: JsonPath,
    arrays: Vec<ArrayPlan>,
    /// The columns of table 0, in schema order.
    main: Vec<Col>,
    /// The array unrolled into one row per element (`arrays: explode`).
    explode: Option<usize>,
    /// The `_extra` column (`fields: all`): mismatched values are then kept, not only counted.
    extra: Option<usize>,
    /// `arrays: tables`: one child table per array, in `arrays` order after table 0.
    children: bool,
    /// The keys a record may hold, for drift detection.
    declared: Declared,
}

/// A vendor array with its paths split.
#[derive(Debug)]
struct ArrayPlan {
    spec: &'static ArraySpec,
    path: JsonPath,
    /// Element fields; empty for an array of scalars.
    fields: Vec<(JsonPath, ColumnType)>,
    /// The element type of an array of scalars.
    scalar: ColumnType,
    declared: Declared,
}

/// Where one column's value comes from.
#[derive(Debug, Clone)]
enum Source {
    Null,
    Const(&'static str),
    /// The record key as text.
    Key,
    Field(JsonPath),
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

/// The declared shape of a record (or array element) as a tree of keys.
#[derive(Debug, Default)]
struct Declared {
    /// A declared value lives here (a field or an array).
    leaf: bool,
    /// Declared keys below, when this is an object, sorted by key: a record's keys (a sorted
    /// `serde_json::Map`) are then matched by walking both in step, without hashing — this check
    /// runs on every key of every record.
    children: Vec<(&'static str, Declared)>,
}

impl Declared {
    fn insert(&mut self, path: &'static str) {
        let mut node = self;
        for key in path.split('.') {
            let at = match node.children.binary_search_by(|(k, _)| (*k).cmp(key)) {
                Ok(at) => at,
                Err(at) => {
                    node.children.insert(at, (key, Declared::default()));
                    at
                }
            };
            node = &mut node.children[at].1;
        }
        node.leaf = true;
    }

    /// The declared node of `key`. `next` is where the previous key was found plus one: when keys
    /// come in sorted order (as `serde_json::Map` holds them) that is the match, or the first
    /// declared key past an undeclared one, so the lookup is one or two comparisons.
    fn child(&self, key: &str, next: &mut usize) -> Option<&Declared> {
        match self.children.get(*next) {
            Some((k, node)) if *k == key => {
                *next += 1;
                return Some(node);
            }
            Some((k, _)) if *k > key && (*next == 0 || self.children[*next - 1].0 < key) => {
                return None;
            }
            None if self.children.last().is_some_and(|(k, _)| *k < key) => return None,
            _ => {}
        }
        match self.children.binary_search_by(|(k, _)| (*k).cmp(key)) {
            Ok(at) => {
                *next = at + 1;
                Some(&self.children[at].1)
            }
            Err(at) => {
                *next = at;
                None
            }
        }
    }

    /// Calls `found(path, value, is_shape_mismatch)` for every key of `object` (and of its declared
    /// nested objects) that is not declared. A non-object where only an object was declared
    /// (`"companyProfile": "x"`) is reported as a shape mismatch, since its value would be lost.
    fn undeclared<'v>(
        &self,
        object: &'v Map<String, Value>,
        prefix: &mut String,
        found: &mut impl FnMut(&str, &'v Value, bool),
    ) {
        let mut next = 0;
        for (key, value) in object {
            // AppXite's documented payloads carry comment keys such as `"// Addresses": ""`.
            if key.starts_with("//") {
                continue;
            }
            let len = prefix.len();
            prefix.push_str(key);
            match self.child(key, &mut next) {
                None => found(prefix, value, false),
                Some(node) => match value {
                    Value::Object(inner) if !node.children.is_empty() => {
                        prefix.push('.');
                        node.undeclared(inner, prefix, found);
                    }
                    _ if node.leaf || value.is_null() => {}
                    _ => found(prefix, value, true),
                },
            }
            prefix.truncate(len);
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
        let arrays: Vec<ArrayPlan> = vendor.arrays.iter().map(ArrayPlan::new).collect();
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
                    push(
                        column_name(f.path),
                        Col::new(Source::Field(JsonPath::new(f.path)), f.ty),
                    );
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

        let mut declared = Declared::default();
        declared.insert(vendor.record_key);
        for f in vendor.fields {
            declared.insert(f.path);
        }
        for a in vendor.arrays {
            declared.insert(a.path);
        }

        let extra = main.iter().position(|c| matches!(c.source, Source::Extra));
        Transformer {
            vendor,
            tables,
            key: JsonPath::new(vendor.record_key),
            arrays,
            main,
            explode,
            extra,
            children,
            declared,
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
        key_text(self.key.get(record))
    }

    /// Appends the rows of one vendor record to `out`, as (table index, row).
    ///
    /// Table 0 gets one row per exploded element, or exactly one row when there is no exploded
    /// array or it is absent, null or empty. In `tables` mode each child table gets one row per
    /// element of its array.
    pub fn rows(&self, record: &Value, out: &mut Vec<(usize, Row)>) -> RecordReport {
        let mut report = RecordReport::default();
        let keep = self.extra.is_some();
        let mut extra: Map<String, Value> = Map::new();

        // Drift: undeclared keys are counted always and kept in `fields: all`.
        let mut prefix = String::new();
        match record {
            Value::Object(object) => {
                self.declared
                    .undeclared(object, &mut prefix, &mut |path, value, shape| {
                        if shape {
                            report.type_mismatches += 1;
                        } else {
                            report.undeclared_fields += 1;
                        }
                        if keep {
                            extra.insert(path.to_string(), value.clone());
                        }
                    });
                for a in &self.arrays {
                    let Some(Value::Array(items)) = a.path.get(record) else {
                        continue;
                    };
                    for item in items {
                        if let Value::Object(element) = item {
                            prefix.clear();
                            a.declared
                                .undeclared(element, &mut prefix, &mut |_, _, shape| {
                                    if shape {
                                        report.type_mismatches += 1;
                                    } else {
                                        report.undeclared_fields += 1;
                                    }
                                });
                        }
                    }
                }
            }
            // Not a record at all: one row of nulls, the value counted and (in `all`) kept.
            other => {
                report.type_mismatches += 1;
                if keep {
                    extra.insert("_record".to_string(), other.clone());
                }
            }
        }

        let key = self.key(record);

        // The cells that are the same on every row of this record, computed once.
        let mut base: Row = Vec::with_capacity(self.main.len());
        for (i, col) in self.main.iter().enumerate() {
            let cell = match &col.source {
                Source::Element { array, .. } if Some(*array) == self.explode => Cell::Null,
                _ => match self.cell(col, record, None, key.as_deref()) {
                    Ok(cell) => cell,
                    Err(raw) => {
                        report.type_mismatches += 1;
                        if let (true, Some(raw)) = (keep, raw) {
                            extra.insert(self.tables[0].schema[i].name.clone(), raw.clone());
                        }
                        Cell::Null
                    }
                },
            };
            base.push(cell);
        }

        let elements: &[Value] = match self.explode {
            None => &[],
            Some(e) => match self.arrays[e].path.get(record) {
                Some(Value::Array(items)) => items,
                None | Some(Value::Null) => &[],
                Some(other) => {
                    report.type_mismatches += 1;
                    if keep {
                        extra.insert(self.arrays[e].spec.name.to_string(), other.clone());
                    }
                    &[]
                }
            },
        };

        // `_extra` as written when the row adds nothing of its own, serialised once per record.
        let record_extra: Option<String> =
            (!extra.is_empty()).then(|| Value::Object(extra.clone()).to_string());

        let count = elements.len().max(1);
        let mut row_extra: Vec<(String, &Value)> = Vec::new();
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
                        a.declared
                            .undeclared(object, &mut prefix, &mut |path, value, _| {
                                row_extra.push((path.to_string(), value));
                            });
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
            for (i, col) in self.main.iter().enumerate() {
                match &col.source {
                    Source::Index => {
                        row[i] = element.map_or(Cell::Null, |_| Cell::Int(n as i64));
                    }
                    Source::Element { array, .. } if Some(*array) == self.explode => {
                        row[i] = match self.cell(col, record, element, key.as_deref()) {
                            Ok(cell) => cell,
                            Err(raw) => {
                                report.type_mismatches += 1;
                                if let (true, Some(raw)) = (keep, raw) {
                                    row_extra.push((self.tables[0].schema[i].name.clone(), raw));
                                }
                                Cell::Null
                            }
                        };
                    }
                    _ => {}
                }
            }
            if let Some(x) = self.extra {
                row[x] = if row_extra.is_empty() {
                    record_extra.clone().map_or(Cell::Null, Cell::Str)
                } else {
                    let mut all = extra.clone();
                    for (path, value) in row_extra.drain(..) {
                        all.insert(path, value.clone());
                    }
                    Cell::Str(Value::Object(all).to_string())
                };
            }
            out.push((0, row));
        }

        if self.children {
            for (t, a) in self.arrays.iter().enumerate() {
                let items = match a.path.get(record) {
                    Some(Value::Array(items)) => items,
                    None | Some(Value::Null) => continue,
                    Some(_) => {
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
    fn cell<'v>(
        &self,
        col: &Col,
        record: &'v Value,
        element: Option<&'v Value>,
        key: Option<&str>,
    ) -> Result<Cell, Option<&'v Value>> {
        let value = match &col.source {
            Source::Null | Source::Index | Source::Extra => return Ok(Cell::Null),
            Source::Const(text) => return Ok(text_cell(Some(text), col.ty)),
            Source::Key => return Ok(text_cell(key, col.ty)),
            Source::Field(path) => path.get(record),
            Source::ArrayJson(a) => self.arrays[*a].path.get(record),
            Source::Element { array, path } => {
                let element = if Some(*array) == self.explode {
                    element
                } else {
                    self.arrays[*array]
                        .path
                        .get(record)
                        .and_then(Value::as_array)
                        .and_then(|items| items.first())
                };
                element.and_then(|e| path.get(e))
            }
        };
        if let (true, Some(Value::Bool(b))) = (col.status_words, value) {
            return Ok(Cell::Str(STATUS_WORDS[usize::from(*b)].to_string()));
        }
        to_cell(value, col.ty).map_err(|_| value)
    }
}

impl ArrayPlan {
    fn new(spec: &'static ArraySpec) -> ArrayPlan {
        let mut declared = Declared::default();
        for f in spec.fields {
            declared.insert(f.path);
        }
        ArrayPlan {
            spec,
            path: JsonPath::new(spec.path),
            fields: spec
                .fields
                .iter()
                .map(|f| (JsonPath::new(f.path), f.ty))
                .collect(),
            scalar: spec.scalar.unwrap_or(ColumnType::Utf8),
            declared,
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

    fn child_row(
        &self,
        vendor: &'static str,
        key: &Option<String>,
        n: usize,
        item: &Value,
        report: &mut RecordReport,
    ) -> Row {
        let mut row: Row = Vec::with_capacity(3 + self.fields.len().max(1));
        row.push(Cell::Str(vendor.to_string()));
        row.push(key.clone().map_or(Cell::Null, Cell::Str));
        row.push(Cell::Int(n as i64));
        let convert = |value: Option<&Value>, ty, report: &mut RecordReport| {
            to_cell(value, ty).unwrap_or_else(|_| {
                report.type_mismatches += 1;
                Cell::Null
            })
        };
        if self.fields.is_empty() {
            row.push(convert(Some(item), self.scalar, report));
            return row;
        }
        if !matches!(item, Value::Object(_) | Value::Null) {
            report.type_mismatches += 1;
        }
        for (path, ty) in &self.fields {
            row.push(convert(path.get(item), *ty, report));
        }
        row
    }
}

/// A text value (a constant, the record key) as a cell of `ty`.
fn text_cell(text: Option<&str>, ty: ColumnType) -> Cell {
    match (text, ty) {
        (None, _) => Cell::Null,
        (Some(t), ColumnType::Utf8) => Cell::Str(t.to_string()),
        (Some(t), _) => to_cell(Some(&Value::String(t.to_string())), ty).unwrap_or(Cell::Null),
    }
}

fn key_text(value: Option<&Value>) -> Option<String> {
    match value {
        None | Some(Value::Null) => None,
        // An empty key identifies nothing; de-duplicating on it would merge unrelated records.
        Some(v) => Some(to_text(v)).filter(|t| !t.is_empty()),
    }
}

/// The record's key (the vendor's `record_key`) as text, for callers without a [`Transformer`].
pub fn record_key(vendor: &VendorSpec, record: &Value) -> Option<String> {
    key_text(JsonPath::new(vendor.record_key).get(record))
}

fn canonical_source(vendor: &VendorSpec, from: From) -> Source {
    match from {
        From::Field(path) => Source::Field(JsonPath::new(path)),
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
        return Some(Col::new(Source::Field(JsonPath::new(f.path)), f.ty));
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

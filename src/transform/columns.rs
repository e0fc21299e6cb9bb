//! The columns of a source's tables, planned once before the first record: for each column, where
//! its value comes from (a slot the reader fills, an element of an array, a constant, the key) and
//! its type.
//!
//! Promises:
//! - A mapping may name any path, declared or not: a declared one keeps the vendor's type unless
//!   the mapping names another, an undeclared one is text unless it does. A number in a path steps
//!   into a list (`companyProfile.contacts.0.email`).
//! - The paths a mapping reads are added to the reader's shape, so their values are read in the
//!   same single pass as the declared ones and are not counted as drift.
//! - `status` speaks one vocabulary for every vendor; `status_raw` keeps the vendor's value.

use std::sync::Arc;

use super::column_name;
use super::options::{ArrayMode, FieldType, Fields, Mapping, Naming, Options};
use super::parse::{ArrayRead, Declared, Shape, SlotKind};
use super::value::JsonPath;
use crate::model::record::{ArraySpec, CANONICAL_COLUMNS, From, RecordSpec, Status};
use crate::model::{Column, ColumnType, VendorRecord};

/// The name of the column that keeps undeclared keys and mismatched values.
pub const EXTRA_COLUMN: &str = "_extra";

/// Where one column's value comes from.
#[derive(Debug, Clone)]
pub(super) enum Source {
    Null,
    Const(&'static str),
    /// The record key as text.
    Key,
    /// A path read into a slot of its own (`prefix`), then `rest` within it (a list position and
    /// what follows); until [`assign_slots`] gives it the slot.
    Path {
        prefix: String,
        rest: JsonPath,
        number: bool,
    },
    /// The value the reader put in this slot, then `rest` within it.
    Slot {
        slot: usize,
        rest: JsonPath,
    },
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

/// How a column shows its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Render {
    /// Coerced to the column's type.
    Typed,
    /// As compact JSON text (a mapping's `type: json`).
    Json,
    /// The vendor's status code as the one vocabulary (the canonical `status`).
    Status(&'static [(&'static str, Status)]),
}

#[derive(Debug, Clone)]
pub(super) struct Col {
    pub(super) source: Source,
    pub(super) ty: ColumnType,
    pub(super) render: Render,
}

impl Col {
    fn new(source: Source, ty: ColumnType) -> Col {
        Col {
            source,
            ty,
            render: Render::Typed,
        }
    }

    /// A path read into its own slot.
    fn path(path: &str, ty: ColumnType) -> Col {
        Col::new(
            Source::Path {
                prefix: path.to_string(),
                rest: JsonPath::new(""),
                number: matches!(ty, ColumnType::Int64 | ColumnType::Float64),
            },
            ty,
        )
    }
}

/// A vendor array with its paths split.
#[derive(Debug)]
pub(super) struct ArrayPlan {
    pub(super) spec: &'static ArraySpec,
    /// Where the reader puts it.
    pub(super) slot: usize,
    /// Element fields; empty for an array of scalars.
    pub(super) fields: Vec<(JsonPath, ColumnType)>,
    /// The element type of an array of scalars.
    pub(super) scalar: ColumnType,
}

impl ArrayPlan {
    pub(super) fn new(spec: &'static ArraySpec, slot: usize) -> ArrayPlan {
        ArrayPlan {
            spec,
            slot,
            fields: (spec.fields.iter())
                .map(|f| (JsonPath::new(f.path), f.ty))
                .collect(),
            scalar: spec.scalar.unwrap_or(ColumnType::Utf8),
        }
    }

    /// The child table of `arrays: tables`, with `_extra` when the fields are `all`.
    pub(super) fn table(&self, naming: Naming, extra: bool) -> super::Table {
        let mut columns = vec![
            Column::new("vendor", ColumnType::Utf8),
            Column::new("customer_key", ColumnType::Utf8),
            Column::new("index", ColumnType::Int64),
        ];
        if self.spec.fields.is_empty() {
            columns.push(Column::new("value", self.scalar));
        }
        columns.extend(
            (self.spec.fields.iter()).map(|f| Column::new(column_name(f.path, naming), f.ty)),
        );
        if extra {
            columns.push(Column::new(EXTRA_COLUMN, ColumnType::Utf8));
        }
        super::Table {
            name: self.spec.name.to_string(),
            schema: Arc::from(columns),
        }
    }
}

/// A path `undeclared: columns` promotes to a column, with the type its values had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promoted {
    pub path: String,
    pub ty: ColumnType,
}

/// The columns of table 0 as they are declared, with where each value comes from.
pub(super) struct Columns {
    pub(super) columns: Vec<Column>,
    pub(super) main: Vec<Col>,
    naming: Naming,
}

impl Columns {
    pub(super) fn plan(
        vendor: VendorRecord,
        options: &Options,
        vendors: &[VendorRecord],
        arrays: &[ArrayPlan],
        explode: Option<usize>,
        promoted: &[Promoted],
    ) -> Columns {
        let mut columns = Columns {
            columns: Vec::new(),
            main: Vec::new(),
            naming: options.naming,
        };
        match &options.fields {
            Fields::Canonical => columns.canonical(vendor),
            Fields::All => columns.all(vendor.record, arrays, explode, options.arrays, promoted),
            Fields::Mapping(mappings) => columns.mapping(vendor, mappings, vendors),
        }
        columns
    }

    /// Adds a column; in `fields: all` a name already taken (two paths that differ only in case
    /// under snake_case) gets `_2`, `_3`, … so every column has a name of its own.
    fn push(&mut self, name: String, col: Col) {
        let mut unique = name.clone();
        let mut n = 1;
        while self.columns.iter().any(|c| c.name == unique) {
            n += 1;
            unique = format!("{name}_{n}");
        }
        self.columns.push(Column::new(unique, col.ty));
        self.main.push(col);
    }

    /// `fields: canonical`: the same columns for every vendor.
    fn canonical(&mut self, vendor: VendorRecord) {
        let record = vendor.record;
        let sources = record.canonical.sources(vendor.id);
        for ((name, ty), from) in CANONICAL_COLUMNS.iter().zip(sources) {
            let source = match *name {
                "source_record_id" => Source::Key,
                _ => canonical_source(record, from),
            };
            let render = match *name {
                "status" => Render::Status(record.canonical.status_codes),
                _ => Render::Typed,
            };
            let col = Col {
                source,
                ty: *ty,
                render,
            };
            self.push(name.to_string(), col);
        }
    }

    /// `fields: all`: every declared field, the promoted undeclared ones, the exploded array's
    /// fields, the other arrays as JSON (unless they become tables), and `_extra`.
    fn all(
        &mut self,
        record: &RecordSpec,
        arrays: &[ArrayPlan],
        explode: Option<usize>,
        mode: ArrayMode,
        promoted: &[Promoted],
    ) {
        for f in record.fields {
            self.push(column_name(f.path, self.naming), Col::path(f.path, f.ty));
        }
        for p in promoted {
            self.push(column_name(&p.path, self.naming), Col::path(&p.path, p.ty));
        }
        if let Some(e) = explode {
            self.exploded(e, &arrays[e]);
        }
        if mode != ArrayMode::Tables {
            for (i, a) in arrays.iter().enumerate() {
                if Some(i) != explode {
                    let col = Col::new(Source::ArrayJson(i), ColumnType::Utf8);
                    self.push(column_name(a.spec.name, self.naming), col);
                }
            }
        }
        let extra = Col::new(Source::Extra, ColumnType::Utf8);
        self.push(EXTRA_COLUMN.to_string(), extra);
    }

    /// The columns of exploded array `e`: its index, then the element (scalars) or its fields.
    fn exploded(&mut self, e: usize, a: &ArrayPlan) {
        let name = column_name(a.spec.name, self.naming);
        let index = Col::new(Source::Index, ColumnType::Int64);
        self.push(format!("{name}_index"), index);
        let element = |path: &str| Source::Element {
            array: e,
            path: JsonPath::new(path),
        };
        if a.spec.fields.is_empty() {
            self.push(name.clone(), Col::new(element(""), a.scalar));
        }
        for f in a.spec.fields {
            let column = format!("{name}_{}", column_name(f.path, self.naming));
            self.push(column, Col::new(element(f.path), f.ty));
        }
    }

    /// A mapping `{column: path}`: any path, declared or not; a canonical name this vendor lacks
    /// is a null column.
    fn mapping(&mut self, vendor: VendorRecord, mappings: &[Mapping], vendors: &[VendorRecord]) {
        for m in mappings {
            let mut col = match m.path_for(vendor.id) {
                Some(path) => resolve(vendor, path).unwrap_or_else(|| undeclared(vendor, path)),
                None => Col::new(Source::Null, ColumnType::Utf8),
            };
            col.ty = mapping_type(m, vendor, vendors);
            if m.ty == Some(FieldType::Json) {
                col.render = Render::Json;
            }
            // Names are the user's and unique (the pipeline checks): no suffixing here.
            self.columns.push(Column::new(m.column.clone(), col.ty));
            self.main.push(col);
        }
    }
}

/// The array `arrays: explode` unrolls for this vendor: the one the pipeline names when this
/// vendor has it, else (for canonical rows) the array the canonical element columns come from (the
/// tenants), else the vendor's default.
pub(super) fn exploded(vendor: VendorRecord, options: &Options) -> Option<usize> {
    let record = vendor.record;
    let index = |name: &str| record.arrays.iter().position(|a| a.name == name);
    if options.arrays != ArrayMode::Explode {
        return None;
    }
    options
        .explode
        .as_deref()
        .and_then(index)
        .or_else(|| match options.fields {
            Fields::Canonical => {
                (record.canonical.sources(vendor.id).iter()).find_map(|from| match from {
                    From::Element(array, _) => index(array),
                    _ => None,
                })
            }
            _ => record.default_explode.and_then(index),
        })
}

/// Gives each path column its slot (adding undeclared paths to the reader's shape), and tells the
/// reader how to keep each array: whole when its elements are needed, as JSON text when only a
/// JSON column shows it, else only checked.
pub(super) fn assign_slots(
    shape: &mut Shape,
    main: &mut [Col],
    arrays: &[ArrayPlan],
    explode: Option<usize>,
    children: bool,
) {
    for col in main.iter_mut() {
        match &col.source {
            Source::Path {
                prefix,
                rest,
                number,
            } => {
                shape.root.insert(prefix);
                let kind = match number {
                    true if rest.is_empty() => SlotKind::Number,
                    _ => SlotKind::Scalar,
                };
                let slot = shape.slot(prefix, kind);
                let rest = rest.clone();
                col.source = Source::Slot { slot, rest };
            }
            Source::Element { array, path } if !path.is_empty() => {
                // A mapped element path the vendor does not declare is read, not drift.
                shape.elements[*array].insert(&path.dotted());
            }
            _ => {}
        }
    }
    for (i, a) in arrays.iter().enumerate() {
        let uses = |c: &Col| match &c.source {
            Source::Element { array, .. } => *array == i,
            Source::Slot { slot, .. } => *slot == a.slot,
            _ => false,
        };
        let whole = children || explode == Some(i) || main.iter().any(uses);
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

/// The declared shape of an array's elements.
pub(super) fn element_shape(spec: &'static ArraySpec) -> Declared {
    let mut declared = Declared::default();
    for f in spec.fields {
        declared.insert(f.path);
    }
    declared
}

fn canonical_source(record: &RecordSpec, from: From) -> Source {
    let element =
        |array: &str, field: &str| match record.arrays.iter().position(|a| a.name == array) {
            Some(array) => Source::Element {
                array,
                path: JsonPath::new(field),
            },
            None => Source::Null,
        };
    match from {
        From::Field(path) => {
            // A declared number is read as one (exactly, beyond 64 bits too), whatever the column.
            let declared = record.fields.iter().find(|f| f.path == path);
            Col::path(path, declared.map_or(ColumnType::Utf8, |f| f.ty)).source
        }
        From::Element(array, field) | From::First(array, field) => element(array, field),
        From::Const(text) => Source::Const(text),
        From::Lacking(_) => Source::Null,
    }
}

/// What a declared path (or a canonical name) means for one vendor, with the vendor's type for it;
/// `None` when the vendor does not declare it. The vendor's own names win over the canonical ones.
fn resolve(vendor: VendorRecord, path: &str) -> Option<Col> {
    let record = vendor.record;
    if let Some(f) = record.fields.iter().find(|f| f.path == path) {
        return Some(Col::path(f.path, f.ty));
    }
    for (i, a) in record.arrays.iter().enumerate() {
        if a.name == path || a.path == path {
            return Some(Col::new(Source::ArrayJson(i), ColumnType::Utf8));
        }
        let field = array_rest(a, path).and_then(|rest| a.fields.iter().find(|f| f.path == rest));
        if let Some(f) = field {
            let path = JsonPath::new(f.path);
            return Some(Col::new(Source::Element { array: i, path }, f.ty));
        }
    }
    match path {
        "source_record_id" => return Some(Col::new(Source::Key, ColumnType::Utf8)),
        EXTRA_COLUMN => return Some(Col::new(Source::Extra, ColumnType::Utf8)),
        _ => {}
    }
    let sources = record.canonical.sources(vendor.id);
    let (i, (name, ty)) = (CANONICAL_COLUMNS.iter().enumerate()).find(|(_, (n, _))| *n == path)?;
    let render = match *name {
        "status" => Render::Status(record.canonical.status_codes),
        _ => Render::Typed,
    };
    Some(Col {
        source: canonical_source(record, sources[i]),
        ty: *ty,
        render,
    })
}

/// What follows an array's name or JSON key in `path` (`tenants.DomainName` → `DomainName`).
fn array_rest<'p>(a: &ArraySpec, path: &'p str) -> Option<&'p str> {
    [a.name, a.path]
        .iter()
        .find_map(|prefix| path.strip_prefix(prefix)?.strip_prefix('.'))
}

/// A path the vendor does not declare: read from where the record has it. Inside a declared
/// array it is an element's path (or, after a position, a path into the list); elsewhere the part
/// before the first position gets a slot of its own.
fn undeclared(vendor: VendorRecord, path: &str) -> Col {
    for (i, a) in vendor.record.arrays.iter().enumerate() {
        if let Some(rest) = array_rest(a, path) {
            if starts_with_position(rest) {
                let ty = indexed_element(a, rest).map_or(ColumnType::Utf8, |f| f.ty);
                return Col::new(
                    Source::Path {
                        prefix: a.path.to_string(),
                        rest: JsonPath::new(rest),
                        number: false,
                    },
                    ty,
                );
            }
            let path = JsonPath::new(rest);
            return Col::new(Source::Element { array: i, path }, ColumnType::Utf8);
        }
    }
    let keys: Vec<&str> = path.split('.').collect();
    // A position needs a list before it: the first key is always a key.
    let split = (1..keys.len())
        .find(|&k| is_position(keys[k]))
        .unwrap_or(keys.len());
    Col::new(
        Source::Path {
            prefix: keys[..split].join("."),
            rest: JsonPath::new(&keys[split..].join(".")),
            number: false,
        },
        ColumnType::Utf8,
    )
}

/// The declared element field `rest` names after a position (`0.email` → `email`).
fn indexed_element(a: &ArraySpec, rest: &str) -> Option<&'static crate::model::record::Field> {
    let (_, field) = rest.split_once('.')?;
    a.fields.iter().find(|f| f.path == field)
}

/// The type `vendor` declares for `path`: a field, an array, an element field (also at a
/// position: `contacts.0.email`), a canonical column it fills.
fn declared_type(vendor: VendorRecord, path: &str) -> Option<ColumnType> {
    if let Some(col) = resolve(vendor, path) {
        return Some(col.ty);
    }
    (vendor.record.arrays.iter())
        .filter_map(|a| {
            array_rest(a, path)
                .filter(|rest| starts_with_position(rest))
                .map(|rest| (a, rest))
        })
        .find_map(|(a, rest)| indexed_element(a, rest))
        .map(|f| f.ty)
}

fn is_position(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit())
}

fn starts_with_position(path: &str) -> bool {
    is_position(path.split('.').next().unwrap_or(""))
}

/// A mapping column's type: the one the mapping names; else the vendors' declared type for the
/// path when all that declare it agree; else text, which every value renders to, so one file
/// across vendors has one schema.
fn mapping_type(m: &Mapping, vendor: VendorRecord, vendors: &[VendorRecord]) -> ColumnType {
    if let Some(ty) = m.ty {
        return ty.column_type();
    }
    let mut types = (vendors.iter().copied())
        .chain(std::iter::once(vendor))
        .filter_map(|v| declared_type(v, m.path_for(v.id)?));
    match types.next() {
        Some(first) if types.all(|t| t == first) => first,
        _ => ColumnType::Utf8,
    }
}

/// Whether `path` is declared by `vendor` (a field, an array or one of its element fields) or is
/// a canonical column it fills.
pub(crate) fn is_declared(vendor: VendorRecord, path: &str) -> bool {
    match resolve(vendor, path) {
        Some(col) => !matches!(col.source, Source::Null),
        None => declared_type(vendor, path).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vendor(id: &str) -> VendorRecord {
        crate::vendors::find(id)
            .expect("a built-in vendor")
            .record()
    }

    fn mapping(path: &str) -> Mapping {
        Mapping::new("c", path)
    }

    #[test]
    fn declared_paths_and_canonical_names_resolve() {
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
            let known = ["appxite", "adobe_vipmp"]
                .iter()
                .any(|v| is_declared(vendor(v), path));
            assert!(known, "{path}");
        }
        assert!(!is_declared(vendor("appxite"), "tenants.Nope"));
        assert!(!is_declared(vendor("adobe_vipmp"), "companyProfile"));
        // Crayon's list has no address: the canonical name is known, but fills nothing there.
        assert!(!is_declared(vendor("crayon"), "country"));
        assert_eq!(
            mapping_type(
                &mapping("Organization.Id"),
                vendor("appxite"),
                &[vendor("crayon")]
            ),
            ColumnType::Int64
        );
    }

    #[test]
    fn undeclared_paths_split_at_the_first_position() {
        let col = undeclared(vendor("c3"), "Extra.list.2.name");
        let Source::Path { prefix, rest, .. } = col.source else {
            panic!("{col:?}")
        };
        assert_eq!(
            (prefix.as_str(), rest.dotted()),
            ("Extra.list", "2.name".into())
        );
        let col = undeclared(vendor("appxite"), "tenants.1.DomainName");
        let Source::Path { prefix, rest, .. } = col.source else {
            panic!("{col:?}")
        };
        assert_eq!(
            (prefix.as_str(), rest.dotted()),
            ("customerTenants", "1.DomainName".into())
        );
        let col = undeclared(vendor("appxite"), "tenants.newKey");
        assert!(
            matches!(col.source, Source::Element { array: 0, .. }),
            "{col:?}"
        );
    }
}

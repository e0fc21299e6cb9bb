//! The typed rows that flow from transform into the loaders.
//!
//! A [`Schema`] is declared before the first record is seen (from the vendor's declared columns and
//! the pipeline's field mapping), never inferred from the data, so the same pipeline writes the same
//! columns and types every night.

use std::sync::Arc;

/// The type of an output column, as every loader renders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// UTF-8 text.
    Utf8,
    /// 64-bit signed integer.
    Int64,
    /// 64-bit float.
    Float64,
    /// true / false.
    Boolean,
    /// An instant, microseconds since the Unix epoch, UTC.
    Timestamp,
}

/// One output column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
}

impl Column {
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Column {
            name: name.into(),
            ty,
        }
    }
}

/// The ordered columns of one output table.
pub type Schema = Arc<[Column]>;

/// One value of a row. Its variant matches the column's [`ColumnType`] or is `Null`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Microseconds since the Unix epoch, UTC.
    Timestamp(i64),
}

/// One output row: one cell per schema column, in schema order.
pub type Row = Vec<Cell>;

//! The typed rows that flow from transform into the loaders.
//!
//! A [`Schema`] is declared before the first record is seen (from the vendor's declared columns and
//! the pipeline's field mapping), never inferred from the data, so the same pipeline writes the same
//! columns and types every night.

use std::borrow::Cow;
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
    /// A calendar date without a time or zone (Adobe's `cotermDate`), days since 1970-01-01.
    Date,
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

/// One value of a row. Its variant matches the column's [`ColumnType`] or is `Null`. Text is
/// borrowed from the record it was read from where it can be (most of it), owned otherwise.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Null,
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Microseconds since the Unix epoch, UTC.
    Timestamp(i64),
    /// Days since 1970-01-01.
    Date(i32),
}

impl Cell<'_> {
    /// The same cell, owning its text.
    pub fn into_owned(self) -> Cell<'static> {
        match self {
            Cell::Null => Cell::Null,
            Cell::Str(s) => Cell::Str(Cow::Owned(s.into_owned())),
            Cell::Int(i) => Cell::Int(i),
            Cell::Float(f) => Cell::Float(f),
            Cell::Bool(b) => Cell::Bool(b),
            Cell::Timestamp(t) => Cell::Timestamp(t),
            Cell::Date(d) => Cell::Date(d),
        }
    }
}

/// One output row: one cell per schema column, in schema order.
pub type Row<'a> = Vec<Cell<'a>>;

/// Rows packed for the trip from the reading threads to the writer: their text in one string,
/// their cells as ranges into it — a few allocations a record instead of one per text cell, and
/// nothing borrowed from the page the record came from.
#[derive(Debug, Default, Clone)]
pub struct PackedRows {
    text: String,
    cells: Vec<Packed>,
    /// (table, cell count) of each row, in order.
    rows: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, Copy)]
enum Packed {
    Null,
    Str(usize, usize),
    Int(i64),
    Float(f64),
    Bool(bool),
    Timestamp(i64),
    Date(i32),
}

impl PackedRows {
    /// Empty, with room for `text` bytes of text and `cells` cells, so that rows of about that
    /// size are packed without growing the buffers a doubling at a time.
    pub fn with_capacity(text: usize, cells: usize) -> PackedRows {
        PackedRows {
            text: String::with_capacity(text),
            cells: Vec::with_capacity(cells),
            rows: Vec::with_capacity(1),
        }
    }

    /// Empties it, keeping its buffers for the next rows.
    pub fn clear(&mut self) {
        self.text.clear();
        self.cells.clear();
        self.rows.clear();
    }

    /// The bytes its buffers hold, used or not.
    pub fn capacity_bytes(&self) -> usize {
        self.text.capacity()
            + self.cells.capacity() * std::mem::size_of::<Packed>()
            + self.rows.capacity() * std::mem::size_of::<(usize, usize)>()
    }

    /// (text bytes, cells) packed so far.
    pub fn size(&self) -> (usize, usize) {
        (self.text.len(), self.cells.len())
    }

    /// Appends one row of `table`.
    pub fn push(&mut self, table: usize, row: &[Cell<'_>]) {
        self.rows.push((table, row.len()));
        self.cells.extend(row.iter().map(|cell| match cell {
            Cell::Null => Packed::Null,
            Cell::Str(s) => {
                let start = self.text.len();
                self.text.push_str(s);
                Packed::Str(start, self.text.len())
            }
            Cell::Int(i) => Packed::Int(*i),
            Cell::Float(f) => Packed::Float(*f),
            Cell::Bool(b) => Packed::Bool(*b),
            Cell::Timestamp(t) => Packed::Timestamp(*t),
            Cell::Date(d) => Packed::Date(*d),
        }));
    }

    /// Calls `each(table, row)` for every row, in order.
    pub fn try_for_each<E>(
        &self,
        mut each: impl FnMut(usize, &[Cell<'_>]) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut row: Vec<Cell<'_>> = Vec::new();
        let mut cells = self.cells.iter();
        for &(table, len) in &self.rows {
            row.clear();
            row.extend(cells.by_ref().take(len).map(|cell| match *cell {
                Packed::Null => Cell::Null,
                Packed::Str(start, end) => Cell::Str(Cow::Borrowed(&self.text[start..end])),
                Packed::Int(i) => Cell::Int(i),
                Packed::Float(f) => Cell::Float(f),
                Packed::Bool(b) => Cell::Bool(b),
                Packed::Timestamp(t) => Cell::Timestamp(t),
                Packed::Date(d) => Cell::Date(d),
            }));
            each(table, &row)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_rows_unpack_to_the_rows_pushed() {
        let rows: Vec<(usize, Row<'_>)> = vec![
            (
                0,
                vec![
                    Cell::Str("Ωmega, \"A.E.\"".into()),
                    Cell::Null,
                    Cell::Int(-7),
                    Cell::Str("".into()),
                ],
            ),
            (
                2,
                vec![
                    Cell::Float(1.5),
                    Cell::Bool(true),
                    Cell::Timestamp(9),
                    Cell::Date(-3),
                ],
            ),
            (0, vec![]),
        ];
        let mut packed = PackedRows::default();
        for (table, row) in &rows {
            packed.push(*table, row);
        }
        let mut back = Vec::new();
        packed
            .try_for_each(|table, row| {
                back.push((table, row.iter().cloned().map(Cell::into_owned).collect()));
                Ok::<(), ()>(())
            })
            .unwrap();
        assert_eq!(back, rows);
    }
}

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

/// A [`Cell`] borrowed where it lies (a packed row's text): `Copy`, so a writer that reads a row
/// cell by cell pays no copy of a `Cow` and no drop per cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellRef<'a> {
    Null,
    Str(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Timestamp(i64),
    Date(i32),
}

impl CellRef<'_> {
    /// The column type it fits; `None` for a null, which fits every column.
    pub fn ty(&self) -> Option<ColumnType> {
        match self {
            CellRef::Null => None,
            CellRef::Str(_) => Some(ColumnType::Utf8),
            CellRef::Int(_) => Some(ColumnType::Int64),
            CellRef::Float(_) => Some(ColumnType::Float64),
            CellRef::Bool(_) => Some(ColumnType::Boolean),
            CellRef::Timestamp(_) => Some(ColumnType::Timestamp),
            CellRef::Date(_) => Some(ColumnType::Date),
        }
    }
}

impl<'a> From<&'a Cell<'_>> for CellRef<'a> {
    fn from(cell: &'a Cell<'_>) -> CellRef<'a> {
        match cell {
            Cell::Null => CellRef::Null,
            Cell::Str(s) => CellRef::Str(s),
            Cell::Int(i) => CellRef::Int(*i),
            Cell::Float(f) => CellRef::Float(*f),
            Cell::Bool(b) => CellRef::Bool(*b),
            Cell::Timestamp(t) => CellRef::Timestamp(*t),
            Cell::Date(d) => CellRef::Date(*d),
        }
    }
}

impl<'a> From<CellRef<'a>> for Cell<'a> {
    fn from(cell: CellRef<'a>) -> Cell<'a> {
        match cell {
            CellRef::Null => Cell::Null,
            CellRef::Str(s) => Cell::Str(Cow::Borrowed(s)),
            CellRef::Int(i) => Cell::Int(i),
            CellRef::Float(f) => Cell::Float(f),
            CellRef::Bool(b) => Cell::Bool(b),
            CellRef::Timestamp(t) => Cell::Timestamp(t),
            CellRef::Date(d) => Cell::Date(d),
        }
    }
}

/// One output row: one cell per schema column, in schema order.
pub type Row<'a> = Vec<Cell<'a>>;

/// Rows packed for the trip from the reading threads to the writer: their text in one string,
/// their cells as ranges into it, each row's cells after a header naming its table — two
/// allocations a record instead of one per text cell, and nothing borrowed from the page the
/// record came from.
#[derive(Debug, Default, Clone)]
pub struct PackedRows {
    text: String,
    cells: Vec<Packed>,
}

#[derive(Debug, Clone, Copy)]
enum Packed {
    /// A row starts: its table, and how many cells follow.
    Row(usize, usize),
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
        }
    }

    /// Empties it, keeping its buffers for the next rows.
    pub fn clear(&mut self) {
        self.text.clear();
        self.cells.clear();
    }

    /// The bytes its buffers hold, used or not.
    pub fn capacity_bytes(&self) -> usize {
        self.text.capacity() + self.cells.capacity() * std::mem::size_of::<Packed>()
    }

    /// (text bytes, cells and row headers) packed so far.
    pub fn size(&self) -> (usize, usize) {
        (self.text.len(), self.cells.len())
    }

    /// Appends one row of `table`.
    pub fn push(&mut self, table: usize, row: &[Cell<'_>]) {
        self.cells.push(Packed::Row(table, row.len()));
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

    /// Its rows, in order, as (table, row).
    pub fn rows(&self) -> impl Iterator<Item = (usize, PackedRow<'_>)> {
        let mut rest = self.cells.as_slice();
        std::iter::from_fn(move || {
            let (&Packed::Row(table, len), after) = rest.split_first()? else {
                // `push` starts every row with its header; should that ever not hold, the rows
                // end there rather than a panic.
                return None;
            };
            let (cells, next) = after.split_at_checked(len)?;
            rest = next;
            let row = PackedRow {
                text: &self.text,
                cells,
            };
            Some((table, row))
        })
    }
}

/// One packed row, read where it lies: its cells come out one at a time, so a writer that
/// appends them to columns (Parquet) never builds the row as a `Vec<Cell>`.
#[derive(Debug, Clone, Copy)]
pub struct PackedRow<'a> {
    text: &'a str,
    cells: &'a [Packed],
}

impl<'a> PackedRow<'a> {
    /// How many cells it has.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether it has no cells.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Its cells, in order, borrowing their text.
    pub fn cells(&self) -> impl Iterator<Item = CellRef<'a>> + use<'a> {
        let text = self.text;
        self.cells.iter().map(move |cell| match *cell {
            // Never inside a row's cells (`rows` takes the headers out).
            Packed::Null | Packed::Row(..) => CellRef::Null,
            Packed::Str(start, end) => CellRef::Str(&text[start..end]),
            Packed::Int(i) => CellRef::Int(i),
            Packed::Float(f) => CellRef::Float(f),
            Packed::Bool(b) => CellRef::Bool(b),
            Packed::Timestamp(t) => CellRef::Timestamp(t),
            Packed::Date(d) => CellRef::Date(d),
        })
    }

    /// Its cells' types ([`CellRef::ty`]), read from the packing alone: a check of the row
    /// against its schema never slices the text.
    pub fn types(&self) -> impl Iterator<Item = Option<ColumnType>> + use<'a> {
        self.cells.iter().map(|cell| match *cell {
            Packed::Null | Packed::Row(..) => None,
            Packed::Str(..) => Some(ColumnType::Utf8),
            Packed::Int(_) => Some(ColumnType::Int64),
            Packed::Float(_) => Some(ColumnType::Float64),
            Packed::Bool(_) => Some(ColumnType::Boolean),
            Packed::Timestamp(_) => Some(ColumnType::Timestamp),
            Packed::Date(_) => Some(ColumnType::Date),
        })
    }

    /// The bytes of its text cells together (they were packed one after another).
    pub fn text_bytes(&self) -> usize {
        let text = |cell: &Packed| match *cell {
            Packed::Str(start, end) => Some((start, end)),
            _ => None,
        };
        let first = self.cells.iter().find_map(text);
        let last = self.cells.iter().rev().find_map(text);
        first
            .zip(last)
            .map_or(0, |((start, _), (_, end))| end - start)
    }
}

/// A packed row on its way to every file its table goes to: Parquet reads it packed
/// ([`RowForWriters::packed`]); the other formats take its cells as a slice
/// ([`RowForWriters::cells`]), unpacked once, by the first of them to ask, for all of them.
pub struct RowForWriters<'s, 'a> {
    packed: PackedRow<'a>,
    /// A row's worth of cells kept by the caller from row to row.
    cells: &'s mut Vec<Cell<'a>>,
    unpacked: bool,
}

impl<'s, 'a> RowForWriters<'s, 'a> {
    /// `packed`, to be unpacked into `scratch` if a writer asks for its cells.
    pub fn new(packed: PackedRow<'a>, scratch: &'s mut Vec<Cell<'a>>) -> Self {
        RowForWriters {
            packed,
            cells: scratch,
            unpacked: false,
        }
    }

    /// The row as it was packed.
    pub fn packed(&self) -> PackedRow<'a> {
        self.packed
    }

    /// Its cells as a slice, unpacked on the first call.
    pub fn cells(&mut self) -> &[Cell<'a>] {
        if !self.unpacked {
            self.cells.clear();
            self.cells.extend(self.packed.cells().map(Cell::from));
            self.unpacked = true;
        }
        self.cells
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
            (1, vec![Cell::Str("one".into()), Cell::Int(1)]),
        ];
        let mut packed = PackedRows::default();
        for (table, row) in &rows {
            packed.push(*table, row);
        }
        let mut back = Vec::new();
        let mut scratch = Vec::new();
        for (table, row) in packed.rows() {
            let mut unpacked = RowForWriters::new(row, &mut scratch).cells().to_vec();
            assert_eq!(unpacked, row.cells().map(Cell::from).collect::<Vec<_>>());
            assert!(unpacked.iter().map(CellRef::from).eq(row.cells()));
            assert_eq!(row.len(), unpacked.len());
            let text: usize = (unpacked.iter())
                .map(|c| if let Cell::Str(s) = c { s.len() } else { 0 })
                .sum();
            assert_eq!(row.text_bytes(), text);
            back.push((table, unpacked.drain(..).map(Cell::into_owned).collect()));
        }
        assert_eq!(back, rows);
    }
}

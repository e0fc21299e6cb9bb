//! Parquet: the declared schema, ZSTD-compressed, written in bounded record batches and row groups.
//!
//! Types: `Utf8` → Utf8, `Int64` → Int64, `Float64` → Float64, `Boolean` → Boolean, `Timestamp` →
//! `Timestamp(Microsecond, "UTC")` (Parquet `TIMESTAMP(MICROS, isAdjustedToUTC=true)`, which
//! DuckDB reads as `TIMESTAMPTZ` and pyarrow as `timestamp[us, tz=UTC]`). Every column is
//! nullable, so the file's schema depends only on the declared schema, never on the data: the
//! same pipeline writes the same schema every night.
//!
//! Memory: rows are appended to one column builder per column; every `batch_rows` rows they
//! become a `RecordBatch` handed to the file's encoding threads ([`lanes`]), which encode and
//! compress its columns into the current row group while the next batch fills; the group is
//! written out once it holds `row_group_rows` rows. So the writer holds at most two batches of
//! raw values (one filling, one being encoded) plus one encoded row group, however many rows
//! the file gets. Both are also capped in bytes (a batch at 1 MiB of text, a row group at 8 MiB
//! in the encoder; files written at once share those), so wide rows do not make memory grow
//! with `batch_rows` or `row_group_rows`; once a group is written out, the allocator is asked to
//! hand back the holes its buffers left ([`crate::allocator`]). The footer is written by
//! [`ParquetWriter::finish`]; a file that was not finished is unreadable, which is why it stays a
//! temporary file until then. A file of zero rows is still valid and carries the schema.
//!
//! Encoding: a column is dictionary-encoded only where its values repeat (a country, a status, a
//! currency), decided from the file's first batch ([`repeats`]): interning values that never come
//! again (ids, e-mails, timestamps) costs the writer a hash per value and ends in Parquet's
//! fallback to plain encoding anyway, once the dictionary outgrows its page.

mod lanes;

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::publish::{self, Sink, StageAt, Staged};
use super::{Finished, LoadError, ParquetOptions, check_row, check_types};
use crate::model::row::{Cell, CellRef, ColumnType, PackedRow, Schema};

use lanes::ColumnLanes;

/// The time zone written on timestamp columns. Cells are UTC instants; saying so lets readers
/// treat them as instants rather than local wall-clock times.
const UTC: &str = "UTC";

/// A batch is handed to the encoder once its text reaches this many bytes, whatever
/// `batch_rows` says. It keeps memory bounded when cells are large, and far below the 2 GiB
/// (i32 offsets) an Arrow string array can hold, past which the builder would panic.
const BATCH_TEXT_BYTES: usize = 64 * 1024 * 1024;

/// A batch is also handed on once its text reaches this many bytes: wide rows (a vendor's 70
/// fields, arrays as JSON) would otherwise hold `batch_rows` × a few KiB of raw text. Files
/// written at once share it, as they share [`ROW_GROUP_MEMORY_BYTES`].
const BATCH_SOFT_TEXT_BYTES: usize = 1024 * 1024;

/// The least text a file's batch may gather before it is handed on, however many files share
/// [`BATCH_SOFT_TEXT_BYTES`]: each batch costs the encoder a pass over every column.
const MIN_BATCH_SOFT_TEXT_BYTES: usize = 256 * 1024;

/// The current row group is closed early once the encoders hold this many bytes (its
/// dictionaries and encoded pages, as of the batch before the last: see [`lanes`]), whatever
/// `row_group_rows` says, so the writer's memory stays flat for wide rows too. Files written at
/// once share it ([`ParquetWriter::share_memory`]).
const ROW_GROUP_MEMORY_BYTES: usize = 8 * 1024 * 1024;

/// The least a file's row group may hold before it is closed early, however many files share
/// [`ROW_GROUP_MEMORY_BYTES`]: smaller row groups compress worse and lengthen the footer.
const MIN_ROW_GROUP_MEMORY_BYTES: usize = 1024 * 1024;

/// The sink under the encoder: bytes pass straight through, except, once `footer` is set, the
/// tail of the file (page indexes and footer), which is held back and corrected by
/// [`FooterFix::release`].
struct FooterFix {
    sink: Sink,
    footer: Option<Vec<u8>>,
    /// The file's leaf columns.
    columns: usize,
}

impl std::io::Write for FooterFix {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.footer {
            Some(held) => {
                held.extend_from_slice(buf);
                Ok(buf.len())
            }
            None => self.sink.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.sink.flush()
    }
}

impl FooterFix {
    /// Writes the held tail, its float column orders made readable, and returns the sink.
    fn release(mut self) -> std::io::Result<Sink> {
        if let Some(mut tail) = self.footer.take() {
            type_defined_float_order(&mut tail, self.columns);
            std::io::Write::write_all(&mut self.sink, &tail)?;
        }
        Ok(self.sink)
    }
}

/// Rewrites, in place, the column order of every FLOAT and DOUBLE column in a file's footer from
/// `IEEE_754_TOTAL_ORDER` to `TYPE_DEFINED_ORDER`; false (nothing changed) unless the footer has
/// the exact shape the writer gives it.
///
/// Why: the writer marks float columns with the newer total order, and Arrow C++ readers
/// (pyarrow, and so the lakes built on it) ignore the min/max statistics of a column order they
/// do not know, so they cannot skip row groups on a float filter. For the finite values a cell
/// may hold (NaN and infinities are never written), both orders give the same min and max.
///
/// The shape: `[…][FileMetaData][u32 length]["PAR1"]`, where the compact-Thrift FileMetaData ends
/// with its last field, `column_orders` (id 7, after `created_by`): a header byte `0x19`, the
/// list header, then one 3-byte union per leaf column — `1C 00 00` for TYPE_DEFINED_ORDER, `2C
/// 00 00` for IEEE_754_TOTAL_ORDER — and the struct's stop byte. Same length either way.
pub(crate) fn type_defined_float_order(tail: &mut [u8], columns: usize) -> bool {
    let n = tail.len();
    if n < 8 || &tail[n - 4..] != b"PAR1" {
        return false;
    }
    let len = u32::from_le_bytes([tail[n - 8], tail[n - 7], tail[n - 6], tail[n - 5]]) as usize;
    let Some(start) = (n - 8).checked_sub(len) else {
        return false;
    };
    let footer = &mut tail[start..n - 8];
    let header = list_header(columns);
    let Some(elements_at) = footer.len().checked_sub(3 * columns + 1) else {
        return false;
    };
    let Some(field_at) = elements_at.checked_sub(header.len() + 1) else {
        return false;
    };
    let (head, elements) = footer.split_at_mut(elements_at);
    let shaped = head[field_at] == 0x19
        && head[field_at + 1..] == header[..]
        && elements.last() == Some(&0)
        && elements[..3 * columns]
            .chunks(3)
            .all(|e| matches!(e, [0x1C | 0x2C | 0x3C, 0, 0]));
    if !shaped {
        return false;
    }
    for element in elements[..3 * columns].chunks_mut(3) {
        if element[0] == 0x2C {
            element[0] = 0x1C;
        }
    }
    true
}

/// A compact-Thrift list header for `count` structs.
fn list_header(count: usize) -> Vec<u8> {
    if count < 15 {
        return vec![((count as u8) << 4) | 0x0C];
    }
    let mut header = vec![0xFC];
    let mut rest = count;
    loop {
        let byte = (rest & 0x7F) as u8;
        rest >>= 7;
        if rest == 0 {
            header.push(byte);
            return header;
        }
        header.push(byte | 0x80);
    }
}

/// A Parquet file being written.
pub struct ParquetWriter {
    // Declared before `staged`: the file is closed before the temporary path is deleted.
    out: Encoder,
    staged: Staged,
    schema: Schema,
    arrow_schema: SchemaRef,
    builders: Vec<ColumnBuilder>,
    batch_rows: usize,
    /// Rows in the builders, not yet handed to `out`.
    pending: usize,
    /// Text bytes in the builders: a batch is also cut at [`BATCH_TEXT_BYTES`].
    pending_text: usize,
    /// The row group is closed once the encoder holds this many bytes.
    row_group_bytes: usize,
    /// A batch is handed on once its text reaches this many bytes.
    batch_text_bytes: usize,
    rows: u64,
}

impl std::fmt::Debug for ParquetWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetWriter")
            .field("final_path", &self.staged.final_path())
            .field("rows", &self.rows)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

/// The encoder under a file: waiting for the first batch, which decides the columns' encodings,
/// then writing, its columns encoded by [`lanes`].
enum Encoder {
    Waiting {
        sink: FooterFix,
        props: parquet::file::properties::WriterPropertiesBuilder,
    },
    Writing(ColumnLanes<FooterFix>),
    /// Only between [`Encoder::writer`]'s taking the waiting parts and its putting the writer back.
    Gone,
}

impl Encoder {
    /// The writer, started on the first call: `first`, the file's first batch (`None` for a file
    /// of no rows), decides which columns are dictionary-encoded.
    fn writer(
        &mut self,
        schema: &SchemaRef,
        first: Option<&RecordBatch>,
    ) -> Result<&mut ColumnLanes<FooterFix>, parquet::errors::ParquetError> {
        if let Encoder::Waiting { .. } = self {
            let Encoder::Waiting { sink, mut props } = std::mem::replace(self, Encoder::Gone)
            else {
                unreachable!("matched just above")
            };
            for (field, column) in schema
                .fields()
                .iter()
                .zip(first.map(|b| b.columns()).unwrap_or_default())
            {
                if !repeats(column) {
                    props = props.set_column_dictionary_enabled(
                        ColumnPath::from(field.name().as_str()),
                        false,
                    );
                }
            }
            // ArrowWriter sets up the file (its Parquet schema, the Arrow schema in its
            // metadata) and hands it over; the lanes encode the row groups.
            let writer = ArrowWriter::try_new(sink, schema.clone(), Some(props.build()))?;
            let (file, factory) = writer.into_serialized_writer()?;
            let lanes = lanes::lanes_for_this_machine();
            *self = Encoder::Writing(ColumnLanes::new(file, factory, schema.clone(), lanes)?);
        }
        match self {
            Encoder::Writing(writer) => Ok(writer),
            _ => Err(encoder_gone()),
        }
    }

    /// The writer, to be finished: started now for a file that got no rows.
    fn into_writer(
        mut self,
        schema: &SchemaRef,
    ) -> Result<ColumnLanes<FooterFix>, parquet::errors::ParquetError> {
        self.writer(schema, None)?;
        match self {
            Encoder::Writing(writer) => Ok(writer),
            _ => Err(encoder_gone()),
        }
    }
}

/// A writer whose encoder failed to start (an error already reported) is used again.
fn encoder_gone() -> parquet::errors::ParquetError {
    parquet::errors::ParquetError::General("the Parquet encoder failed to start before".into())
}

/// Whether a column's values repeat enough for a dictionary to pay: at most half of its values
/// (nulls aside) are distinct. A column of nulls only, or of booleans (which Parquet never
/// dictionary-encodes), says yes: nothing is interned either way.
fn repeats(column: &ArrayRef) -> bool {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Date32Type, Float64Type, Int64Type, TimestampMicrosecondType};
    use std::collections::HashSet;
    fn distinct<T: std::hash::Hash + Eq>(
        values: impl Iterator<Item = Option<T>>,
    ) -> (usize, usize) {
        let mut seen = HashSet::new();
        let mut present = 0;
        for value in values.flatten() {
            present += 1;
            seen.insert(value);
        }
        (seen.len(), present)
    }
    let (distinct, present) = match column.data_type() {
        DataType::Utf8 => distinct(column.as_string::<i32>().iter()),
        DataType::Int64 => distinct(column.as_primitive::<Int64Type>().iter()),
        DataType::Float64 => distinct(
            column
                .as_primitive::<Float64Type>()
                .iter()
                .map(|v| v.map(f64::to_bits)),
        ),
        DataType::Timestamp(..) => {
            distinct(column.as_primitive::<TimestampMicrosecondType>().iter())
        }
        DataType::Date32 => distinct(column.as_primitive::<Date32Type>().iter()),
        _ => return true,
    };
    distinct * 2 <= present
}

/// One column's values for the current batch. A closed set, so an enum rather than
/// `Box<dyn ArrayBuilder>` and downcasts.
enum ColumnBuilder {
    Utf8(StringBuilder),
    Int64(Int64Builder),
    Float64(Float64Builder),
    Boolean(BooleanBuilder),
    Timestamp(TimestampMicrosecondBuilder),
    Date(Date32Builder),
}

impl ColumnBuilder {
    fn new(ty: ColumnType, capacity: usize) -> Self {
        match ty {
            ColumnType::Utf8 => ColumnBuilder::Utf8(StringBuilder::with_capacity(capacity, 0)),
            ColumnType::Int64 => ColumnBuilder::Int64(Int64Builder::with_capacity(capacity)),
            ColumnType::Float64 => ColumnBuilder::Float64(Float64Builder::with_capacity(capacity)),
            ColumnType::Boolean => ColumnBuilder::Boolean(BooleanBuilder::with_capacity(capacity)),
            ColumnType::Timestamp => ColumnBuilder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone(UTC),
            ),
            ColumnType::Date => ColumnBuilder::Date(Date32Builder::with_capacity(capacity)),
        }
    }

    /// Appends a cell already checked against the column type by [`check_types`]; a mismatch
    /// here is unreachable, and is reported rather than panicking all the same.
    #[inline]
    fn append(&mut self, cell: CellRef) -> bool {
        match (self, cell) {
            (ColumnBuilder::Utf8(b), CellRef::Null) => b.append_null(),
            (ColumnBuilder::Int64(b), CellRef::Null) => b.append_null(),
            (ColumnBuilder::Float64(b), CellRef::Null) => b.append_null(),
            (ColumnBuilder::Boolean(b), CellRef::Null) => b.append_null(),
            (ColumnBuilder::Timestamp(b), CellRef::Null) => b.append_null(),
            (ColumnBuilder::Date(b), CellRef::Null) => b.append_null(),
            (ColumnBuilder::Utf8(b), CellRef::Str(s)) => b.append_value(s),
            (ColumnBuilder::Int64(b), CellRef::Int(i)) => b.append_value(i),
            (ColumnBuilder::Float64(b), CellRef::Float(f)) => b.append_value(f),
            (ColumnBuilder::Boolean(b), CellRef::Bool(v)) => b.append_value(v),
            (ColumnBuilder::Timestamp(b), CellRef::Timestamp(t)) => b.append_value(t),
            (ColumnBuilder::Date(b), CellRef::Date(d)) => b.append_value(d),
            _ => return false,
        }
        true
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Utf8(b) => Arc::new(b.finish()),
            ColumnBuilder::Int64(b) => Arc::new(b.finish()),
            ColumnBuilder::Float64(b) => Arc::new(b.finish()),
            ColumnBuilder::Boolean(b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(b) => Arc::new(b.finish()),
            ColumnBuilder::Date(b) => Arc::new(b.finish()),
        }
    }
}

/// The Arrow schema a [`Schema`] is written with.
pub fn to_arrow_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .iter()
        .map(|c| {
            let ty = match c.ty {
                ColumnType::Utf8 => DataType::Utf8,
                ColumnType::Int64 => DataType::Int64,
                ColumnType::Float64 => DataType::Float64,
                ColumnType::Boolean => DataType::Boolean,
                ColumnType::Timestamp => {
                    DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
                }
                ColumnType::Date => DataType::Date32,
            };
            Field::new(&c.name, ty, true)
        })
        .collect();
    Arc::new(arrow_schema::Schema::new(fields))
}

impl ParquetWriter {
    pub(crate) fn create(
        final_path: &Path,
        options: &ParquetOptions,
        schema: Schema,
        at: StageAt<'_>,
    ) -> Result<ParquetWriter, LoadError> {
        let invalid = |reason: String| LoadError::InvalidOption {
            path: final_path.to_path_buf(),
            format: "parquet",
            reason,
        };
        // Checked here because the parquet crate asserts (panics) on a zero row-group size.
        if options.row_group_rows == 0 {
            return Err(invalid("row_group_rows must be at least 1".into()));
        }
        if options.batch_rows == 0 {
            return Err(invalid("batch_rows must be at least 1".into()));
        }
        let level = ZstdLevel::try_new(options.zstd_level).map_err(|_| {
            invalid(format!(
                "zstd_level {} is out of range; use 1 to 22",
                options.zstd_level
            ))
        })?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_row_count(Some(options.row_group_rows))
            // Min/max per row group, not per page: readers prune on row groups, and a page index
            // would be held in memory for the whole file until the footer is written. Min/max of
            // long text (an address, a JSON array) would be kept whole per row group: truncated,
            // the footer stays small however many row groups a large export has.
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_statistics_truncate_length(Some(64))
            // The `{app} version {semver}` shape is the one parquet-mr and others parse.
            .set_created_by(format!(
                "customer-export version {}",
                env!("CARGO_PKG_VERSION")
            ));

        let arrow_schema = to_arrow_schema(&schema);
        let (sink, staged) = publish::stage(final_path, at)?;
        let sink = FooterFix {
            sink,
            footer: None,
            columns: schema.len(),
        };
        let out = Encoder::Waiting { sink, props };
        // Builders never need more than one batch, and a huge batch_rows must not reserve
        // memory up front.
        let capacity = options.batch_rows.min(8192);
        Ok(ParquetWriter {
            out,
            staged,
            builders: schema
                .iter()
                .map(|c| ColumnBuilder::new(c.ty, capacity))
                .collect(),
            schema,
            arrow_schema,
            batch_rows: options.batch_rows,
            pending: 0,
            pending_text: 0,
            row_group_bytes: ROW_GROUP_MEMORY_BYTES,
            batch_text_bytes: BATCH_SOFT_TEXT_BYTES,
            rows: 0,
        })
    }

    /// Shares the memory of batches and row groups with the other files of a run written at the
    /// same time, `files` in all (this one included): each hands a batch on at its part of
    /// [`BATCH_SOFT_TEXT_BYTES`] (at least [`MIN_BATCH_SOFT_TEXT_BYTES`]) and closes its row
    /// group at its part of [`ROW_GROUP_MEMORY_BYTES`] (at least [`MIN_ROW_GROUP_MEMORY_BYTES`]).
    /// A part of the pipeline, not of the moment: two runs of one pipeline cut their batches and
    /// row groups alike.
    pub(crate) fn share_memory(&mut self, files: usize) {
        let files = files.max(1);
        self.batch_text_bytes = (BATCH_SOFT_TEXT_BYTES / files).max(MIN_BATCH_SOFT_TEXT_BYTES);
        self.row_group_bytes = (ROW_GROUP_MEMORY_BYTES / files).max(MIN_ROW_GROUP_MEMORY_BYTES);
    }

    pub(crate) fn write_row(&mut self, row: &[Cell]) -> Result<(), LoadError> {
        check_row(self.staged.final_path(), &self.schema, row)?;
        let text = (row.iter())
            .map(|c| if let Cell::Str(s) = c { s.len() } else { 0 })
            .sum();
        self.append(row.iter().map(CellRef::from), text)
    }

    /// [`ParquetWriter::write_row`] for a packed row: its cells go to the columns as they are
    /// read, and its text's size is known without adding it up.
    pub(crate) fn write_packed(&mut self, row: PackedRow<'_>) -> Result<(), LoadError> {
        check_types(
            self.staged.final_path(),
            &self.schema,
            row.len(),
            row.types(),
        )?;
        self.append(row.cells(), row.text_bytes())
    }

    /// Appends a row checked against the schema, whose text cells hold `text` bytes.
    fn append<'c>(
        &mut self,
        row: impl Iterator<Item = CellRef<'c>>,
        text: usize,
    ) -> Result<(), LoadError> {
        if text > BATCH_TEXT_BYTES {
            return Err(LoadError::RowTooLarge {
                path: self.staged.final_path().to_path_buf(),
                bytes: text,
                limit: BATCH_TEXT_BYTES,
            });
        }
        if self.pending_text + text > BATCH_TEXT_BYTES {
            self.flush_batch()?;
        }
        for ((builder, cell), column) in self.builders.iter_mut().zip(row).zip(self.schema.iter()) {
            if !builder.append(cell) {
                // The check makes this unreachable; a bug must still not panic on data.
                return Err(LoadError::TypeMismatch {
                    path: self.staged.final_path().to_path_buf(),
                    column: column.name.clone(),
                    expected: super::type_name(column.ty),
                    found: super::cell_name(cell.ty()),
                });
            }
        }
        self.pending += 1;
        self.pending_text += text;
        self.rows += 1;
        if self.pending >= self.batch_rows || self.pending_text >= self.batch_text_bytes {
            self.flush_batch()?;
        }
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<(), LoadError> {
        if self.pending == 0 {
            return Ok(());
        }
        let columns: Vec<ArrayRef> = self.builders.iter_mut().map(|b| b.finish()).collect();
        self.pending = 0;
        self.pending_text = 0;
        let batch = RecordBatch::try_new(self.arrow_schema.clone(), columns).map_err(|source| {
            LoadError::Arrow {
                path: self.staged.final_path().to_path_buf(),
                source,
            }
        })?;
        let parquet_error = |source| LoadError::Parquet {
            path: self.staged.final_path().to_path_buf(),
            source,
        };
        let out = self
            .out
            .writer(&self.arrow_schema, Some(&batch))
            .map_err(parquet_error)?;
        let closed = out
            .write(&batch, self.row_group_bytes)
            .map_err(parquet_error)?;
        if closed > 0 {
            // A row group's buffers, thousands of blocks, were just freed.
            crate::allocator::hand_back_free_memory();
        }
        Ok(())
    }

    pub(crate) fn rows(&self) -> u64 {
        self.rows
    }

    pub(crate) fn final_path(&self) -> &Path {
        self.staged.final_path()
    }

    pub(crate) fn temp_path(&self) -> &Path {
        self.staged.temp_path()
    }

    pub(crate) fn finish(mut self) -> Result<Finished, LoadError> {
        self.flush_batch()?;
        let ParquetWriter {
            out,
            staged,
            schema,
            arrow_schema,
            rows,
            ..
        } = self;
        let parquet_error = |source| LoadError::Parquet {
            path: staged.final_path().to_path_buf(),
            source,
        };
        let out = out.into_writer(&arrow_schema).map_err(parquet_error)?;
        // The last row group goes out as is; what follows it (page indexes, the footer) is held
        // back to be corrected before it is written.
        let mut out = out.finish().map_err(parquet_error)?;
        out.inner_mut().footer = Some(Vec::new());
        let fix = out.into_inner().map_err(parquet_error)?;
        let sink = fix.release().map_err(|e| staged.write_error(e))?;
        staged.seal(sink, "parquet", rows, &schema)
    }
}

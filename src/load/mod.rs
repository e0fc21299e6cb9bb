//! Load: typed rows become CSV, NDJSON, Parquet or XLSX files, published atomically.
//!
//! A [`Writer`] writes to a temporary file beside its final path (`.{file_name}.{random}.cetmp`,
//! in the same directory so the final rename is atomic). [`Writer::finish`] flushes, fsyncs and
//! closes the file (the Parquet footer is written here) and hands back a [`Finished`] file that is
//! complete but still invisible; [`Finished::publish`] renames it into place. Until then the final
//! path keeps whatever it held before (the previous night's file), and dropping a `Writer` or a
//! `Finished` deletes the temporary file. So a reader never sees a half-written file, and a failed
//! run leaves the previous outputs untouched.
//!
//! Every row is checked against the schema before anything of it is written: a row with the wrong
//! number of cells or a cell of the wrong type is rejected with a [`LoadError`] naming the column,
//! and the writer stays usable, so the caller may set the row aside and go on. Any other error
//! (I/O, encoding) leaves the writer in an unknown state: drop it.
//!
//! Memory does not grow with the number of rows: CSV and NDJSON stream through a buffer, Parquet
//! holds at most one record batch of builders plus one encoded row group, XLSX one row (the rest
//! waits as XML in a temporary file until [`Writer::finish`] zips it into the output).
//!
//! The byte count and SHA-256 of each file are computed while it is written (see
//! [`publish::HashingWriter`]), never by reading the file back.

mod csv;
pub mod local;
pub mod manifest;
mod ndjson;
mod parquet;
pub mod publish;
pub mod root;
pub mod store;
mod xlsx;

use std::io;
use std::path::{Path, PathBuf};

use crate::model::row::{Cell, CellRef, Column, ColumnType, RowForWriters, Schema};

pub use self::csv::CsvWriter;
pub use self::manifest::{Manifest, RunStatus, SourceStatus, SourceSummary, write_manifest};
pub use self::ndjson::NdjsonWriter;
pub use self::parquet::{ParquetWriter, to_arrow_schema};
pub use self::publish::Finished;
use self::publish::StageAt;
pub use self::root::{PublishError, Root, RootOptions};
pub use self::store::Location;
pub use self::xlsx::XlsxWriter;

/// CSV options.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvOptions {
    /// Prefix text cells that a spreadsheet would run as a formula with `'` (default true).
    /// Turn off for machine consumers that need the text byte for byte.
    pub spreadsheet_safe: bool,
    /// Start the file with a UTF-8 byte order mark, which older Excel versions need to detect
    /// UTF-8 (default false).
    pub bom: bool,
    /// The field delimiter (default `b','`).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            spreadsheet_safe: true,
            bom: false,
            delimiter: b',',
        }
    }
}

/// NDJSON options: one JSON object per line — a row (keys in schema order, `null` for a null
/// cell, timestamps as RFC 3339 strings), or with `nested` each vendor record as it came.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NdjsonOptions {
    /// Write each vendor record as it came (nested) instead of the flattened rows.
    pub nested: bool,
}

/// Parquet options.
#[derive(Debug, Clone, PartialEq)]
pub struct ParquetOptions {
    /// Maximum rows per row group (default 65 536). The writer holds one encoded row group in
    /// memory, so this bounds memory; smaller groups also let readers skip more.
    pub row_group_rows: usize,
    /// Rows buffered in column builders before they are handed to the encoder (default 8192).
    pub batch_rows: usize,
    /// ZSTD compression level, 1..=22 (default [`DEFAULT_ZSTD_LEVEL`]).
    pub zstd_level: i32,
}

/// ZSTD level 1, Arrow's own default: on vendor data it writes files a few percent larger than
/// level 3 for markedly less of the writer's time (bench/README.md).
pub const DEFAULT_ZSTD_LEVEL: i32 = 1;

impl Default for ParquetOptions {
    fn default() -> Self {
        ParquetOptions {
            row_group_rows: 65_536,
            batch_rows: 8192,
            zstd_level: DEFAULT_ZSTD_LEVEL,
        }
    }
}

/// XLSX options. A pipeline file gives none: the run names the sheet after the table each
/// file holds ([`Format::for_table`]).
#[derive(Debug, Clone, PartialEq)]
pub struct XlsxOptions {
    /// The worksheet's name (default `customers`), made one Excel accepts (31 characters, no
    /// `[]:*?/\`); sheets past Excel's row limit add ` (2)`, ` (3)`, ….
    pub sheet: String,
}

impl Default for XlsxOptions {
    fn default() -> Self {
        XlsxOptions {
            sheet: "customers".to_string(),
        }
    }
}

/// An output format with its options.
#[derive(Debug, Clone, PartialEq)]
pub enum Format {
    Csv(CsvOptions),
    Ndjson(NdjsonOptions),
    Parquet(ParquetOptions),
    Xlsx(XlsxOptions),
}

impl Format {
    /// The format's name as written in pipeline files and manifests.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Csv(_) => "csv",
            Format::Ndjson(_) => "ndjson",
            Format::Parquet(_) => "parquet",
            Format::Xlsx(_) => "xlsx",
        }
    }

    /// The format as a file of table `table` takes it: a spreadsheet names its sheet after the
    /// table; the other formats do not name it.
    pub fn for_table(&self, table: &str) -> Format {
        match self {
            Format::Xlsx(_) => Format::Xlsx(XlsxOptions {
                sheet: table.to_string(),
            }),
            other => other.clone(),
        }
    }

    /// The usual file extension, without the dot.
    pub fn extension(&self) -> &'static str {
        self.name()
    }
}

/// What was written: the manifest's record of one output file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutputSummary {
    /// The final path (where the file is, or will be once published).
    pub path: PathBuf,
    pub format: &'static str,
    pub rows: u64,
    /// The file's size in bytes.
    pub bytes: u64,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
    pub schema: Vec<Column>,
    /// Text cells cut to fit a spreadsheet cell (XLSX: 32,767 characters); absent for formats
    /// that never cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated_cells: Option<u64>,
}

/// An output file being written to its temporary path.
///
/// Dropping it without [`Writer::finish`] deletes the temporary file.
#[derive(Debug)]
pub enum Writer {
    Csv(CsvWriter),
    Ndjson(NdjsonWriter),
    Parquet(ParquetWriter),
    /// Boxed: a workbook and its cell formats are large, and the enum is as large as its largest.
    Xlsx(Box<XlsxWriter>),
}

impl Writer {
    /// Starts a file that will be published at `final_path`, creating missing parent directories.
    /// Nothing appears at `final_path` until [`Finished::publish`].
    pub fn create(final_path: &Path, format: &Format, schema: Schema) -> Result<Writer, LoadError> {
        Writer::create_at(final_path, format, schema, StageAt::Beside(None))
    }

    /// [`Writer::create`] staged `at` a tagged temporary file or an upload.
    pub(crate) fn create_at(
        final_path: &Path,
        format: &Format,
        schema: Schema,
        at: StageAt<'_>,
    ) -> Result<Writer, LoadError> {
        if schema.is_empty() {
            return Err(LoadError::EmptySchema {
                path: final_path.to_path_buf(),
            });
        }
        Ok(match format {
            Format::Csv(options) => {
                Writer::Csv(CsvWriter::create(final_path, options, schema, at)?)
            }
            Format::Ndjson(options) => {
                Writer::Ndjson(NdjsonWriter::create(final_path, options, schema, at)?)
            }
            Format::Parquet(options) => {
                Writer::Parquet(ParquetWriter::create(final_path, options, schema, at)?)
            }
            Format::Xlsx(options) => Writer::Xlsx(Box::new(XlsxWriter::create(
                final_path, options, schema, at,
            )?)),
        })
    }

    /// Writes one row: one cell per schema column, each `Null` or of the column's type.
    pub fn write_row(&mut self, row: &[Cell]) -> Result<(), LoadError> {
        match self {
            Writer::Csv(w) => w.write_row(row),
            Writer::Ndjson(w) => w.write_row(row),
            Writer::Parquet(w) => w.write_row(row),
            Writer::Xlsx(w) => w.write_row(row),
        }
    }

    /// Writes one packed row, as [`Writer::write_row`] does. Parquet appends its cells to the
    /// columns where they lie; the other formats take them as a slice, unpacked once for all.
    pub fn write_packed(&mut self, row: &mut RowForWriters<'_, '_>) -> Result<(), LoadError> {
        match self {
            Writer::Parquet(w) => w.write_packed(row.packed()),
            other => other.write_row(row.cells()),
        }
    }

    /// Writes one row on the sheet named `sheet`, in a format with sheets (XLSX: the sheet starts,
    /// with its header, at its first row); a format of one table writes it as
    /// [`Writer::write_row`] does.
    pub fn write_row_on(&mut self, sheet: &str, row: &[Cell]) -> Result<(), LoadError> {
        match self {
            Writer::Xlsx(w) => w.write_row_on(sheet, row),
            other => other.write_row(row),
        }
    }

    /// Shares the memory of a Parquet file's batches and row groups with the other Parquet files
    /// of a run, `files` in all; other formats hold neither.
    pub fn share_memory(&mut self, files: usize) {
        if let Writer::Parquet(w) = self {
            w.share_memory(files);
        }
    }

    /// Writes a raw JSON object as one line (the nested mode). NDJSON only: the other formats
    /// have a fixed schema, so they refuse with [`LoadError::JsonNotSupported`].
    pub fn write_json(&mut self, value: &serde_json::Value) -> Result<(), LoadError> {
        match self {
            Writer::Ndjson(w) => w.write_json(value),
            Writer::Csv(w) => Err(LoadError::JsonNotSupported {
                path: w.final_path().to_path_buf(),
                format: "csv",
            }),
            Writer::Parquet(w) => Err(LoadError::JsonNotSupported {
                path: w.final_path().to_path_buf(),
                format: "parquet",
            }),
            Writer::Xlsx(w) => Err(LoadError::JsonNotSupported {
                path: w.final_path().to_path_buf(),
                format: "xlsx",
            }),
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        match self {
            Writer::Csv(w) => w.rows(),
            Writer::Ndjson(w) => w.rows(),
            Writer::Parquet(w) => w.rows(),
            Writer::Xlsx(w) => w.rows(),
        }
    }

    /// Where the file is being written.
    pub fn temp_path(&self) -> &Path {
        match self {
            Writer::Csv(w) => w.temp_path(),
            Writer::Ndjson(w) => w.temp_path(),
            Writer::Parquet(w) => w.temp_path(),
            Writer::Xlsx(w) => w.temp_path(),
        }
    }

    /// The path the file will be published at.
    pub fn final_path(&self) -> &Path {
        match self {
            Writer::Csv(w) => w.final_path(),
            Writer::Ndjson(w) => w.final_path(),
            Writer::Parquet(w) => w.final_path(),
            Writer::Xlsx(w) => w.final_path(),
        }
    }

    /// Flushes, fsyncs and closes the file. The result is complete but not yet visible: call
    /// [`Finished::publish`] to move it into place.
    pub fn finish(self) -> Result<Finished, LoadError> {
        match self {
            Writer::Csv(w) => w.finish(),
            Writer::Ndjson(w) => w.finish(),
            Writer::Parquet(w) => w.finish(),
            Writer::Xlsx(w) => (*w).finish(),
        }
    }
}

/// Why a file could not be written or published. Each message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "cannot create directory {}: {source}; check the parent directory is writable or pass --output-dir",
        dir.display()
    )]
    CreateDir { dir: PathBuf, source: io::Error },

    #[error(
        "cannot create {}: {source}; check the directory is writable or pass --output-dir",
        path.display()
    )]
    Create { path: PathBuf, source: io::Error },

    #[error("cannot write {}: {source}; check free disk space and that the file system is writable", path.display())]
    Write { path: PathBuf, source: io::Error },

    #[error("cannot write {}: {source}; check free disk space and that the file system is writable", path.display())]
    Csv { path: PathBuf, source: ::csv::Error },

    #[error("cannot write Parquet file {}: {source}", path.display())]
    Parquet {
        path: PathBuf,
        source: ::parquet::errors::ParquetError,
    },

    #[error("cannot build a Parquet batch for {}: {source}", path.display())]
    Arrow {
        path: PathBuf,
        source: arrow_schema::ArrowError,
    },

    #[error("cannot {action}: {detail}")]
    Store { action: String, detail: String },

    #[error(
        "cannot write the spreadsheet {}: {detail}; check free disk space in its folder (for object storage, in the temporary folder, TMPDIR)",
        path.display()
    )]
    Xlsx { path: PathBuf, detail: String },

    #[error(
        "cannot keep the later sources' rows of {} in the temporary folder until their turn: {source}; make room there, set TMPDIR to a folder with room, or run the sources one at a time (`sources_at_once: 1`)",
        path.display()
    )]
    Spill { path: PathBuf, source: io::Error },

    #[error("cannot write JSON to {}: {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },

    #[error(
        "cannot move the finished file into place at {}: {source}; check the directory is writable and the path is not a directory",
        path.display()
    )]
    Publish { path: PathBuf, source: io::Error },

    #[error("invalid output path {}: it must name a file", path.display())]
    InvalidPath { path: PathBuf },

    #[error(
        "{} is outside the output root {}; outputs stay under the root",
        path.display(),
        root.display()
    )]
    OutsideRoot { path: PathBuf, root: PathBuf },

    #[error(
        "{} is a symbolic link under the output root {}: it could lead anywhere, so outputs do not go through it; replace it with a folder, or pass --follow-symlinks if it is linked on purpose",
        link.display(),
        root.display()
    )]
    SymlinkUnderRoot { link: PathBuf, root: PathBuf },

    #[error("two files of this run would be published at {}; give each output its own path", path.display())]
    Collision { path: PathBuf },

    #[error(
        "a folder is in the way at {}, where a file is to be published; move it or change the output's path",
        path.display()
    )]
    FolderInTheWay { path: PathBuf },

    #[error(
        "the finished file for {} is gone from {} (did another process delete it?)",
        path.display(),
        temp.display()
    )]
    TempGone { path: PathBuf, temp: PathBuf },

    #[error(
        "another run holds the output root {} ({holder}); wait for it to end, or pass --wait-lock to queue behind it",
        root.display()
    )]
    Locked { root: PathBuf, holder: String },

    #[error("cannot write the output root's journal {}: {source}", path.display())]
    Journal { path: PathBuf, source: io::Error },

    #[error("invalid {format} option for {}: {reason}", path.display())]
    InvalidOption {
        path: PathBuf,
        format: &'static str,
        reason: String,
    },

    #[error("cannot write {}: the schema has no columns; check the field mapping", path.display())]
    EmptySchema { path: PathBuf },

    #[error(
        "cannot write {}: a row has {found} cells but the schema has {expected} columns; this is a bug in the transform stage",
        path.display()
    )]
    RowLength {
        path: PathBuf,
        expected: usize,
        found: usize,
    },

    #[error(
        "cannot write {}: column `{column}` is declared {expected} but a row holds {found}; fix the field mapping or the column's type",
        path.display()
    )]
    TypeMismatch {
        path: PathBuf,
        column: String,
        expected: &'static str,
        found: &'static str,
    },

    #[error(
        "cannot write {}: column `{column}` holds the timestamp {micros} µs, outside the years -9999..=9999 that RFC 3339 can show",
        path.display()
    )]
    TimestampOutOfRange {
        path: PathBuf,
        column: String,
        micros: i64,
    },

    #[error(
        "cannot write {}: column `{column}` holds the date {days} days from 1970-01-01, outside the years -9999..=9999 that ISO 8601 can show",
        path.display()
    )]
    DateOutOfRange {
        path: PathBuf,
        column: String,
        days: i32,
    },

    #[error(
        "cannot write {}: a row holds {bytes} bytes of text, more than the {limit} a Parquet batch takes; check the field mapping picks the intended fields",
        path.display()
    )]
    RowTooLarge {
        path: PathBuf,
        bytes: usize,
        limit: usize,
    },

    #[error(
        "cannot write a raw JSON record to {} ({format}): only NDJSON takes nested records; use `format: ndjson` or flatten the arrays",
        path.display()
    )]
    JsonNotSupported { path: PathBuf, format: &'static str },

    #[error("cannot write a raw JSON record to {}: it is {found}, not an object", path.display())]
    JsonNotObject { path: PathBuf, found: &'static str },
}

fn type_name(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Utf8 => "utf8",
        ColumnType::Int64 => "int64",
        ColumnType::Float64 => "float64",
        ColumnType::Boolean => "boolean",
        ColumnType::Timestamp => "timestamp",
        ColumnType::Date => "date",
    }
}

/// How an error names what a cell held: its type, `None` for a null.
fn cell_name(ty: Option<ColumnType>) -> &'static str {
    match ty {
        None => "null",
        Some(ColumnType::Utf8) => "a string",
        Some(ColumnType::Int64) => "an integer",
        Some(ColumnType::Float64) => "a float",
        Some(ColumnType::Boolean) => "a boolean",
        Some(ColumnType::Timestamp) => "a timestamp",
        Some(ColumnType::Date) => "a date",
    }
}

/// Checks a row against the schema before any of it is written, so a bad row never leaves a
/// partial record (or mismatched Parquet column builders) behind. No coercion: the transform
/// stage owns types, and a silent Int→Float here would hide its bugs.
fn check_row(path: &Path, schema: &[Column], row: &[Cell]) -> Result<(), LoadError> {
    check_types(
        path,
        schema,
        row.len(),
        row.iter().map(|c| CellRef::from(c).ty()),
    )
}

/// [`check_row`] for a row of `len` cells given by their types (`None` for a null).
fn check_types(
    path: &Path,
    schema: &[Column],
    len: usize,
    types: impl Iterator<Item = Option<ColumnType>>,
) -> Result<(), LoadError> {
    if len != schema.len() {
        return Err(LoadError::RowLength {
            path: path.to_path_buf(),
            expected: schema.len(),
            found: len,
        });
    }
    for (column, ty) in schema.iter().zip(types) {
        if ty.is_some_and(|ty| ty != column.ty) {
            return Err(LoadError::TypeMismatch {
                path: path.to_path_buf(),
                column: column.name.clone(),
                expected: type_name(column.ty),
                found: cell_name(ty),
            });
        }
    }
    Ok(())
}

/// Renders a timestamp as RFC 3339 in UTC: `2025-08-27T12:57:22Z`, or with exactly six fractional
/// digits (`2025-08-27T12:57:22.123400Z`) when the microseconds are not zero. A fixed width keeps
/// the text sortable and says the precision plainly.
fn rfc3339(path: &Path, column: &Column, micros: i64) -> Result<String, LoadError> {
    timestamp_text(micros).ok_or_else(|| LoadError::TimestampOutOfRange {
        path: path.to_path_buf(),
        column: column.name.clone(),
        micros,
    })
}

/// A date as ISO 8601 `YYYY-MM-DD`.
fn iso_date(path: &Path, column: &Column, days: i32) -> Result<String, LoadError> {
    date_text(days).ok_or_else(|| LoadError::DateOutOfRange {
        path: path.to_path_buf(),
        column: column.name.clone(),
        days,
    })
}

/// Microseconds since the epoch as the text writers write (see [`rfc3339`]); `None` outside
/// the range a timestamp can show.
pub fn timestamp_text(micros: i64) -> Option<String> {
    let ts = jiff::Timestamp::from_microsecond(micros).ok()?;
    Some(if micros.rem_euclid(1_000_000) == 0 {
        format!("{ts:.0}")
    } else {
        format!("{ts:.6}")
    })
}

/// Days since 1970-01-01 as `YYYY-MM-DD`; `None` outside the range a date can show.
pub fn date_text(days: i32) -> Option<String> {
    // `try_days`, not `days`: the latter panics past ±7,304,484 days.
    jiff::Span::new()
        .try_days(i64::from(days))
        .and_then(|span| jiff::civil::date(1970, 1, 1).checked_add(span))
        .map(|date| date.to_string())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pipeline runs writers on blocking threads and wraps errors with anyhow.
    #[test]
    fn writers_and_errors_cross_threads() {
        fn send<T: Send + 'static>() {}
        fn send_sync<T: Send + Sync + 'static>() {}
        send::<Writer>();
        send::<Finished>();
        send_sync::<LoadError>();
        send_sync::<OutputSummary>();
    }

    #[test]
    fn timestamps_render_as_rfc3339() {
        let col = Column::new("t", ColumnType::Timestamp);
        let p = Path::new("x");
        assert_eq!(
            rfc3339(p, &col, 1_756_299_442_000_000).unwrap(),
            "2025-08-27T12:57:22Z"
        );
        assert_eq!(
            rfc3339(p, &col, 1_756_299_442_123_400).unwrap(),
            "2025-08-27T12:57:22.123400Z"
        );
        assert_eq!(rfc3339(p, &col, -1).unwrap(), "1969-12-31T23:59:59.999999Z");
        assert!(matches!(
            rfc3339(p, &col, i64::MAX),
            Err(LoadError::TimestampOutOfRange { .. })
        ));
    }
}

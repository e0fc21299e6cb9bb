//! What `diff` compares: an export — a `manifest.json`, the folder holding one, or one Parquet or
//! CSV file, on this machine or in object storage ([`super::remote`] downloads it) — read as one
//! table of text cells. A manifest's customer tables are read file after file (one per vendor,
//! say) as one table whose columns are the union of theirs; a cell is `None` where a file lacks
//! the column or holds a null.
//!
//! Cells are compared as text, rendered the same way for both sides: a Parquet integer as its
//! digits, a timestamp as RFC 3339 in UTC, a date as `YYYY-MM-DD`. An empty CSV cell is a null
//! (the CSV writer writes both the same).

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::DiffError;
use crate::load::{self, Location};

/// One side of a diff: its files, and the columns across them.
#[derive(Debug)]
pub struct Export {
    /// What the user named, for messages.
    pub name: String,
    pub files: Vec<TableFile>,
    /// Every column of every file, in first-seen order.
    pub columns: Vec<String>,
    /// The downloaded copies of an export in object storage: the files are read from here, and
    /// deleted with the export.
    _copies: Option<tempfile::TempDir>,
}

/// One file of an export.
#[derive(Debug)]
pub struct TableFile {
    /// Where it is read: the file, or its downloaded copy.
    pub path: PathBuf,
    /// What messages call it: its path, or its URL.
    pub shown: String,
    pub kind: FileKind,
    pub columns: Vec<String>,
}

/// A file to read, before its columns are known.
#[derive(Debug)]
pub struct Located {
    pub path: PathBuf,
    pub shown: String,
    pub kind: FileKind,
}

impl Located {
    /// A file on this machine, called by its path.
    fn local(path: PathBuf, kind: FileKind) -> Located {
        let shown = path.display().to_string();
        Located { path, shown, kind }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Parquet,
    Csv,
}

impl Export {
    /// Opens what `given` names: a manifest, a folder with `manifest.json`, or a file — a local
    /// path, or a URL in object storage (whose objects are downloaded first).
    pub fn open(given: &str) -> Result<Export, DiffError> {
        match Location::parse(given).map_err(DiffError::Usage)? {
            Location::Local(path) => Export::open_local(given, &path),
            Location::Store(url) => {
                let (copies, files) = super::remote::download(&url)?;
                Export::of(given, files, Some(copies))
            }
        }
    }

    fn open_local(given: &str, path: &Path) -> Result<Export, DiffError> {
        if !path.exists() {
            // As a missing manifest is: what the user named is not there (exit 2, not 1).
            return Err(DiffError::Usage(format!(
                "{given}: no such file or folder; name a manifest.json, a folder holding one, or a .parquet or .csv file"
            )));
        }
        let manifest = if path.is_dir() {
            path.join("manifest.json")
        } else {
            path.to_path_buf()
        };
        let files = match kind_of(&manifest) {
            Some(kind) => vec![Located::local(manifest.clone(), kind)],
            None if manifest.file_name().is_some_and(|n| n == "manifest.json") => {
                local_manifest_tables(&manifest)?
            }
            None => {
                return Err(DiffError::Usage(format!(
                    "{given}: expected a manifest.json, a folder holding one, or a .parquet or .csv file"
                )));
            }
        };
        Export::of(given, files, None)
    }

    fn of(
        name: &str,
        files: Vec<Located>,
        copies: Option<tempfile::TempDir>,
    ) -> Result<Export, DiffError> {
        let mut export = Export {
            name: name.to_string(),
            files: Vec::new(),
            columns: Vec::new(),
            _copies: copies,
        };
        for Located { path, shown, kind } in files {
            let columns = columns_of(&path, &shown, kind)?;
            export.files.push(TableFile {
                path,
                shown,
                kind,
                columns,
            });
        }
        export.columns = union_columns(&export.files);
        Ok(export)
    }

    /// A run's own files as one export called `name`.
    pub fn from_run(name: &str, files: &super::RunFiles<'_>) -> Result<Export, DiffError> {
        match files {
            super::RunFiles::Local(files) => {
                let kinds = (files.iter())
                    .filter_map(|(path, format)| {
                        Some(Located::local(path.clone(), FileKind::named(format)?))
                    })
                    .collect();
                Export::of(name, kinds, None)
            }
            super::RunFiles::Staged { store, url, keys } => {
                let (copies, files) = super::remote::download_keys(*store, url, keys)?;
                Export::of(name, files, Some(copies))
            }
        }
    }

    /// Keeps the files that have every `key` column (a child table lacks the customer's).
    pub fn keep_files_with(&mut self, key: &[String]) -> Result<(), DiffError> {
        self.files
            .retain(|f| key.iter().all(|k| f.columns.contains(k)));
        if self.files.is_empty() {
            return Err(DiffError::Usage(format!(
                "{}: no file has all the key columns ({})",
                self.name,
                key.join(", ")
            )));
        }
        self.columns = union_columns(&self.files);
        Ok(())
    }

    /// Calls `row` with every row of every file, its cells in [`Export::columns`] order. The
    /// cells are one buffer for every row, each file's values written into their columns' places
    /// (the text buffers kept from row to row).
    pub fn for_each_row(
        &self,
        mut row: impl FnMut(&[Option<String>]) -> Result<(), DiffError>,
    ) -> Result<(), DiffError> {
        let mut cells: Vec<Option<String>> = vec![None; self.columns.len()];
        for file in &self.files {
            // Where each of the file's columns goes in the export's.
            let at: Vec<usize> = (file.columns.iter())
                .map(|c| self.columns.iter().position(|e| e == c).unwrap_or(0))
                .collect();
            // The columns this file lacks are empty in all its rows.
            cells.iter_mut().for_each(|c| *c = None);
            match file.kind {
                FileKind::Parquet => read_parquet(file, &at, &mut cells, &mut row)?,
                FileKind::Csv => read_csv(file, &at, &mut cells, &mut row)?,
            }
        }
        Ok(())
    }
}

/// Every column of `files`, in first-seen order.
fn union_columns(files: &[TableFile]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for column in files.iter().flat_map(|f| &f.columns) {
        if !columns.contains(column) {
            columns.push(column.clone());
        }
    }
    columns
}

/// A cell's text, written into the buffer it already has.
fn set_text(cell: &mut Option<String>, text: Option<&str>) {
    match (cell.as_mut(), text) {
        (Some(buffer), Some(text)) => {
            buffer.clear();
            buffer.push_str(text);
        }
        (None, Some(text)) => *cell = Some(text.to_string()),
        (_, None) => *cell = None,
    }
}

impl FileKind {
    /// The kind a manifest's `format` (or a file's extension) names.
    pub fn named(format: &str) -> Option<FileKind> {
        match format {
            "parquet" => Some(FileKind::Parquet),
            "csv" => Some(FileKind::Csv),
            _ => None,
        }
    }
}

/// A file's kind by its extension.
pub fn kind_of(path: &Path) -> Option<FileKind> {
    FileKind::named(path.extension()?.to_str()?)
}

/// The customer tables the local manifest at `manifest` lists.
fn local_manifest_tables(manifest: &Path) -> Result<Vec<Located>, DiffError> {
    let shown = manifest.display().to_string();
    let text = std::fs::read_to_string(manifest).map_err(|e| {
        DiffError::Usage(format!(
            "{shown}: cannot read it: {e}; name a manifest.json, a folder holding one, or a .parquet or .csv file"
        ))
    })?;
    let dir = manifest.parent().unwrap_or(Path::new(""));
    Ok((manifest_tables(&text, &shown)?.into_iter())
        .map(|(relative, kind)| Located::local(dir.join(relative), kind))
        .collect())
}

/// The customer tables a manifest's `text` lists, by their paths relative to its folder (as a
/// run writes them), as [`customer_tables`] picks them from the schemas it records. `shown` names
/// the manifest in messages.
pub fn manifest_tables(text: &str, shown: &str) -> Result<Vec<(String, FileKind)>, DiffError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| DiffError::Usage(format!("{shown}: not a run manifest: {e}")))?;
    let outputs = value["outputs"].as_array().cloned().unwrap_or_default();
    let tables = (outputs.iter()).filter_map(|o| {
        let path = o["path"].as_str()?;
        let kind = kind_of(Path::new(path))?;
        let schema = o["schema"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let has = |name: &str| schema.iter().any(|c| c["name"] == name);
        Some((
            (path.to_string(), kind),
            CUSTOMER_KEY.iter().all(|k| has(k)),
        ))
    });
    let files = customer_tables(tables.collect());
    if files.is_empty() {
        return Err(DiffError::Usage(format!(
            "{shown}: the run wrote no Parquet or CSV file to compare"
        )));
    }
    Ok(files)
}

/// The columns that identify a customer in a canonical export.
pub const CUSTOMER_KEY: [&str; 2] = ["vendor", "customer_id"];

/// Which of an export's Parquet and CSV tables — each with whether it has the [`CUSTOMER_KEY`]
/// columns — hold its customers: those with the key if any has it (a `fields: all` file beside
/// canonical ones is not compared), and of those the Parquet files if there are any, else the CSV
/// files (never both: the demo writes the same rows as both).
pub fn customer_tables<T>(tables: Vec<((T, FileKind), bool)>) -> Vec<(T, FileKind)> {
    let any_keyed = tables.iter().any(|(_, keyed)| *keyed);
    let candidates: Vec<(T, FileKind)> = (tables.into_iter())
        .filter(|(_, keyed)| *keyed || !any_keyed)
        .map(|(table, _)| table)
        .collect();
    let parquet = candidates
        .iter()
        .any(|(_, kind)| *kind == FileKind::Parquet);
    (candidates.into_iter())
        .filter(|(_, kind)| *kind == FileKind::Parquet || !parquet)
        .collect()
}

fn columns_of(path: &Path, shown: &str, kind: FileKind) -> Result<Vec<String>, DiffError> {
    match kind {
        FileKind::Parquet => {
            let builder = ParquetRecordBatchReaderBuilder::try_new(open(path, shown)?)
                .map_err(|e| DiffError::read(shown, e))?;
            Ok((builder.schema().fields().iter())
                .map(|f| f.name().clone())
                .collect())
        }
        FileKind::Csv => {
            let mut reader = csv::Reader::from_reader(open(path, shown)?);
            let headers = reader.headers().map_err(|e| DiffError::read(shown, e))?;
            // The spreadsheet's BOM, when the CSV was written with one.
            Ok((headers.iter().enumerate())
                .map(|(i, h)| match i {
                    0 => h.trim_start_matches('\u{feff}').to_string(),
                    _ => h.to_string(),
                })
                .collect())
        }
    }
}

fn open(path: &Path, shown: &str) -> Result<File, DiffError> {
    File::open(path).map_err(|e| DiffError::read(shown, e))
}

fn read_csv(
    file: &TableFile,
    at: &[usize],
    cells: &mut [Option<String>],
    row: &mut impl FnMut(&[Option<String>]) -> Result<(), DiffError>,
) -> Result<(), DiffError> {
    let mut reader = csv::Reader::from_reader(open(&file.path, &file.shown)?);
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|e| DiffError::read(&file.shown, e))?
    {
        for (value, &i) in record.iter().zip(at) {
            set_text(&mut cells[i], (!value.is_empty()).then_some(value));
        }
        row(cells)?;
    }
    Ok(())
}

fn read_parquet(
    file: &TableFile,
    at: &[usize],
    cells: &mut [Option<String>],
    row: &mut impl FnMut(&[Option<String>]) -> Result<(), DiffError>,
) -> Result<(), DiffError> {
    let shown = &file.shown;
    let reader = ParquetRecordBatchReaderBuilder::try_new(open(&file.path, shown)?)
        .and_then(|b| b.build())
        .map_err(|e| DiffError::read(shown, e))?;
    for batch in reader {
        let batch = batch.map_err(|e| DiffError::read(shown, e))?;
        for i in 0..batch.num_rows() {
            for (column, &place) in batch.columns().iter().zip(at) {
                write_cell(&mut cells[place], column.as_ref(), i, shown)?;
            }
            row(cells)?;
        }
    }
    Ok(())
}

/// Row `i` of `column` as text into `cell`, for the column types the loaders write, rendered as
/// the CSV and NDJSON writers render them (so a Parquet export compares with a CSV one).
fn write_cell(
    cell: &mut Option<String>,
    column: &dyn Array,
    i: usize,
    shown: &str,
) -> Result<(), DiffError> {
    use std::fmt::Write as _;
    if column.is_null(i) {
        *cell = None;
        return Ok(());
    }
    let buffer = cell.get_or_insert_with(String::new);
    buffer.clear();
    // Writing to a String cannot fail.
    let _ = match column.data_type() {
        DataType::Utf8 => buffer.write_str(column.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => buffer.write_str(column.as_string::<i64>().value(i)),
        DataType::Int64 => write!(buffer, "{}", column.as_primitive::<Int64Type>().value(i)),
        DataType::Float64 => write!(buffer, "{}", column.as_primitive::<Float64Type>().value(i)),
        DataType::Boolean => write!(buffer, "{}", column.as_boolean().value(i)),
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            let micros = column.as_primitive::<TimestampMicrosecondType>().value(i);
            match load::timestamp_text(micros) {
                Some(text) => buffer.write_str(&text),
                None => write!(buffer, "{micros}"),
            }
        }
        DataType::Date32 => {
            let days = column.as_primitive::<Date32Type>().value(i);
            match load::date_text(days) {
                Some(text) => buffer.write_str(&text),
                None => write!(buffer, "{days}"),
            }
        }
        other => {
            return Err(DiffError::Read(format!(
                "{shown}: a column of type {other} cannot be compared; diff reads the types customer-export writes"
            )));
        }
    };
    Ok(())
}

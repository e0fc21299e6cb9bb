//! `customer-export diff OLD NEW`: what changed between two exports — the customers **added**,
//! **removed** and **changed**, and for each change the columns that differ with their old and
//! new values. The reconciliation a finance person does with VLOOKUPs, and the nightly change
//! feed a CRM sync wants.
//!
//! Rows are matched on a key: `vendor, customer_id` (plus `tenant_id` where rows are exploded
//! tenants) for canonical exports, or the `--key` columns. [`input`] reads each side (a manifest,
//! its folder, or one Parquet or CSV file), [`remote`] first downloading one in object storage to
//! a temporary folder; [`compare`] matches them in memory bounded by the row counts; this module
//! picks the columns, writes the change set and prints the summary.

mod compare;
mod input;
mod remote;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use compare::Columns;
pub use compare::{Change, ChangeLine, Counts};
use input::Export;
pub use input::{CUSTOMER_KEY, FileKind, customer_tables};

use crate::console;
use crate::load::{self, Format, Writer};
use crate::model::{Cell, Column, ColumnType};

/// `customer-export diff`'s arguments.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The earlier export: a manifest.json, the folder holding it, or a .parquet or .csv file — a
    /// local path, or an s3://, az://, abfss:// or gs:// URL (credentials from the environment).
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The later export, in the same forms.
    #[arg(value_name = "NEW")]
    pub new: String,
    /// The columns that identify a row (default: vendor,customer_id, and tenant_id when the
    /// rows have it).
    #[arg(long, value_delimiter = ',', value_name = "COLUMN,…")]
    pub key: Vec<String>,
    /// Write the change set to this file: .csv, .parquet, .ndjson, or .xlsx (a sheet per kind of
    /// change) — one line per customer added or removed, one per column of a changed one.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when anything changed (for CI); by default diff exits 0 whatever it finds.
    #[arg(long)]
    pub fail_on_change: bool,
}

/// Why a diff could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A wrong argument or input: exit 2.
    #[error("{0}")]
    Usage(String),
    /// An input could not be read: exit 1.
    #[error("{0}")]
    Read(String),
    #[error(transparent)]
    Write(#[from] load::LoadError),
}

impl DiffError {
    /// A file (named by its path or URL) that could not be read.
    fn read(shown: &str, e: impl std::fmt::Display) -> DiffError {
        DiffError::Read(format!("cannot read {shown}: {e}"))
    }
}

/// What a diff found.
#[derive(Debug)]
pub struct DiffReport {
    /// Counts by vendor (or `(all)` without a vendor column).
    pub counts: std::collections::BTreeMap<String, Counts>,
    pub only_in_old: Vec<String>,
    pub only_in_new: Vec<String>,
    pub key: Vec<String>,
}

impl DiffReport {
    pub fn any_change(&self) -> bool {
        let total = self.total();
        total.added + total.removed + total.changed > 0
    }

    /// The counts over every group.
    pub fn total(&self) -> Counts {
        let mut total = Counts::default();
        for c in self.counts.values() {
            total.added += c.added;
            total.removed += c.removed;
            total.changed += c.changed;
            total.unchanged += c.unchanged;
        }
        total
    }
}

/// Runs `diff` for the command line: the summary on stdout, problems on stderr.
pub fn main(args: DiffArgs) -> ExitCode {
    match diff(&args) {
        Ok(report) => {
            print_summary(&report);
            if let Some(output) = &args.output {
                console::out(format!("change set: {}", output.display()));
            }
            ExitCode::from(u8::from(args.fail_on_change && report.any_change()))
        }
        Err(e) => {
            console::err(format!("error: {e}"));
            ExitCode::from(match e {
                DiffError::Usage(_) => 2,
                _ => 1,
            })
        }
    }
}

/// Compares the exports `args` names, writing the change set where `--output` says.
pub fn diff(args: &DiffArgs) -> Result<DiffReport, DiffError> {
    let old = Export::open(&args.old)?;
    let new = Export::open(&args.new)?;
    let output = args.output.as_deref();
    let (report, writer) = compare_exports(old, new, &args.key, |key| match output {
        Some(path) => Ok(Some(change_writer(path, key)?)),
        None => Ok(None),
    })?;
    if let Some(w) = writer {
        w.finish()?.publish()?;
    }
    Ok(report)
}

/// A run's complete, unpublished files, each with its format's name.
pub enum RunFiles<'a> {
    /// Temporary files on this machine.
    Local(Vec<(PathBuf, &'a str)>),
    /// Objects at the staging keys of the run's store at `url` (downloaded to be read).
    Staged {
        store: &'a dyn object_store::ObjectStore,
        url: &'a load::store::StoreUrl,
        keys: Vec<(String, &'a str)>,
    },
}

/// Compares the export at `old` (as `diff` reads it) with a run's own new files; the change set
/// goes to the writer `open` makes for the key columns, returned unfinished for the run to
/// publish with its other files.
pub fn against_run(
    old: &str,
    new_files: &RunFiles<'_>,
    open: impl FnOnce(&[String]) -> Result<Writer, DiffError>,
) -> Result<(DiffReport, Writer), DiffError> {
    let old = Export::open(old)?;
    let new = Export::from_run("tonight's export", new_files)?;
    let (report, writer) = compare_exports(old, new, &[], |key| open(key).map(Some))?;
    let writer = writer.ok_or_else(|| DiffError::Usage("no change set was opened".into()))?;
    Ok((report, writer))
}

/// Whether `old` names nothing: a first night, with no export to compare with yet.
pub fn is_absent(old: &str) -> bool {
    // An object-store URL is looked up when it is read: a missing export there fails the run
    // rather than pass for a first night.
    let local = matches!(
        crate::load::Location::parse(old),
        Ok(crate::load::Location::Local(_))
    );
    local && !Path::new(old).exists()
}

/// The change set's format for files of `format` (Parquet for Parquet, else CSV).
pub fn change_set_format(format: &str) -> Format {
    match format {
        "parquet" => Format::Parquet(load::ParquetOptions::default()),
        _ => Format::Csv(load::CsvOptions::default()),
    }
}

/// Matches the two exports on their key and hands every change line to the writer `open` makes.
fn compare_exports(
    mut old: Export,
    mut new: Export,
    given_key: &[String],
    open: impl FnOnce(&[String]) -> Result<Option<Writer>, DiffError>,
) -> Result<(DiffReport, Option<Writer>), DiffError> {
    let key = key_columns(given_key, &old, &new)?;
    // Child tables (`arrays: tables`) lack the customer's key: they are not customers.
    old.keep_files_with(&key)?;
    new.keep_files_with(&key)?;
    let columns = columns(&key, &old, &new);
    let mut writer = open(&key)?;
    let counts = compare::compare(&old, &new, &columns, |line| {
        if let Some(w) = writer.as_mut() {
            w.write_row_on(line.change.word(), &line_cells(&line))?;
        }
        Ok(())
    })?;
    let only = |a: &Export, b: &Export| -> Vec<String> {
        (a.columns.iter())
            .filter(|c| !b.columns.contains(c))
            .cloned()
            .collect()
    };
    let report = DiffReport {
        counts,
        only_in_old: only(&old, &new),
        only_in_new: only(&new, &old),
        key,
    };
    Ok((report, writer))
}

/// The key: `--key`, else the canonical columns both exports have.
fn key_columns(given: &[String], old: &Export, new: &Export) -> Result<Vec<String>, DiffError> {
    let both = |c: &str| old.columns.iter().any(|o| o == c) && new.columns.iter().any(|n| n == c);
    if !given.is_empty() {
        for column in given {
            if !both(column) {
                return Err(DiffError::Usage(format!(
                    "--key {column}: not a column of both exports; OLD has {}",
                    old.columns.join(", ")
                )));
            }
        }
        return Ok(given.to_vec());
    }
    if !CUSTOMER_KEY.iter().all(|c| both(c)) {
        return Err(DiffError::Usage(format!(
            "the exports have no vendor and customer_id columns (they are not canonical); name the columns that identify a row with --key, e.g. --key {}",
            old.columns.first().map_or("id", String::as_str)
        )));
    }
    let mut key: Vec<String> = CUSTOMER_KEY.map(String::from).to_vec();
    if both("tenant_id") {
        key.push("tenant_id".into());
    }
    Ok(key)
}

fn columns(key: &[String], old: &Export, new: &Export) -> Columns {
    let at = |export: &Export, name: &str| export.columns.iter().position(|c| c == name);
    let pair = |name: &str| Some((at(old, name)?, at(new, name)?));
    Columns {
        key: key.iter().filter_map(|k| pair(k)).collect(),
        compared: (old.columns.iter())
            .filter(|c| !key.contains(c))
            .filter_map(|c| pair(c).map(|(o, n)| (c.clone(), o, n)))
            .collect(),
        group: pair("vendor"),
    }
}

/// The change set's columns: `change`, the key columns, `column`, `old`, `new`, all text.
pub fn change_set_schema(key: &[String]) -> crate::model::Schema {
    let mut schema = vec![Column::new("change", ColumnType::Utf8)];
    schema.extend(key.iter().map(|k| Column::new(k.clone(), ColumnType::Utf8)));
    for name in ["column", "old", "new"] {
        schema.push(Column::new(name, ColumnType::Utf8));
    }
    schema.into()
}

/// The change set's file for `diff --output`.
fn change_writer(path: &Path, key: &[String]) -> Result<Writer, DiffError> {
    let format = match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => Format::Csv(load::CsvOptions::default()),
        Some("parquet") => Format::Parquet(load::ParquetOptions::default()),
        Some("ndjson") => Format::Ndjson(load::NdjsonOptions::default()),
        // A sheet per kind of change: `added` first, the others as they first occur.
        Some("xlsx") => Format::Xlsx(load::XlsxOptions {
            sheet: Change::Added.word().to_string(),
        }),
        _ => {
            return Err(DiffError::Usage(format!(
                "--output {}: name a .csv, .parquet, .ndjson or .xlsx file",
                path.display()
            )));
        }
    };
    Ok(Writer::create(path, &format, change_set_schema(key))?)
}

fn line_cells(line: &ChangeLine) -> Vec<Cell<'_>> {
    fn text(value: &Option<String>) -> Cell<'_> {
        value.as_deref().map_or(Cell::Null, |s| Cell::Str(s.into()))
    }
    let mut cells = vec![Cell::Str(line.change.word().into())];
    cells.extend(line.key.iter().map(text));
    cells.push(text(&line.column));
    cells.push(text(&line.old));
    cells.push(text(&line.new));
    cells
}

/// The counts per vendor, and the columns only one side has.
fn print_summary(report: &DiffReport) {
    console::out(format!(
        "{:<16} {:>9} {:>9} {:>9} {:>10}",
        "vendor", "added", "removed", "changed", "unchanged"
    ));
    for (group, c) in &report.counts {
        console::out(format!(
            "{group:<16} {:>9} {:>9} {:>9} {:>10}",
            c.added, c.removed, c.changed, c.unchanged
        ));
    }
    let total = report.total();
    console::out(format!(
        "{:<16} {:>9} {:>9} {:>9} {:>10}",
        "total", total.added, total.removed, total.changed, total.unchanged
    ));
    console::out(format!("rows matched on: {}", report.key.join(", ")));
    for (side, columns) in [("OLD", &report.only_in_old), ("NEW", &report.only_in_new)] {
        if !columns.is_empty() {
            console::out(format!(
                "columns only in {side} (not compared): {}",
                columns.join(", ")
            ));
        }
    }
}

//! XLSX: one worksheet of typed cells per file, for the people who open exports in Excel or
//! LibreOffice.
//!
//! Cells follow the schema, never the text: `Utf8` is always a text cell (ids and codes keep their
//! leading zeros and every digit; `=…` stays text, no cell is ever a formula), `Int64` a number
//! (text where Excel would lose digits, see [`int_fits_excel`]), `Float64` a number (NaN and
//! infinities, which Excel cannot hold, an empty cell), `Boolean` a boolean, `Date` an Excel date
//! shown `yyyy-mm-dd`, `Timestamp` an Excel date-time in **UTC** shown `yyyy-mm-dd hh:mm:ss "UTC"`
//! (the value keeps its fraction of a second, to within a microsecond). A date Excel cannot show
//! (before 1900-03-01, where its 1900 date system's serial numbers are off by its phantom
//! 1900-02-29, or after 9999-12-31) is written as its ISO 8601 text. `Null` and the empty string
//! are empty cells.
//!
//! Layout: a bold header row, frozen; an autofilter over the header and every data row; column
//! widths from the longest value seen in each column over the whole file (header included), at
//! least [`MIN_WIDTH`] and at most [`MAX_WIDTH`] characters. The widths are the running maximum of
//! every row written, which costs one number per column: the worksheet's column settings are only
//! written when the workbook is saved, so nothing has to be measured after the fact.
//!
//! Excel's limits are handled, not hit: a sheet holds 1,048,576 rows, so past
//! [`EXCEL_DATA_ROWS`] data rows the rows continue on a new sheet, `customers (2)`, `customers
//! (3)`, … each with its own frozen header and autofilter. A cell holds at most 32,767 UTF-16
//! units: longer text is cut at a character boundary to fit and counted; the count is in the
//! output's summary (`truncated_cells` in the manifest) and the run warns about it. A table of
//! more than 16,384 columns is refused when the file is created.
//!
//! Memory does not grow with the rows: the worksheets are rust_xlsxwriter's constant-memory ones,
//! which hold one row and write each finished row as XML to an unnamed temporary file — in the
//! output's folder for a local output (so it is on the disk that will hold the file, and the
//! system's temporary folder, often in memory, is not filled), in the system's temporary folder
//! (`TMPDIR`) for object storage. That file is uncompressed (often ten times the final size) and
//! vanishes when the writer is dropped, even if the process is killed. [`XlsxWriter::finish`]
//! zips the workbook into the output's sink as a stream (the zip writer needs no `Seek`), so the
//! file is staged, hashed, counted and published exactly like the other formats, locally or as an
//! upload.
//!
//! The same rows give the same bytes: the workbook's creation date is fixed (1980-01-01, as the
//! zip's entry times are), not the time of the run.
//!
//! rust_xlsxwriter panics rather than returning an error when writing its temporary file fails
//! (a full disk); those calls are guarded, so such a failure becomes a [`LoadError::Xlsx`] (the
//! panic's message is still printed by the panic hook).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format as CellFormat, Workbook, Worksheet, XlsxError,
};

use super::publish::{self, Sink, StageAt, Staged};
use super::{Finished, LoadError, XlsxOptions, check_row, iso_date, rfc3339};
use crate::model::row::{Cell, Column, Schema};

/// Rows on one worksheet, the header included: Excel's limit.
const EXCEL_ROWS: u32 = 1_048_576;
/// Data rows on one worksheet: the header takes the first of Excel's rows.
pub(crate) const EXCEL_DATA_ROWS: u32 = EXCEL_ROWS - 1;
/// Columns on one worksheet: Excel's limit.
const EXCEL_COLUMNS: usize = 16_384;
/// The longest text a cell holds, in UTF-16 units: Excel's limit.
pub(crate) const EXCEL_CELL_UNITS: usize = 32_767;
/// The longest sheet name, in UTF-16 units: Excel's limit.
const SHEET_NAME_UNITS: usize = 31;
/// A column is never narrower than this, in characters.
const MIN_WIDTH: usize = 6;
/// Nor wider: one long value should not push the rest of the sheet off the screen. Longer text
/// is still all in the cell.
const MAX_WIDTH: usize = 60;
/// Excel's serial number of 1970-01-01 in its 1900 date system.
const UNIX_EPOCH_SERIAL: f64 = 25_569.0;
/// 1900-03-01 and 9999-12-31, in days from 1970-01-01: the dates Excel's 1900 date system shows.
/// Before March 1900 its serial numbers are off by its phantom 1900-02-29.
const FIRST_EXCEL_DAY: i64 = -25_508;
const LAST_EXCEL_DAY: i64 = 2_932_896;
const MICROS_PER_DAY: i64 = 86_400_000_000;
/// How dates and timestamps are shown. The timestamp format names its zone, so a reader of the
/// sheet knows the times are UTC without the README.
const DATE_FORMAT: &str = "yyyy-mm-dd";
const TIMESTAMP_FORMAT: &str = "yyyy-mm-dd hh:mm:ss \"UTC\"";
/// The characters a date or timestamp takes on screen.
const DATE_WIDTH: usize = 10;
const TIMESTAMP_WIDTH: usize = 23;
/// Width added to a header for its autofilter button.
const FILTER_BUTTON_WIDTH: usize = 2;

/// The cell formats of a workbook.
struct Styles {
    header: CellFormat,
    date: CellFormat,
    timestamp: CellFormat,
}

/// Sheets of one name: the first is `name`, those continuing it past Excel's row limit add
/// ` (2)`, ` (3)`, ….
struct SheetGroup {
    name: String,
    /// (the sheet's index in the workbook, data rows written on it); the last is being written.
    sheets: Vec<(usize, u32)>,
}

/// An XLSX file being written. See the module docs for cells, layout, limits and memory.
pub struct XlsxWriter {
    // Declared before `staged`: the file is closed before the temporary path is deleted.
    out: Sink,
    staged: Staged,
    workbook: Workbook,
    styles: Styles,
    schema: Schema,
    /// The named runs of sheets rows go to: the table's first; a caller may add others
    /// ([`XlsxWriter::write_row_on`]).
    groups: Vec<SheetGroup>,
    /// Data rows a sheet takes before the next one starts.
    rows_per_sheet: u32,
    /// Sheets in the workbook.
    sheet_count: usize,
    /// The widest value seen in each column, in characters.
    widths: Vec<usize>,
    rows: u64,
    truncated_cells: u64,
}

impl std::fmt::Debug for XlsxWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XlsxWriter")
            .field("final_path", &self.staged.final_path())
            .field("rows", &self.rows)
            .field("sheets", &self.sheet_count)
            .finish_non_exhaustive()
    }
}

impl XlsxWriter {
    pub(crate) fn create(
        final_path: &Path,
        options: &XlsxOptions,
        schema: Schema,
        at: StageAt<'_>,
    ) -> Result<XlsxWriter, LoadError> {
        XlsxWriter::create_with(final_path, options, schema, at, EXCEL_DATA_ROWS)
    }

    /// [`XlsxWriter::create`] with sheets of `rows_per_sheet` data rows (tests take fewer than
    /// Excel's million).
    pub(crate) fn create_with(
        final_path: &Path,
        options: &XlsxOptions,
        schema: Schema,
        at: StageAt<'_>,
        rows_per_sheet: u32,
    ) -> Result<XlsxWriter, LoadError> {
        if schema.len() > EXCEL_COLUMNS {
            return Err(LoadError::InvalidOption {
                path: final_path.to_path_buf(),
                format: "xlsx",
                reason: format!(
                    "the table has {} columns and a worksheet holds at most {EXCEL_COLUMNS}; map fewer fields, or write CSV or Parquet",
                    schema.len()
                ),
            });
        }
        let scratch = match at {
            StageAt::Beside(_) => Some(folder_of(final_path)),
            StageAt::Upload(_) => None,
        };
        let (out, staged) = publish::stage(final_path, at)?;
        let mut workbook = Workbook::new();
        guarded(final_path, || {
            if let Some(dir) = scratch {
                workbook.set_tempdir(&dir)?;
            }
            // A fixed creation date, like the zip's entry times: the same rows give the same
            // bytes, so a night whose data did not change keeps its checksum.
            let created = ExcelDateTime::from_ymd(1980, 1, 1)?;
            workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
            Ok(())
        })?;
        let widths = schema
            .iter()
            .map(|c| MIN_WIDTH.max(text_width(&c.name) + FILTER_BUTTON_WIDTH))
            .collect();
        let mut writer = XlsxWriter {
            out,
            staged,
            workbook,
            styles: Styles {
                header: CellFormat::new().set_bold(),
                date: CellFormat::new().set_num_format(DATE_FORMAT),
                timestamp: CellFormat::new().set_num_format(TIMESTAMP_FORMAT),
            },
            schema,
            groups: vec![SheetGroup {
                name: sheet_name(&options.sheet),
                sheets: Vec::new(),
            }],
            rows_per_sheet: rows_per_sheet.clamp(1, EXCEL_DATA_ROWS),
            sheet_count: 0,
            widths,
            rows: 0,
            truncated_cells: 0,
        };
        writer.add_sheet(0)?;
        Ok(writer)
    }

    /// Starts the next sheet of group `group`: its name, its bold header row, frozen. Returns
    /// its index in the workbook.
    fn add_sheet(&mut self, group: usize) -> Result<usize, LoadError> {
        let sheets = &self.groups[group].sheets;
        let name = numbered_sheet_name(&self.groups[group].name, sheets.len() + 1);
        let XlsxWriter {
            workbook,
            styles,
            schema,
            staged,
            ..
        } = self;
        guarded(staged.final_path(), || {
            let sheet = workbook.add_worksheet_with_constant_memory()?;
            sheet.set_name(name)?;
            sheet.set_freeze_panes(1, 0)?;
            for (col, column) in (0u16..).zip(schema.iter()) {
                sheet.write_string_with_format(0, col, &column.name, &styles.header)?;
            }
            Ok(())
        })?;
        let index = self.sheet_count;
        self.groups[group].sheets.push((index, 0));
        self.sheet_count += 1;
        Ok(index)
    }

    pub(crate) fn write_row(&mut self, row: &[Cell]) -> Result<(), LoadError> {
        self.write_row_in(0, row)
    }

    /// Writes a row on the sheets named `sheet` (made Excel-safe), started — with their own
    /// header — at the first row for them: a file of several tables, such as a change set with
    /// a sheet per kind of change.
    pub(crate) fn write_row_on(&mut self, sheet: &str, row: &[Cell]) -> Result<(), LoadError> {
        let name = sheet_name(sheet);
        let group = match self.groups.iter().position(|g| g.name == name) {
            Some(group) => group,
            None => {
                self.groups.push(SheetGroup {
                    name,
                    sheets: Vec::new(),
                });
                self.groups.len() - 1
            }
        };
        self.write_row_in(group, row)
    }

    fn write_row_in(&mut self, group: usize, row: &[Cell]) -> Result<(), LoadError> {
        check_row(self.staged.final_path(), &self.schema, row)?;
        let cells = self.excel_cells(row)?;
        let (sheet_index, written) = match self.groups[group].sheets.last() {
            Some(&(index, written)) if written < self.rows_per_sheet => (index, written),
            _ => (self.add_sheet(group)?, 0),
        };
        let at_row = written + 1;
        let XlsxWriter {
            workbook,
            styles,
            staged,
            ..
        } = self;
        guarded(staged.final_path(), || {
            let sheet = workbook.worksheet_from_index(sheet_index)?;
            for (col, cell) in (0u16..).zip(&cells) {
                write_cell(sheet, styles, at_row, col, cell)?;
            }
            Ok(())
        })?;
        if let Some(last) = self.groups[group].sheets.last_mut() {
            last.1 += 1;
        }
        self.rows += 1;
        Ok(())
    }

    /// The row as Excel cells, measured for the column widths. Fails, writing nothing, on a date
    /// or timestamp no text can show.
    fn excel_cells<'r>(&mut self, row: &'r [Cell]) -> Result<Vec<ExcelCell<'r>>, LoadError> {
        let path = self.staged.final_path();
        let mut cells = Vec::with_capacity(row.len());
        for (column, cell) in self.schema.iter().zip(row) {
            let excel = ExcelCell::of(path, column, cell)?;
            if let (Cell::Str(whole), ExcelCell::Text(kept)) = (cell, &excel)
                && kept.len() < whole.len()
            {
                self.truncated_cells += 1;
            }
            cells.push(excel);
        }
        for (width, cell) in self.widths.iter_mut().zip(&cells) {
            *width = (*width).max(cell.width());
        }
        Ok(cells)
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

    /// Sets every sheet's autofilter and the column widths, zips the workbook into the sink and
    /// seals it.
    pub(crate) fn finish(self) -> Result<Finished, LoadError> {
        let XlsxWriter {
            mut out,
            staged,
            mut workbook,
            schema,
            groups,
            widths,
            rows,
            truncated_cells,
            ..
        } = self;
        let last_col = u16::try_from(schema.len().saturating_sub(1)).unwrap_or(u16::MAX);
        let sheets = groups.iter().flat_map(|g| g.sheets.iter().copied());
        guarded(staged.final_path(), || {
            for (index, data_rows) in sheets {
                let sheet = workbook.worksheet_from_index(index)?;
                sheet.autofilter(0, 0, data_rows, last_col)?;
                for (col, &width) in (0u16..).zip(&widths) {
                    sheet.set_column_width(col, width.min(MAX_WIDTH) as f64 + 1.0)?;
                }
            }
            workbook.save_to_writer(&mut out)
        })?;
        // The worksheets' temporary files go now, before the file is sealed.
        drop(workbook);
        let mut finished = staged.seal(out, "xlsx", rows, &schema)?;
        finished.summary.truncated_cells = Some(truncated_cells);
        Ok(finished)
    }
}

/// A value as it goes into a cell.
#[derive(Debug, PartialEq)]
enum ExcelCell<'r> {
    Empty,
    Text(Cow<'r, str>),
    Number(f64),
    Bool(bool),
    Date(f64),
    Timestamp(f64),
}

impl<'r> ExcelCell<'r> {
    fn of(path: &Path, column: &Column, cell: &'r Cell) -> Result<ExcelCell<'r>, LoadError> {
        Ok(match cell {
            Cell::Null => ExcelCell::Empty,
            Cell::Str(s) if s.is_empty() => ExcelCell::Empty,
            Cell::Str(s) => ExcelCell::Text(Cow::Borrowed(fit_cell(s))),
            Cell::Int(i) if int_fits_excel(*i) => ExcelCell::Number(*i as f64),
            Cell::Int(i) => ExcelCell::Text(Cow::Owned(i.to_string())),
            Cell::Float(f) if f.is_finite() => ExcelCell::Number(*f),
            Cell::Float(_) => ExcelCell::Empty,
            Cell::Bool(b) => ExcelCell::Bool(*b),
            Cell::Date(days) => match date_serial(*days) {
                Some(serial) => ExcelCell::Date(serial),
                None => ExcelCell::Text(Cow::Owned(iso_date(path, column, *days)?)),
            },
            Cell::Timestamp(micros) => match timestamp_serial(*micros) {
                Some(serial) => ExcelCell::Timestamp(serial),
                None => ExcelCell::Text(Cow::Owned(rfc3339(path, column, *micros)?)),
            },
        })
    }

    /// The characters the value takes on screen (its longest line, for text).
    fn width(&self) -> usize {
        match self {
            ExcelCell::Empty => 0,
            ExcelCell::Text(text) => text_width(text),
            // Excel's General format shows at most 11 characters of a number.
            ExcelCell::Number(n) => n.to_string().len().min(11),
            ExcelCell::Bool(_) => "FALSE".len(),
            ExcelCell::Date(_) => DATE_WIDTH,
            ExcelCell::Timestamp(_) => TIMESTAMP_WIDTH,
        }
    }
}

/// Writes one cell. Text goes through the string writer, never `write()`, which could take
/// `=…` for a formula.
fn write_cell(
    sheet: &mut Worksheet,
    styles: &Styles,
    row: u32,
    col: u16,
    cell: &ExcelCell,
) -> Result<(), XlsxError> {
    match cell {
        ExcelCell::Empty => return Ok(()),
        ExcelCell::Text(text) => sheet.write_string(row, col, text.as_ref())?,
        ExcelCell::Number(n) => sheet.write_number(row, col, *n)?,
        ExcelCell::Bool(b) => sheet.write_boolean(row, col, *b)?,
        ExcelCell::Date(serial) => {
            sheet.write_number_with_format(row, col, *serial, &styles.date)?
        }
        ExcelCell::Timestamp(serial) => {
            sheet.write_number_with_format(row, col, *serial, &styles.timestamp)?
        }
    };
    Ok(())
}

/// Whether Excel shows and keeps `i` exactly as a number. Excel holds numbers as doubles but
/// keeps only 15 significant digits: it shows 1234567890123456 as 1234567890123450 and saves it
/// so. That is stricter than a double's exact integers (up to 2^53, 16 digits), so an integer
/// of 16 or more digits goes in as text, every digit kept.
pub(crate) fn int_fits_excel(i: i64) -> bool {
    i.unsigned_abs() < 1_000_000_000_000_000
}

/// Excel's serial number for a date `days` from 1970-01-01, if Excel shows it as a date.
pub(crate) fn date_serial(days: i32) -> Option<f64> {
    let days = i64::from(days);
    (FIRST_EXCEL_DAY..=LAST_EXCEL_DAY)
        .contains(&days)
        .then_some(days as f64 + UNIX_EPOCH_SERIAL)
}

/// Excel's serial number (days and the fraction of a day) for an instant `micros` from the Unix
/// epoch, read in UTC, if Excel shows it as a date. The day and its fraction are computed apart
/// and added once, so the serial is within a microsecond of the instant (a double's step near
/// today's serials is about 0.6 µs; Excel shows milliseconds at most).
pub(crate) fn timestamp_serial(micros: i64) -> Option<f64> {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let within = micros.rem_euclid(MICROS_PER_DAY);
    (FIRST_EXCEL_DAY..=LAST_EXCEL_DAY)
        .contains(&days)
        .then(|| days as f64 + UNIX_EPOCH_SERIAL + within as f64 / MICROS_PER_DAY as f64)
}

/// `text` cut, at a character boundary, to the most a cell holds.
pub(crate) fn fit_cell(text: &str) -> &str {
    // A UTF-16 unit per byte at most: short text needs no count.
    if text.len() <= EXCEL_CELL_UNITS {
        return text;
    }
    let mut units = 0;
    for (at, c) in text.char_indices() {
        units += c.len_utf16();
        if units > EXCEL_CELL_UNITS {
            return &text[..at];
        }
    }
    text
}

/// The characters of `text`'s longest line, counted no further than [`MAX_WIDTH`].
fn text_width(text: &str) -> usize {
    text.split('\n')
        .map(|line| line.chars().take(MAX_WIDTH).count())
        .max()
        .unwrap_or(0)
}

/// A table's name made a sheet name Excel accepts: `[]:*?/\` become `_`, no `'` at either end,
/// not blank, not `History` (Excel's own), at most 31 UTF-16 units.
pub(crate) fn sheet_name(table: &str) -> String {
    let replaced: String = table
        .chars()
        .map(|c| match c {
            '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
            c => c,
        })
        .collect();
    let name = replaced.trim_matches('\'');
    let name = match name {
        "" => "Sheet",
        n if n.eq_ignore_ascii_case("history") => "History_",
        n => n,
    };
    truncate_units(name, SHEET_NAME_UNITS)
        .trim_end_matches('\'')
        .to_string()
}

/// The name of sheet `number` (from 1): the base name, then `base (2)`, `base (3)`, … with the
/// base shortened so the whole stays within Excel's 31 units.
pub(crate) fn numbered_sheet_name(base: &str, number: usize) -> String {
    if number <= 1 {
        return base.to_string();
    }
    let suffix = format!(" ({number})");
    let base = truncate_units(base, SHEET_NAME_UNITS - suffix.len());
    format!("{}{suffix}", base.trim_end_matches('\''))
}

/// The longest prefix of `text` of at most `units` UTF-16 units, at a character boundary.
fn truncate_units(text: &str, units: usize) -> &str {
    let mut used = 0;
    for (at, c) in text.char_indices() {
        used += c.len_utf16();
        if used > units {
            return &text[..at];
        }
    }
    text
}

/// The folder a local output is written in, where its worksheets' scratch data goes too.
fn folder_of(final_path: &Path) -> PathBuf {
    match final_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Runs a rust_xlsxwriter call with its error, or its panic on a failed write to its temporary
/// file, turned into a [`LoadError`] for `path`.
fn guarded<T>(path: &Path, call: impl FnOnce() -> Result<T, XlsxError>) -> Result<T, LoadError> {
    let error = |detail: String| LoadError::Xlsx {
        path: path.to_path_buf(),
        detail,
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(error(e.to_string())),
        Err(panic) => Err(error(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the spreadsheet library stopped".to_string()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;
    use std::sync::Arc;

    use super::*;

    #[test]
    fn text_is_cut_to_excels_limit_at_a_character_boundary() {
        let limit = "a".repeat(EXCEL_CELL_UNITS);
        assert_eq!(fit_cell(&limit), limit);
        // An emoji is two UTF-16 units: it does not fit in the last one, and is not split.
        let emoji = format!("{}😀", "a".repeat(EXCEL_CELL_UNITS - 1));
        assert_eq!(fit_cell(&emoji), &emoji[..EXCEL_CELL_UNITS - 1]);
        // Three bytes but one unit each: 32,767 of them fit.
        let wide = "株".repeat(EXCEL_CELL_UNITS + 5);
        assert_eq!(fit_cell(&wide).chars().count(), EXCEL_CELL_UNITS);
        assert_eq!(fit_cell("short"), "short");
    }

    #[test]
    fn integers_are_numbers_only_while_excel_keeps_every_digit() {
        for fits in [0, -1, 999_999_999_999_999, -999_999_999_999_999] {
            assert!(int_fits_excel(fits), "{fits}");
        }
        // 2^53 is exact as a double, but has 16 digits: Excel would show 9007199254740990.
        for too_long in [1_000_000_000_000_000, 1 << 53, i64::MIN, i64::MAX] {
            assert!(!int_fits_excel(too_long), "{too_long}");
        }
    }

    #[test]
    fn dates_are_excel_serials_within_its_date_range() {
        assert_eq!(date_serial(0), Some(25_569.0));
        assert_eq!(date_serial(20_089), Some(45_658.0)); // 2025-01-01
        assert_eq!(date_serial(-25_508), Some(61.0)); // 1900-03-01
        assert_eq!(date_serial(-25_509), None); // Excel's phantom 1900-02-29
        assert_eq!(date_serial(2_932_896), Some(2_958_465.0)); // 9999-12-31
        assert_eq!(date_serial(2_932_897), None);
        assert_eq!(date_serial(i32::MIN), None);
    }

    #[test]
    fn timestamps_are_excel_serials_in_utc_keeping_their_fraction() {
        // 2025-08-27T12:57:22Z.
        let serial = timestamp_serial(1_756_299_442_000_000).unwrap();
        assert!((serial - (45_896.0 + 46_642.0 / 86_400.0)).abs() < 1e-9);
        // A microsecond before the epoch is the last instant of 1969-12-31, not of 1970-01-01.
        let before = timestamp_serial(-1).unwrap();
        assert!(before < 25_569.0 && before > 25_568.999_999, "{before}");
        // The fraction of a second survives to within a microsecond (a double's step at today's
        // serials is about 0.6 µs).
        let later = timestamp_serial(1_756_299_442_123_456).unwrap();
        let micros = (later - serial) * 86_400e6;
        assert!((micros - 123_456.0).abs() < 1.0, "{micros}");
        assert_eq!(timestamp_serial(i64::MAX), None);
        assert_eq!(timestamp_serial(i64::MIN), None);
    }

    #[test]
    fn sheet_names_follow_excels_rules() {
        assert_eq!(sheet_name("customers"), "customers");
        assert_eq!(sheet_name("a[b]:c*d?e/f\\g"), "a_b__c_d_e_f_g");
        assert_eq!(sheet_name("'quoted'"), "quoted");
        assert_eq!(sheet_name("''"), "Sheet");
        assert_eq!(sheet_name("History"), "History_");
        let long = sheet_name(&"t".repeat(40));
        assert_eq!(long.len(), SHEET_NAME_UNITS);
        // Cut to 31 units, then no apostrophe may end it.
        assert_eq!(sheet_name(&format!("{}'x", "t".repeat(30))), "t".repeat(30));
        assert_eq!(sheet_name(&"😀".repeat(20)).chars().count(), 15);
        assert_eq!(numbered_sheet_name("customers", 1), "customers");
        assert_eq!(numbered_sheet_name("customers", 2), "customers (2)");
        let numbered = numbered_sheet_name(&long, 12);
        assert_eq!(numbered, format!("{} (12)", "t".repeat(26)));
    }

    /// The parts of a finished XLSX file: the workbook's sheet names and each sheet's XML.
    fn read_back(path: &Path) -> (String, Vec<String>) {
        let file = std::fs::File::open(path).unwrap();
        let mut zip = zip::ZipArchive::new(file).unwrap();
        let mut part = |name: &str| {
            let mut text = String::new();
            let mut entry = zip.by_name(name).ok()?;
            entry.read_to_string(&mut text).unwrap();
            Some(text)
        };
        let workbook = part("xl/workbook.xml").unwrap();
        let sheets = (1..)
            .map_while(|i| part(&format!("xl/worksheets/sheet{i}.xml")))
            .collect();
        (workbook, sheets)
    }

    fn write_rows(path: &Path, rows_per_sheet: u32, rows: i64) -> Finished {
        let schema: Schema = Arc::from(vec![
            Column::new("n", crate::model::ColumnType::Int64),
            Column::new("label", crate::model::ColumnType::Utf8),
        ]);
        let options = XlsxOptions::default();
        let at = StageAt::Beside(None);
        let mut writer =
            XlsxWriter::create_with(path, &options, schema, at, rows_per_sheet).expect("a writer");
        for n in 0..rows {
            let row = [Cell::Int(n), Cell::Str(format!("row {n}").into())];
            writer.write_row(&row).unwrap();
        }
        writer.finish().unwrap()
    }

    #[test]
    fn rows_past_a_full_sheet_continue_on_the_next_with_their_own_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("split.xlsx");
        let summary = write_rows(&path, 3, 7).publish().unwrap();
        assert_eq!(summary.rows, 7);
        let (workbook, sheets) = read_back(&path);
        for name in ["customers", "customers (2)", "customers (3)"] {
            assert!(workbook.contains(&format!("name=\"{name}\"")), "{workbook}");
        }
        assert_eq!(sheets.len(), 3);
        for (sheet, (data_rows, first)) in sheets.iter().zip([(3, 0), (3, 3), (1, 6)]) {
            // A header row, then this sheet's share of the rows, numbered on from the last.
            assert_eq!(sheet.matches("<row ").count(), 1 + data_rows, "{sheet}");
            assert!(sheet.contains("<c r=\"A1\" s=\"1\" t=\"inlineStr\"><is><t>n</t>"));
            assert!(
                sheet.contains(&format!("<c r=\"A2\"><v>{first}</v></c>")),
                "{sheet}"
            );
            assert!(sheet.contains("ySplit=\"1\"") && sheet.contains("state=\"frozen\""));
            let filter = format!("<autoFilter ref=\"A1:B{}\"/>", data_rows + 1);
            assert!(sheet.contains(&filter), "{sheet}");
        }
    }

    /// Rows for named sheets, interleaved: each name's rows in order on its own sheets, each
    /// continued past the row limit on its own `(2)`.
    #[test]
    fn named_sheets_take_their_own_rows_and_continue_on_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kinds.xlsx");
        let schema: Schema = Arc::from(vec![Column::new("n", crate::model::ColumnType::Int64)]);
        let options = XlsxOptions {
            sheet: "added".into(),
        };
        let at = StageAt::Beside(None);
        let mut writer = XlsxWriter::create_with(&path, &options, schema, at, 2).unwrap();
        for (sheet, n) in [
            ("added", 1),
            ("changed", 2),
            ("added", 3),
            ("added", 4),
            ("changed", 5),
        ] {
            writer.write_row_on(sheet, &[Cell::Int(n)]).unwrap();
        }
        assert_eq!(writer.finish().unwrap().publish().unwrap().rows, 5);
        let (workbook, sheets) = read_back(&path);
        let order: Vec<usize> = ["added", "changed", "added (2)"]
            .iter()
            .map(|name| workbook.find(&format!("name=\"{name}\"")).expect(name))
            .collect();
        assert!(order.is_sorted(), "{workbook}");
        let values = |sheet: &str| -> Vec<String> {
            (sheet.split("<v>").skip(1))
                .map(|v| v.split('<').next().unwrap_or("").to_string())
                .collect()
        };
        assert_eq!(values(&sheets[0]), ["1", "3"]);
        assert_eq!(values(&sheets[1]), ["2", "5"]);
        assert_eq!(values(&sheets[2]), ["4"]);
        assert!(sheets[2].contains("<autoFilter ref=\"A1:A2\"/>"));
    }

    #[test]
    fn a_file_of_no_rows_has_its_header_and_filter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.xlsx");
        let summary = write_rows(&path, 3, 0).publish().unwrap();
        assert_eq!((summary.rows, summary.truncated_cells), (0, Some(0)));
        let (_, sheets) = read_back(&path);
        assert_eq!(sheets.len(), 1);
        assert_eq!(sheets[0].matches("<row ").count(), 1);
        assert!(sheets[0].contains("<autoFilter ref=\"A1:B1\"/>"));
    }

    #[test]
    fn a_full_last_sheet_starts_no_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exact.xlsx");
        write_rows(&path, 3, 6).publish().unwrap();
        assert_eq!(read_back(&path).1.len(), 2);
    }

    /// rust_xlsxwriter panics when its temporary file cannot be written (a full disk): the run
    /// gets an error naming the file, not a dead writer thread.
    #[test]
    fn a_panic_in_the_spreadsheet_library_is_an_error() {
        let path = Path::new("out/customers.xlsx");
        let err = guarded(path, || -> Result<(), XlsxError> {
            panic!("Couldn't write to xml file: No space left on device")
        })
        .unwrap_err();
        assert!(matches!(err, LoadError::Xlsx { .. }), "{err}");
        let message = err.to_string();
        assert!(
            message.contains("out/customers.xlsx") && message.contains("No space left"),
            "{message}"
        );
        let err = guarded(path, || Err::<(), _>(XlsxError::RowColumnLimitError)).unwrap_err();
        assert!(err.to_string().contains("out/customers.xlsx"), "{err}");
    }

    /// Two writes of the same rows, a second apart, are the same bytes.
    #[test]
    fn the_same_rows_give_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_rows(&dir.path().join("a.xlsx"), 3, 5);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let second = write_rows(&dir.path().join("b.xlsx"), 3, 5);
        assert_eq!(first.summary.sha256, second.summary.sha256);
    }
}

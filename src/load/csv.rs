//! CSV: a header row, then one record per row; UTF-8, RFC 4180 quoting and CRLF line ends.
//!
//! Cells: `Null` and the empty string are both an empty field (CSV cannot tell them apart; use
//! NDJSON or Parquet where that matters). Integers and floats in Rust's shortest round-trip form,
//! booleans `true`/`false`, timestamps RFC 3339 UTC (`2025-08-27T12:57:22Z`, six fractional digits
//! when the microseconds are not zero). Quotes, delimiters and embedded newlines are kept and the
//! field quoted, never stripped.
//!
//! **Spreadsheet safety** (on by default, [`CsvOptions::spreadsheet_safe`]): a spreadsheet runs a
//! cell starting with `=`, `+`, `-` or `@` as a formula, and tab or CR can smuggle one in, so
//! customer data such as `=HYPERLINK("…")` could run on a finance person's machine (OWASP "CSV
//! injection"). Such a text cell is written with a leading `'`, which spreadsheets take as "this is
//! text" and do not show. The exception is text that is entirely one plain number
//! (`-5`, `+12.5`, `-1.5e3`): a spreadsheet reads it as that number, no formula can hide in it, and
//! prefixing it would turn numbers into text. `+31 20 123 4567` is not a plain number (a
//! spreadsheet would try to evaluate it), so it is prefixed. Integer, float, boolean and timestamp
//! cells are never prefixed. The header is treated like a text cell. Reading back, a value is
//! either the original text or `'` followed by it.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use super::publish::{self, Sink, StageAt, Staged};
use super::{CsvOptions, Finished, LoadError, check_row, iso_date, rfc3339};
use crate::model::row::{Cell, Schema};

/// A CSV file being written. See the module docs for how cells are rendered.
#[derive(Debug)]
pub struct CsvWriter {
    // Declared before `staged`: the file is closed before the temporary path is deleted.
    out: csv::Writer<Sink>,
    staged: Staged,
    schema: Schema,
    spreadsheet_safe: bool,
    rows: u64,
    /// One reusable text buffer per column, so a row costs no allocation once warmed up.
    fields: Vec<String>,
}

impl CsvWriter {
    pub(crate) fn create(
        final_path: &Path,
        options: &CsvOptions,
        schema: Schema,
        at: StageAt<'_>,
    ) -> Result<CsvWriter, LoadError> {
        // The csv crate would take any byte; these would make a file no reader can split back.
        if matches!(options.delimiter, b'"' | b'\r' | b'\n') {
            return Err(LoadError::InvalidOption {
                path: final_path.to_path_buf(),
                format: "csv",
                reason: format!(
                    "the delimiter {:?} cannot be a quote or a line break",
                    options.delimiter as char
                ),
            });
        }
        let (mut sink, staged) = publish::stage(final_path, at)?;
        if options.bom {
            sink.write_all("\u{feff}".as_bytes())
                .map_err(|e| staged.write_error(e))?;
        }
        let out = csv::WriterBuilder::new()
            .delimiter(options.delimiter)
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(sink);
        let mut writer = CsvWriter {
            out,
            staged,
            fields: vec![String::new(); schema.len()],
            schema,
            spreadsheet_safe: options.spreadsheet_safe,
            rows: 0,
        };
        for (buf, column) in writer.fields.iter_mut().zip(writer.schema.iter()) {
            push_text(buf, &column.name, writer.spreadsheet_safe);
        }
        writer.write_fields()?;
        Ok(writer)
    }

    pub(crate) fn write_row(&mut self, row: &[Cell]) -> Result<(), LoadError> {
        check_row(self.staged.final_path(), &self.schema, row)?;
        for ((buf, column), cell) in self.fields.iter_mut().zip(self.schema.iter()).zip(row) {
            buf.clear();
            match cell {
                Cell::Null => {}
                Cell::Str(s) => push_text(buf, s, self.spreadsheet_safe),
                // Writing to a String cannot fail.
                Cell::Int(i) => {
                    let _ = write!(buf, "{i}");
                }
                Cell::Float(f) => {
                    let _ = write!(buf, "{f}");
                }
                Cell::Bool(b) => buf.push_str(if *b { "true" } else { "false" }),
                Cell::Timestamp(micros) => {
                    buf.push_str(&rfc3339(self.staged.final_path(), column, *micros)?)
                }
                Cell::Date(days) => {
                    buf.push_str(&iso_date(self.staged.final_path(), column, *days)?)
                }
            }
        }
        self.write_fields()?;
        self.rows += 1;
        Ok(())
    }

    fn write_fields(&mut self) -> Result<(), LoadError> {
        self.out
            .write_record(&self.fields)
            .map_err(|source| LoadError::Csv {
                path: self.staged.final_path().to_path_buf(),
                source,
            })
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

    pub(crate) fn finish(self) -> Result<Finished, LoadError> {
        let CsvWriter {
            out,
            staged,
            schema,
            rows,
            ..
        } = self;
        let sink = out
            .into_inner()
            .map_err(|e| staged.write_error(e.into_error()))?;
        staged.seal(sink, "csv", rows, &schema)
    }
}

/// Appends `text`, prefixed with `'` when `safe` and a spreadsheet would run it as a formula.
fn push_text(buf: &mut String, text: &str, safe: bool) {
    if safe && needs_quote_prefix(text) {
        buf.push('\'');
    }
    buf.push_str(text);
}

/// Whether a text cell would start a formula: it begins with `=`, `+`, `-`, `@`, tab or CR and
/// is not a plain number.
pub(crate) fn needs_quote_prefix(text: &str) -> bool {
    matches!(
        text.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    ) && !is_plain_number(text)
}

/// `[+-]? (digits [. digits*] | . digits) ([eE] [+-]? digits)?` — ASCII only, nothing else, so
/// `inf`, `NaN`, spaces and separators do not count.
fn is_plain_number(text: &str) -> bool {
    fn digits(s: &[u8]) -> usize {
        s.iter().take_while(|b| b.is_ascii_digit()).count()
    }
    let mut s = text.as_bytes();
    if let Some(b'+' | b'-') = s.first() {
        s = &s[1..];
    }
    let int = digits(s);
    s = &s[int..];
    let mut frac = 0;
    if let Some(b'.') = s.first() {
        s = &s[1..];
        frac = digits(s);
        s = &s[frac..];
    }
    if int + frac == 0 {
        return false;
    }
    if let Some(b'e' | b'E') = s.first() {
        s = &s[1..];
        if let Some(b'+' | b'-') = s.first() {
            s = &s[1..];
        }
        let exp = digits(s);
        if exp == 0 {
            return false;
        }
        s = &s[exp..];
    }
    s.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn neutralisation_rule() {
        for s in [
            "=HYPERLINK(\"x\")",
            "+31 20",
            "+31 20 123 4567",
            "@acme",
            "\tx",
            "\r=1",
            "-",
            "+",
            "-2+3+cmd|' /C calc'!A0",
            "-inf",
            "-NaN",
            "-1e",
            "-.",
            "-1.2.3",
            "- 5",
        ] {
            assert!(needs_quote_prefix(s), "{s:?} should be prefixed");
        }
        for s in [
            "", "-5", "+5", "-12.5", "-.5", "-5.", "+1e10", "-1.5E-3", "plain", "5-3", "'=x", " =1",
        ] {
            assert!(!needs_quote_prefix(s), "{s:?} should not be prefixed");
        }
    }

    /// Writes one text cell the way the writer does and reads it back with the csv crate.
    fn round_trip(text: &str) -> String {
        let mut buf = String::new();
        push_text(&mut buf, text, true);
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        // Two columns, so a single empty field needs no special case here.
        w.write_record([buf.as_str(), "end"]).unwrap();
        let bytes = w.into_inner().unwrap();
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice());
        let rec = r.records().next().unwrap().unwrap();
        rec[0].to_string()
    }

    proptest! {
        #[test]
        fn neutralisation_round_trips(text in "\\PC*|[=+\\-@\t\r][\\PC\t\r\n\"]*|[+-]?[0-9]*\\.?[0-9]*([eE][+-]?[0-9]+)?") {
            let back = round_trip(&text);
            prop_assert!(back == text || back == format!("'{text}"), "{text:?} came back as {back:?}");
            let starts_formula = matches!(back.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
            prop_assert!(!starts_formula || is_plain_number(&back), "{back:?} would start a formula");
        }
    }
}

//! NDJSON: one JSON object per line, each line ended by `\n`, UTF-8.
//!
//! A row becomes `{"column": value, …}` with the keys in schema order; `Null` is `null`, integers
//! and booleans are JSON numbers and booleans, timestamps RFC 3339 UTC strings
//! (`"2025-08-27T12:57:22Z"`, six fractional digits when the microseconds are not zero). A float
//! that JSON cannot hold (NaN, ±infinity) is written as `null`, as serde_json does.
//!
//! The object is written key by key rather than through a `serde_json::Map`: without serde_json's
//! `preserve_order` feature a map sorts its keys, and the schema order is part of the contract.
//! serde_json escapes control characters, so a line never contains a raw newline.

use std::io::Write as _;
use std::path::Path;

use super::publish::{self, Sink, StageAt, Staged};
use super::{Finished, LoadError, NdjsonOptions, check_row, iso_date, rfc3339};
use crate::model::row::{Cell, Schema};

/// An NDJSON file being written.
#[derive(Debug)]
pub struct NdjsonWriter {
    // Declared before `staged`: the file is closed before the temporary path is deleted.
    out: Sink,
    staged: Staged,
    schema: Schema,
    rows: u64,
}

impl NdjsonWriter {
    pub(crate) fn create(
        final_path: &Path,
        _options: &NdjsonOptions,
        schema: Schema,
        at: StageAt<'_>,
    ) -> Result<NdjsonWriter, LoadError> {
        let (out, staged) = publish::stage(final_path, at)?;
        Ok(NdjsonWriter {
            out,
            staged,
            schema,
            rows: 0,
        })
    }

    pub(crate) fn write_row(&mut self, row: &[Cell]) -> Result<(), LoadError> {
        let path = self.staged.final_path();
        check_row(path, &self.schema, row)?;
        // Render timestamps and dates first: an out-of-range one must fail before half a line is
        // written.
        let mut stamps = Vec::new();
        for (column, cell) in self.schema.iter().zip(row) {
            match cell {
                Cell::Timestamp(micros) => stamps.push(rfc3339(path, column, *micros)?),
                Cell::Date(days) => stamps.push(iso_date(path, column, *days)?),
                _ => {}
            }
        }
        let mut stamps = stamps.into_iter();

        let json_err = |source| LoadError::Json {
            path: path.to_path_buf(),
            source,
        };
        let out = &mut self.out;
        let mut sep = b'{';
        for (column, cell) in self.schema.iter().zip(row) {
            out.write_all(&[sep])
                .map_err(|e| self.staged.write_error(e))?;
            sep = b',';
            serde_json::to_writer(&mut *out, &column.name).map_err(json_err)?;
            out.write_all(b":")
                .map_err(|e| self.staged.write_error(e))?;
            match cell {
                Cell::Null => out
                    .write_all(b"null")
                    .map_err(|e| self.staged.write_error(e))?,
                Cell::Str(s) => serde_json::to_writer(&mut *out, s).map_err(json_err)?,
                Cell::Int(i) => serde_json::to_writer(&mut *out, i).map_err(json_err)?,
                Cell::Float(f) => serde_json::to_writer(&mut *out, f).map_err(json_err)?,
                Cell::Bool(b) => serde_json::to_writer(&mut *out, b).map_err(json_err)?,
                Cell::Timestamp(_) | Cell::Date(_) => {
                    let s = stamps.next().unwrap_or_default();
                    serde_json::to_writer(&mut *out, &s).map_err(json_err)?
                }
            }
        }
        out.write_all(b"}\n")
            .map_err(|e| self.staged.write_error(e))?;
        self.rows += 1;
        Ok(())
    }

    pub(crate) fn write_json(&mut self, value: &serde_json::Value) -> Result<(), LoadError> {
        let path = self.staged.final_path();
        if !value.is_object() {
            return Err(LoadError::JsonNotObject {
                path: path.to_path_buf(),
                found: match value {
                    serde_json::Value::Null => "null",
                    serde_json::Value::Bool(_) => "a boolean",
                    serde_json::Value::Number(_) => "a number",
                    serde_json::Value::String(_) => "a string",
                    serde_json::Value::Array(_) => "an array",
                    serde_json::Value::Object(_) => "an object",
                },
            });
        }
        serde_json::to_writer(&mut self.out, value).map_err(|source| LoadError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        self.out
            .write_all(b"\n")
            .map_err(|e| self.staged.write_error(e))?;
        self.rows += 1;
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

    pub(crate) fn finish(self) -> Result<Finished, LoadError> {
        let NdjsonWriter {
            out,
            staged,
            schema,
            rows,
        } = self;
        staged.seal(out, "ndjson", rows, &schema)
    }
}

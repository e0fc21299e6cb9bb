//! A file several sources write while they run at once, kept in pipeline order: the rows of the
//! first source, then the second's, and so on — so two runs over the same data write the same
//! bytes, whichever source is faster tonight.
//!
//! The source whose turn it is (every earlier one has finished and its rows are in) writes
//! straight to the file; a later one writes its rows to a spill file of its own in the system's
//! temporary folder (`TMPDIR`), in a compact binary form. When a source finishes, the spills of
//! the finished sources after it are copied in, in order, and the turn passes to the first one
//! still running, which copies its own spill in before its next row. Memory stays bounded (a
//! spill is on disk); the disk holds the later sources' rows of the shared files until their turn.
//! A spill is deleted when it is copied in or dropped.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::load::{LoadError, Writer};
use crate::model::Cell;

/// A file shared by several sources, each at a position: its order in the pipeline among them.
pub struct SharedFile {
    writer: Mutex<Writer>,
    /// Where the file will be published, for messages.
    path: PathBuf,
    /// The position whose turn it is: every earlier source's rows are in the file.
    turn: AtomicUsize,
    /// The sources, by position: running, or finished with their spill waiting for their turn.
    waiting: Mutex<Vec<Slot>>,
}

enum Slot {
    Running,
    /// Finished; its rows (if it wrote any before its turn) wait here.
    Finished(Option<Spill>),
}

impl SharedFile {
    /// `writer` shared by `users` sources.
    pub fn new(writer: Writer, users: usize) -> Arc<SharedFile> {
        Arc::new(SharedFile {
            path: writer.final_path().to_path_buf(),
            writer: Mutex::new(writer),
            turn: AtomicUsize::new(0),
            waiting: Mutex::new((0..users).map(|_| Slot::Running).collect()),
        })
    }

    /// The writer, once every source has finished; else (a source failed) `None`.
    pub fn into_writer(self: Arc<SharedFile>) -> Option<Writer> {
        let file = Arc::into_inner(self)?;
        let users = file.waiting.into_inner().map_or(0, |w| w.len());
        let done = file.turn.load(Ordering::Acquire) == users;
        let writer = file.writer.into_inner().ok()?;
        done.then_some(writer)
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        // A writer's thread that panicked holding it has failed the run; its state is not read.
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One source's way into a [`SharedFile`].
pub struct SharedSink {
    file: Arc<SharedFile>,
    position: usize,
    /// Rows written before this source's turn.
    spill: Option<Spill>,
}

impl SharedSink {
    pub fn new(file: Arc<SharedFile>, position: usize) -> SharedSink {
        SharedSink {
            file,
            position,
            spill: None,
        }
    }

    pub fn write_row(&mut self, row: &[Cell<'_>]) -> Result<(), LoadError> {
        if self.has_turn()? {
            return self.file.writer().write_row(row);
        }
        let failed = self.failed();
        self.spill()?.row(row).map_err(failed)
    }

    pub fn write_json(&mut self, value: &Value) -> Result<(), LoadError> {
        if self.has_turn()? {
            return self.file.writer().write_json(value);
        }
        let failed = self.failed();
        self.spill()?.json(value).map_err(failed)
    }

    /// Whether this source writes straight to the file; on its turn's first row, its spill is
    /// copied in first.
    fn has_turn(&mut self) -> Result<bool, LoadError> {
        if self.file.turn.load(Ordering::Acquire) != self.position {
            return Ok(false);
        }
        if let Some(spill) = self.spill.take() {
            spill.copy_into(&mut self.file.writer(), &self.file.path)?;
        }
        Ok(true)
    }

    /// This source's spill, made on its first row.
    fn spill(&mut self) -> Result<&mut Spill, LoadError> {
        let spill = match self.spill.take() {
            Some(spill) => spill,
            None => Spill::new().map_err(self.failed())?,
        };
        Ok(self.spill.insert(spill))
    }

    /// The error of a spill of this file.
    fn failed(&self) -> impl FnOnce(io::Error) -> LoadError + use<> {
        let path = self.file.path.clone();
        move |source| LoadError::Spill { path, source }
    }

    /// The source has written its last row: on its turn, its spill and the waiting spills after
    /// it are copied in and the turn passes on; else its spill waits for its turn.
    pub fn finish(self) -> Result<(), LoadError> {
        let SharedSink {
            file,
            position,
            spill,
        } = self;
        let mut waiting = file.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if file.turn.load(Ordering::Acquire) != position {
            waiting[position] = Slot::Finished(spill);
            return Ok(());
        }
        let mut writer = file.writer();
        if let Some(spill) = spill {
            spill.copy_into(&mut writer, &file.path)?;
        }
        let mut next = position + 1;
        while let Some(Slot::Finished(spill)) = waiting.get_mut(next) {
            if let Some(spill) = spill.take() {
                spill.copy_into(&mut writer, &file.path)?;
            }
            next += 1;
        }
        file.turn.store(next, Ordering::Release);
        Ok(())
    }
}

/// Rows (and JSON values) held on disk until their turn: an unnamed temporary file, deleted when
/// closed. Each entry is a tag byte then its content, little-endian: a row is its cell count and
/// each cell's tag and value; a JSON value its text's length and text.
struct Spill {
    file: BufWriter<File>,
    /// One row's bytes, reused from row to row.
    entry: Vec<u8>,
}

const ROW: u8 = 0;
const JSON: u8 = 1;
const NULL: u8 = 0;
const STR: u8 = 1;
const INT: u8 = 2;
const FLOAT: u8 = 3;
const BOOL: u8 = 4;
const TIMESTAMP: u8 = 5;
const DATE: u8 = 6;

impl Spill {
    fn new() -> io::Result<Spill> {
        let file = tempfile::tempfile()?;
        Ok(Spill {
            file: BufWriter::with_capacity(SPILL_BUFFER, file),
            entry: Vec::new(),
        })
    }

    fn row(&mut self, row: &[Cell<'_>]) -> io::Result<()> {
        self.entry.clear();
        self.entry.push(ROW);
        self.entry
            .extend_from_slice(&(row.len() as u32).to_le_bytes());
        for cell in row {
            encode(cell, &mut self.entry);
        }
        self.file.write_all(&self.entry)
    }

    fn json(&mut self, value: &Value) -> io::Result<()> {
        let text = serde_json::to_vec(value)?;
        self.file.write_all(&[JSON])?;
        self.file.write_all(&(text.len() as u32).to_le_bytes())?;
        self.file.write_all(&text)
    }

    /// Writes every entry into `writer` (publishing at `path`), in order, and deletes the spill.
    fn copy_into(self, writer: &mut Writer, path: &std::path::Path) -> Result<(), LoadError> {
        let failed = |source| LoadError::Spill {
            path: path.to_path_buf(),
            source,
        };
        let mut file = self.file.into_inner().map_err(|e| failed(e.into_error()))?;
        file.rewind().map_err(failed)?;
        let mut input = BufReader::with_capacity(SPILL_BUFFER, file);
        let mut text = Vec::new();
        let mut cells = Vec::new();
        loop {
            let mut tag = [0u8; 1];
            if input.read(&mut tag).map_err(failed)? == 0 {
                return Ok(());
            }
            if tag[0] == JSON {
                let value = read_json(&mut input, &mut text).map_err(failed)?;
                writer.write_json(&value)?;
            } else {
                read_row(&mut input, &mut text, &mut cells).map_err(failed)?;
                writer.write_row(&decode(&text, &cells))?;
            }
        }
    }
}

/// The buffer of a spill's writes and reads.
const SPILL_BUFFER: usize = 256 * 1024;

/// One cell as [`read_row`] reads it: its tag, its text's range, its value's bytes.
type Encoded = (u8, usize, usize, [u8; 8]);

fn read_json(input: &mut impl Read, text: &mut Vec<u8>) -> io::Result<Value> {
    let len = read_u32(input)? as usize;
    text.resize(len, 0);
    input.read_exact(text)?;
    Ok(serde_json::from_slice(text)?)
}

/// Appends `cell` to `out`.
fn encode(cell: &Cell<'_>, out: &mut Vec<u8>) {
    match cell {
        Cell::Null => out.push(NULL),
        Cell::Str(s) => {
            out.push(STR);
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Cell::Int(i) => tagged(out, INT, i.to_le_bytes()),
        Cell::Float(f) => tagged(out, FLOAT, f.to_le_bytes()),
        Cell::Bool(b) => out.extend_from_slice(&[BOOL, u8::from(*b)]),
        Cell::Timestamp(t) => tagged(out, TIMESTAMP, t.to_le_bytes()),
        Cell::Date(d) => {
            out.push(DATE);
            out.extend_from_slice(&d.to_le_bytes());
        }
    }
}

fn tagged(out: &mut Vec<u8>, tag: u8, bytes: [u8; 8]) {
    out.push(tag);
    out.extend_from_slice(&bytes);
}

/// Reads one row's cells: their text into `text`, each cell as (tag, text start, text end, value
/// bytes) into `cells`.
fn read_row(input: &mut impl Read, text: &mut Vec<u8>, cells: &mut Vec<Encoded>) -> io::Result<()> {
    text.clear();
    cells.clear();
    let count = read_u32(input)?;
    for _ in 0..count {
        let mut tag = [0u8; 1];
        input.read_exact(&mut tag)?;
        let mut value = [0u8; 8];
        let (start, mut end) = (text.len(), text.len());
        match tag[0] {
            NULL => {}
            STR => {
                let len = read_u32(input)? as usize;
                text.resize(start + len, 0);
                input.read_exact(&mut text[start..])?;
                end = text.len();
            }
            BOOL => input.read_exact(&mut value[..1])?,
            DATE => input.read_exact(&mut value[..4])?,
            _ => input.read_exact(&mut value)?,
        }
        cells.push((tag[0], start, end, value));
    }
    Ok(())
}

/// The cells [`read_row`] read.
fn decode<'a>(text: &'a [u8], cells: &[Encoded]) -> Vec<Cell<'a>> {
    let cell = |&(tag, start, end, value): &Encoded| match tag {
        // Written from a `str`: valid UTF-8.
        STR => Cell::Str(String::from_utf8_lossy(&text[start..end])),
        INT => Cell::Int(i64::from_le_bytes(value)),
        FLOAT => Cell::Float(f64::from_le_bytes(value)),
        BOOL => Cell::Bool(value[0] != 0),
        TIMESTAMP => Cell::Timestamp(i64::from_le_bytes(value)),
        DATE => Cell::Date(i32::from_le_bytes([value[0], value[1], value[2], value[3]])),
        _ => Cell::Null,
    };
    cells.iter().map(cell).collect()
}

fn read_u32(input: &mut impl Read) -> io::Result<u32> {
    let mut bytes = [0u8; 4];
    input.read_exact(&mut bytes)?;
    Ok(u32::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::time::Duration;

    use super::*;
    use crate::load::{Format, NdjsonOptions};
    use crate::model::{Column, ColumnType};

    fn schema() -> crate::model::Schema {
        let columns = [
            ("source", ColumnType::Int64),
            ("n", ColumnType::Int64),
            ("text", ColumnType::Utf8),
            ("ratio", ColumnType::Float64),
            ("flag", ColumnType::Boolean),
            ("at", ColumnType::Timestamp),
            ("day", ColumnType::Date),
        ];
        (columns.iter())
            .map(|(name, ty)| Column::new(*name, *ty))
            .collect::<Vec<_>>()
            .into()
    }

    /// Row `n` of source `source`: every kind of cell, some null.
    fn row(source: i64, n: i64) -> Vec<Cell<'static>> {
        let text = match n % 3 {
            0 => Cell::Null,
            1 => Cell::Str(Cow::Borrowed("Zoë, \"quoted\"\nsecond line")),
            _ => Cell::Str(Cow::Owned(format!("{source}-{n}"))),
        };
        vec![
            Cell::Int(source),
            Cell::Int(n),
            text,
            Cell::Float(n as f64 / 7.0),
            Cell::Bool(n % 2 == 0),
            Cell::Timestamp(1_700_000_000_000_000 + n),
            Cell::Date(-3 + n as i32),
        ]
    }

    /// Three sources write one file at once, finishing in every order and pausing at random:
    /// the file holds source 0's rows, then 1's, then 2's, each in order and every cell as
    /// written — the same bytes as the three written one after the other.
    #[test]
    fn sources_writing_at_once_land_in_pipeline_order() {
        let dir = tempfile::tempdir().unwrap();
        let format = Format::Ndjson(NdjsonOptions::default());
        let expected = {
            let path = dir.path().join("one-after-the-other.ndjson");
            let mut writer = Writer::create(&path, &format, schema()).unwrap();
            for source in 0..3 {
                for n in 0..500 {
                    writer.write_row(&row(source, n)).unwrap();
                }
            }
            writer.finish().unwrap().publish().unwrap();
            std::fs::read(&path).unwrap()
        };
        // Which source finishes first, second, last.
        for (round, finishing) in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]]
            .iter()
            .enumerate()
        {
            let path = dir.path().join(format!("at-once-{round}.ndjson"));
            let file = SharedFile::new(Writer::create(&path, &format, schema()).unwrap(), 3);
            let threads: Vec<_> = (0..3)
                .map(|source: usize| {
                    let mut sink = SharedSink::new(file.clone(), source);
                    let rank = finishing.iter().position(|s| *s == source).unwrap() as u64;
                    std::thread::spawn(move || {
                        for n in 0..500 {
                            sink.write_row(&row(source as i64, n)).unwrap();
                            if fastrand::u8(..) == 0 {
                                std::thread::sleep(Duration::from_millis(1));
                            }
                        }
                        std::thread::sleep(Duration::from_millis(30 * rank));
                        sink.finish().unwrap();
                    })
                })
                .collect();
            threads.into_iter().for_each(|t| t.join().unwrap());
            let writer = file.into_writer().expect("every source finished");
            writer.finish().unwrap().publish().unwrap();
            assert!(
                std::fs::read(&path).unwrap() == expected,
                "finishing {finishing:?}"
            );
        }
    }

    /// A source that has not finished keeps the file from being published.
    #[test]
    fn a_file_whose_sources_did_not_all_finish_is_not_handed_back() {
        let dir = tempfile::tempdir().unwrap();
        let format = Format::Ndjson(NdjsonOptions::default());
        let writer = Writer::create(&dir.path().join("f.ndjson"), &format, schema()).unwrap();
        let file = SharedFile::new(writer, 2);
        let mut first = SharedSink::new(file.clone(), 0);
        let second = SharedSink::new(file.clone(), 1);
        first.write_row(&row(0, 1)).unwrap();
        first.finish().unwrap();
        drop(second);
        assert!(file.into_writer().is_none());
    }
}

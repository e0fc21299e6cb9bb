//! One source through the stages: its extraction on the async runtime — whose workers read and
//! transform each page as it arrives — and a blocking thread that writes the rows, joined by a
//! bounded channel so memory holds a few pages, however many there are.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use serde::de::{Deserialize, Deserializer, Error as _};
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::RunError;
use super::logging::spawn_ticker;
use super::outputs::{OwnFile, Routes, Sink, SourceFiles, end_turns};
use crate::extract::{
    self, ExtractError, Extracted, RecordReader, Session, SourceProgress, ValueReader,
};
use crate::load::LoadError;
use crate::model::{PackedRows, RowForWriters};
use crate::pipeline::SourcePlan;
use crate::transform::observe::Observed;
use crate::transform::{ParsedRecord, RecordReport, Transformer, Transforms};

/// Records in flight between a source's extraction and its writer thread, in pages. Two saved
/// 2 MB but stalled the readers while the writer encoded a row group (100k export 1.5 → 1.9 s).
const CHANNEL_PAGES: usize = 4;

/// What a succeeded source's run came to.
pub struct SourceDone {
    pub extracted: Extracted,
    pub report: RecordReport,
    /// The files only it wrote, for the run to take back.
    pub own: Vec<OwnFile>,
}

/// Extracts one source on the async runtime while a blocking thread writes its rows into its
/// sinks, until it ends or `cancel` says another source failed. Once it has succeeded, its turn
/// in each shared file ends and its own files come back with it; if it fails, they are dropped
/// (their temporary files deleted).
pub async fn run_source(
    source: &SourcePlan,
    client: &reqwest::Client,
    transforms: Arc<Transforms>,
    files: SourceFiles,
    progress: SourceProgress,
    mut cancel: watch::Receiver<bool>,
) -> Result<SourceDone, RunError> {
    let SourceFiles {
        mut sinks, routes, ..
    } = files;
    let session = Arc::new(session(source, client, progress.clone())?);
    let spare = Arc::new(SpareRows::default());
    let reader = Arc::new(RowReader {
        transforms,
        nested: !routes.nested.is_empty(),
        last_size: Default::default(),
        spare: spare.clone(),
    });
    let (tx, rx) = mpsc::channel::<Vec<ReadRecord>>(CHANNEL_PAGES);
    let ticker = (!progress.has_bar()).then(|| spawn_ticker(progress.clone()));

    let writing = tokio::task::spawn_blocking(move || {
        let result = write_records(rx, &routes, &mut sinks, &spare);
        (sinks, result)
    });
    let extraction = extract::extract(session, source.page_size, reader, tx);
    let extracted = tokio::select! {
        extracted = extraction => extracted,
        // Dropping the extraction closes the channel: the writer thread ends too.
        _ = cancel.wait_for(|cancelled| *cancelled) => Err(ExtractError::Cancelled {
            source_name: source.name.clone(),
        }),
    };
    if let Some(t) = ticker {
        t.abort();
    }
    let stopped = |e| RunError::Setup(format!("the writer thread stopped: {e}"));
    let (sinks, written) = writing.await.map_err(stopped)?;
    // A write error explains a cancelled extraction better than "cancelled" does.
    let report = written?;
    let extracted = extracted?;
    let own = (tokio::task::spawn_blocking(move || end_turns(sinks)).await).map_err(stopped)??;
    Ok(SourceDone {
        extracted,
        report,
        own,
    })
}

/// The source's connector in a session of its own (its token cache, rate limiter and counts).
fn session(
    source: &SourcePlan,
    client: &reqwest::Client,
    progress: SourceProgress,
) -> Result<Session, RunError> {
    let connector = source.connector().map_err(|detail| ExtractError::Setup {
        source_name: source.name.clone(),
        detail,
    })?;
    Ok(Session::new(
        &source.name,
        &source.limits,
        client.clone(),
        connector,
        progress,
    ))
}

/// The first pages of a source, observed.
pub struct Sample {
    pub observed: Observed,
    pub pages: u64,
    /// The total the API reported, when it does.
    pub total: Option<u64>,
}

/// Reads up to `pages` pages of a source, one after the other, through the same session as a run
/// (auth, rate limit, retries), and observes their records: what `inspect` prints and where
/// `undeclared: columns` finds its columns. Nothing is written.
pub async fn sample(
    source: &SourcePlan,
    client: &reqwest::Client,
    pages: u64,
    progress: SourceProgress,
) -> Result<Sample, RunError> {
    let session = session(source, client, progress)?;
    let record = source.vendor.spec().record.key;
    let reader = ValueReader { record_key: record };
    let mut observed = Observed::new(&source.vendor.spec().record);
    let mut total = None;
    let mut read = 0;
    let mut after = None;
    while read < pages {
        let page = session.fetch_page(read, after.as_ref(), &reader).await?;
        read += 1;
        total = total.or(page.info.total);
        after = page.info.next.clone();
        for record in &page.records {
            observed.add(record);
        }
        if page.info.last || page.records.is_empty() {
            break;
        }
    }
    Ok(Sample {
        observed,
        pages: read,
        total,
    })
}

/// The run's record reader: the transforms, run as each page is parsed (on the extraction side),
/// so a record is read once, straight from the page's text, and the writer thread only writes.
struct RowReader {
    transforms: Arc<Transforms>,
    /// NDJSON in nested form also wants the record as it came.
    nested: bool,
    /// The text bytes and cells of the last record packed: the next record's buffers start at
    /// that size (records of a source are alike), not a doubling at a time from nothing.
    last_size: [AtomicUsize; 2],
    /// Buffers of records the writer has written, for the next records.
    spare: Arc<SpareRows>,
}

/// Emptied [`PackedRows`] on their way back from the writer thread to the readers: a record's
/// buffers are reused rather than freed on one thread and allocated on another, which (the
/// allocator handing free memory back to the system early, see [`crate::allocator`]) costs the
/// kernel a page fault per 4 KiB of every record written.
#[derive(Default)]
struct SpareRows(std::sync::Mutex<Spare>);

#[derive(Default)]
struct Spare {
    rows: Vec<PackedRows>,
    /// Their buffers' bytes.
    bytes: usize,
}

/// The most bytes of emptied buffers a source keeps: a page or two of records at page size 100,
/// enough for the readers to find one waiting at a steady pace, little enough for five sources at
/// once to stay within the memory bound. A record's buffer beyond it is freed.
const SPARE_BYTES: usize = 512 * 1024;

impl SpareRows {
    fn take(&self) -> Option<PackedRows> {
        let mut spare = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let rows = spare.rows.pop()?;
        spare.bytes -= rows.capacity_bytes();
        Some(rows)
    }

    fn give_back(&self, rows: impl Iterator<Item = PackedRows>) {
        let mut spare = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for mut packed in rows {
            let bytes = packed.capacity_bytes();
            if spare.bytes + bytes > SPARE_BYTES {
                continue;
            }
            packed.clear();
            spare.bytes += bytes;
            spare.rows.push(packed);
        }
    }
}

/// One record, transformed.
struct ReadRecord {
    key: Option<u64>,
    rows: PackedRows,
    report: RecordReport,
    nested: Option<Value>,
}

impl RecordReader for RowReader {
    type Record = ReadRecord;

    fn read<'de, D: Deserializer<'de>>(&self, input: D) -> Result<ReadRecord, D::Error> {
        if !self.nested && self.transforms.len() == 1 {
            let mut read = self.start();
            let record = self.transformer(0).read(input)?;
            self.add(&mut read, 0, &record);
            self.end(&read);
            return Ok(read);
        }
        // Several transforms (or the record as it came) read one tree of the record.
        let value = Value::deserialize(input)?;
        let mut read = self.start();
        for i in 0..self.transforms.len() {
            let record = self.transformer(i).read(&value).map_err(D::Error::custom)?;
            self.add(&mut read, i, &record);
        }
        read.nested = self.nested.then_some(value);
        self.end(&read);
        Ok(read)
    }

    fn key_hash(&self, record: &ReadRecord) -> Option<u64> {
        record.key
    }
}

impl RowReader {
    fn start(&self) -> ReadRecord {
        let [text, cells] = &self.last_size;
        // A little over the last record's size, so one a few bytes longer still fits.
        let room = |n: &AtomicUsize| {
            let n = n.load(Relaxed);
            n + n / 8
        };
        ReadRecord {
            key: None,
            rows: (self.spare.take())
                .unwrap_or_else(|| PackedRows::with_capacity(room(text), room(cells))),
            report: RecordReport::default(),
            nested: None,
        }
    }

    fn end(&self, read: &ReadRecord) {
        let (text, cells) = read.rows.size();
        self.last_size[0].store(text, Relaxed);
        self.last_size[1].store(cells, Relaxed);
    }

    fn transformer(&self, i: usize) -> &Transformer {
        self.transforms.get(i)
    }

    /// Packs transform `i`'s rows of one record for the writer thread as the transform makes
    /// them (no list of the record's rows in between), numbering its tables across every
    /// transform.
    fn add(&self, read: &mut ReadRecord, i: usize, record: &ParsedRecord<'_>) {
        let first_table = self.transforms.first_table(i);
        let rows = &mut read.rows;
        let report = self.transformer(i).emit(record, &mut |table, row| {
            rows.push(first_table + table, row)
        });
        read.report = if i == 0 {
            report
        } else {
            read.report.most(report)
        };
        read.key = read.key.or(record.key_hash());
    }
}

/// The writer thread: rows → files, until the extraction closes the channel.
fn write_records(
    mut rx: mpsc::Receiver<Vec<ReadRecord>>,
    routes: &Routes,
    sinks: &mut [Sink],
    spare: &SpareRows,
) -> Result<RecordReport, LoadError> {
    let mut total = RecordReport::default();
    while let Some(batch) = rx.blocking_recv() {
        let mut scratch = Vec::new();
        for record in &batch {
            total += record.report;
            for (table, row) in record.rows.rows() {
                let mut row = RowForWriters::new(row, &mut scratch);
                for &sink in &routes.tables[table] {
                    sinks[sink].write_packed(&mut row)?;
                }
            }
            if let Some(value) = &record.nested {
                for &sink in &routes.nested {
                    sinks[sink].write_json(value)?;
                }
            }
        }
        spare.give_back(batch.into_iter().map(|record| record.rows));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cell;

    #[test]
    fn written_rows_come_back_empty_with_their_buffers_up_to_the_bound() {
        let spare = SpareRows::default();
        assert!(spare.take().is_none());
        let record = || {
            let mut rows = PackedRows::with_capacity(4096, 80);
            rows.push(0, &[Cell::Str("Acme".into()), Cell::Int(7)]);
            rows
        };
        let each = record().capacity_bytes();
        let fit = SPARE_BYTES / each;
        spare.give_back((0..fit + 10).map(|_| record()));
        let kept: Vec<PackedRows> = std::iter::from_fn(|| spare.take()).collect();
        assert_eq!(kept.len(), fit, "as many as the bound holds");
        assert!(
            kept.iter()
                .all(|r| r.size() == (0, 0) && r.capacity_bytes() == each)
        );
        assert_eq!(spare.0.lock().unwrap().bytes, 0);
    }
}

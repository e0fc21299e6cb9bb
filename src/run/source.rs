//! One source through the stages: its extraction on the async runtime — whose workers read and
//! transform each page as it arrives — and a blocking thread that writes the rows, joined by a
//! bounded channel so memory holds a few pages, however many there are.

use std::sync::Arc;

use serde::de::{Deserialize, Deserializer, Error as _};
use serde_json::Value;
use tokio::sync::mpsc;

use super::RunError;
use super::logging::spawn_ticker;
use super::outputs::{Files, Routes};
use crate::extract::{
    self, ExtractError, Extracted, RecordReader, Session, SourceProgress, ValueReader,
};
use crate::load::{LoadError, Writer};
use crate::model::PackedRows;
use crate::pipeline::SourcePlan;
use crate::transform::observe::Observed;
use crate::transform::{ParsedRecord, RecordReport, Transformer};

/// Records in flight between a source's extraction and its writer thread, in pages. Two saved
/// 2 MB but stalled the readers while the writer encoded a row group (100k export 1.5 → 1.9 s).
const CHANNEL_PAGES: usize = 4;

/// What a source's run came to.
pub struct SourceDone {
    pub extracted: Extracted,
    pub report: RecordReport,
}

/// Extracts one source on the async runtime while a blocking thread writes its rows into `files`.
pub async fn run_source(
    source: &SourcePlan,
    client: &reqwest::Client,
    transformer: Arc<Transformer>,
    routes: Routes,
    files: &mut Files,
    progress: SourceProgress,
) -> Result<SourceDone, RunError> {
    let session = Arc::new(session(source, client, progress.clone())?);
    let reader = Arc::new(RowReader {
        transformer,
        nested: !routes.nested.is_empty(),
    });
    let (tx, rx) = mpsc::channel::<Vec<ReadRecord>>(CHANNEL_PAGES);
    let mut writers = std::mem::take(&mut files.writers);
    let ticker = (!progress.has_bar()).then(|| spawn_ticker(progress.clone()));

    let writing = tokio::task::spawn_blocking(move || {
        let result = write_records(rx, &routes, &mut writers);
        (writers, result)
    });
    let extracted = extract::extract(session, source.page_size, reader, tx).await;
    let (writers, written) = writing
        .await
        .map_err(|e| RunError::Setup(format!("the writer thread stopped: {e}")))?;
    files.writers = writers;
    if let Some(t) = ticker {
        t.abort();
    }
    // A write error explains a cancelled extraction better than "cancelled" does.
    let report = written?;
    Ok(SourceDone {
        extracted: extracted?,
        report,
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

/// The run's record reader: the transform, run as each page is parsed (on the extraction side),
/// so a record is read once, straight from the page's text, and the writer thread only writes.
struct RowReader {
    transformer: Arc<Transformer>,
    /// NDJSON in nested form also wants the record as it came.
    nested: bool,
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
        if !self.nested {
            return Ok(self.pack(&self.transformer.read(input)?));
        }
        let value = Value::deserialize(input)?;
        let record = self.transformer.read(&value).map_err(D::Error::custom)?;
        let packed = self.pack(&record);
        Ok(ReadRecord {
            nested: Some(value),
            ..packed
        })
    }

    fn key_hash(&self, record: &ReadRecord) -> Option<u64> {
        record.key
    }
}

impl RowReader {
    /// The record's rows, packed for the writer thread.
    fn pack(&self, record: &ParsedRecord<'_>) -> ReadRecord {
        let mut rows = Vec::new();
        let report = self.transformer.emit(record, &mut rows);
        let mut packed = PackedRows::default();
        for (table, row) in &rows {
            packed.push(*table, row);
        }
        ReadRecord {
            key: record.key_hash(),
            rows: packed,
            report,
            nested: None,
        }
    }
}

/// The writer thread: rows → files, until the extraction closes the channel.
fn write_records(
    mut rx: mpsc::Receiver<Vec<ReadRecord>>,
    routes: &Routes,
    writers: &mut [Writer],
) -> Result<RecordReport, LoadError> {
    let mut total = RecordReport::default();
    while let Some(batch) = rx.blocking_recv() {
        for record in batch {
            total += record.report;
            record.rows.try_for_each(|table, row| {
                for &w in &routes.tables[table] {
                    writers[w].write_row(row)?;
                }
                Ok::<(), LoadError>(())
            })?;
            if let Some(value) = &record.nested {
                for &w in &routes.nested {
                    writers[w].write_json(value)?;
                }
            }
        }
    }
    Ok(total)
}

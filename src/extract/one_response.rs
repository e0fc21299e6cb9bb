//! A list that comes whole in one response (C3's: every customer, however many), read as it
//! arrives: the body's chunks go to a blocking thread that parses them, each record through the
//! run's reader, and hands the records on in batches while the rest of the body is still on its
//! way — so memory holds a few chunks and a batch, never the body or its records.
//!
//! The response is fetched as a page is (rate limit, token, retries); a reply that is not a
//! success is read whole, as an error. A body that breaks off half-way (a dropped connection,
//! truncated JSON) is fetched again, and the records read from the broken one are passed over:
//! the list read again must begin with them, told by their number and a digest of their keys in
//! order (16 bytes, however long the list; keeping every key would grow with it). A list that
//! changed in between fails the source rather than lose or repeat records. Repeats within the
//! list are dropped as a paged source's are ([`Seen`]).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufReader, Read};
use std::sync::Arc;

use bytes::{Buf, Bytes};
use tokio::sync::mpsc;

use super::connector::PageInfo;
use super::error::ExtractError;
use super::page::{Collect, RecordReader, read_streamed};
use super::session::{Attempt, ReadReply, SendFailure, Session, Started, retry};
use super::{Extracted, SEEN_WINDOW, Seen, reconcile, send_on};

/// Records parsed before they are handed on together.
const BATCH_RECORDS: usize = 1000;
/// Body chunks received ahead of the parser, and batches parsed ahead of the run.
const CHUNKS_AHEAD: usize = 8;
const BATCHES_AHEAD: usize = 2;
/// The parser's read buffer (serde_json reads a byte at a time from what it is given).
const READ_BUFFER: usize = 64 * 1024;

/// Extracts a one-response source: its list read as it arrives, then its count checked.
pub(super) async fn extract<R: RecordReader>(
    session: Arc<Session>,
    reader: Arc<R>,
    out: mpsc::Sender<Vec<R::Record>>,
) -> Result<Extracted, ExtractError> {
    let mut list = StreamedList {
        reader,
        out,
        seen: Seen::new(SEEN_WINDOW),
        read_before: ListPrefix::default(),
        read_now: ListPrefix::default(),
    };
    let info = session.fetch(0, None, &mut list).await?;
    let progress = session.progress();
    if let Some(total) = info.total {
        progress.set_total(total);
    }
    if let Some(count) = info.in_page {
        progress.add_to_total(count);
    }
    // Its records are counted as they went on: the one response counts as one page.
    progress.page(0, 0);
    if !info.last {
        return Err(ExtractError::Paging {
            source_name: session.name.clone(),
            detail: "the vendor's list comes in one response, yet this one says more follow".into(),
        });
    }
    reconcile(&session)
}

/// Reads a list reply as it arrives, handing its records on to `out`.
struct StreamedList<R: RecordReader> {
    reader: Arc<R>,
    out: mpsc::Sender<Vec<R::Record>>,
    /// Recent keys: a record the list repeats is handed on once.
    seen: Seen,
    /// The records read from earlier replies that broke off: a reply read again begins with them.
    read_before: ListPrefix,
    /// The records read from the reply being read.
    read_now: ListPrefix,
}

/// The first records of a list, told by their number and a digest of their keys in order.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct ListPrefix {
    records: u64,
    digest: u64,
}

impl ListPrefix {
    /// Adds the next record, by its key's hash (`None`: a record without a key). Each digest hashes
    /// the one before it with the key, so the order counts.
    fn add(&mut self, key: Option<u64>) {
        self.records += 1;
        let mut hasher = DefaultHasher::new();
        (self.digest, key).hash(&mut hasher);
        self.digest = hasher.finish();
    }
}

impl<R: RecordReader> ReadReply for StreamedList<R> {
    type Out = PageInfo;

    async fn read(
        &mut self,
        session: &Session,
        index: u64,
        started: Started,
        url: &str,
    ) -> Attempt<PageInfo> {
        if !started.status.is_success() {
            return match session.read_body(started).await {
                Err(failure) => session.send_failed(failure, url),
                Ok(reply) => session.classify_unsuccessful(&reply, url),
            };
        }
        self.stream(session, index, started, url).await
    }
}

impl<R: RecordReader> StreamedList<R> {
    /// The body of a successful reply, parsed on a blocking thread as its chunks arrive while
    /// its records are handed on.
    async fn stream(
        &mut self,
        session: &Session,
        index: u64,
        started: Started,
        url: &str,
    ) -> Attempt<PageInfo> {
        let Started {
            status,
            headers,
            response,
        } = started;
        if self.read_now.records > self.read_before.records {
            self.read_before = self.read_now;
        }
        self.read_now = ListPrefix::default();
        let (chunk_tx, chunk_rx) = mpsc::channel::<Bytes>(CHUNKS_AHEAD);
        let (batch_tx, batch_rx) = mpsc::channel::<Vec<R::Record>>(BATCHES_AHEAD);
        let reader = self.reader.clone();
        let at = session.connector().records_at();
        let parsing = tokio::task::spawn_blocking(move || {
            let mut batches = Batches::new(batch_tx);
            let body = BufReader::with_capacity(READ_BUFFER, Chunks::new(chunk_rx));
            let envelope = read_streamed(body, at, &*reader, &mut batches)?;
            batches.flush().map_err(super::VendorError::new)?;
            Ok::<_, super::VendorError>(envelope)
        });
        let pumping = pump(session, response, chunk_tx);
        let handing = async {
            // Owned here, so that stopping early closes it: the parser's next hand-on fails,
            // it stops reading, and the pump stops with it.
            let mut batch_rx = batch_rx;
            while let Some(batch) = batch_rx.recv().await {
                self.hand_on(session, batch).await?;
            }
            Ok::<(), ExtractError>(())
        };
        let (pumped, handed) = tokio::join!(pumping, handing);
        let parsed = parsing.await;
        if let Err(e) = handed {
            return Attempt::Fail(e);
        }
        if let Err(failure) = pumped {
            return session.send_failed(failure, url);
        }
        let mut envelope = match parsed {
            Err(e) => {
                return Attempt::Fail(ExtractError::Setup {
                    source_name: session.name.clone(),
                    detail: format!("the body's reader stopped: {e}"),
                });
            }
            Ok(Err(vendor)) if vendor.retryable == Some(false) => {
                return Attempt::Fail(session.vendor_error(url, status, vendor));
            }
            Ok(Err(vendor)) => return retry(format!("unusable {status} response: {vendor}")),
            Ok(Ok(envelope)) => envelope,
        };
        if self.read_now.records < self.read_before.records {
            return Attempt::Fail(list_changed(session));
        }
        envelope.headers = headers;
        match session.connector().read_page(index, &envelope) {
            Ok(info) => Attempt::Done(info),
            Err(vendor) if vendor.retryable == Some(false) => {
                Attempt::Fail(session.vendor_error(url, status, vendor))
            }
            Err(vendor) => retry(format!("unusable {status} response: {vendor}")),
        }
    }

    /// Hands on the records of `batch` not read before, counting them: those an earlier reply
    /// gave (checked to be the same records), and repeats.
    async fn hand_on(
        &mut self,
        session: &Session,
        batch: Vec<R::Record>,
    ) -> Result<(), ExtractError> {
        let before = batch.len() as u64;
        let mut fresh = Vec::with_capacity(batch.len());
        for record in batch {
            let key = self.reader.key_hash(&record);
            self.read_now.add(key);
            if self.read_now.records < self.read_before.records {
                continue;
            }
            if self.read_now.records == self.read_before.records {
                if self.read_now != self.read_before {
                    return Err(list_changed(session));
                }
                continue;
            }
            if self.seen.first_time(key) {
                fresh.push(record);
            }
        }
        let kept = fresh.len() as u64;
        session.progress().records(kept, before - kept);
        send_on(&self.out, fresh, session).await
    }
}

/// The list read again after a broken reply does not begin with the records read from that reply.
fn list_changed(session: &Session) -> ExtractError {
    ExtractError::Paging {
        source_name: session.name.clone(),
        detail: "the list changed between a reply that broke off and the one read after it, so \
                 the records handed on already cannot be told from the rest; run the export again"
            .into(),
    }
}

/// Passes the body's chunks to the parser as they arrive, within the source's cap on a body.
/// Ends when the body does, or the parser stops reading (its error says why).
async fn pump(
    session: &Session,
    mut response: reqwest::Response,
    chunks: mpsc::Sender<Bytes>,
) -> Result<(), SendFailure> {
    let cap = session.limits().max_body_bytes;
    let mut received = 0;
    while let Some(chunk) = response.chunk().await.map_err(SendFailure::transport)? {
        session.progress().received(chunk.len() as u64);
        received += chunk.len();
        if received > cap {
            return Err(SendFailure::over_cap(cap));
        }
        if chunks.send(chunk).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// The body's chunks as a `Read`, on the parser's blocking thread.
struct Chunks {
    incoming: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Chunks {
    fn new(incoming: mpsc::Receiver<Bytes>) -> Chunks {
        Chunks {
            incoming,
            current: Bytes::new(),
        }
    }
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.incoming.blocking_recv() {
                Some(chunk) => self.current = chunk,
                // The body ended, or broke off: the parser tells a cut-off JSON apart.
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

/// Records handed on [`BATCH_RECORDS`] at a time, from the parser's blocking thread.
struct Batches<T> {
    batch: Vec<T>,
    /// Records handed on already.
    handed: usize,
    out: mpsc::Sender<Vec<T>>,
}

impl<T> Batches<T> {
    fn new(out: mpsc::Sender<Vec<T>>) -> Batches<T> {
        Batches {
            batch: Vec::new(),
            handed: 0,
            out,
        }
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        self.handed += batch.len();
        self.out
            .blocking_send(batch)
            .map_err(|_| "the run stopped reading this source".to_string())
    }
}

impl<T> Collect<T> for Batches<T> {
    fn push(&mut self, record: T) -> Result<(), String> {
        self.batch.push(record);
        if self.batch.len() >= BATCH_RECORDS {
            self.flush()?;
        }
        Ok(())
    }

    fn taken(&self) -> usize {
        self.handed + self.batch.len()
    }

    fn forget_after(&mut self, count: usize) -> Result<(), String> {
        match count.checked_sub(self.handed) {
            Some(kept) => {
                self.batch.truncate(kept);
                Ok(())
            }
            None => Err(
                "the response has a second records list after records of the first were handed on"
                    .into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::connector::RecordsAt;
    use crate::extract::page::ValueReader;

    /// A body of `n` records under `Data`, as C3 sends it.
    fn body(n: usize) -> Vec<u8> {
        let data: Vec<_> = (0..n)
            .map(
                |i| serde_json::json!({"Id": format!("c{i}"), "Name": format!("Customer \"{i}\"")}),
            )
            .collect();
        let body = serde_json::json!({"Status": "Success", "Data": data, "ErrorMessage": null});
        serde_json::to_vec(&body).unwrap()
    }

    /// Parses a C3 body from `chunks`, its records handed on to `out`: the envelope's keys.
    fn parse(
        chunks: mpsc::Receiver<Bytes>,
        out: mpsc::Sender<Vec<serde_json::Value>>,
    ) -> Result<serde_json::Value, crate::extract::VendorError> {
        let mut batches = Batches::new(out);
        let reader = ValueReader { record_key: "Id" };
        let body = BufReader::new(Chunks::new(chunks));
        let envelope = read_streamed(body, RecordsAt::Key(&["Data"]), &reader, &mut batches)?;
        batches.flush().map_err(crate::extract::VendorError::new)?;
        Ok(envelope.fields)
    }

    /// Records are handed on while the body still arrives: with the first half of a body sent
    /// and the second held back, batches of the first half's records come out; then the whole
    /// list, in order, and the envelope.
    #[test]
    fn records_are_handed_on_before_the_body_ends() {
        let bytes = body(3 * BATCH_RECORDS + 17);
        let (first, second) = bytes.split_at(bytes.len() / 2);
        let (chunk_tx, chunk_rx) = mpsc::channel::<Bytes>(4);
        let (batch_tx, mut batch_rx) = mpsc::channel::<Vec<serde_json::Value>>(8);
        let parser = std::thread::spawn(move || parse(chunk_rx, batch_tx));
        chunk_tx
            .blocking_send(Bytes::copy_from_slice(first))
            .unwrap();
        let early = batch_rx
            .blocking_recv()
            .expect("a batch before the second half");
        assert_eq!(early.len(), BATCH_RECORDS);
        assert_eq!(early[0]["Id"], "c0");
        chunk_tx
            .blocking_send(Bytes::copy_from_slice(second))
            .unwrap();
        drop(chunk_tx);
        let fields = parser.join().unwrap().expect("the whole body parses");
        assert_eq!(fields["Status"], "Success");
        let mut ids: Vec<String> = early.iter().map(|r| r["Id"].to_string()).collect();
        while let Some(batch) = batch_rx.blocking_recv() {
            ids.extend(batch.iter().map(|r| r["Id"].to_string()));
        }
        let want: Vec<String> = (0..3 * BATCH_RECORDS + 17)
            .map(|i| format!("\"c{i}\""))
            .collect();
        assert_eq!(ids, want);
    }

    /// A body cut off half-way is an error (the fetch is tried again), after the records before
    /// the cut were handed on.
    #[test]
    fn a_body_cut_off_is_an_error_after_its_first_records() {
        let bytes = body(2 * BATCH_RECORDS);
        let (chunk_tx, chunk_rx) = mpsc::channel::<Bytes>(4);
        let (batch_tx, mut batch_rx) = mpsc::channel::<Vec<serde_json::Value>>(8);
        chunk_tx
            .blocking_send(Bytes::copy_from_slice(&bytes[..bytes.len() * 3 / 4]))
            .unwrap();
        drop(chunk_tx);
        assert!(parse(chunk_rx, batch_tx).is_err());
        assert_eq!(
            batch_rx.blocking_recv().map(|b| b.len()),
            Some(BATCH_RECORDS)
        );
    }
}

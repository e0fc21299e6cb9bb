//! Extract: pages through one source and streams its records out in page order.
//!
//! The engine asks the vendor's [`Connector`] for page 0. When that page tells the total, the
//! remaining pages are fetched concurrently (`concurrency` at a time) but handed on strictly in
//! page order, so two runs over the same data write identical files; otherwise pages are fetched
//! one after another until the vendor says the last has come. Each record is read once, as its
//! page is parsed, by the run's [`RecordReader`] (the transform). Records are de-duplicated on the
//! vendor's key (offset paging over live data repeats rows) and counted against the API's total.
//! They leave through a bounded channel: memory holds a few pages, however many there are.

pub mod auth;
pub mod connector;
pub mod error;
mod one_response;
pub mod pace;
pub mod page;
pub mod progress;
pub mod rate;
pub mod session;

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{StreamExt, stream};
use tokio::sync::mpsc;

pub use connector::{Connector, Next, Page, PageInfo, PageRequest, RecordsAt, VendorError};
pub use error::ExtractError;
pub use page::{Envelope, RecordReader, ValueReader};
pub use progress::{SourceBars, SourceCounts, SourceProgress};
pub use rate::RateLimit;
pub use session::Session;

use crate::model::{KeyRef, key_hash};

/// How hard the engine may push one source and what it accepts: the pipeline's common source
/// keys (`rate_limit`, `concurrency`, `max_attempts`, …), with [`Limits::default`] as their defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Requests per period; `None` is unlimited.
    pub rate_limit: Option<RateLimit>,
    /// Pages fetched at once when the first page tells the total.
    pub concurrency: usize,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Time one request may spend retrying.
    pub max_retry: Duration,
    /// Time one attempt may take.
    pub timeout: Duration,
    /// Responses larger than this are refused (a proxy's endless body, a wrong endpoint).
    pub max_body_bytes: usize,
    /// Publish even when the record count differs from the API's total.
    pub allow_count_mismatch: bool,
    /// Paging stops with an error past this many records; `None`: 10× the total the first page
    /// reports (at least [`MIN_RECORDS_CEILING`]), or [`RECORDS_CEILING`] without one.
    pub max_records: Option<u64>,
    /// Paging stops with an error past this many pages; `None`: [`PAGES_CEILING`].
    pub max_pages: Option<u64>,
}

/// The default ceiling on records when the API reports no total: far above any customer list.
pub const RECORDS_CEILING: u64 = 10_000_000;
/// The least default ceiling on records when it does (10× a small total would be tight).
pub const MIN_RECORDS_CEILING: u64 = 10_000;
/// The default ceiling on pages.
pub const PAGES_CEILING: u64 = 1_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate_limit: None,
            concurrency: 4,
            max_attempts: 5,
            max_retry: Duration::from_secs(300),
            timeout: Duration::from_secs(60),
            // A large partner answers tens of MB in one response.
            max_body_bytes: 512 * 1024 * 1024,
            allow_count_mismatch: false,
            max_records: None,
            max_pages: None,
        }
    }
}

/// What an extraction ended with.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    pub counts: SourceCounts,
    /// The API's total differed from the records kept, and the pipeline allows that.
    pub count_mismatch: bool,
}

/// Extracts one source, reading each record through `reader` and sending each page's new
/// records to `out` in page order. `page_size` is the one the connector asks for: with the total,
/// it fixes the number of pages.
pub async fn extract<R: RecordReader>(
    session: Arc<Session>,
    page_size: u32,
    reader: Arc<R>,
    out: mpsc::Sender<Vec<R::Record>>,
) -> Result<Extracted, ExtractError> {
    if session.connector().one_response() {
        return one_response::extract(session, reader, out).await;
    }
    let first = session.fetch_page(0, None, &*reader).await?;
    let total = first.info.total;
    if let Some(total) = total {
        session.progress().set_total(total);
    }
    let mut delivery = Delivery {
        seen: Seen::new(SEEN_WINDOW),
        next_links: HashSet::new(),
        ceiling: Ceiling::new(session.limits(), total),
        index: 0,
        session: session.clone(),
        reader: reader.clone(),
        out,
    };
    let mut last = first.info.last;
    let mut after = first.info.next.clone();
    delivery.deliver(first).await?;

    let mut next = 1;
    let sequential = session.connector().sequential();
    if let Some(total) = total.filter(|_| !last && !sequential) {
        // The total fixes the page count: fetch ahead, deliver in order.
        let pages = total.div_ceil(u64::from(page_size.max(1))).max(1);
        last = fetch_ahead(&mut delivery, 1..pages, Ahead::AllOf).await?;
        next = pages;
        after = None;
    } else if !last && !sequential {
        // No total, but each page's request is known without the one before (page numbers,
        // offsets): fetch ahead all the same, deliver in order, and stop at the page the vendor
        // says is the last; the few asked for past it are dropped unread.
        last = fetch_ahead(&mut delivery, 1..u64::MAX, Ahead::UntilLast).await?;
    }
    // Without a total, with a vendor whose pages follow one another (cursors, next links), or
    // when records were added mid-export and the vendor says more follow the pages the total
    // promised: page on until the vendor says the last has come.
    while !last {
        let page = session.fetch_page(next, after.as_ref(), &*reader).await?;
        last = page.info.last || page.records.is_empty();
        if sequential && !last && page.info.next.is_none() {
            return Err(ExtractError::Paging {
                source_name: session.name.clone(),
                detail: format!(
                    "page {} says more follow but gives no pointer to the next one",
                    next + 1
                ),
            });
        }
        after = page.info.next.clone();
        delivery.deliver(page).await?;
        next += 1;
    }
    reconcile(&session)
}

/// How far [`fetch_ahead`] goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ahead {
    /// Every page of the range (the total fixed it).
    AllOf,
    /// Until a page says it is the last (or is empty).
    UntilLast,
}

/// Fetches `pages` `concurrency` at a time and delivers them in order; whether the vendor said
/// the last delivered is the last.
async fn fetch_ahead<R: RecordReader>(
    delivery: &mut Delivery<R>,
    pages: std::ops::Range<u64>,
    ahead: Ahead,
) -> Result<bool, ExtractError> {
    let session = delivery.session.clone();
    let reader = delivery.reader.clone();
    let mut last = false;
    // Each page is fetched and read on the runtime's workers, so reading (the transform)
    // spreads over the cores while this task hands pages on in order.
    let mut fetched = stream::iter(pages)
        .map(|index| {
            let session = session.clone();
            let reader = reader.clone();
            PageTask(tokio::spawn(async move {
                session.fetch_page(index, None, &*reader).await
            }))
        })
        .buffered(session.limits().concurrency.max(1));
    while let Some(page) = fetched.next().await {
        let page = page.map_err(|e| ExtractError::Setup {
            source_name: session.name.clone(),
            detail: format!("a page reader stopped: {e}"),
        })??;
        last = page.info.last || page.records.is_empty();
        delivery.deliver(page).await?;
        if last && ahead == Ahead::UntilLast {
            // Dropping the stream aborts the pages asked for past the last.
            break;
        }
    }
    Ok(last)
}

/// The record count against the API's total: a mismatch fails the source unless allowed.
fn reconcile(session: &Session) -> Result<Extracted, ExtractError> {
    let counts = session.progress().counts();
    let count_mismatch = counts.api_total.is_some_and(|t| t != counts.records);
    if count_mismatch && !session.limits().allow_count_mismatch {
        return Err(ExtractError::CountMismatch {
            source_name: session.name.clone(),
            records: counts.records,
            total: counts.api_total.unwrap_or_default(),
        });
    }
    Ok(Extracted {
        counts,
        count_mismatch,
    })
}

/// Hands pages on, in order: each record seen before is dropped, the rest counted and sent. A
/// page that adds nothing new, a next link that comes back, or a ceiling passed stops the paging:
/// every run ends.
struct Delivery<R: RecordReader> {
    seen: Seen,
    /// Hashes of the next links the vendor gave.
    next_links: HashSet<u64>,
    ceiling: Ceiling,
    /// The index of the next page to deliver.
    index: u64,
    session: Arc<Session>,
    reader: Arc<R>,
    out: mpsc::Sender<Vec<R::Record>>,
}

impl<R: RecordReader> Delivery<R> {
    async fn deliver(&mut self, page: Page<R::Record>) -> Result<(), ExtractError> {
        let index = self.index;
        self.index += 1;
        if let Some(next) = &page.info.next
            && !self
                .next_links
                .insert(key_hash(KeyRef::Text(&next.to_string())))
        {
            return Err(self.stuck(format!(
                "the vendor gave the next link {next} a second time; its paging does not advance"
            )));
        }
        if let Some(count) = page.info.in_page {
            self.session.progress().add_to_total(count);
        }
        let before = page.records.len() as u64;
        let records: Vec<R::Record> = page
            .records
            .into_iter()
            .filter(|r| self.seen.first_time(self.reader.key_hash(r)))
            .collect();
        let kept = records.len() as u64;
        self.session.progress().page(kept, before - kept);
        if kept == 0 && before > 0 && !page.info.last {
            return Err(self.stuck(format!(
                "page {} held only records already delivered ({before} of them); the vendor's paging does not advance",
                index + 1
            )));
        }
        let counts = self.session.progress().counts();
        if let Some(passed) = self.ceiling.passed(counts.pages, counts.records) {
            return Err(self.stuck(passed));
        }
        send_on(&self.out, records, &self.session).await
    }

    fn stuck(&self, detail: String) -> ExtractError {
        ExtractError::Paging {
            source_name: self.session.name.clone(),
            detail,
        }
    }
}

/// Sends `records` on to the run; a closed channel is the run no longer reading the source.
async fn send_on<T>(
    out: &mpsc::Sender<Vec<T>>,
    records: Vec<T>,
    session: &Session,
) -> Result<(), ExtractError> {
    if records.is_empty() {
        return Ok(());
    }
    out.send(records)
        .await
        .map_err(|_| ExtractError::Cancelled {
            source_name: session.name.clone(),
        })
}

/// How far paging may go before it is taken for a vendor that never says the end has come.
struct Ceiling {
    records: u64,
    pages: u64,
    /// Why the records ceiling is what it is, for the message.
    reason: String,
}

impl Ceiling {
    fn new(limits: &Limits, total: Option<u64>) -> Ceiling {
        let (records, reason) = match (limits.max_records, total) {
            (Some(n), _) => (n, "max_records".to_string()),
            (None, Some(t)) => (
                t.saturating_mul(10).max(MIN_RECORDS_CEILING),
                format!("10× the total of {t} the first page reported"),
            ),
            (None, None) => (
                RECORDS_CEILING,
                "the default for an API without a total".into(),
            ),
        };
        Ceiling {
            records,
            pages: limits.max_pages.unwrap_or(PAGES_CEILING),
            reason,
        }
    }

    /// Why paging must stop after `pages` pages and `records` records, if it must.
    fn passed(&self, pages: u64, records: u64) -> Option<String> {
        if records > self.records {
            return Some(format!(
                "{records} records, past the ceiling of {} ({}), and the vendor still says more follow; set `max_records` on the source to go further",
                self.records, self.reason
            ));
        }
        (pages > self.pages).then(|| {
            format!(
                "{pages} pages, past the ceiling of {}, and the vendor still says more follow; set `max_pages` on the source to go further",
                self.pages
            )
        })
    }
}

/// A page fetched on its own task, aborted when the extraction stops waiting for it: a source
/// that failed must not go on requesting pages.
struct PageTask<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for PageTask<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for PageTask<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// How many recent keys de-duplication remembers. Offset paging over live data repeats rows
/// where pages meet (an insert before the offset shifts the next page back onto the previous one
/// by as many rows as were inserted), so a window of recent keys catches every repeat while memory
/// stays flat: an export of up to this many records is de-duplicated exactly, a larger one within
/// its last this-many records — 50 pages of the largest page size any vendor allows.
pub const SEEN_WINDOW: usize = 50_000;

/// The most recent keys, as 64-bit hashes (8 bytes a key, not the key's text), oldest first out.
/// Its room is taken once, for the whole window: memory is the same at the window's size as at a
/// million records, rather than doubling its way up as the export grows.
struct Seen {
    window: usize,
    hashes: HashSet<u64>,
    order: std::collections::VecDeque<u64>,
}

impl Seen {
    fn new(window: usize) -> Self {
        let window = window.max(1);
        Seen {
            window,
            // One more than the window: a key goes in before the oldest comes out.
            hashes: HashSet::with_capacity(window + 1),
            order: std::collections::VecDeque::with_capacity(window + 1),
        }
    }

    /// Whether the record whose key hashes to `key` is new. A record without a key is always kept.
    fn first_time(&mut self, key: Option<u64>) -> bool {
        let Some(hash) = key else {
            return true;
        };
        if !self.hashes.insert(hash) {
            return false;
        }
        self.order.push_back(hash);
        if self.order.len() > self.window
            && let Some(oldest) = self.order.pop_front()
        {
            self.hashes.remove(&oldest);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_keeps_the_first_of_each_key() {
        let mut seen = Seen::new(100);
        assert!(seen.first_time(Some(1)));
        assert!(!seen.first_time(Some(1)));
        assert!(seen.first_time(Some(2)));
        assert!(seen.first_time(None));
        assert!(seen.first_time(None));
    }

    #[test]
    fn seen_forgets_beyond_its_window() {
        let mut seen = Seen::new(2);
        assert!(seen.first_time(Some(1)));
        assert!(seen.first_time(Some(2)));
        assert!(!seen.first_time(Some(2)));
        assert!(seen.first_time(Some(3)));
        assert!(seen.first_time(Some(1)), "1 left the window");
        assert_eq!(seen.hashes.len(), 2);
    }
}

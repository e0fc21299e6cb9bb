//! Extract: pages through one source and streams its records out in page order.
//!
//! The engine asks the vendor's [`Connector`] for page 0. When that page tells the total, the
//! remaining pages are fetched concurrently (`concurrency` at a time) but handed on strictly in
//! page order, so two runs over the same data write identical files; otherwise pages are fetched
//! one after another until the vendor says the last has come. Pages leave through a bounded
//! channel as [`Records`] (the vendor's JSON text): memory holds a few pages, however many there
//! are.
//!
//! Records are de-duplicated on the vendor's key (offset paging over live data repeats rows) with
//! [`Seen`], and the kept count is checked against the API's total with [`check_count`]: both
//! where the records are read (the transform reads the key on its one pass over each record).

pub mod auth;
pub mod connector;
pub mod error;
pub mod progress;
pub mod session;

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::{StreamExt, stream};
use tokio::sync::mpsc;

pub use connector::{Connector, Page, PageRequest, Records, VendorError};
pub use error::ExtractError;
pub use progress::{SourceCounts, SourceProgress};
pub use session::Session;

use crate::pipeline::SourcePlan;

/// A page of records on its way to the transform stage.
pub type Batch = Records;

/// What an extraction ended with.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    pub counts: SourceCounts,
    /// The API's total differed from the records kept, and the pipeline allows that.
    pub count_mismatch: bool,
}

/// Extracts one source, sending its pages to `out` in page order. The caller de-duplicates
/// ([`Seen`], [`SourceProgress::duplicates`]) and then checks the count ([`check_count`]).
pub async fn extract(
    source: &SourcePlan,
    session: Arc<Session>,
    out: mpsc::Sender<Batch>,
) -> Result<(), ExtractError> {
    let progress = session.progress().clone();

    let first = session.fetch_page(0).await?;
    let total = first.total;
    if let Some(total) = total {
        progress.set_total(total);
    }
    let mut last = first.last;
    deliver(first, &progress, &out, &source.name).await?;

    let mut next = 1;
    if let Some(total) = total.filter(|_| !last) {
        // The total fixes the page count: fetch ahead, deliver in order.
        let page_size = u64::from(source.page_size.max(1));
        let pages = total.div_ceil(page_size).max(1);
        // Pages are parsed where they are polled: spawning each fetch as a task spread the
        // parsing over the workers but measured slower (and, freed on the writer thread, the
        // trees cost the allocator more memory).
        let mut fetched = stream::iter(1..pages)
            .map(|index| {
                let session = session.clone();
                async move { session.fetch_page(index).await }
            })
            .buffered(source.concurrency.max(1));
        while let Some(page) = fetched.next().await {
            let page = page?;
            last = page.last || page.records.is_empty();
            deliver(page, &progress, &out, &source.name).await?;
        }
        next = pages;
    }
    // Without a total — or when records were added mid-export and the vendor says more follow
    // the pages the total promised — page on until the vendor says the last has come.
    while !last {
        let page = session.fetch_page(next).await?;
        last = page.last || page.records.is_empty();
        deliver(page, &progress, &out, &source.name).await?;
        next += 1;
    }

    Ok(())
}

/// Compares the records kept (after de-duplication) with the total the API reported: a
/// difference fails the source unless the pipeline allows it, and is then reported.
pub fn check_count(source: &SourcePlan, counts: SourceCounts) -> Result<Extracted, ExtractError> {
    let count_mismatch = counts.api_total.is_some_and(|t| t != counts.records);
    if count_mismatch && !source.allow_count_mismatch {
        return Err(ExtractError::CountMismatch {
            source_name: source.name.clone(),
            records: counts.records,
            total: counts.api_total.unwrap_or_default(),
        });
    }
    Ok(Extracted {
        counts,
        count_mismatch,
    })
}

async fn deliver(
    page: Page,
    progress: &SourceProgress,
    out: &mpsc::Sender<Batch>,
    name: &str,
) -> Result<(), ExtractError> {
    progress.page(page.records.len() as u64);
    if page.records.is_empty() {
        return Ok(());
    }
    out.send(page.records)
        .await
        .map_err(|_| ExtractError::Cancelled {
            source_name: name.to_string(),
        })
}

/// How many recent keys de-duplication remembers. Offset paging over live data repeats rows
/// where pages meet (an insert before the offset shifts the next page back onto the previous one),
/// so a window of recent keys catches every repeat while memory stays flat: an export of up to
/// this many records is de-duplicated exactly, a larger one within its last this-many records.
pub const SEEN_WINDOW: usize = 200_000;

/// The most recent keys, as 64-bit hashes (8 bytes a key, not the key's text), oldest first out.
pub struct Seen {
    window: usize,
    hashes: HashSet<u64>,
    order: std::collections::VecDeque<u64>,
}

impl Default for Seen {
    fn default() -> Self {
        Seen::new(SEEN_WINDOW)
    }
}

impl Seen {
    pub fn new(window: usize) -> Self {
        Seen {
            window: window.max(1),
            hashes: HashSet::new(),
            order: std::collections::VecDeque::new(),
        }
    }

    /// Whether the record whose key hashes to `key` is new. A record without a key is always kept.
    pub fn first_time(&mut self, key: Option<u64>) -> bool {
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

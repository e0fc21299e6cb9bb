//! Extract: pages through one source and streams its records out in page order.
//!
//! The engine asks the vendor's [`Connector`] for page 0. When that page tells the total, the
//! remaining pages are fetched concurrently (`concurrency` at a time) but handed on strictly in
//! page order, so two runs over the same data write identical files; otherwise pages are fetched
//! one after another until the vendor says the last has come. Records are de-duplicated on the
//! vendor's key (offset paging over live data repeats rows) and counted against the API's total.
//! They leave through a bounded channel: memory holds a few pages, however many there are.

pub mod auth;
pub mod connector;
pub mod error;
pub mod progress;
pub mod session;

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use futures_util::{StreamExt, stream};
use serde_json::Value;
use tokio::sync::mpsc;

pub use connector::{Connector, Page, PageRequest, VendorError};
pub use error::ExtractError;
pub use progress::{SourceCounts, SourceProgress};
pub use session::Session;

use crate::pipeline::SourcePlan;

/// A batch of records on its way to the transform stage.
pub type Batch = Vec<Value>;

/// What an extraction ended with.
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    pub counts: SourceCounts,
    /// The API's total differed from the records kept, and the pipeline allows that.
    pub count_mismatch: bool,
}

/// Extracts one source, sending its records to `out` in page order.
pub async fn extract(
    source: &SourcePlan,
    session: Arc<Session>,
    out: mpsc::Sender<Batch>,
) -> Result<Extracted, ExtractError> {
    let progress = session.progress().clone();
    let mut seen = Seen::new(source.vendor.record_key, SEEN_WINDOW);

    let first = session.fetch_page(0).await?;
    let total = first.total;
    if let Some(total) = total {
        progress.set_total(total);
    }
    let mut last = first.last;
    deliver(first, &mut seen, &progress, &out, &source.name).await?;

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
            deliver(page, &mut seen, &progress, &out, &source.name).await?;
        }
        next = pages;
    }
    // Without a total — or when records were added mid-export and the vendor says more follow
    // the pages the total promised — page on until the vendor says the last has come.
    while !last {
        let page = session.fetch_page(next).await?;
        last = page.last || page.records.is_empty();
        deliver(page, &mut seen, &progress, &out, &source.name).await?;
        next += 1;
    }

    let counts = progress.counts();
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
    seen: &mut Seen,
    progress: &SourceProgress,
    out: &mpsc::Sender<Batch>,
    name: &str,
) -> Result<(), ExtractError> {
    let before = page.records.len() as u64;
    let records: Vec<Value> = page
        .records
        .into_iter()
        .filter(|r| seen.first_time(r))
        .collect();
    let kept = records.len() as u64;
    progress.page(kept, before - kept);
    if records.is_empty() {
        return Ok(());
    }
    out.send(records)
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
struct Seen {
    key: &'static str,
    window: usize,
    hashes: HashSet<u64>,
    order: std::collections::VecDeque<u64>,
}

impl Seen {
    fn new(key: &'static str, window: usize) -> Self {
        Seen {
            key,
            window: window.max(1),
            hashes: HashSet::new(),
            order: std::collections::VecDeque::new(),
        }
    }

    /// Whether the record's key is new. A record without a key is always kept.
    fn first_time(&mut self, record: &Value) -> bool {
        let mut hasher = DefaultHasher::new();
        match record.get(self.key) {
            Some(Value::String(s)) => s.hash(&mut hasher),
            // A vendor's key has one JSON type; numbers hash without a detour through text.
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) => i.hash(&mut hasher),
                None => n.as_f64().map(f64::to_bits).hash(&mut hasher),
            },
            _ => return true,
        }
        let hash = hasher.finish();
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
    use serde_json::json;

    #[test]
    fn seen_keeps_the_first_of_each_key() {
        let mut seen = Seen::new("id", 100);
        assert!(seen.first_time(&json!({"id": 1})));
        assert!(!seen.first_time(&json!({"id": 1, "name": "again"})));
        assert!(seen.first_time(&json!({"id": "1x"})));
        assert!(seen.first_time(&json!({"no_id": true})));
        assert!(seen.first_time(&json!({"no_id": true})));
    }

    #[test]
    fn seen_forgets_beyond_its_window() {
        let mut seen = Seen::new("id", 2);
        assert!(seen.first_time(&json!({"id": 1})));
        assert!(seen.first_time(&json!({"id": 2})));
        assert!(!seen.first_time(&json!({"id": 2})));
        assert!(seen.first_time(&json!({"id": 3})));
        assert!(seen.first_time(&json!({"id": 1})), "1 left the window");
        assert_eq!(seen.hashes.len(), 2);
    }
}

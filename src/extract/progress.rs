//! What a source's extraction has done so far: counters that the summary, the manifest and tests
//! read, and the progress bar (or periodic log line) that a person watches. Each event method both
//! counts and moves the bar, in one place.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// The counters of one source at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceCounts {
    pub requests: u64,
    pub pages: u64,
    pub records: u64,
    pub duplicates: u64,
    pub retries: u64,
    pub rate_limited: u64,
    pub tokens: u64,
    /// The total the API reported, when it did.
    pub api_total: Option<u64>,
    pub seconds: f64,
}

#[derive(Clone)]
pub struct SourceProgress {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    requests: AtomicU64,
    pages: AtomicU64,
    records: AtomicU64,
    duplicates: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    tokens: AtomicU64,
    /// `u64::MAX` until the API tells.
    total: AtomicU64,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl SourceProgress {
    /// `bar` is `None` when stderr is not a terminal (or `--quiet`).
    pub fn new(name: &str, bar: Option<ProgressBar>) -> Self {
        if let Some(bar) = &bar {
            bar.set_style(spinner_style());
            bar.set_prefix(name.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
        }
        SourceProgress {
            inner: Arc::new(Inner {
                name: name.to_string(),
                requests: AtomicU64::new(0),
                pages: AtomicU64::new(0),
                records: AtomicU64::new(0),
                duplicates: AtomicU64::new(0),
                retries: AtomicU64::new(0),
                rate_limited: AtomicU64::new(0),
                tokens: AtomicU64::new(0),
                total: AtomicU64::new(u64::MAX),
                started: Instant::now(),
                bar,
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Whether a progress bar shows this source (else the caller logs plain lines).
    pub fn has_bar(&self) -> bool {
        self.inner.bar.is_some()
    }

    pub fn request(&self) {
        self.inner.requests.fetch_add(1, Relaxed);
    }

    pub fn token_issued(&self) {
        self.inner.tokens.fetch_add(1, Relaxed);
    }

    pub fn retried(&self) {
        self.inner.retries.fetch_add(1, Relaxed);
    }

    pub fn rate_limited(&self) {
        self.inner.rate_limited.fetch_add(1, Relaxed);
    }

    /// The API told the total: the bar gets a length and an ETA.
    pub fn set_total(&self, total: u64) {
        self.inner.total.store(total, Relaxed);
        if let Some(bar) = &self.inner.bar {
            bar.set_length(total);
            bar.set_style(bar_style());
        }
    }

    /// A page said it holds `count` records, for an API that counts per page: the total grows.
    pub fn add_to_total(&self, count: u64) {
        // `u64::MAX` stands for no total yet.
        let add = |t: u64| Some(if t == u64::MAX { count } else { t + count });
        let before = (self.inner.total.fetch_update(Relaxed, Relaxed, add)).unwrap_or_default();
        let total = add(before).unwrap_or(count);
        if let Some(bar) = &self.inner.bar {
            bar.set_length(total);
            bar.set_style(bar_style());
        }
    }

    /// A page arrived with `kept` new records and `duplicates` already seen.
    pub fn page(&self, kept: u64, duplicates: u64) {
        let pages = self.inner.pages.fetch_add(1, Relaxed) + 1;
        self.inner.records.fetch_add(kept, Relaxed);
        self.inner.duplicates.fetch_add(duplicates, Relaxed);
        if let Some(bar) = &self.inner.bar {
            bar.inc(kept);
            bar.set_message(format!("{pages} pages"));
        }
    }

    pub fn finish(&self, ok: bool) {
        if let Some(bar) = &self.inner.bar {
            let c = self.counts();
            let verdict = if ok { "done" } else { "FAILED" };
            bar.set_style(
                ProgressStyle::with_template("{prefix:>12} {msg}").expect("static template"),
            );
            bar.finish_with_message(format!(
                "{verdict}: {} records, {} pages, {:.1} s",
                c.records, c.pages, c.seconds
            ));
        }
    }

    pub fn counts(&self) -> SourceCounts {
        let i = &self.inner;
        let total = i.total.load(Relaxed);
        SourceCounts {
            requests: i.requests.load(Relaxed),
            pages: i.pages.load(Relaxed),
            records: i.records.load(Relaxed),
            duplicates: i.duplicates.load(Relaxed),
            retries: i.retries.load(Relaxed),
            rate_limited: i.rate_limited.load(Relaxed),
            tokens: i.tokens.load(Relaxed),
            api_total: (total != u64::MAX).then_some(total),
            seconds: i.started.elapsed().as_secs_f64(),
        }
    }

    /// One plain progress line, for logs when there is no terminal.
    pub fn log_line(&self) -> String {
        let c = self.counts();
        match c.api_total {
            Some(total) => format!(
                "{}: {}/{} records, {} pages, {} retries",
                self.name(),
                c.records,
                total,
                c.pages,
                c.retries
            ),
            None => format!(
                "{}: {} records, {} pages, {} retries",
                self.name(),
                c.records,
                c.pages,
                c.retries
            ),
        }
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>12} {spinner} {pos} records, {msg} ({elapsed})")
        .expect("static template")
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix:>12} [{bar:30}] {pos}/{len} records, {msg} ({elapsed}, ETA {eta})",
    )
    .expect("static template")
    .progress_chars("=> ")
}

//! What a source's extraction has done so far: counters that the summary, the manifest and tests
//! read, and the progress bar (or periodic log line) that a person watches. Each event method both
//! counts and moves the bar, in one place.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressState, ProgressStyle};

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
    /// Response body bytes received (as decompressed), counted as they arrive.
    pub bytes: u64,
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
    /// Pages and bytes, which the bar reads each time it draws.
    fetched: Arc<Fetched>,
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

/// What has come in so far, shared with the bar's style: the bar renders it at every draw (the
/// steady tick redraws), so a chunk of a body costs an atomic add, not a redraw.
#[derive(Debug, Default)]
struct Fetched {
    pages: AtomicU64,
    bytes: AtomicU64,
}

impl Fetched {
    /// `2 pages, 12.40 MiB received`.
    fn text(&self) -> String {
        let pages = self.pages.load(Relaxed);
        let bytes = HumanBytes(self.bytes.load(Relaxed));
        format!("{pages} pages, {bytes} received")
    }
}

/// How often a started bar redraws on its own: its elapsed time and the bytes received move
/// while a long body downloads, when no page has arrived to move it.
const STEADY_TICK: Duration = Duration::from_millis(200);

impl SourceProgress {
    /// `bar` is `None` when stderr is not a terminal (or `--quiet`).
    pub fn new(name: &str, bar: Option<ProgressBar>) -> Self {
        let fetched = Arc::new(Fetched::default());
        if let Some(bar) = &bar {
            bar.set_style(spinner_style(&fetched));
            bar.set_prefix(name.to_string());
            bar.enable_steady_tick(STEADY_TICK);
        }
        SourceProgress {
            inner: Arc::new(Inner {
                name: name.to_string(),
                requests: AtomicU64::new(0),
                fetched,
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

    /// `bytes` more of a response body arrived (decompressed, as the engine reads it). The bar
    /// shows the sum at its next draw: a vendor that sends everything in one response still shows
    /// it coming.
    pub fn received(&self, bytes: u64) {
        self.inner.fetched.bytes.fetch_add(bytes, Relaxed);
    }

    /// The API told the total: the bar gets a length and an ETA.
    pub fn set_total(&self, total: u64) {
        self.inner.total.store(total, Relaxed);
        if let Some(bar) = &self.inner.bar {
            bar.set_length(total);
            bar.set_style(bar_style(&self.inner.fetched));
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
            bar.set_style(bar_style(&self.inner.fetched));
        }
    }

    /// A page arrived with `kept` new records and `duplicates` already seen.
    pub fn page(&self, kept: u64, duplicates: u64) {
        self.inner.fetched.pages.fetch_add(1, Relaxed);
        self.inner.records.fetch_add(kept, Relaxed);
        self.inner.duplicates.fetch_add(duplicates, Relaxed);
        if let Some(bar) = &self.inner.bar {
            bar.inc(kept);
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
            pages: i.fetched.pages.load(Relaxed),
            records: i.records.load(Relaxed),
            duplicates: i.duplicates.load(Relaxed),
            retries: i.retries.load(Relaxed),
            rate_limited: i.rate_limited.load(Relaxed),
            tokens: i.tokens.load(Relaxed),
            bytes: i.fetched.bytes.load(Relaxed),
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

/// A started source whose total is unknown (yet).
fn spinner_style(fetched: &Arc<Fetched>) -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>12} {spinner} {pos} records, {fetched} ({elapsed})")
        .expect("static template")
        .with_key("fetched", fetched_key(fetched))
}

/// A started source with a total: a bar and an estimate.
fn bar_style(fetched: &Arc<Fetched>) -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix:>12} [{bar:30}] {pos}/{len} records, {fetched} ({elapsed}, ETA {eta})",
    )
    .expect("static template")
    .progress_chars("=> ")
    .with_key("fetched", fetched_key(fetched))
}

/// The `{fetched}` of a style: what has come in, read when the bar draws.
fn fetched_key(
    fetched: &Arc<Fetched>,
) -> impl Fn(&ProgressState, &mut dyn std::fmt::Write) + Clone + Send + Sync + 'static {
    let fetched = fetched.clone();
    move |_: &ProgressState, out: &mut dyn std::fmt::Write| {
        // A draw that cannot be written has nowhere to say so.
        let _ = out.write_str(&fetched.text());
    }
}

#[cfg(test)]
mod tests {
    use indicatif::{InMemoryTerm, MultiProgress, ProgressDrawTarget};

    use super::*;

    /// A terminal in memory and the bars' owner drawing on it, as `logging::init` makes for stderr.
    fn terminal() -> (InMemoryTerm, MultiProgress) {
        let term = InMemoryTerm::new(24, 100);
        let target = ProgressDrawTarget::term_like(Box::new(term.clone()));
        (term, MultiProgress::with_draw_target(target))
    }

    /// The screen's lines, without their padding or a finished line's seconds (which vary).
    fn screen(term: &InMemoryTerm) -> Vec<String> {
        let lines = term.contents();
        let without_seconds = |line: &str| match line.rsplit_once(", ") {
            Some((kept, seconds)) if seconds.ends_with(" s") => kept.to_string(),
            _ => line.to_string(),
        };
        lines.lines().map(|l| without_seconds(l.trim())).collect()
    }

    #[test]
    fn the_line_shows_the_bytes_received_while_a_body_downloads() {
        let (term, multi) = terminal();
        let bar = multi.add(ProgressBar::new_spinner());
        let progress = SourceProgress::new("alpha", Some(bar.clone()));
        // The test draws when it looks, instead of the steady tick.
        bar.disable_steady_tick();
        let shown = || {
            bar.tick();
            screen(&term).join("\n")
        };

        assert!(shown().contains("0 records, 0 pages, 0 B received"));
        progress.received(1000);
        assert!(shown().contains("0 records, 0 pages, 1000 B received"));
        progress.received(13_000_000);
        assert!(shown().contains("0 records, 0 pages, 12.40 MiB received"));
        progress.set_total(10);
        progress.page(4, 0);
        assert!(shown().contains("4/10 records, 1 pages, 12.40 MiB received"));
        assert_eq!(progress.counts().bytes, 13_001_000);
    }
}

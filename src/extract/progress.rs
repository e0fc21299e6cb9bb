//! What a source's extraction has done so far: counters that the summary, the manifest and tests
//! read, and the progress bar (or periodic log line) that a person watches. Each event method both
//! counts and moves the bar, in one place.
//!
//! On a terminal, [`SourceBars`] gives every source of a run its own line from the start, in
//! pipeline order, and keeps each finished line on screen in that order.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressState, ProgressStyle};

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
    /// The source's line among the run's, which keep it once it is finished.
    line: Option<(SourceBars, usize)>,
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
        Self::on_line(name, bar, None)
    }

    /// The progress of a source shown on `bar`, the line `line` of a run's, if any.
    fn on_line(name: &str, bar: Option<ProgressBar>, line: Option<(SourceBars, usize)>) -> Self {
        let fetched = Arc::new(Fetched::default());
        if let Some(bar) = &bar {
            bar.set_style(spinner_style(&fetched));
            bar.set_prefix(name.to_string());
            // A bar made early (waiting its turn) counts its time from the source's start.
            bar.reset_elapsed();
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
                line,
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
        self.records(kept, duplicates);
    }

    /// Records of a page still arriving: `kept` handed on, `duplicates` dropped.
    pub fn records(&self, kept: u64, duplicates: u64) {
        self.inner.records.fetch_add(kept, Relaxed);
        self.inner.duplicates.fetch_add(duplicates, Relaxed);
        if let Some(bar) = &self.inner.bar {
            bar.inc(kept);
        }
    }

    /// The source is over: its line says how it ended, and stays.
    pub fn finish(&self, ok: bool) {
        let Some(bar) = &self.inner.bar else {
            return;
        };
        let c = self.counts();
        let verdict = if ok { "done" } else { "FAILED" };
        let message = format!(
            "{verdict}: {} records, {} pages, {:.1} s",
            c.records, c.pages, c.seconds
        );
        bar.set_style(finished_style());
        bar.finish_with_message(message.clone());
        if let Some((bars, index)) = &self.inner.line {
            bars.finished(*index, finished_line(self.name(), &message));
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

/// The lines of a run's sources on a terminal: one per source from the start, in pipeline order,
/// so that sources running at once each have their own; a source not started says `waiting`.
///
/// A finished line is printed above the bars for good once every line before it has finished, and
/// its bar leaves the [`MultiProgress`]. Left there, it would vanish with its bar: indicatif wipes
/// a dropped bar's line (a "zombie") at the next log line. Printed in turn, lines keep the
/// pipeline's order when sources finish out of it.
#[derive(Clone, Default)]
pub struct SourceBars {
    /// `None` when stderr is not a terminal (or `--quiet`): no bars, plain log lines.
    shown: Option<Arc<Shown>>,
}

struct Shown {
    multi: MultiProgress,
    lines: Mutex<Lines>,
}

/// The run's lines in pipeline order, and how many of them are printed for good.
struct Lines {
    bars: Vec<ProgressBar>,
    /// The final words of each finished line.
    finished: Vec<Option<String>>,
    printed: usize,
}

impl SourceBars {
    /// A waiting line on `multi` for each of `names`, in order; nothing without `multi`.
    pub fn new<'a>(
        multi: Option<&MultiProgress>,
        names: impl IntoIterator<Item = &'a str>,
    ) -> SourceBars {
        let Some(multi) = multi else {
            return SourceBars::default();
        };
        let bars: Vec<ProgressBar> = (names.into_iter())
            .map(|name| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(waiting_style());
                bar.set_prefix(name.to_string());
                bar
            })
            .collect();
        let lines = Lines {
            finished: vec![None; bars.len()],
            bars,
            printed: 0,
        };
        SourceBars {
            shown: Some(Arc::new(Shown {
                multi: multi.clone(),
                lines: Mutex::new(lines),
            })),
        }
    }

    /// The progress of source `index` (of the names given), starting now on its line.
    pub fn start(&self, index: usize, name: &str) -> SourceProgress {
        let bar = (self.shown.as_ref()).and_then(|shown| shown.lock().bars.get(index).cloned());
        let line = bar.is_some().then(|| (self.clone(), index));
        SourceProgress::on_line(name, bar, line)
    }

    /// Line `index` has finished with `line`: it, and any finished lines after it, are printed
    /// for good if every line before them has been.
    fn finished(&self, index: usize, line: String) {
        let Some(shown) = &self.shown else {
            return;
        };
        let mut lines = shown.lock();
        if let Some(slot) = lines.finished.get_mut(index) {
            *slot = Some(line);
        }
        loop {
            let next = lines.printed;
            let (Some(Some(text)), Some(bar)) = (lines.finished.get(next), lines.bars.get(next))
            else {
                break;
            };
            shown.multi.remove(bar);
            // A terminal that cannot be written to has no one to tell.
            let _ = shown.multi.println(text);
            lines.printed += 1;
        }
    }
}

impl Shown {
    fn lock(&self) -> std::sync::MutexGuard<'_, Lines> {
        // The lines stay consistent whatever panicked while holding them: each step is whole.
        self.lines.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A started source whose total is unknown (yet).
fn spinner_style(fetched: &Arc<Fetched>) -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>12} {spinner} {pos} records, {fetched} ({elapsed})")
        .expect("static template")
        .with_key("fetched", fetched_key(fetched))
}

/// A started source with a total: a bar and an estimate. The bar takes the width the words leave,
/// so that the line fits the terminal (a line that wraps takes two).
fn bar_style(fetched: &Arc<Fetched>) -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix:>12} [{wide_bar}] {pos}/{len} records, {fetched} ({elapsed}, ETA {eta})",
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

/// A source that has not started.
fn waiting_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>12} waiting").expect("static template")
}

/// A finished source, while its bar stands: the same words [`finished_line`] prints.
fn finished_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:>12} {msg}").expect("static template")
}

/// A finished source's line for good, as [`finished_style`] draws it.
fn finished_line(name: &str, message: &str) -> String {
    format!("{name:>12} {message}")
}

#[cfg(test)]
mod tests {
    use indicatif::{InMemoryTerm, ProgressDrawTarget, TermLike};

    use super::*;

    /// A terminal in memory and the bars' owner drawing on it, as `logging::init` makes for stderr.
    fn terminal() -> (InMemoryTerm, MultiProgress) {
        let term = InMemoryTerm::new(24, 80);
        let target = ProgressDrawTarget::term_like(Box::new(term.clone()));
        (term, MultiProgress::with_draw_target(target))
    }

    /// A log line as a run writes one (`logging::BarSafeStderr`): the bars step aside for it.
    fn log(term: &InMemoryTerm, multi: &MultiProgress, text: &str) {
        multi.suspend(|| {
            term.write_line(text)
                .expect("a terminal in memory takes any line")
        });
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
    fn finished_lines_stay_in_pipeline_order_after_their_sources_are_dropped() {
        // Issue 15: each source's bar was added as it started and dropped when it ended, and
        // indicatif wipes a dropped bar's line at the next log line.
        let (term, multi) = terminal();
        let bars = SourceBars::new(Some(&multi), ["alpha", "beta"]);
        assert_eq!(screen(&term), ["alpha waiting", "beta waiting"]);
        for (i, name) in ["alpha", "beta"].into_iter().enumerate() {
            let progress = bars.start(i, name);
            log(&term, &multi, &format!("{name} started"));
            progress.page(3, 0);
            progress.finish(name == "alpha");
            log(&term, &multi, &format!("{name} finished"));
        }
        drop(bars);
        log(&term, &multi, "published");
        assert_eq!(
            screen(&term),
            [
                "alpha started",
                "alpha done: 3 records, 1 pages",
                "alpha finished",
                "beta started",
                "beta FAILED: 3 records, 1 pages",
                "beta finished",
                "published",
            ]
        );
    }

    #[test]
    fn a_source_that_finishes_first_keeps_its_place_below_an_earlier_one() {
        let (term, multi) = terminal();
        let bars = SourceBars::new(Some(&multi), ["alpha", "beta"]);
        let alpha = bars.start(0, "alpha");
        let beta = bars.start(1, "beta");
        beta.page(2, 0);
        beta.finish(true);
        drop(beta);
        log(&term, &multi, "beta finished");
        let lines = screen(&term);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0], "beta finished");
        assert!(lines[1].starts_with("alpha "), "{lines:?}");
        assert_eq!(lines[2], "beta done: 2 records, 1 pages");

        alpha.finish(true);
        drop((alpha, bars));
        log(&term, &multi, "published");
        assert_eq!(
            screen(&term),
            [
                "beta finished",
                "alpha done: 0 records, 0 pages",
                "beta done: 2 records, 1 pages",
                "published",
            ]
        );
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
        // With a total the line grows a bar, and still fits on one line of 80 columns.
        let with_total = shown();
        let line = (with_total.lines())
            .find(|l| l.starts_with("alpha ["))
            .unwrap_or_default();
        assert!(
            line.contains("] 4/10 records, 1 pages, 12.40 MiB received (") && line.ends_with(')'),
            "{with_total}"
        );
        assert_eq!(progress.counts().bytes, 13_001_000);
    }

    #[test]
    fn without_a_terminal_a_source_counts_bytes_and_has_no_bar() {
        let bars = SourceBars::new(None, ["alpha"]);
        let progress = bars.start(0, "alpha");
        assert!(!progress.has_bar());
        progress.received(10);
        progress.received(5);
        assert_eq!(progress.counts().bytes, 15);
        progress.finish(true);
    }
}

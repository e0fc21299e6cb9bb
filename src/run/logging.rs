//! Where a run's words go: log lines on stderr (text for people, JSON for schedulers), progress
//! bars when stderr is a terminal, and plain progress lines every ten seconds when it is not.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressDrawTarget};
use tracing::info;

use crate::console;
use crate::extract::{SourceCounts, SourceProgress};
use crate::model::secret::redact;

/// The log format on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object a line, for schedulers.
    Json,
}

/// How much a run says.
#[derive(Debug, Clone, Copy)]
pub struct Verbosity {
    pub quiet: bool,
    /// 0 info, 1 debug, 2 and more trace.
    pub verbose: u8,
    pub format: LogFormat,
}

/// Logs to stderr (text or JSON); returns the progress bars' owner when stderr is a terminal.
/// `CUSTOMER_EXPORT_LOG` (an `EnvFilter`) overrides the level.
pub fn init(verbosity: Verbosity) -> Option<MultiProgress> {
    let level = match (verbosity.quiet, verbosity.verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("CUSTOMER_EXPORT_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(format!("customer_export={level},warn"))
        });
    let text = verbosity.format == LogFormat::Text;
    let bars = (std::io::stderr().is_terminal() && !verbosity.quiet && text)
        .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let writer = BarSafeStderr(bars.clone());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(writer);
    let _ = match verbosity.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_ansi(bars.is_some()).try_init(),
    };
    let _ = FORMAT.set(verbosity.format);
    bars
}

/// Whether logs are JSON lines (for schedulers): then a run ends with typed events.
pub fn is_json() -> bool {
    FORMAT.get() == Some(&LogFormat::Json)
}

/// The format chosen at [`init`]: progress events carry their numbers as fields in JSON, in the
/// message for people.
static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Progress every ten seconds when there is no terminal to draw bars on: records, pages, and
/// where the API says how many there are, the percentage and an estimate of the time left.
pub fn spawn_ticker(progress: SourceProgress) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(10));
        every.tick().await;
        loop {
            every.tick().await;
            log_progress(&progress);
        }
    })
}

fn log_progress(progress: &SourceProgress) {
    let c = progress.counts();
    let done = Done::of(c.records, c.api_total, c.seconds);
    let line = progress_line(progress.name(), &c, &done);
    if is_json() {
        info!(
            event = "progress",
            source = progress.name(),
            records = c.records,
            pages = c.pages,
            total = c.api_total,
            percent = done.percent,
            eta_s = done.eta_s,
            retries = c.retries,
            "{line}"
        );
    } else {
        info!("{line}");
    }
}

/// How far a source is, where its total is known.
#[derive(Debug, Default, PartialEq)]
struct Done {
    percent: Option<f64>,
    /// Seconds left at the rate so far, rounded up.
    eta_s: Option<u64>,
}

impl Done {
    fn of(records: u64, total: Option<u64>, seconds: f64) -> Done {
        let Some(total) = total.filter(|t| *t > 0) else {
            return Done::default();
        };
        let share = (records as f64 / total as f64).min(1.0);
        let eta_s = (records > 0 && seconds > 0.0).then(|| {
            let left = total.saturating_sub(records) as f64;
            (left * seconds / records as f64).ceil() as u64
        });
        Done {
            percent: Some((share * 1000.0).round() / 10.0),
            eta_s,
        }
    }
}

/// `crayon: 1200/5000 records (24.0%), 6 pages, 0 retries, about 31 s left`.
fn progress_line(name: &str, c: &SourceCounts, done: &Done) -> String {
    let mut line = match (c.api_total, done.percent) {
        (Some(total), Some(percent)) => {
            format!("{name}: {}/{total} records ({percent:.1}%)", c.records)
        }
        _ => format!("{name}: {} records", c.records),
    };
    line.push_str(&format!(", {} pages, {} retries", c.pages, c.retries));
    if let Some(eta) = done.eta_s {
        line.push_str(&format!(", about {eta} s left"));
    }
    line
}

/// Writes log lines above the progress bars instead of through them, each event whole and
/// redacted of every secret seen (a vendor's message may echo one).
#[derive(Clone)]
struct BarSafeStderr(Option<MultiProgress>);

/// One log event, written on drop.
struct LogLine {
    bars: Option<MultiProgress>,
    text: Vec<u8>,
}

impl std::io::Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.text);
        let line = redact(&text);
        match &self.bars {
            Some(bars) => bars.suspend(|| console::err_raw(line.as_bytes())),
            None => console::err_raw(line.as_bytes()),
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BarSafeStderr {
    type Writer = LogLine;

    fn make_writer(&'a self) -> Self::Writer {
        LogLine {
            bars: self.0.clone(),
            text: Vec::with_capacity(256),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_says_how_far_and_how_long_where_the_total_is_known() {
        let counts = SourceCounts {
            pages: 6,
            records: 1200,
            api_total: Some(5000),
            seconds: 12.0,
            ..SourceCounts::default()
        };
        let done = Done::of(counts.records, counts.api_total, counts.seconds);
        assert_eq!(
            done,
            Done {
                percent: Some(24.0),
                eta_s: Some(38)
            }
        );
        assert_eq!(
            progress_line("crayon", &counts, &done),
            "crayon: 1200/5000 records (24.0%), 6 pages, 0 retries, about 38 s left"
        );
        let unknown = SourceCounts {
            api_total: None,
            ..counts
        };
        let done = Done::of(unknown.records, None, 12.0);
        assert_eq!(done, Done::default());
        assert_eq!(
            progress_line("c3", &unknown, &done),
            "c3: 1200 records, 6 pages, 0 retries"
        );
        assert_eq!(
            Done::of(0, Some(10), 0.0),
            Done {
                percent: Some(0.0),
                eta_s: None
            }
        );
    }
}

//! Where a run's words go: log lines on stderr (text for people, JSON for schedulers), progress
//! bars when stderr is a terminal, and plain progress lines every ten seconds when it is not.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressDrawTarget};
use tracing::info;

use crate::console;
use crate::extract::SourceProgress;
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
    bars
}

/// Plain progress lines every ten seconds when there is no terminal to draw bars on.
pub fn spawn_ticker(progress: SourceProgress) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(10));
        every.tick().await;
        loop {
            every.tick().await;
            info!("{}", progress.log_line());
        }
    })
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

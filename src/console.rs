//! Where text leaves the process: stdout and stderr.
//!
//! Promises: every secret this process has seen is redacted from what is written
//! ([`crate::model::secret::redact`]); a closed pipe (`customer-export … | head -1`) is a normal
//! end — nothing more is written to that stream and the command's exit status is unchanged —
//! never a panic, as `println!` would.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::model::secret::redact;

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` and a newline to stdout.
pub fn out(text: impl AsRef<str>) {
    let mut line = redact(text.as_ref()).into_owned();
    line.push('\n');
    write(&mut io::stdout().lock(), &STDOUT_CLOSED, line.as_bytes());
}

/// Writes `text` and a newline to stderr.
pub fn err(text: impl AsRef<str>) {
    let mut line = redact(text.as_ref()).into_owned();
    line.push('\n');
    err_raw(line.as_bytes());
}

/// Writes bytes to stderr as they are (already redacted: log lines).
pub fn err_raw(bytes: &[u8]) {
    write(&mut io::stderr().lock(), &STDERR_CLOSED, bytes);
}

/// Writes to a stream unless it is known closed; a write error closes it for good. There is
/// nowhere left to report the failure of the stream that reports failures.
fn write(stream: &mut impl Write, closed: &AtomicBool, bytes: &[u8]) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    if stream
        .write_all(bytes)
        .and_then(|()| stream.flush())
        .is_err()
    {
        closed.store(true, Ordering::Relaxed);
    }
}

//! Why an extraction failed, with what a user needs to act on it.

use super::connector::VendorError;

/// A failed extraction of one source.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{source_name}: authentication failed at {url}: {detail}")]
    Auth {
        source_name: String,
        url: String,
        detail: String,
    },
    #[error("{source_name}: {url} answered {status}: {vendor}")]
    Vendor {
        source_name: String,
        url: String,
        status: u16,
        vendor: VendorError,
    },
    #[error("{source_name}: {url} failed after {attempts} attempt(s) over {seconds:.0} s: {last}")]
    RetriesExhausted {
        source_name: String,
        url: String,
        attempts: u32,
        seconds: f64,
        last: String,
    },
    #[error(
        "{source_name}: {url} redirected to {location}; set base_url (or token_url) to the final address"
    )]
    Redirect {
        source_name: String,
        url: String,
        location: String,
    },
    #[error(
        "{source_name}: got {records} record(s) but the API reported a total of {total}; set `allow_count_mismatch: true` to publish anyway"
    )]
    CountMismatch {
        source_name: String,
        records: u64,
        total: u64,
    },
    #[error(
        "{source_name}: {url}: {detail}; raise `max_body_mb` if the vendor really sends this much"
    )]
    TooLarge {
        source_name: String,
        url: String,
        detail: String,
    },
    #[error("{source_name}: paging stopped: {detail}")]
    Paging { source_name: String, detail: String },
    #[error("{source_name}: {detail}")]
    Setup { source_name: String, detail: String },
    #[error("{source_name}: the run stopped before the source finished")]
    Cancelled { source_name: String },
}

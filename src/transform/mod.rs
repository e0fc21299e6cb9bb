//! Transform: a vendor record (JSON) becomes rows of typed cells for a declared schema.
//!
//! [`Transformer`] is the stage: pure (no I/O), streaming (one record in, its rows out), with
//! tables and schemas fixed before the first record. It reads a record in one pass straight from
//! its JSON text (`parse`: every declared value into its slot, no tree of the record), then emits
//! its rows (`rows`); `value` holds the coercion rules. Rows are [`crate::model::row`]'s typed
//! cells; [`options`] is what a pipeline's `transform:` block asks for.

pub mod options;
mod parse;
mod rows;
mod value;

pub use options::{ArrayMode, Fields, Options};
pub use rows::{EXTRA_COLUMN, ParsedRecord, RecordReport, Table, Transformer};

use crate::model::VendorRecord;
use crate::model::record::CANONICAL_COLUMNS;

/// Paths a field mapping may name besides the vendors' fields.
pub const SPECIAL_PATHS: [&str; 2] = ["vendor", "source_record_id"];

/// Whether `path` names a field of any of these vendors: a declared field, an array (by name or
/// JSON key: `tenants`, `customerTenants`), an element field (`tenants.DomainName`), or a
/// canonical column. It agrees with what [`Transformer`] resolves, so a validated mapping never
/// meets a path the transform does not understand.
pub fn is_known_path(path: &str, vendors: impl IntoIterator<Item = VendorRecord>) -> bool {
    if SPECIAL_PATHS.contains(&path) || CANONICAL_COLUMNS.iter().any(|(c, _)| *c == path) {
        return true;
    }
    vendors.into_iter().any(|v| rows::resolves(v, path))
}

/// The output column for a dotted path: `companyProfile.companyName` → `companyProfile_companyName`.
pub fn column_name(path: &str) -> String {
    path.replace('.', "_")
}

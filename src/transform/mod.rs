//! Transform: a vendor record (JSON) becomes rows of typed cells for a declared schema.
//!
//! [`Transformer`] is the stage: pure (no I/O), streaming (one record in, its rows out), with
//! tables and schemas fixed before the first record. `columns` plans them (where each column's
//! value comes from); the transform reads a record in one pass straight from its JSON text
//! (`parse`: every value a column needs into its slot, no tree of the record), then emits its rows
//! (`rows`); `value` holds the coercion rules; `observe` sums up what records hold, for `inspect`
//! and `undeclared: columns`. Rows are [`crate::model::row`]'s typed cells; [`options`] is what a
//! pipeline's `transform:` block asks for.

mod columns;
pub mod observe;
pub mod options;
mod parse;
mod rows;
mod set;
mod spare;
mod value;

pub use columns::{EXTRA_COLUMN, Promoted};
pub use options::{
    ArrayMode, FIELD_TYPES, FieldType, Fields, Mapping, Naming, Options, Undeclared,
};
pub use rows::{ParsedRecord, RecordReport, Table, Transformer};
pub use set::Transforms;

use crate::model::VendorRecord;
use crate::model::record::CANONICAL_COLUMNS;

/// Paths a field mapping may name besides the vendors' fields.
pub const SPECIAL_PATHS: [&str; 3] = ["vendor", "source_record_id", EXTRA_COLUMN];

/// Whether `path` is declared by any of these vendors: a field, an array (by name or JSON key:
/// `tenants`, `customerTenants`), an element field (`tenants.DomainName`), or a canonical column.
/// A mapping may name other paths too (the transform reads whatever the record has there); they
/// are worth a warning, not an error: the field may exist in production.
pub fn is_known_path(path: &str, vendors: impl IntoIterator<Item = VendorRecord>) -> bool {
    if SPECIAL_PATHS.contains(&path) || CANONICAL_COLUMNS.iter().any(|(c, _)| *c == path) {
        return true;
    }
    vendors.into_iter().any(|v| columns::is_declared(v, path))
}

/// The output column for a dotted path: `companyProfile.companyName` → `companyProfile_companyName`,
/// or `company_profile_company_name` in snake_case.
pub fn column_name(path: &str, naming: Naming) -> String {
    match naming {
        Naming::Source => path.replace('.', "_"),
        Naming::SnakeCase => path
            .split('.')
            .map(heck::ToSnakeCase::to_snake_case)
            .collect::<Vec<_>>()
            .join("_"),
    }
}

//! Transform: a vendor record (JSON) becomes rows of typed cells for a declared schema.

pub mod row;

use crate::vendors::VendorSpec;

/// Paths a field mapping may name besides the vendors' fields.
pub const SPECIAL_PATHS: [&str; 2] = ["vendor", "source_record_id"];

/// Whether `path` names a field of any of these vendors: a declared field, an array
/// (`customerTenants`), an element field of the exploded array (`tenants.DomainName`), or a
/// canonical column.
pub fn is_known_path<'a>(path: &str, vendors: impl IntoIterator<Item = &'a VendorSpec>) -> bool {
    if SPECIAL_PATHS.contains(&path)
        || crate::vendors::spec::CANONICAL_COLUMNS
            .iter()
            .any(|(c, _)| *c == path)
    {
        return true;
    }
    vendors.into_iter().any(|v| {
        v.fields.iter().any(|f| f.path == path)
            || v.arrays.iter().any(|a| {
                a.path == path
                    || a.name == path
                    || path
                        .strip_prefix(a.name)
                        .and_then(|rest| rest.strip_prefix('.'))
                        .is_some_and(|field| a.fields.iter().any(|f| f.path == field))
            })
    })
}

/// The output column for a dotted path: `companyProfile.companyName` → `companyProfile_companyName`.
pub fn column_name(path: &str) -> String {
    path.replace('.', "_")
}

//! What a vendor's customer record declares: its key, its scalar fields with their types, its
//! arrays, and how the canonical columns (the same for every vendor) are filled from it.
//!
//! Vendors write these as data literals; the transform reads them to fix every output schema
//! before the first record arrives.

use super::row::ColumnType;

/// The declared shape of one vendor's customer record.
#[derive(Debug)]
pub struct RecordSpec {
    /// The field that identifies a record: used to de-duplicate and as `source_record_id`.
    pub key: &'static str,
    /// The scalar fields of a record, in output order. Dotted paths are nested objects and become
    /// `parent_child` columns.
    pub fields: &'static [Field],
    /// The arrays of a record.
    pub arrays: &'static [ArraySpec],
    /// The array that `arrays: explode` unrolls when the pipeline does not name one.
    pub default_explode: Option<&'static str>,
    /// How each canonical column is filled for this vendor.
    pub canonical: Canonical,
}

impl RecordSpec {
    pub fn array(&self, name: &str) -> Option<&ArraySpec> {
        self.arrays.iter().find(|a| a.name == name)
    }
}

/// A declared scalar field of a record.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Dotted path in the vendor's JSON (`companyProfile.companyName`).
    pub path: &'static str,
    pub ty: ColumnType,
}

/// Shorthand constructors keep the vendor tables readable.
pub const fn text(path: &'static str) -> Field {
    Field {
        path,
        ty: ColumnType::Utf8,
    }
}
pub const fn int(path: &'static str) -> Field {
    Field {
        path,
        ty: ColumnType::Int64,
    }
}
pub const fn float(path: &'static str) -> Field {
    Field {
        path,
        ty: ColumnType::Float64,
    }
}
pub const fn boolean(path: &'static str) -> Field {
    Field {
        path,
        ty: ColumnType::Boolean,
    }
}
pub const fn timestamp(path: &'static str) -> Field {
    Field {
        path,
        ty: ColumnType::Timestamp,
    }
}
pub const fn date(path: &'static str) -> Field {
    Field {
        path,
        ty: ColumnType::Date,
    }
}

/// A declared array of a record.
#[derive(Debug)]
pub struct ArraySpec {
    /// The name used in pipelines, column prefixes and child tables (`tenants`).
    pub name: &'static str,
    /// The JSON key holding the array (`customerTenants`).
    pub path: &'static str,
    /// The fields of an element; empty for an array of scalars (then the element is `value`).
    pub fields: &'static [Field],
    /// The element type when the array holds scalars.
    pub scalar: Option<ColumnType>,
}

/// Where a canonical column's value comes from.
#[derive(Debug, Clone, Copy)]
pub enum From {
    /// A dotted path in the record.
    Field(&'static str),
    /// A field of the exploded array element (`tenants`), or of the first element otherwise.
    /// Canonical rows explode this array: one row per tenant.
    Element(&'static str, &'static str),
    /// A field of the array's first element (the first contact's email); the rows stay one per
    /// record.
    First(&'static str, &'static str),
    /// A fixed value for every record of this vendor.
    Const(&'static str),
    /// The vendor's API does not carry it; the text says so in `customer-export vendors`.
    Lacking(&'static str),
}

/// The one status vocabulary of the canonical `status` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Inactive,
    Suspended,
    Pending,
    Deleted,
    /// A value the vendor does not document, or none at all: never a guess.
    Unknown,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Suspended => "suspended",
            Status::Pending => "pending",
            Status::Deleted => "deleted",
            Status::Unknown => "unknown",
        }
    }

    /// The status `codes` give the vendor's value `raw` (as text: `1000`, `Active`, `true`),
    /// compared without regard to ASCII case; [`Status::Unknown`] when none does.
    pub fn of(raw: &str, codes: &[(&str, Status)]) -> Status {
        codes
            .iter()
            .find(|(code, _)| code.eq_ignore_ascii_case(raw.trim()))
            .map_or(Status::Unknown, |(_, status)| *status)
    }
}

/// The canonical columns, filled per vendor (`vendor` and `source_record_id` are implicit).
#[derive(Debug)]
pub struct Canonical {
    /// The vendor's unique key for the customer.
    pub customer_id: From,
    /// The business reference the partner keeps for the customer (not unique in every vendor).
    pub customer_reference: From,
    pub customer_name: From,
    /// The vendor's own status value: `status_raw` as is, `status` through `status_codes`.
    pub status: From,
    /// The vendor's documented status values and what each means.
    pub status_codes: &'static [(&'static str, Status)],
    pub country: From,
    pub created_at: From,
    pub reseller_id: From,
    pub tenant_id: From,
    pub tenant_domain: From,
    pub contact_email: From,
}

/// The canonical columns in output order: the contract's eleven first, additions after them so
/// that a reader by position keeps working.
pub const CANONICAL_COLUMNS: [(&str, ColumnType); 13] = [
    ("vendor", ColumnType::Utf8),
    ("customer_id", ColumnType::Utf8),
    ("customer_name", ColumnType::Utf8),
    ("status", ColumnType::Utf8),
    ("country", ColumnType::Utf8),
    ("created_at", ColumnType::Timestamp),
    ("reseller_id", ColumnType::Utf8),
    ("tenant_id", ColumnType::Utf8),
    ("tenant_domain", ColumnType::Utf8),
    ("contact_email", ColumnType::Utf8),
    ("source_record_id", ColumnType::Utf8),
    ("status_raw", ColumnType::Utf8),
    ("customer_reference", ColumnType::Utf8),
];

impl Canonical {
    /// The source of each canonical column, in [`CANONICAL_COLUMNS`] order.
    pub fn sources(&self, vendor: &'static str) -> [From; 13] {
        [
            From::Const(vendor),
            self.customer_id,
            self.customer_name,
            self.status,
            self.country,
            self.created_at,
            self.reseller_id,
            self.tenant_id,
            self.tenant_domain,
            self.contact_email,
            From::Lacking("filled from the record key by the transform"),
            self.status,
            self.customer_reference,
        ]
    }
}

/// A vendor as the transform sees it: its id (the `vendor` column) and its declared record.
#[derive(Debug, Clone, Copy)]
pub struct VendorRecord {
    pub id: &'static str,
    pub record: &'static RecordSpec,
}

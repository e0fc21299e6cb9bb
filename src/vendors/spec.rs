//! What a vendor declares about itself, before any network code runs: its settings, auth keys,
//! filters, page sizes and output columns. `validate` and `vendors` work from this alone.

use std::sync::Arc;

use crate::extract::Connector;
use crate::pipeline::SourcePlan;
use crate::transform::row::ColumnType;

/// Builds a vendor's connector for one source; the message says what is missing.
pub type Connect = fn(&SourcePlan) -> Result<Arc<dyn Connector>, String>;

/// The declared facts about one connector.
pub struct VendorSpec {
    /// The `vendor:` value in a pipeline file.
    pub id: &'static str,
    pub title: &'static str,
    /// The endpoint the connector reads, for `customer-export vendors`.
    pub endpoint: &'static str,
    /// `base_url` when the pipeline gives none; `None` means `base_url` is required.
    pub default_base_url: Option<&'static str>,
    /// Source keys beyond the common ones (`reseller_id`, `organization_id`, …).
    pub settings: &'static [Setting],
    /// Accepted `auth:` key sets; the first whose required keys are all present is used.
    pub auth_modes: &'static [AuthMode],
    pub filters: &'static [FilterSpec],
    pub page_size: PageSize,
    /// The field that identifies a record: used to de-duplicate and as `source_record_id`.
    pub record_key: &'static str,
    /// The scalar fields of a record, in output order. Dotted paths are nested objects and become
    /// `parent_child` columns.
    pub fields: &'static [Field],
    /// The arrays of a record.
    pub arrays: &'static [ArraySpec],
    /// The array that `arrays: explode` unrolls when the pipeline does not name one.
    pub default_explode: Option<&'static str>,
    /// How each canonical column is filled for this vendor.
    pub canonical: Canonical,
    /// The connector: auth, page requests, page parsing.
    pub connect: Connect,
}

/// A source key specific to a vendor.
#[derive(Debug)]
pub struct Setting {
    pub name: &'static str,
    pub required: bool,
    pub help: &'static str,
}

/// One accepted set of `auth:` keys.
#[derive(Debug)]
pub struct AuthMode {
    pub name: &'static str,
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

/// A query parameter the vendor documents.
#[derive(Debug)]
pub struct FilterSpec {
    pub name: &'static str,
    pub kind: FilterKind,
    pub required: bool,
    pub help: &'static str,
}

/// What values a filter accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    Integer,
    Text,
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    DateTime,
    OneOf(&'static [&'static str]),
}

impl FilterKind {
    /// A short description of the accepted values, for error messages and `vendors`.
    pub fn describe(&self) -> String {
        match self {
            FilterKind::Integer => "a whole number".into(),
            FilterKind::Text => "text".into(),
            FilterKind::Boolean => "true or false".into(),
            FilterKind::Date => "a date YYYY-MM-DD".into(),
            FilterKind::DateTime => "a UTC date-time YYYY-MM-DDTHH:MM:SSZ".into(),
            FilterKind::OneOf(values) => format!("one of {}", values.join(", ")),
        }
    }

    /// Checks a filter value, returning it as it goes on the query string.
    pub fn check(&self, value: &str) -> Result<String, String> {
        let value = value.trim();
        let ok = match self {
            FilterKind::Integer => value.parse::<i64>().is_ok(),
            FilterKind::Text => true,
            FilterKind::Boolean => matches!(value, "true" | "false"),
            FilterKind::Date => value.parse::<jiff::civil::Date>().is_ok() && value.len() == 10,
            FilterKind::DateTime => {
                value.len() == 20
                    && value.ends_with('Z')
                    && value.parse::<jiff::Timestamp>().is_ok()
            }
            FilterKind::OneOf(values) => values.contains(&value),
        };
        if ok {
            Ok(value.to_string())
        } else {
            Err(format!("expected {}, found {value:?}", self.describe()))
        }
    }
}

/// Page sizes the vendor accepts.
#[derive(Debug, Clone, Copy)]
pub struct PageSize {
    pub default: u32,
    pub max: u32,
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
    Element(&'static str, &'static str),
    /// A fixed value for every record of this vendor.
    Const(&'static str),
    /// Not provided by this vendor.
    None,
}

/// The canonical columns, filled per vendor (`vendor` and `source_record_id` are implicit).
#[derive(Debug)]
pub struct Canonical {
    pub customer_id: From,
    pub customer_name: From,
    pub status: From,
    pub country: From,
    pub created_at: From,
    pub reseller_id: From,
    pub tenant_id: From,
    pub tenant_domain: From,
    pub contact_email: From,
}

/// The canonical columns in output order.
pub const CANONICAL_COLUMNS: [(&str, ColumnType); 11] = [
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
];

impl Canonical {
    /// The source of each canonical column, in [`CANONICAL_COLUMNS`] order.
    pub fn sources(&self, vendor: &'static str) -> [From; 11] {
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
            From::None, // filled from `record_key` by the transform
        ]
    }
}

impl std::fmt::Debug for VendorSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorSpec")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl VendorSpec {
    pub fn filter(&self, name: &str) -> Option<&FilterSpec> {
        self.filters.iter().find(|f| f.name == name)
    }

    pub fn array(&self, name: &str) -> Option<&ArraySpec> {
        self.arrays.iter().find(|a| a.name == name)
    }

    pub fn setting(&self, name: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.name == name)
    }

    /// Every auth key any mode accepts, for "allowed" lists.
    pub fn auth_keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = self
            .auth_modes
            .iter()
            .flat_map(|m| m.required.iter().chain(m.optional.iter()).copied())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }
}

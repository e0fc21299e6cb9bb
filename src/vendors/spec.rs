//! What a vendor declares about itself, before any network code runs: its own source keys and
//! `auth:` keys with their kinds, the auth modes they form, its filters, page sizes and record.
//! `validate` checks a pipeline against these tables alone, and `vendors` prints them.

use crate::model::RecordSpec;

/// The declared facts about one connector.
#[derive(Debug)]
pub struct VendorSpec {
    /// The `vendor:` value in a pipeline file.
    pub id: &'static str,
    pub title: &'static str,
    /// The endpoint the connector reads, for `customer-export vendors`.
    pub endpoint: &'static str,
    /// `base_url` when the pipeline gives none; `None` means `base_url` is required.
    pub default_base_url: Option<&'static str>,
    /// Source keys beyond the ones every source has (`reseller_id`, `organization_id`, …).
    pub settings: &'static [Key],
    /// The keys its `auth:` block takes.
    pub auth_keys: &'static [Key],
    /// Accepted sets of `auth:` keys; the first whose required keys are all present is used.
    pub auth_modes: &'static [AuthMode],
    pub filters: &'static [FilterSpec],
    pub page_size: PageSize,
    /// The customer record: its key, fields, arrays and canonical columns.
    pub record: RecordSpec,
}

/// One key a vendor takes, beside the source's common keys or under `auth:`.
#[derive(Debug)]
pub struct Key {
    pub name: &'static str,
    pub kind: KeyKind,
    /// Required in every pipeline (auth keys are required through their [`AuthMode`]).
    pub required: bool,
    pub help: &'static str,
}

/// What a key's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    /// A credential: kept as a [`crate::model::Secret`], never printed.
    Secret,
    /// An `http(s)://` URL.
    Url,
    /// A list of texts.
    List,
}

impl Key {
    pub const fn text(name: &'static str) -> Key {
        Key {
            name,
            kind: KeyKind::Text,
            required: false,
            help: "",
        }
    }

    pub const fn secret(name: &'static str) -> Key {
        Key {
            kind: KeyKind::Secret,
            ..Key::text(name)
        }
    }

    pub const fn url(name: &'static str) -> Key {
        Key {
            kind: KeyKind::Url,
            ..Key::text(name)
        }
    }
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

/// Page sizes the vendor accepts; `max: 0` means the vendor has no paging.
#[derive(Debug, Clone, Copy)]
pub struct PageSize {
    pub default: u32,
    pub max: u32,
}

impl VendorSpec {
    pub fn filter(&self, name: &str) -> Option<&FilterSpec> {
        self.filters.iter().find(|f| f.name == name)
    }

    pub fn setting(&self, name: &str) -> Option<&Key> {
        self.settings.iter().find(|s| s.name == name)
    }

    pub fn auth_key(&self, name: &str) -> Option<&Key> {
        self.auth_keys.iter().find(|k| k.name == name)
    }

    /// Every auth key, for "allowed" lists, sorted.
    pub fn auth_key_names(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = self.auth_keys.iter().map(|k| k.name).collect();
        keys.sort_unstable();
        keys
    }

    /// Whether the vendor pages at all (else one response holds every customer).
    pub fn pages(&self) -> bool {
        self.page_size.max > 0
    }
}

//! The vendor registry: one module per vendor, each a [`Vendor`] plugin that owns everything the
//! vendor is — its own source and `auth:` keys and their checks ([`VendorSpec`]), its declared
//! record, and the connector it builds (its pick of the engine's auth flows, its page requests,
//! where its records are, when its paging ends, how to read its errors).
//!
//! Adding a vendor is one file here and one line in the registry below (plus its emulation in the
//! sandbox): see "Adding a vendor" in the README.

pub mod declared;
pub mod settings;
pub mod spec;

use std::sync::Arc;

use url::Url;

use crate::extract::Connector;
use crate::model::VendorRecord;
pub use settings::Settings;
pub use spec::VendorSpec;

/// One vendor: what it declares, what only it can check, and the connector it builds.
pub trait Vendor: Send + Sync + 'static {
    /// The declared facts: keys, filters, page sizes, the record.
    fn spec(&self) -> &'static VendorSpec;

    /// Checks what the key tables cannot express (one key or another, not both). `complete` is
    /// false when missing values will still be filled in (the sandbox does that).
    fn check(&self, _settings: &Settings, _complete: bool) -> Vec<Problem> {
        Vec::new()
    }

    /// Builds the connector for one checked source.
    fn connect(&self, source: &SourceConfig<'_>) -> Result<Arc<dyn Connector>, String>;

    /// The rate limit (`10/s`) a source gets when its pipeline sets none.
    fn default_rate_limit(&self) -> Option<&str> {
        None
    }

    /// The `vendor:` id.
    fn id(&self) -> &'static str {
        self.spec().id
    }

    /// The vendor as the transform sees it.
    fn record(&self) -> VendorRecord {
        VendorRecord {
            id: self.id(),
            record: &self.spec().record,
        }
    }
}

impl std::fmt::Debug for dyn Vendor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// A problem a vendor found with a source's settings, at a key (or at `vendor:` when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: Option<&'static str>,
    pub message: String,
}

/// What a connector is built from: one checked source.
#[derive(Debug, Clone, Copy)]
pub struct SourceConfig<'a> {
    pub base_url: &'a Url,
    pub settings: &'a Settings,
    /// Query parameters, checked against the vendor's filters, in file order.
    pub filters: &'a [(String, String)],
    pub page_size: u32,
}

/// Declares each vendor's module and lists its plugin in `ALL`: a vendor is one line.
macro_rules! registry {
    ($($module:ident::$plugin:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// Every vendor, in catalogue order.
        pub const ALL: &[&dyn Vendor] = &[$(&$module::$plugin),*];
    };
}

registry! {
    c3::C3,
    crayon::Crayon,
    valomnia::Valomnia,
    appxite::Appxite,
    adobe_vipmp::AdobeVipmp,
}

/// Looks a vendor up by its `vendor:` id.
pub fn find(id: &str) -> Option<&'static dyn Vendor> {
    ALL.iter().copied().find(|v| v.id() == id)
}

/// The vendor ids, for "allowed" lists.
pub fn ids() -> Vec<&'static str> {
    ALL.iter().map(|v| v.id()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declaration_is_consistent() {
        for vendor in ALL {
            let spec = vendor.spec();
            assert_eq!(find(spec.id).map(|v| v.id()), Some(spec.id));
            for mode in spec.auth_modes {
                for key in mode.required.iter().chain(mode.optional) {
                    assert!(
                        spec.auth_key(key).is_some(),
                        "{}: auth mode {:?} names undeclared key {key}",
                        spec.id,
                        mode.name
                    );
                }
            }
            assert!(!spec.auth_modes.is_empty(), "{}", spec.id);
            let record = &spec.record;
            if let Some(array) = record.default_explode {
                assert!(record.array(array).is_some(), "{}: {array}", spec.id);
            }
            assert!(spec.page_size.default <= spec.page_size.max, "{}", spec.id);
        }
    }
}

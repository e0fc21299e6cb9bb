//! The vendor registry: one module per connector, each declaring its [`spec::VendorSpec`] (and,
//! with the extract engine, its connector). Adding a vendor is one file and one line in [`ALL`].

pub mod adobe_vipmp;
pub mod appxite;
pub mod c3;
pub mod crayon;
pub mod spec;
pub mod valomnia;

pub use spec::VendorSpec;

/// Every connector, in catalogue order.
pub const ALL: [&VendorSpec; 5] = [
    &c3::SPEC,
    &crayon::SPEC,
    &valomnia::SPEC,
    &appxite::SPEC,
    &adobe_vipmp::SPEC,
];

/// Looks a connector up by its `vendor:` id.
pub fn find(id: &str) -> Option<&'static VendorSpec> {
    ALL.iter().copied().find(|spec| spec.id == id)
}

/// The connector ids, for "allowed" lists.
pub fn ids() -> Vec<&'static str> {
    ALL.iter().map(|spec| spec.id).collect()
}

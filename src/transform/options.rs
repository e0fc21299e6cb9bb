//! What a pipeline's `transform:` block asks of the transform, with the defaults a pipeline gets
//! when it says nothing.

/// The `transform:` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub fields: Fields,
    pub arrays: ArrayMode,
    /// The array `explode` unrolls; `None` means each vendor's default.
    pub explode: Option<String>,
}

impl Default for Options {
    /// Canonical columns, one row per exploded element.
    fn default() -> Self {
        Options {
            fields: Fields::Canonical,
            arrays: ArrayMode::Explode,
            explode: None,
        }
    }
}

/// `fields:`: which columns come out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    /// The same columns for every vendor.
    Canonical,
    /// Every declared field of the vendor, flattened.
    All,
    /// `(output_column, source.path)` pairs, in file order.
    Mapping(Vec<(String, String)>),
}

/// `arrays:`: what becomes of a record's arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayMode {
    /// One row per element of one array.
    Explode,
    /// Each array as one JSON text column.
    Json,
    /// One child table per array.
    Tables,
}

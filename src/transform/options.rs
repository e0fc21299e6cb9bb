//! What a pipeline's `transform:` block asks of the transform, with the defaults a pipeline gets
//! when it says nothing.

use crate::model::ColumnType;

/// The `transform:` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub fields: Fields,
    pub arrays: ArrayMode,
    /// The array `explode` unrolls; `None` means each vendor's default.
    pub explode: Option<String>,
    /// How `fields: all` names the columns it makes from the vendor's paths.
    pub naming: Naming,
    /// What `fields: all` does with the paths a vendor sends beyond its declared ones.
    pub undeclared: Undeclared,
}

impl Default for Options {
    /// Canonical columns, one row per exploded element.
    fn default() -> Self {
        Options {
            fields: Fields::Canonical,
            arrays: ArrayMode::Explode,
            explode: None,
            naming: Naming::Source,
            undeclared: Undeclared::Extra,
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
    /// Columns picked by path, in file order.
    Mapping(Vec<Mapping>),
}

/// One column of a field mapping: `column: path`, `column: {path: …, type: …}`, or a path per
/// vendor, `column: {crayon: Id, adobe_vipmp: customerId}` (with `path:` for the other vendors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub column: String,
    /// A dotted path in the vendor's JSON, declared or not; a number steps into a list
    /// (`companyProfile.contacts.0.email`). For the vendors `by_vendor` does not name; `None`
    /// leaves their column empty.
    pub path: Option<String>,
    /// (vendor id, path): where each named vendor keeps this column's value.
    pub by_vendor: Vec<(String, String)>,
    /// The type asked for; `None` keeps the declared type (text for an undeclared path).
    pub ty: Option<FieldType>,
}

impl Mapping {
    /// A column read from the same path for every vendor.
    pub fn new(column: &str, path: &str) -> Mapping {
        Mapping {
            column: column.to_string(),
            path: Some(path.to_string()),
            by_vendor: Vec::new(),
            ty: None,
        }
    }

    /// Where `vendor`'s records keep this column's value, if anywhere.
    pub fn path_for(&self, vendor: &str) -> Option<&str> {
        (self.by_vendor.iter())
            .find(|(v, _)| v == vendor)
            .map(|(_, path)| path.as_str())
            .or(self.path.as_deref())
    }
}

/// The types a mapping may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Int,
    Float,
    Bool,
    Timestamp,
    Date,
    /// The value as compact JSON text, whatever it is (a string keeps its quotes).
    Json,
}

/// Every type name a mapping accepts, in the order messages list them.
pub const FIELD_TYPES: [(&str, FieldType); 7] = [
    ("string", FieldType::String),
    ("int", FieldType::Int),
    ("float", FieldType::Float),
    ("bool", FieldType::Bool),
    ("timestamp", FieldType::Timestamp),
    ("date", FieldType::Date),
    ("json", FieldType::Json),
];

impl FieldType {
    /// The type named `name`, if there is one.
    pub fn named(name: &str) -> Option<FieldType> {
        FIELD_TYPES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
    }

    /// The column type the loaders write it as.
    pub fn column_type(self) -> ColumnType {
        match self {
            FieldType::String | FieldType::Json => ColumnType::Utf8,
            FieldType::Int => ColumnType::Int64,
            FieldType::Float => ColumnType::Float64,
            FieldType::Bool => ColumnType::Boolean,
            FieldType::Timestamp => ColumnType::Timestamp,
            FieldType::Date => ColumnType::Date,
        }
    }
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

/// `naming:`: how a vendor's paths become column names in `fields: all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// As the vendor spells them, dots made underscores: `companyProfile_companyName`.
    Source,
    /// snake_case, dlt's convention: `company_profile_company_name`, so that the files of
    /// several vendors union by name (`Id` and `id` become one column).
    SnakeCase,
}

/// `undeclared:`: paths a vendor sends beyond its declaration, in `fields: all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undeclared {
    /// Kept in the `_extra` JSON column: the schema stays the declared one, night after night.
    Extra,
    /// Scalar paths seen in the source's first page become columns of their own (ordered by
    /// path); later newcomers go to `_extra` and are counted.
    Columns,
}

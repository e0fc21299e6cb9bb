//! Transform: a vendor record (JSON) becomes rows of typed cells for a declared schema.

pub mod row;

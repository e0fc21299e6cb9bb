//! The shared vocabulary every stage speaks, and nothing else: typed rows and their schema
//! ([`row`]), what a vendor record declares ([`record`]), record keys and their hashes ([`key`]),
//! and secrets ([`secret`]). It depends on no other module of the crate, so every other module may
//! depend on it.

pub mod key;
pub mod record;
pub mod row;
pub mod secret;
pub mod suggest;

pub use key::{KeyRef, key_hash};
pub use record::{RecordSpec, VendorRecord};
pub use row::{
    Cell, CellRef, Column, ColumnType, PackedRow, PackedRows, Row, RowForWriters, Schema,
};
pub use secret::Secret;

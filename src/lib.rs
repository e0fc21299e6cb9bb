//! `customer-export`: exports the customer lists of IT-channel platforms to CSV, NDJSON and Parquet.
//!
//! The folders follow the data: [`pipeline`] turns a YAML file into a validated [`pipeline::Plan`],
//! [`extract`] pages through each vendor's API (the vendor specifics live in [`vendors`]),
//! [`transform`] turns a vendor record into rows, and [`load`] writes and atomically publishes the
//! files. [`sandbox`] emulates the five vendor APIs for the quick start, the tests and benchmarks.

pub mod cli;
pub mod extract;
pub mod load;
pub mod pipeline;
pub mod run;
pub mod sandbox;
pub mod secret;
pub mod transform;
pub mod vendors;

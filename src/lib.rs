//! `customer-export`: exports the customer lists of IT-channel platforms to CSV, NDJSON, Parquet
//! and XLSX.
//!
//! The folders follow the data: [`pipeline`] turns a YAML file into a validated [`pipeline::Plan`],
//! [`extract`] pages through each vendor's API (the vendors themselves are plugins in
//! [`vendors`]), [`transform`] turns a vendor record into rows, and [`load`] writes and atomically
//! publishes the files. [`sandbox`] emulates the vendor APIs for the quick start, the tests and
//! benchmarks; [`run`] joins the stages for the command line ([`cli`]). [`model`] is the shared
//! vocabulary underneath them all. [`diff`] compares two exports (the reconciliation job).
//!
//! Modules depend one way: `model` ← `extract`, `transform`, `load` ← `vendors` ← `pipeline` ←
//! `run` ← `cli`; `sandbox` and [`console`] (where text leaves the process) depend on `model`
//! only; [`allocator`] (what the process asks of `malloc`) on nothing.

pub mod allocator;
pub mod cli;
pub mod console;
pub mod diff;
pub mod extract;
pub mod load;
pub mod model;
pub mod pipeline;
pub mod run;
pub mod sandbox;
pub mod transform;
pub mod vendors;

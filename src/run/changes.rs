//! `run --diff-against PATH`: tonight's change set. Once every file of a run is complete, and
//! before anything is published, the run's customer files are compared with the export at PATH
//! (as `customer-export diff` would) and the change set is written beside the manifest, as
//! `changes.parquet` (or `changes.csv` when the run writes its customers to CSV, not Parquet) —
//! published with the other files and listed in the manifest: the nightly change feed a lake or a
//! CRM sync reads.
//!
//! Tonight's customer files are the Parquet (else CSV) outputs with `vendor` and `customer_id`
//! columns — canonical ones, or a mapping naming both; a pipeline without one is refused before
//! it runs ([`check`]). Written to object storage, they are read back from their staging keys.
//!
//! A first night has nothing to compare with: PATH not existing is a warning, and the run
//! publishes without a change set. A PATH that exists but cannot be compared fails the run.

use std::path::Path;

use tracing::{info, warn};

use super::RunError;
use crate::diff::{self, CUSTOMER_KEY, FileKind, RunFiles};
use crate::load::store::key_text;
use crate::load::{Finished, Root};
use crate::pipeline::Plan;
use crate::transform::Fields;

/// Refuses `--diff-against` for a pipeline none of whose Parquet or CSV outputs has the key
/// columns: the run would fail only after its extraction.
pub fn check(plan: &Plan) -> Result<(), String> {
    let keyed = (plan.outputs.iter())
        .filter(|o| matches!(o.format.name(), "parquet" | "csv"))
        .any(|o| match &plan.transforms[o.transform].fields {
            Fields::Canonical => true,
            Fields::All => false,
            Fields::Mapping(mappings) => CUSTOMER_KEY
                .iter()
                .all(|k| mappings.iter().any(|m| m.column == *k)),
        });
    if keyed {
        return Ok(());
    }
    Err(format!(
        "error: --diff-against: pipeline {:?} has no Parquet or CSV output with vendor and customer_id columns to compare; add an output with `fields: canonical` (the default), or map both columns",
        plan.name
    ))
}

/// The change set of `files` against the export at `old`, ready to publish in `dir`; `None` on a
/// first night.
pub fn change_set(
    old: &str,
    files: &[Finished],
    root: &Root,
    dir: &Path,
) -> Result<Option<Finished>, RunError> {
    if diff::is_absent(old) {
        warn!(
            previous = old,
            "--diff-against: no export there yet (a first night?); publishing without a change set."
        );
        return Ok(None);
    }
    let customers = customer_files(files);
    let format = customers.first().map_or("csv", |f| f.summary.format);
    let staged = customers.iter().map(|f| (f.temp_path(), f.summary.format));
    let new_files = match root {
        Root::Local(_) => RunFiles::Local(staged.map(|(p, f)| (p.to_path_buf(), f)).collect()),
        Root::Store(store) => RunFiles::Staged {
            store: store.store(),
            url: store.url(),
            keys: staged.map(|(p, f)| (key_text(p), f)).collect(),
        },
    };
    let change_format = diff::change_set_format(format);
    let path = dir.join(format!("changes.{}", change_format.extension()));
    let failed = |e: diff::DiffError| RunError::Setup(format!("--diff-against {old}: {e}"));
    let (report, writer) = diff::against_run(old, &new_files, |key| {
        Ok(root.create(&path, &change_format, diff::change_set_schema(key))?)
    })
    .map_err(failed)?;
    let total = report.total();
    info!(
        previous = old,
        added = total.added,
        removed = total.removed,
        changed = total.changed,
        unchanged = total.unchanged,
        change_set = %path.display(),
        "Compared with the previous export."
    );
    Ok(Some(writer.finish()?))
}

/// Tonight's customer files, as `diff` picks them from a manifest ([`diff::customer_tables`]).
fn customer_files(files: &[Finished]) -> Vec<&Finished> {
    let tables = (files.iter()).filter_map(|f| {
        let kind = FileKind::named(f.summary.format)?;
        let has = |name: &str| f.summary.schema.iter().any(|c| c.name == name);
        Some(((f, kind), CUSTOMER_KEY.iter().all(|k| has(k))))
    });
    (diff::customer_tables(tables.collect()).into_iter())
        .map(|(f, _)| f)
        .collect()
}

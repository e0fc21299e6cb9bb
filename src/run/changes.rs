//! `run --diff-against PATH`: tonight's change set. Once every file of a run is complete, and
//! before anything is published, the run's customer files are compared with the export at PATH
//! (as `customer-export diff` would) and the change set is written beside the manifest, as
//! `changes.parquet` (or `changes.csv` when the run writes CSV, not Parquet) — published with the
//! other files and listed in the manifest: the nightly change feed a lake or a CRM sync reads.
//!
//! A first night has nothing to compare with: PATH not existing is a warning, and the run
//! publishes without a change set. A PATH that exists but cannot be compared fails the run.

use std::path::{Path, PathBuf};

use tracing::{info, warn};

use super::RunError;
use crate::diff;
use crate::load::{Finished, Root};

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
    let format = if files.iter().any(|f| f.summary.format == "parquet") {
        "parquet"
    } else {
        "csv"
    };
    let new_files: Vec<(PathBuf, &str)> = (files.iter())
        .filter(|f| f.summary.format == format)
        .map(|f| (f.temp_path().to_path_buf(), f.summary.format))
        .collect();
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

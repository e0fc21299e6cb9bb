//! The run manifest: what a run read and wrote, as pretty JSON beside the outputs.
//!
//! Schedulers and data-lake loaders read it to learn which files a run published, with their row
//! counts, sizes and checksums. It is written like every output (temporary file, fsync, rename),
//! so a reader finds the previous complete manifest or the new complete one. It holds no
//! secrets: sources are described by name and vendor, errors by their already-redacted messages.
//! Output paths in it are relative to its own folder.

use std::io::Write as _;
use std::path::Path;

use super::publish::{self, Finished, StageAt};
use super::{LoadError, OutputSummary};

/// One run's record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Manifest {
    pub pipeline: String,
    pub run_id: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// RFC 3339, UTC.
    pub finished_at: String,
    pub status: RunStatus,
    pub sources: Vec<SourceSummary>,
    pub outputs: Vec<OutputSummary>,
    pub errors: Vec<String>,
}

/// What one source yielded.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SourceSummary {
    pub name: String,
    pub vendor: String,
    pub pages: u64,
    pub records: u64,
    pub duplicates_dropped: u64,
    /// The total the API reported, when it reports one.
    pub api_total: Option<u64>,
    pub retries: u64,
    pub rate_limited: u64,
    /// Values that did not fit their declared column (kept in `_extra` with `fields: all`).
    pub type_mismatches: u64,
    /// Fields the vendor sent that its spec does not declare (schema drift).
    pub undeclared_fields: u64,
    /// Mapped columns that no record filled: all null in every file of this source.
    pub empty_columns: Vec<String>,
    pub seconds: f64,
    pub status: SourceStatus,
    pub error: Option<String>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum RunStatus {
    /// Every source succeeded; every output was published.
    #[serde(rename = "succeeded")]
    Succeeded,
    /// Some sources failed and were left out (`on_error: skip`); the rest was published.
    #[serde(rename = "partial")]
    Partial,
    /// Nothing was fetched or written (`--dry-run`).
    #[serde(rename = "dry-run")]
    DryRun,
}

/// How one source ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub enum SourceStatus {
    #[default]
    #[serde(rename = "succeeded")]
    Succeeded,
    /// The record count differed from the API's total, and the pipeline allows that.
    #[serde(rename = "succeeded with count mismatch")]
    SucceededWithCountMismatch,
    #[serde(rename = "failed")]
    Failed,
}

impl std::fmt::Display for SourceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SourceStatus::Succeeded => "succeeded",
            SourceStatus::SucceededWithCountMismatch => "succeeded with count mismatch",
            SourceStatus::Failed => "failed",
        })
    }
}

/// Writes `manifest` as pretty JSON at `path`, atomically, and returns the file's summary (format
/// `"json"`; `rows` is 0, a manifest holds no rows). Output paths are written relative to the
/// manifest's folder, so the manifest and its files can move together.
pub fn write_manifest(path: &Path, manifest: &Manifest) -> Result<OutputSummary, LoadError> {
    stage_tagged(path, manifest, None)?.publish()
}

/// The manifest complete at its temporary path, for a run to publish with its files.
pub(crate) fn stage(path: &Path, manifest: &Manifest, run_id: &str) -> Result<Finished, LoadError> {
    stage_tagged(path, manifest, Some(run_id))
}

fn stage_tagged(
    path: &Path,
    manifest: &Manifest,
    tag: Option<&str>,
) -> Result<Finished, LoadError> {
    let json = to_json(path, manifest)?;
    let (mut sink, staged) = publish::stage(path, StageAt::Beside(tag))?;
    sink.write_all(&json).map_err(|e| staged.write_error(e))?;
    staged.seal(sink, "json", 0, &[])
}

/// The manifest as it is written at `path`: pretty JSON, a final newline, output paths relative
/// to its folder.
pub(crate) fn to_json(path: &Path, manifest: &Manifest) -> Result<Vec<u8>, LoadError> {
    let mut written = manifest.clone();
    if let Some(dir) = path.parent() {
        for output in &mut written.outputs {
            if let Ok(relative) = output.path.strip_prefix(dir) {
                output.path = relative.to_path_buf();
            }
        }
    }
    let mut json = serde_json::to_vec_pretty(&written).map_err(|source| LoadError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    json.push(b'\n');
    Ok(json)
}

//! Where a run's files go: the one planner of output paths. The writers, the stale-file cleanup,
//! the dry run and `validate` (which refuses two outputs at one path, or one at the manifest's)
//! all ask it, so they cannot disagree.

use std::path::{Path, PathBuf};

use super::template::PathValues;
use super::{OutputPlan, Plan, SourcePlan};
use crate::load::Format;
use crate::model::VendorRecord;
use crate::transform::{Fields, Promoted, Transformer, Transforms, Undeclared};

/// Plans the paths of one run.
pub struct Planner<'a> {
    pub plan: &'a Plan,
    /// The root relative paths resolve against.
    pub root: &'a Path,
    pub run_id: &'a str,
    pub run_date: &'a str,
}

/// One file a source writes: which output, which of its tables, where.
pub struct PlannedFile<'p> {
    pub output: &'p OutputPlan,
    /// The output's position in the pipeline's `outputs:`.
    pub index: usize,
    /// The index of the table in the source's tables, numbered across its transforms.
    pub table: usize,
    pub path: PathBuf,
    /// NDJSON in nested form: the vendor record as it came (so table 0 only).
    pub nested: bool,
}

impl<'a> Planner<'a> {
    /// Every file `source` writes, given its transforms: each output once per table of its
    /// transform, except nested NDJSON, whose records hold their arrays already.
    pub fn files(&self, source: &SourcePlan, transforms: &Transforms) -> Vec<PlannedFile<'a>> {
        let mut files = Vec::new();
        for (index, output) in self.plan.outputs.iter().enumerate() {
            let nested = matches!(&output.format, Format::Ndjson(o) if o.nested);
            let first = transforms.first_table(output.transform);
            for (t, table) in transforms.tables(output.transform) {
                if nested && t > first {
                    continue;
                }
                let path = self.path(output, source, &table.name);
                files.push(PlannedFile {
                    output,
                    index,
                    table: t,
                    path,
                    nested,
                });
            }
        }
        files
    }

    fn path(&self, output: &OutputPlan, source: &SourcePlan, table: &str) -> PathBuf {
        let values = PathValues {
            pipeline: &self.plan.name,
            vendor: source.vendor.id(),
            table,
            run_date: self.run_date,
            run_id: self.run_id,
            format: output.format.name(),
        };
        output.path.render(self.root, &values)
    }
}

/// `manifest.json` in the deepest folder that holds every file, under `root`.
pub fn manifest_path<'p>(files: impl IntoIterator<Item = &'p Path>, root: &Path) -> PathBuf {
    let mut common: Option<PathBuf> = None;
    for file in files {
        let Some(dir) = file.parent() else {
            continue;
        };
        common = Some(match common {
            None => dir.to_path_buf(),
            Some(c) => c
                .components()
                .zip(dir.components())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect(),
        });
    }
    let dir = common
        .filter(|c| c.starts_with(root))
        .unwrap_or_else(|| root.to_path_buf());
    dir.join("manifest.json")
}

impl Plan {
    /// Each source's transforms, each transformer knowing every source's vendor (a mapping's
    /// column types are the same for all).
    pub fn transformers(&self) -> Vec<Transforms> {
        (0..self.sources.len())
            .map(|i| self.transforms_of(i, &[]))
            .collect()
    }

    /// The transforms of source `i`, with undeclared paths promoted to columns where a transform
    /// asks for that (`undeclared: columns`).
    pub fn transforms_of(&self, i: usize, promoted: &[Promoted]) -> Transforms {
        let vendors: Vec<VendorRecord> = self.sources.iter().map(|s| s.vendor.record()).collect();
        let vendor = self.sources[i].vendor.record();
        let transformers = self.transforms.iter().map(|t| {
            let promoted = if promotes(t) { promoted } else { &[] };
            Transformer::with_promoted(vendor, t, &vendors, promoted)
        });
        Transforms::new(transformers.collect())
    }

    /// Whether a transform needs a source's first page before its columns are known.
    pub fn promotes_undeclared(&self) -> bool {
        self.transforms.iter().any(promotes)
    }
}

/// `fields: all` with `undeclared: columns`: the first page's undeclared paths become columns.
fn promotes(t: &crate::transform::Options) -> bool {
    t.fields == Fields::All && t.undeclared == Undeclared::Columns
}

//! Where a run's rows go: the one planner of output paths ([`Planner`]: every file of every table
//! of every source, for the writers, the stale-file cleanup and the dry run alike), and the open
//! files of a run ([`Files`]) with each source's routes into them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use tracing::{info, warn};

use super::RunError;
use crate::load::{self, Format, Writer};
use crate::model::Schema;
use crate::pipeline::{OutputPlan, PathValues, Plan, SourcePlan};
use crate::transform::Table;

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
    /// The index of the table in the source's tables.
    pub table: usize,
    pub path: PathBuf,
    /// NDJSON in nested form: the vendor record as it came (so table 0 only).
    pub nested: bool,
}

impl<'a> Planner<'a> {
    /// Every file `source` writes, given its tables: each output once per table, except nested
    /// NDJSON, whose records hold their arrays already.
    pub fn files(&self, source: &SourcePlan, tables: &[Table]) -> Vec<PlannedFile<'a>> {
        let mut files = Vec::new();
        for output in &self.plan.outputs {
            let nested = matches!(&output.format, Format::Ndjson(o) if o.nested);
            for (t, table) in tables.iter().enumerate() {
                if nested && t > 0 {
                    continue;
                }
                let path = self.path(output, source, &table.name);
                files.push(PlannedFile {
                    output,
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

    /// Removes what a killed run left in this run's output folders, before any file is opened
    /// (the cleanup cannot tell a dead run's temporary file from a live one's).
    pub fn remove_stale_temp_files<'t>(
        &self,
        sources: impl Iterator<Item = (&'t SourcePlan, &'t [Table])>,
    ) {
        let mut dirs = BTreeSet::new();
        for (source, tables) in sources {
            for file in self.files(source, tables) {
                if let Some(dir) = file.path.parent() {
                    dirs.insert(dir.to_path_buf());
                }
            }
        }
        for dir in dirs {
            match load::remove_stale_temp_files(&dir) {
                Ok(0) => {}
                Ok(removed) => {
                    info!(dir = %dir.display(), removed, "Removed temporary files left by an earlier run.")
                }
                Err(e) => warn!(dir = %dir.display(), "Could not clean temporary files: {e}"),
            }
        }
    }
}

/// Which writers each table of a source goes to.
pub struct Routes {
    pub tables: Vec<Vec<usize>>,
    /// NDJSON outputs in nested mode: the vendor record as it came.
    pub nested: Vec<usize>,
}

/// Every open output file of a run, by final path.
#[derive(Default)]
pub struct Files {
    pub writers: Vec<Writer>,
    by_path: HashMap<PathBuf, usize>,
    schemas: Vec<Schema>,
    /// The sources writing to each file.
    users: Vec<Vec<String>>,
}

impl Files {
    /// Opens (or reuses, for files shared across vendors) the files a source writes.
    pub fn route(
        &mut self,
        planner: &Planner<'_>,
        source: &SourcePlan,
        tables: &[Table],
    ) -> Result<Routes, RunError> {
        let mut routes = Routes {
            tables: vec![Vec::new(); tables.len()],
            nested: Vec::new(),
        };
        for file in planner.files(source, tables) {
            let schema = &tables[file.table].schema;
            let index = self.open(&file.path, &file.output.format, schema, file.nested)?;
            if !self.users[index].contains(&source.name) {
                self.users[index].push(source.name.clone());
            }
            if file.nested {
                routes.nested.push(index);
            } else {
                routes.tables[file.table].push(index);
            }
        }
        Ok(routes)
    }

    fn open(
        &mut self,
        path: &Path,
        format: &Format,
        schema: &Schema,
        nested: bool,
    ) -> Result<usize, RunError> {
        if let Some(&index) = self.by_path.get(path) {
            if !nested && self.schemas[index] != *schema {
                return Err(RunError::Setup(format!(
                    "{} would hold sources with different columns; add {{vendor}} (or {{table}}) to its path, or use `fields: canonical` or a mapping",
                    path.display()
                )));
            }
            return Ok(index);
        }
        let writer = Writer::create(path, format, schema.clone())?;
        self.writers.push(writer);
        self.schemas.push(schema.clone());
        self.users.push(Vec::new());
        let index = self.writers.len() - 1;
        self.by_path.insert(path.to_path_buf(), index);
        Ok(index)
    }

    /// Whether a source wrote to any file that another source also writes.
    pub fn shared_with_others(&self, source: &str) -> bool {
        self.users
            .iter()
            .any(|users| users.iter().any(|u| u == source) && users.len() > 1)
    }

    /// Drops the files only `source` wrote (their temporary files go with them).
    pub fn discard_source(&mut self, source: &str) {
        let mut index = 0;
        while index < self.writers.len() {
            if self.users[index] == [source] {
                self.writers.remove(index);
                self.schemas.remove(index);
                self.users.remove(index);
            } else {
                index += 1;
            }
        }
        self.by_path = self
            .writers
            .iter()
            .enumerate()
            .map(|(i, w)| (w.final_path().to_path_buf(), i))
            .collect();
    }
}

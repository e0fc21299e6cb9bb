//! Where a run's rows go: the open files of a run ([`Files`]) with each source's routes into
//! them, opened where the pipeline's one path [`Planner`] says.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::RunError;
use crate::load::{Format, Root, Writer};
use crate::model::Schema;
use crate::pipeline::SourcePlan;
use crate::pipeline::paths::Planner;
use crate::transform::Transforms;

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
        root: &Root,
        source: &SourcePlan,
        transforms: &Transforms,
    ) -> Result<Routes, RunError> {
        let mut routes = Routes {
            tables: vec![Vec::new(); transforms.table_count()],
            nested: Vec::new(),
        };
        for file in planner.files(source, transforms) {
            let table = transforms.table(file.table);
            let format = file.output.format.for_table(&table.name);
            let index = self.open(root, &file.path, &format, &table.schema, file.nested)?;
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
        root: &Root,
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
        let writer = root.create(path, format, schema.clone())?;
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

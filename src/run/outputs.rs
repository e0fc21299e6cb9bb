//! Where a run's rows go: the open files of a run ([`Files`]) with each source's routes into
//! them, opened where the pipeline's one path [`Planner`] says — every file opened before any
//! source runs. While the sources run at once ([`Running`]), a file only one source writes is
//! that source's own; a file several write is shared, in pipeline order ([`SharedFile`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::RunError;
use super::shared::{SharedFile, SharedSink};
use crate::load::{Format, LoadError, Root, Writer};
use crate::model::{RowForWriters, Schema};
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
}

/// Where one source's rows go: a file only it writes, or its way into a file shared with other
/// sources (kept in pipeline order, [`SharedFile`]).
pub enum Sink {
    /// The file at this index of the run's files.
    Own(usize, Box<Writer>),
    Shared(SharedSink),
}

impl Sink {
    /// Writes one packed row ([`Writer::write_packed`]); a shared file takes its cells.
    pub fn write_packed(&mut self, row: &mut RowForWriters<'_, '_>) -> Result<(), LoadError> {
        match self {
            Sink::Own(_, writer) => writer.write_packed(row),
            Sink::Shared(sink) => sink.write_row(row.cells()),
        }
    }

    pub fn write_json(&mut self, value: &serde_json::Value) -> Result<(), LoadError> {
        match self {
            Sink::Own(_, writer) => writer.write_json(value),
            Sink::Shared(sink) => sink.write_json(value),
        }
    }
}

/// A run's files while its sources run: each file of one source is with that source; each
/// shared file is here and with each of its sources.
pub struct Running {
    files: Vec<RunningFile>,
}

enum RunningFile {
    /// With its source, or back from it; `None` once a skipped source's file is dropped.
    Own(Option<Box<Writer>>),
    Shared(Arc<SharedFile>),
}

impl Files {
    /// Hands each source — `sources` in pipeline order, each with its routes into this run's files
    /// — its sinks, its routes now indexing them.
    pub fn start(
        mut self,
        sources: &[SourcePlan],
        routes: Vec<Routes>,
    ) -> (Running, Vec<SourceFiles>) {
        // Written at the same time, the Parquet files share one budget for their batches and
        // row groups.
        let parquet = (self.writers.iter())
            .filter(|w| matches!(w, Writer::Parquet(_)))
            .count();
        self.writers
            .iter_mut()
            .for_each(|w| w.share_memory(parquet));
        let mut files: Vec<RunningFile> = (self.writers.into_iter().zip(&self.users))
            .map(|(writer, users)| match users.len() {
                0 | 1 => RunningFile::Own(Some(Box::new(writer))),
                n => RunningFile::Shared(SharedFile::new(writer, n)),
            })
            .collect();
        let mut handed = Vec::new();
        for (source, routes) in sources.iter().zip(routes) {
            let mut sinks = Vec::new();
            // The source's sink of each run file it writes, by the file's index.
            let mut local: HashMap<usize, usize> = HashMap::new();
            let mut sink_of = |file: usize| -> Option<usize> {
                if let Some(&at) = local.get(&file) {
                    return Some(at);
                }
                let sink = match &mut files[file] {
                    RunningFile::Own(writer) => Sink::Own(file, writer.take()?),
                    RunningFile::Shared(shared) => {
                        let position = self.users[file].iter().position(|u| *u == source.name)?;
                        Sink::Shared(SharedSink::new(shared.clone(), position))
                    }
                };
                sinks.push(sink);
                local.insert(file, sinks.len() - 1);
                Some(sinks.len() - 1)
            };
            let mut into = |files: &[usize]| files.iter().filter_map(|&f| sink_of(f)).collect();
            let routes = Routes {
                tables: routes.tables.iter().map(|t| into(t)).collect(),
                nested: into(&routes.nested),
            };
            let shares =
                (self.users.iter()).any(|users| users.len() > 1 && users.contains(&source.name));
            handed.push(SourceFiles {
                sinks,
                routes,
                shares,
            });
        }
        (Running { files }, handed)
    }
}

/// A source's part of a run's files.
pub struct SourceFiles {
    pub sinks: Vec<Sink>,
    /// Which of `sinks` each of the source's tables goes to.
    pub routes: Routes,
    /// Whether it writes a file another source writes too (a failure of it cannot be skipped).
    pub shares: bool,
}

/// A file only one source writes, back from it: its index among the run's files, its writer.
pub type OwnFile = (usize, Box<Writer>);

/// Ends a succeeded source's turn in each file it shares (the later sources' spills waiting for
/// it are copied in: blocking work, for a blocking thread); returns its own files.
pub fn end_turns(sinks: Vec<Sink>) -> Result<Vec<OwnFile>, LoadError> {
    let mut own = Vec::new();
    for sink in sinks {
        match sink {
            Sink::Shared(sink) => sink.finish()?,
            Sink::Own(file, writer) => own.push((file, writer)),
        }
    }
    Ok(own)
}

impl Running {
    /// Takes back a succeeded source's own files.
    pub fn finished(&mut self, own: Vec<OwnFile>) {
        for (file, writer) in own {
            self.files[file] = RunningFile::Own(Some(writer));
        }
    }

    /// The files to publish, in the order they were opened: a skipped source's are not among
    /// them (dropped, their temporary files deleted).
    pub fn into_writers(self) -> Result<Vec<Writer>, RunError> {
        let mut writers = Vec::new();
        for file in self.files {
            match file {
                RunningFile::Own(writer) => writers.extend(writer.map(|w| *w)),
                RunningFile::Shared(file) => writers.push(file.into_writer().ok_or_else(|| {
                    RunError::Setup(
                        "a file shared by sources was not finished by all of them".into(),
                    )
                })?),
            }
        }
        Ok(writers)
    }
}

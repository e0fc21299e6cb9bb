//! `customer-export run`: extract → transform → load for each pipeline, then publish.
//!
//! Sources run one after the other (each with its own page concurrency), so that a file shared by
//! several vendors holds them in pipeline order and two runs write identical files. Each source's
//! records flow through a bounded channel from the async extraction into a blocking writer thread
//! that transforms and writes them. Nothing becomes visible until every source has succeeded and
//! every file is complete: then all files are renamed into place and the manifest is written last.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget};
use serde::de::{Deserialize, Deserializer, Error as _};
use serde_json::Value;
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use crate::cli::{LogFormat, RunArgs};
use crate::extract::{self, ExtractError, Extracted, RecordReader, Session, SourceProgress};
use crate::load::{self, Finished, LoadError, Manifest, OutputSummary, SourceSummary, Writer};
use crate::pipeline::{self, EnvMode, OnError, OutputFormat, PathValues, Plan, SourcePlan};
use crate::transform::row::{PackedRows, Schema};
use crate::transform::{ParsedRecord, RecordReport, Transformer};

/// Records in flight between a source's extraction and its writer thread, in pages. Two saved
/// 2 MB but stalled the readers while the writer encoded a row group (100k export 1.5 → 1.9 s).
const CHANNEL_PAGES: usize = 4;

/// How a run is carried out, beyond the plan.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Root for relative output paths.
    pub output_root: PathBuf,
    pub dry_run: bool,
    /// Progress bars, when stderr is a terminal.
    pub bars: Option<MultiProgress>,
}

/// What a finished run wrote and fetched.
#[derive(Debug)]
pub struct RunReport {
    pub manifest: Manifest,
    pub manifest_path: Option<PathBuf>,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{0}")]
    Setup(String),
    #[error("{} source(s) failed: {}", .0.len(), .0.join("; "))]
    Sources(Vec<String>),
}

pub fn main(args: RunArgs) -> ExitCode {
    let bars = init_logging(&args);
    let mut plans = Vec::new();
    for path in &args.pipelines {
        match pipeline::load(path, args.sandbox, EnvMode::Strict) {
            Ok(loaded) => plans.push(loaded.plan),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    let output_root = match &args.output_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    };
    let options = RunOptions {
        output_root,
        dry_run: args.dry_run,
        bars,
    };
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let mut failed = false;
    for plan in plans {
        let name = plan.name.clone();
        match runtime.block_on(run_pipeline(plan, &options)) {
            Ok(report) => {
                if args.log_format == LogFormat::Json {
                    // Schedulers get the summary as structured events, not a table.
                    for s in &report.manifest.sources {
                        info!(source = %s.name, vendor = %s.vendor, pages = s.pages, records = s.records, api_total = ?s.api_total, duplicates = s.duplicates_dropped, retries = s.retries, rate_limited = s.rate_limited, seconds = s.seconds, status = %s.status, "Source summary.");
                    }
                    for o in &report.manifest.outputs {
                        info!(path = %o.path.display(), rows = o.rows, bytes = o.bytes, sha256 = %o.sha256, "Output published.");
                    }
                } else if !args.quiet && !args.dry_run {
                    eprint!("{}", summary_table(&report.manifest));
                    if let Some(path) = &report.manifest_path {
                        eprintln!("manifest: {}", path.display());
                    }
                }
            }
            Err(e) => {
                failed = true;
                error!(pipeline = %name, "Run failed: {e}");
                eprintln!("error: pipeline {name:?} failed: {e}");
                eprintln!("Earlier outputs were left as they were.");
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The async runtime for a command; a failure to start it is reported and exits 1.
pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(1)
        })
}

/// Runs one pipeline to the end: every source, every output, the manifest.
pub async fn run_pipeline(mut plan: Plan, options: &RunOptions) -> Result<RunReport, RunError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let started = jiff::Timestamp::now();
    let run_id = uuid::Uuid::now_v7().to_string();
    let run_date = started.strftime("%Y-%m-%d").to_string();

    if options.dry_run {
        print_dry_run(&plan, options, &run_date);
        return Ok(RunReport {
            manifest: manifest(
                &plan,
                &run_id,
                started,
                "dry-run",
                Vec::new(),
                Vec::new(),
                Vec::new(),
            ),
            manifest_path: None,
        });
    }

    let sandbox = if plan.sandbox {
        Some(
            crate::sandbox::embedded::start_for(&mut plan)
                .await
                .map_err(|e| RunError::Setup(format!("cannot start the embedded sandbox: {e}")))?,
        )
    } else {
        None
    };
    let result = run_sources(&plan, options, &run_id, &run_date, started).await;
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    result
}

async fn run_sources(
    plan: &Plan,
    options: &RunOptions,
    run_id: &str,
    run_date: &str,
    started: jiff::Timestamp,
) -> Result<RunReport, RunError> {
    let client = http_client()?;
    let vendors: Vec<_> = plan.sources.iter().map(|s| s.vendor).collect();
    let mut files = Files::default();
    let mut summaries = Vec::new();
    let mut failures = Vec::new();

    let transformers: Vec<Arc<Transformer>> = plan
        .sources
        .iter()
        .map(|s| Arc::new(Transformer::new(s.vendor, &plan.transform, &vendors)))
        .collect();
    remove_stale_temp_files(plan, &transformers, options, run_id, run_date);

    for (source, transformer) in plan.sources.iter().zip(transformers) {
        let routes = files.route(plan, source, &transformer, options, run_id, run_date)?;
        let progress = SourceProgress::new(
            &source.name,
            options
                .bars
                .as_ref()
                .map(|m| m.add(ProgressBar::new_spinner())),
        );
        let outcome = run_source(
            source,
            &client,
            transformer,
            routes,
            &mut files,
            progress.clone(),
        )
        .await;
        progress.finish(outcome.is_ok());
        let counts = progress.counts();
        let (status, error_text) = match &outcome {
            Ok(_) => ("succeeded".to_string(), None),
            Err(e) => ("failed".to_string(), Some(e.to_string())),
        };
        let mut summary = SourceSummary {
            name: source.name.clone(),
            vendor: source.vendor.id.to_string(),
            pages: counts.pages,
            records: counts.records,
            duplicates_dropped: counts.duplicates,
            api_total: counts.api_total,
            retries: counts.retries,
            rate_limited: counts.rate_limited,
            seconds: (counts.seconds * 1000.0).round() / 1000.0,
            status,
            error: error_text,
            ..Default::default()
        };
        match outcome {
            Ok(done) => {
                if done.extracted.count_mismatch {
                    warn!(source = %source.name, records = counts.records, api_total = ?counts.api_total, "Record count differs from the API's total; published as allowed.");
                    summary.status = "succeeded with count mismatch".into();
                }
                summary.type_mismatches = u64::from(done.report.type_mismatches);
                summary.undeclared_fields = u64::from(done.report.undeclared_fields);
                if done.report.type_mismatches > 0 || done.report.undeclared_fields > 0 {
                    warn!(source = %source.name, type_mismatches = done.report.type_mismatches, undeclared_fields = done.report.undeclared_fields, "Records differ from the declared schema; kept in _extra where the fields are `all`.");
                }
                info!(source = %source.name, records = counts.records, pages = counts.pages, "Source finished.");
            }
            Err(e) => {
                error!(source = %source.name, "Source failed: {e}");
                failures.push(e.to_string());
                let skippable =
                    plan.on_error == OnError::Skip && !files.shared_with_others(&source.name);
                if skippable {
                    files.discard_source(&source.name);
                } else {
                    summaries.push(summary);
                    // Dropping the writers deletes their temporary files: nothing is published.
                    drop(files);
                    return Err(RunError::Sources(failures));
                }
            }
        }
        summaries.push(summary);
    }

    // Every source is through: complete every file, then make them visible together.
    let finished: Vec<Finished> = files
        .writers
        .into_iter()
        .map(Writer::finish)
        .collect::<Result<_, _>>()?;
    let outputs: Vec<OutputSummary> = finished
        .into_iter()
        .map(Finished::publish)
        .collect::<Result<_, _>>()?;
    let status = if failures.is_empty() {
        "succeeded"
    } else {
        "partial"
    };
    let manifest = manifest(
        plan,
        run_id,
        started,
        status,
        summaries,
        outputs,
        failures.clone(),
    );
    let manifest_path = manifest_path(&manifest.outputs, &options.output_root);
    if let Some(path) = &manifest_path {
        load::write_manifest(path, &manifest)?;
    }
    if failures.is_empty() {
        Ok(RunReport {
            manifest,
            manifest_path,
        })
    } else {
        Err(RunError::Sources(failures))
    }
}

struct SourceDone {
    extracted: Extracted,
    report: RecordReport,
}

/// Extracts one source on the async runtime — its workers read and transform each page — while
/// a blocking thread writes the rows.
async fn run_source(
    source: &SourcePlan,
    client: &reqwest::Client,
    transformer: Arc<Transformer>,
    routes: Routes,
    files: &mut Files,
    progress: SourceProgress,
) -> Result<SourceDone, RunError> {
    let connector = (source.vendor.connect)(source).map_err(|detail| ExtractError::Setup {
        source_name: source.name.clone(),
        detail,
    })?;
    let session = Arc::new(Session::new(
        source,
        client.clone(),
        connector,
        progress.clone(),
    ));
    let reader = Arc::new(RowReader {
        transformer,
        nested: !routes.nested.is_empty(),
    });
    let (tx, rx) = mpsc::channel::<Vec<ReadRecord>>(CHANNEL_PAGES);
    let mut writers = std::mem::take(&mut files.writers);
    let ticker = (!progress.has_bar()).then(|| spawn_ticker(progress.clone()));

    let writing = tokio::task::spawn_blocking(move || {
        let result = write_records(rx, &routes, &mut writers);
        (writers, result)
    });
    let extracted = extract::extract(source, session, reader, tx).await;
    let (writers, written) = writing
        .await
        .map_err(|e| RunError::Setup(format!("the writer thread stopped: {e}")))?;
    files.writers = writers;
    if let Some(t) = ticker {
        t.abort();
    }
    // A write error explains a cancelled extraction better than "cancelled" does.
    let report = written?;
    Ok(SourceDone {
        extracted: extracted?,
        report,
    })
}

/// The run's record reader: the transform, run as each page is parsed (on the extraction side),
/// so a record is read once, straight from the page's text, and the writer thread only writes.
struct RowReader {
    transformer: Arc<Transformer>,
    /// NDJSON in nested form also wants the record as it came.
    nested: bool,
}

/// One record, transformed.
struct ReadRecord {
    key: Option<u64>,
    rows: PackedRows,
    report: RecordReport,
    nested: Option<Value>,
}

impl RecordReader for RowReader {
    type Record = ReadRecord;

    fn read<'de, D: Deserializer<'de>>(&self, input: D) -> Result<ReadRecord, D::Error> {
        if !self.nested {
            return Ok(self.pack(&self.transformer.read(input)?));
        }
        let value = Value::deserialize(input)?;
        let record = self.transformer.read(&value).map_err(D::Error::custom)?;
        let packed = self.pack(&record);
        Ok(ReadRecord {
            nested: Some(value),
            ..packed
        })
    }

    fn key_hash(&self, record: &ReadRecord) -> Option<u64> {
        record.key
    }
}

impl RowReader {
    /// The record's rows, packed for the writer thread.
    fn pack(&self, record: &ParsedRecord<'_>) -> ReadRecord {
        let mut rows = Vec::new();
        let report = self.transformer.emit(record, &mut rows);
        let mut packed = PackedRows::default();
        for (table, row) in &rows {
            packed.push(*table, row);
        }
        ReadRecord {
            key: record.key_hash(),
            rows: packed,
            report,
            nested: None,
        }
    }
}

/// The writer thread: rows → files, until the extraction closes the channel.
fn write_records(
    mut rx: mpsc::Receiver<Vec<ReadRecord>>,
    routes: &Routes,
    writers: &mut [Writer],
) -> Result<RecordReport, LoadError> {
    let mut total = RecordReport::default();
    while let Some(batch) = rx.blocking_recv() {
        for record in batch {
            total += record.report;
            record.rows.try_for_each(|table, row| {
                for &w in &routes.tables[table] {
                    writers[w].write_row(row)?;
                }
                Ok::<(), LoadError>(())
            })?;
            if let Some(value) = &record.nested {
                for &w in &routes.nested {
                    writers[w].write_json(value)?;
                }
            }
        }
    }
    Ok(total)
}

/// Which writers each table of a source goes to.
struct Routes {
    tables: Vec<Vec<usize>>,
    /// NDJSON outputs in nested mode: the vendor record as it came.
    nested: Vec<usize>,
}

/// Every open output file of a run, by final path.
#[derive(Default)]
struct Files {
    writers: Vec<Writer>,
    by_path: HashMap<PathBuf, usize>,
    schemas: Vec<Schema>,
    /// The sources writing to each file.
    users: Vec<Vec<String>>,
}

impl Files {
    /// Opens (or reuses, for files shared across vendors) the files a source writes.
    fn route(
        &mut self,
        plan: &Plan,
        source: &SourcePlan,
        transformer: &Transformer,
        options: &RunOptions,
        run_id: &str,
        run_date: &str,
    ) -> Result<Routes, RunError> {
        let tables = transformer.tables();
        let mut routes = Routes {
            tables: vec![Vec::new(); tables.len()],
            nested: Vec::new(),
        };
        for output in &plan.outputs {
            let format = load_format(&output.format);
            let nested = matches!(output.format, OutputFormat::Ndjson { nested: true });
            for (t, table) in tables.iter().enumerate() {
                if nested && t > 0 {
                    continue; // the nested record holds its arrays already
                }
                let stamp = RunStamp { run_id, run_date };
                let path = output_path(plan, output, source, &table.name, options, &stamp);
                let index = self.open(&path, &format, &table.schema, nested)?;
                if !self.users[index].contains(&source.name) {
                    self.users[index].push(source.name.clone());
                }
                if nested {
                    routes.nested.push(index);
                } else {
                    routes.tables[t].push(index);
                }
            }
        }
        Ok(routes)
    }

    fn open(
        &mut self,
        path: &Path,
        format: &load::Format,
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
    fn shared_with_others(&self, source: &str) -> bool {
        self.users
            .iter()
            .any(|users| users.iter().any(|u| u == source) && users.len() > 1)
    }

    /// Drops the files only `source` wrote (their temporary files go with them).
    fn discard_source(&mut self, source: &str) {
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

/// What identifies this run in output paths.
struct RunStamp<'a> {
    run_id: &'a str,
    run_date: &'a str,
}

/// Where `output` puts `table` of `source` in this run.
fn output_path(
    plan: &Plan,
    output: &pipeline::OutputPlan,
    source: &SourcePlan,
    table: &str,
    options: &RunOptions,
    stamp: &RunStamp,
) -> PathBuf {
    let values = PathValues {
        pipeline: &plan.name,
        vendor: source.vendor.id,
        table,
        run_date: stamp.run_date,
        run_id: stamp.run_id,
        format: output.format.name(),
    };
    output.path.render(&options.output_root, &values)
}

/// Removes what a killed run left in this run's output folders, before any file is opened (the
/// cleanup cannot tell a dead run's temporary file from a live one's).
fn remove_stale_temp_files(
    plan: &Plan,
    transformers: &[Arc<Transformer>],
    options: &RunOptions,
    run_id: &str,
    run_date: &str,
) {
    let mut dirs = std::collections::BTreeSet::new();
    for (source, transformer) in plan.sources.iter().zip(transformers) {
        for output in &plan.outputs {
            for table in transformer.tables() {
                let stamp = RunStamp { run_id, run_date };
                let path = output_path(plan, output, source, &table.name, options, &stamp);
                if let Some(dir) = path.parent() {
                    dirs.insert(dir.to_path_buf());
                }
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

fn load_format(format: &OutputFormat) -> load::Format {
    match *format {
        OutputFormat::Csv {
            spreadsheet_safe,
            bom,
            delimiter,
        } => load::Format::Csv(load::CsvOptions {
            spreadsheet_safe,
            bom,
            delimiter,
        }),
        OutputFormat::Ndjson { .. } => load::Format::Ndjson(load::NdjsonOptions::default()),
        OutputFormat::Parquet {
            row_group_rows,
            zstd_level,
        } => load::Format::Parquet(load::ParquetOptions {
            row_group_rows,
            zstd_level,
            ..Default::default()
        }),
    }
}

fn http_client() -> Result<reqwest::Client, RunError> {
    reqwest::Client::builder()
        // Redirects are refused, not followed: a login redirect carries the session cookie, and
        // following others could send credentials elsewhere or loop.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("customer-export/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(15))
        .pool_max_idle_per_host(32)
        .build()
        .map_err(|e| RunError::Setup(format!("cannot build the HTTP client: {e}")))
}

fn manifest(
    plan: &Plan,
    run_id: &str,
    started: jiff::Timestamp,
    status: &str,
    sources: Vec<SourceSummary>,
    outputs: Vec<OutputSummary>,
    errors: Vec<String>,
) -> Manifest {
    Manifest {
        pipeline: plan.name.clone(),
        run_id: run_id.to_string(),
        started_at: started.to_string(),
        finished_at: jiff::Timestamp::now().to_string(),
        status: status.to_string(),
        sources,
        outputs,
        errors,
    }
}

/// `manifest.json` in the deepest folder that holds every output, under the output root.
fn manifest_path(outputs: &[OutputSummary], root: &Path) -> Option<PathBuf> {
    let mut common: Option<PathBuf> = None;
    for output in outputs {
        let dir = output.path.parent()?.to_path_buf();
        common = Some(match common {
            None => dir,
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
    Some(dir.join("manifest.json"))
}

fn summary_table(m: &Manifest) -> String {
    let mut out = format!(
        "\n{:<14} {:>7} {:>9} {:>9} {:>6} {:>8} {:>5} {:>8}  {}\n",
        "source", "pages", "records", "total", "dups", "retries", "429s", "seconds", "status"
    );
    for s in &m.sources {
        out.push_str(&format!(
            "{:<14} {:>7} {:>9} {:>9} {:>6} {:>8} {:>5} {:>8.2}  {}\n",
            s.name,
            s.pages,
            s.records,
            s.api_total.map_or("-".into(), |t| t.to_string()),
            s.duplicates_dropped,
            s.retries,
            s.rate_limited,
            s.seconds,
            s.status
        ));
    }
    out.push('\n');
    for o in &m.outputs {
        out.push_str(&format!(
            "wrote {} ({} rows, {} bytes)\n",
            o.path.display(),
            o.rows,
            o.bytes
        ));
    }
    out
}

fn print_dry_run(plan: &Plan, options: &RunOptions, run_date: &str) {
    println!(
        "pipeline {:?} ({}) — dry run, nothing is fetched or written",
        plan.name,
        plan.file.display()
    );
    if plan.sandbox {
        println!("  sources would run against the embedded sandbox");
    }
    for s in &plan.sources {
        let base = match (&s.base_url, plan.sandbox) {
            (Some(url), false) => crate::extract::session::redacted(url),
            _ => "(the embedded sandbox)".to_string(),
        };
        let paging = match s.page_size {
            0 => "one response".to_string(),
            n => format!("page_size {n}"),
        };
        let rate = s
            .rate_limit
            .map_or("unlimited".to_string(), |r| r.to_string());
        println!(
            "  source {} ({}): {base}, {paging}, rate {rate}, concurrency {}",
            s.name, s.vendor.id, s.concurrency
        );
        if !s.filters.is_empty() {
            let filters: Vec<String> = s.filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!("    filters: {}", filters.join(", "));
        }
        for o in &plan.outputs {
            let values = PathValues {
                pipeline: &plan.name,
                vendor: s.vendor.id,
                table: "customers",
                run_date,
                run_id: "RUN_ID",
                format: o.format.name(),
            };
            println!(
                "    → {} {}",
                o.format.name(),
                o.path.render(&options.output_root, &values).display()
            );
        }
    }
}

/// Plain progress lines every ten seconds when there is no terminal to draw bars on.
fn spawn_ticker(progress: SourceProgress) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(10));
        every.tick().await;
        loop {
            every.tick().await;
            info!("{}", progress.log_line());
        }
    })
}

/// Logs to stderr (text or JSON); returns the progress bars' owner when stderr is a terminal.
fn init_logging(args: &RunArgs) -> Option<MultiProgress> {
    let level = match (args.quiet, args.verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("CUSTOMER_EXPORT_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(format!("customer_export={level},warn"))
        });
    let bars =
        (std::io::stderr().is_terminal() && !args.quiet && args.log_format == LogFormat::Text)
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let writer = BarSafeStderr(bars.clone());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(writer);
    let _ = match args.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_ansi(bars.is_some()).try_init(),
    };
    bars
}

/// Writes log lines above the progress bars instead of through them.
#[derive(Clone)]
struct BarSafeStderr(Option<MultiProgress>);

impl std::io::Write for BarSafeStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &self.0 {
            Some(bars) => bars.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BarSafeStderr {
    type Writer = BarSafeStderr;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

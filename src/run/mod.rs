//! `customer-export run`: extract → transform → load for each pipeline, then publish.
//!
//! Every file is opened first; then the sources run at once (`sources_at_once:` of them, each with
//! its own session: rate limit, retries, token), and a file several share keeps them in pipeline
//! order (`shared`), so two runs write identical files. Each source's records flow through a
//! bounded channel from the async extraction into a blocking writer thread of its own
//! (`source`). A source failing under `on_error: fail` stops the others. Nothing becomes visible until every source has succeeded and
//! every file is complete: then all files are renamed into place and the manifest is written last.
//!
//! The module is split by job: this file orchestrates; `outputs` plans paths and holds the open
//! files; `shared` keeps a shared file in pipeline order; `inspect` reads a source's first pages and shows what they hold; `report` makes the summary, the manifest and the dry run's account; `logging` sets up
//! what goes to stderr; `sandboxed` points a plan at the embedded sandbox.

mod changes;
pub mod inspect;
pub mod logging;
mod outputs;
pub mod report;
pub mod sandboxed;
mod shared;
mod source;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use indicatif::MultiProgress;
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::console;
use crate::extract::{ExtractError, SourceBars, SourceProgress};
use crate::load::{
    Finished, LoadError, Location, Manifest, OutputSummary, PublishError, Root, RootOptions,
    RunStatus, SourceStatus, SourceSummary, Writer,
};
use crate::model::secret::redact;
use crate::pipeline::paths::{Planner, manifest_path};
use crate::pipeline::{self, EnvMode, OnError, Plan, SourcePlan};
use crate::transform::Transforms;
use logging::{LogFormat, Verbosity};
use outputs::{Files, Running, SourceFiles};
use source::{SourceDone, run_source};

/// `customer-export run`'s arguments.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Pipeline files (YAML), run one after the other.
    #[arg(required = true, value_name = "PIPELINE.yaml")]
    pub pipelines: Vec<PathBuf>,
    /// Run every source against the embedded sandbox instead of the vendors' hosts; its own
    /// credentials stand in for the sources' unset `${VAR}`s.
    #[arg(long)]
    pub sandbox: bool,
    /// Customers per vendor in the sandbox (implies --sandbox); over the pipeline's
    /// `sandbox: {customers: N}`.
    #[arg(long, value_name = "N")]
    pub sandbox_customers: Option<u64>,
    /// Treat the pipeline files' warnings (a mapped path a source does not declare) as errors.
    #[arg(long)]
    pub strict: bool,
    /// Read `${VAR}`s from a dotenv file (`NAME=value` lines) first; a variable already set in
    /// the environment wins. May be given more than once.
    #[arg(long, value_name = "PATH")]
    pub env_file: Vec<PathBuf>,
    /// Root for relative output paths: a folder, or object storage — s3://bucket/prefix,
    /// az://container/prefix, abfss://container@account.dfs.core.windows.net/prefix,
    /// gs://bucket/prefix (credentials from the environment). Default: the current directory.
    #[arg(long, value_name = "DIR|URL")]
    pub output_dir: Option<String>,
    /// After a successful run, write its change set against this earlier export (a manifest,
    /// its folder, or a file; local or an object-store URL) beside the manifest, published with
    /// the run's files. Compares the outputs with vendor and customer_id columns.
    #[arg(long, value_name = "PATH")]
    pub diff_against: Option<String>,
    /// Validate and print what would be fetched and written, without any request.
    #[arg(long)]
    pub dry_run: bool,
    /// Print only errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Log format on stderr: text for people, json for schedulers.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// More detail in logs (-v debug, -vv trace).
    #[arg(long, short, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Wait for another run that holds the output root, instead of failing at once.
    #[arg(long)]
    pub wait_lock: bool,
    /// Let folders under the output root be symbolic links (by default a link there is refused:
    /// it could lead outside the root).
    #[arg(long)]
    pub follow_symlinks: bool,
}

/// How a run is carried out, beyond the plan.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Root for relative output paths: a folder or a store prefix.
    pub output_root: Location,
    pub dry_run: bool,
    /// Progress bars, when stderr is a terminal.
    pub bars: Option<MultiProgress>,
    /// Wait for another run holding the output root.
    pub wait_lock: bool,
    /// Let folders under the output root be symbolic links.
    pub follow_symlinks: bool,
    /// The previous export to write tonight's change set against (`--diff-against`).
    pub diff_against: Option<String>,
}

/// What a finished run wrote and fetched.
#[derive(Debug)]
pub struct RunReport {
    pub manifest: Manifest,
    pub manifest_path: Option<PathBuf>,
    /// Where the manifest is, as a user finds it (a path, or `s3://bucket/key`).
    pub manifest_location: Option<String>,
    /// Where the run wrote: the pipeline's bucket, `--output-dir`, or the current directory.
    pub root: Location,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("{0}")]
    Setup(String),
    #[error("{} source(s) failed: {}", .0.len(), .0.join("; "))]
    Sources(Vec<String>),
}

/// Runs `customer-export run` to its exit status: 0 every pipeline published, 1 one failed, 2 a
/// pipeline file is bad (then nothing runs).
pub fn main(args: RunArgs) -> ExitCode {
    let bars = logging::init(Verbosity {
        quiet: args.quiet,
        verbose: args.verbose,
        format: args.log_format,
    });
    let (plans, output_root) = match plans_and_root(&args) {
        Ok(checked) => checked,
        Err(message) => {
            console::err(message);
            return ExitCode::from(2);
        }
    };
    let options = RunOptions {
        output_root,
        dry_run: args.dry_run,
        bars,
        wait_lock: args.wait_lock,
        follow_symlinks: args.follow_symlinks,
        diff_against: args.diff_against.clone(),
    };
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let mut failed = false;
    for plan in plans {
        let name = plan.name.clone();
        let outcome = runtime.block_on(until_interrupted(run_pipeline(plan, &options)));
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(signal) => {
                // Dropping the run stopped its fetching and removed its temporary files.
                warn!(pipeline = %name, signal = signal.name(), "Run interrupted.");
                console::err(format!(
                    "interrupted by {}: pipeline {name:?} published nothing, and its earlier outputs are as they were",
                    signal.name()
                ));
                return ExitCode::from(signal.exit_code());
            }
        };
        match outcome {
            Ok(_) if args.log_format == LogFormat::Json => {}
            Ok(done) if !args.quiet && !args.dry_run => {
                console::err(report::summary_table(&done.manifest, &done.root).trim_end());
                if let Some(location) = &done.manifest_location {
                    console::err(format!("manifest: {location}"));
                }
            }
            Ok(_) => {}
            // The run's last event said why; a scheduler reads nothing else.
            Err(_) if args.log_format == LogFormat::Json => failed = true,
            Err(e) => {
                failed = true;
                console::err(format!("error: pipeline {name:?} failed: {e}"));
                // A failed publication says itself what state the outputs are in.
                if !matches!(e, RunError::Publish(_)) {
                    console::err("Earlier outputs were left as they were.");
                }
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The pipelines, checked, and the output root `--output-dir` names; or what is wrong with them.
fn plans_and_root(args: &RunArgs) -> Result<(Vec<Plan>, Location), String> {
    for file in &args.env_file {
        // Before any thread is started: the variables are set for the whole process.
        dotenvy::from_path(file).map_err(|e| {
            format!(
                "error: --env-file {}: {e}; write one NAME=value a line",
                file.display()
            )
        })?;
    }
    let mut plans = Vec::new();
    for path in &args.pipelines {
        let sandbox = args.sandbox || args.sandbox_customers.is_some();
        let loaded = pipeline::load(path, sandbox, EnvMode::Strict);
        let mut loaded = loaded.map_err(|e| e.to_string())?;
        if let Some(customers) = args.sandbox_customers {
            loaded.plan.sandbox_data.customers = Some(customers);
        }
        let warnings: Vec<String> = (loaded.warnings.iter()).map(|w| w.render(path)).collect();
        if args.strict && !warnings.is_empty() {
            return Err(format!(
                "{}
(--strict: warnings are errors)",
                warnings.join("\n")
            ));
        }
        for warning in warnings.iter().filter(|_| !args.quiet) {
            match args.log_format {
                // A scheduler reads JSON lines only.
                LogFormat::Json => warn!(event = "pipeline_warning", "{warning}"),
                LogFormat::Text => console::err(format!("{warning} (warning)")),
            }
        }
        plans.push(loaded.plan);
    }
    let root = match &args.output_dir {
        Some(text) => Location::parse(text).map_err(|e| format!("error: --output-dir: {e}"))?,
        None => Location::Local(std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
    };
    for plan in &plans {
        if args.diff_against.is_some() {
            changes::check(plan)?;
        }
        if let (Some(dir), Some(store)) = (&args.output_dir, plan.output_location()) {
            warn!(pipeline = %plan.name, "--output-dir {dir} does not apply: the pipeline's outputs name their bucket, {store}");
        }
    }
    Ok((plans, root))
}

/// A signal that stops a run.
#[derive(Debug, Clone, Copy)]
enum Interrupt {
    Int,
    Term,
}

impl Interrupt {
    fn name(self) -> &'static str {
        match self {
            Interrupt::Int => "SIGINT",
            Interrupt::Term => "SIGTERM",
        }
    }

    /// 128 + the signal's number, as a shell reports a process it ended.
    fn exit_code(self) -> u8 {
        match self {
            Interrupt::Int => 130,
            Interrupt::Term => 143,
        }
    }
}

/// Runs `work` unless SIGINT or SIGTERM comes first; then `work` is dropped at its next await and
/// the signal returned — unless it is publishing, which is let finish.
///
/// The handlers are in place before `work` first runs: a signal that comes while its first poll
/// is still creating temporary files is caught too, not left to end the process as it was.
async fn until_interrupted<T>(work: impl Future<Output = T>) -> Result<T, Interrupt> {
    #[cfg(unix)]
    let (mut int, mut term) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    #[cfg(unix)]
    let (int, term) = (
        async move {
            match &mut int {
                Some(int) => int.recv().await,
                None => std::future::pending().await,
            }
        },
        async move {
            match &mut term {
                Some(term) => term.recv().await,
                None => std::future::pending().await,
            }
        },
    );
    #[cfg(not(unix))]
    let (int, term) = (
        async { tokio::signal::ctrl_c().await.ok() },
        std::future::pending::<Option<()>>(),
    );
    tokio::pin!(work);
    let signal = tokio::select! {
        // A run that finished as the signal came is reported as it finished.
        biased;
        done = &mut work => return Ok(done),
        _ = int => Interrupt::Int,
        _ = term => Interrupt::Term,
    };
    if PUBLISHING.load(Ordering::SeqCst) {
        // A store's commit awaits its copies: cut there, it would leave a half-published root
        // until a later run finishes it. It is short; it ends as it would have.
        warn!(
            signal = signal.name(),
            "Signal received while publishing; finishing the publication first."
        );
        return Ok(work.await);
    }
    Err(signal)
}

/// Set while a run publishes: a signal then waits for the publication to end.
static PUBLISHING: AtomicBool = AtomicBool::new(false);

/// Marks a publication in progress for as long as it lives.
struct Publishing;

impl Publishing {
    fn start() -> Publishing {
        PUBLISHING.store(true, Ordering::SeqCst);
        Publishing
    }
}

impl Drop for Publishing {
    fn drop(&mut self) {
        PUBLISHING.store(false, Ordering::SeqCst);
    }
}

/// The async runtime for a command; a failure to start it is reported and exits 1.
pub fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            console::err(format!("error: cannot start the async runtime: {e}"));
            ExitCode::from(1)
        })
}

/// Runs one pipeline to the end: every source, every output, the manifest.
pub async fn run_pipeline(plan: Plan, options: &RunOptions) -> Result<RunReport, RunError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let started = jiff::Timestamp::now();
    let run_id = uuid::Uuid::now_v7().to_string();
    let name = plan.name.clone();
    let result = run_pipeline_as(plan, options, &run_id, started).await;
    report::log_finished(&name, &run_id, started, &result);
    result
}

/// [`run_pipeline`] under its run id.
async fn run_pipeline_as(
    mut plan: Plan,
    options: &RunOptions,
    run_id: &str,
    started: jiff::Timestamp,
) -> Result<RunReport, RunError> {
    let run_date = started.strftime("%Y-%m-%d").to_string();

    let location = plan
        .output_location()
        .unwrap_or_else(|| options.output_root.clone());
    if options.dry_run {
        let root = location.planning_dir();
        let planner = Planner {
            plan: &plan,
            root: &root,
            run_id: "RUN_ID",
            run_date: &run_date,
        };
        report::print_dry_run(&planner, &plan.transformers(), &location);
        let status = RunStatus::DryRun;
        let manifest = report::manifest(&plan, run_id, started, status, vec![], vec![], vec![]);
        return Ok(RunReport {
            manifest,
            manifest_path: None,
            manifest_location: None,
            root: location,
        });
    }

    let root = Root::hold(
        &location,
        run_id,
        &plan.name,
        RootOptions {
            wait: options.wait_lock,
            follow_symlinks: options.follow_symlinks,
            store: plan.storage.clone(),
        },
    )
    .await?;
    let sandbox = if plan.sandbox {
        Some(
            sandboxed::start_for(&mut plan)
                .await
                .map_err(|e| RunError::Setup(format!("cannot start the embedded sandbox: {e}")))?,
        )
    } else {
        None
    };
    let root_dir = root.dir();
    let planner = Planner {
        plan: &plan,
        root: &root_dir,
        run_id,
        run_date: &run_date,
    };
    let result = run_sources(&planner, &root, options, started).await;
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    // A failed publication has undone itself, or keeps what it could not undo for the next run.
    if matches!(&result, Err(e) if !matches!(e, RunError::Publish(_))) {
        root.abandon().await;
    }
    result
}

/// Every source — as many at once as the pipeline lets run, each with its own rate limit and
/// retries — then every file published together and the manifest last.
async fn run_sources(
    planner: &Planner<'_>,
    root: &Root,
    options: &RunOptions,
    started: jiff::Timestamp,
) -> Result<RunReport, RunError> {
    let plan = planner.plan;
    let client = http_client()?;
    let (mut running, prepared) = open_files(planner, root, &client).await?;
    let names = plan.sources.iter().map(|s| s.name.as_str());
    let bars = SourceBars::new(options.bars.as_ref(), names);
    let (cancel, cancelled) = watch::channel(false);
    let mut waiting = plan.sources.iter().zip(prepared).enumerate();
    let mut in_flight = FuturesUnordered::new();
    let mut summaries = Vec::new();
    let mut failures = Vec::new();
    loop {
        while in_flight.len() < plan.sources_at_once {
            let Some((i, (source, (transforms, files)))) = waiting.next() else {
                break;
            };
            let progress = bars.start(i, &source.name);
            let run = (source, &client, transforms, files);
            in_flight.push(run_one(i, run, progress, cancelled.clone()));
        }
        let Some(ended) = in_flight.next().await else {
            break;
        };
        let i = ended.i;
        match take_ended(plan, &mut running, &mut failures, ended) {
            Ok(summary) => summaries.push((i, summary)),
            Err(stop) => {
                // The others stop; dropping the files deletes their temporary files.
                let _ = cancel.send(true);
                while in_flight.next().await.is_some() {}
                return Err(stop);
            }
        }
    }
    summaries.sort_by_key(|(i, _)| *i);
    let summaries = summaries.into_iter().map(|(_, s)| s).collect();
    let writers = running.into_writers()?;
    publish(
        planner,
        root,
        writers,
        options,
        (started, summaries, failures),
    )
    .await
}

/// Opens every file of the run before any row is written, so which sources share a file is
/// known: the files, and each source's transforms and part of them.
async fn open_files(
    planner: &Planner<'_>,
    root: &Root,
    client: &reqwest::Client,
) -> Result<(Running, Vec<(Arc<Transforms>, SourceFiles)>), RunError> {
    let plan = planner.plan;
    let mut files = Files::default();
    let mut prepared = Vec::new();
    let mut routes = Vec::new();
    for (i, source) in plan.sources.iter().enumerate() {
        let transforms = Arc::new(transforms(plan, i, client).await?);
        routes.push(files.route(planner, root, source, &transforms)?);
        prepared.push(transforms);
    }
    let (running, handed) = files.start(&plan.sources, routes);
    Ok((running, prepared.into_iter().zip(handed).collect()))
}

/// Source `i` run to its end, or until `cancelled`.
async fn run_one<'a>(
    i: usize,
    (source, client, transforms, files): (
        &'a SourcePlan,
        &'a reqwest::Client,
        Arc<Transforms>,
        SourceFiles,
    ),
    progress: SourceProgress,
    cancelled: watch::Receiver<bool>,
) -> SourceEnded<'a> {
    let shares = files.shares;
    let run = run_source(
        source,
        client,
        transforms.clone(),
        files,
        progress.clone(),
        cancelled,
    );
    let outcome = run.await;
    progress.finish(outcome.is_ok());
    SourceEnded {
        i,
        source,
        transforms,
        progress,
        outcome,
        shares,
    }
}

/// A source's run, ended.
struct SourceEnded<'a> {
    /// Its place in the pipeline.
    i: usize,
    source: &'a SourcePlan,
    transforms: Arc<Transforms>,
    progress: SourceProgress,
    outcome: Result<SourceDone, RunError>,
    /// Whether it writes a file other sources write too.
    shares: bool,
}

/// Takes an ended source's files back and makes its summary; `Err` when the run must stop: it
/// failed and cannot be skipped.
fn take_ended(
    plan: &Plan,
    running: &mut Running,
    failures: &mut Vec<String>,
    ended: SourceEnded<'_>,
) -> Result<SourceSummary, RunError> {
    let source = ended.source;
    // Errors quote what servers said, which may echo a secret: redacted before the manifest.
    let error = (ended.outcome.as_ref().err()).map(|e| redact(&e.to_string()).into_owned());
    let mut summary = report::source_summary(source, &ended.progress.counts(), error);
    match ended.outcome {
        Ok(done) => {
            source_succeeded(source, &done, &ended.transforms, &mut summary);
            running.finished(done.own);
        }
        Err(e) => {
            error!(source = %source.name, "Source failed: {e}");
            failures.push(redact(&e.to_string()).into_owned());
            if plan.on_error == OnError::Fail || ended.shares {
                return Err(RunError::Sources(failures.clone()));
            }
            // Skipped: its own files were dropped with it, never published.
        }
    }
    Ok(summary)
}

/// The transforms of source `i`. With `undeclared: columns`, the undeclared scalar paths of the
/// source's first page become columns: the schema must be fixed before the first row is written
/// (a Parquet file's is), so the page is read once more, on its own, before the run's paging.
async fn transforms(
    plan: &Plan,
    i: usize,
    client: &reqwest::Client,
) -> Result<Transforms, RunError> {
    if !plan.promotes_undeclared() {
        return Ok(plan.transforms_of(i, &[]));
    }
    let source = &plan.sources[i];
    let progress = SourceProgress::new(&source.name, None);
    let first = source::sample(source, client, 1, progress).await?;
    let promoted = first.observed.promotable();
    let paths: Vec<&str> = promoted.iter().map(|p| p.path.as_str()).collect();
    info!(source = %source.name, columns = ?paths, "Undeclared paths of the first page become columns.");
    Ok(plan.transforms_of(i, &promoted))
}

/// Records what a succeeded source found: a count the pipeline let differ, schema drift.
fn source_succeeded(
    source: &SourcePlan,
    done: &SourceDone,
    transforms: &Transforms,
    summary: &mut SourceSummary,
) {
    let records = summary.records;
    if done.extracted.count_mismatch {
        warn!(source = %source.name, records, api_total = ?summary.api_total, "Record count differs from the API's total; published as allowed.");
        summary.status = SourceStatus::SucceededWithCountMismatch;
    }
    let found = done.report;
    summary.type_mismatches = u64::from(found.type_mismatches);
    summary.undeclared_fields = u64::from(found.undeclared_fields);
    if found.type_mismatches > 0 {
        warn!(source = %source.name, type_mismatches = found.type_mismatches, undeclared_fields = found.undeclared_fields, "Records differ from the declared schema: values that do not fit their column are null there, and kept in _extra where the fields are `all` or a mapping names it.");
    } else if found.undeclared_fields > 0 {
        // Drift loses nothing here: `all` keeps it in `_extra`, other fields never asked for it.
        info!(source = %source.name, undeclared_fields = found.undeclared_fields, "Records carry fields the vendor's declaration lacks (schema drift); `customer-export inspect` lists them.");
    }
    summary.empty_columns = transforms.empty_columns();
    if !summary.empty_columns.is_empty() {
        warn!(source = %source.name, columns = ?summary.empty_columns, "Mapped columns that no record filled: they are all null.");
    }
    info!(source = %source.name, records, pages = summary.pages, "Source finished.");
}

/// Completes every file (on a blocking thread: an upload waits for its last part), then
/// publishes them and the manifest as one transaction.
async fn publish(
    planner: &Planner<'_>,
    root: &Root,
    writers: Vec<Writer>,
    options: &RunOptions,
    (started, summaries, failures): (jiff::Timestamp, Vec<SourceSummary>, Vec<String>),
) -> Result<RunReport, RunError> {
    let finishing = tokio::task::spawn_blocking(move || {
        writers
            .into_iter()
            .map(Writer::finish)
            .collect::<Result<Vec<Finished>, _>>()
    });
    let mut files = finishing
        .await
        .map_err(|e| RunError::Setup(format!("the writer thread stopped: {e}")))??;
    let paths = files.iter().map(|f| f.summary.path.as_path());
    let path = manifest_path(paths, planner.root);
    if let Some(old) = &options.diff_against {
        let dir = path.parent().unwrap_or(planner.root);
        files.extend(changes::change_set(old, &files, root, dir)?);
    }
    let outputs: Vec<OutputSummary> = files.iter().map(|f| f.summary.clone()).collect();
    warn_truncated(&outputs, &root.location());
    let status = if failures.is_empty() {
        RunStatus::Succeeded
    } else {
        RunStatus::Partial
    };
    let errors = failures.clone();
    let run_id = planner.run_id;
    let manifest = report::manifest(
        planner.plan,
        run_id,
        started,
        status,
        summaries,
        outputs,
        errors,
    );
    {
        let _publishing = Publishing::start();
        root.commit(files, &path, &manifest).await?;
    }
    let location = root.location();
    let manifest_location = Some(location.display_path(&path));
    let manifest_path = Some(path);
    if failures.is_empty() {
        Ok(RunReport {
            manifest,
            manifest_path,
            manifest_location,
            root: location,
        })
    } else {
        Err(RunError::Sources(failures))
    }
}

/// Warns of each spreadsheet whose text did not all fit its cells.
fn warn_truncated(outputs: &[OutputSummary], location: &Location) {
    for output in outputs {
        if let Some(truncated_cells @ 1..) = output.truncated_cells {
            let path = location.display_path(&output.path);
            warn!(output = %path, truncated_cells, "Text longer than a spreadsheet cell holds (32,767 characters) was cut to fit; CSV, NDJSON and Parquet keep it whole.");
        }
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

//! The command line: `run`, `validate`, `vendors`, `inspect`, `sandbox`, and the helpers for a
//! first pipeline: `schema`, `completions`, `init`.
//!
//! Exit status: 0 success; 1 the run failed (an extraction, a write); 2 bad usage or a bad
//! pipeline file. Errors are printed as one message walking their causes, never as a panic.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::console;
use crate::model::record::{CANONICAL_COLUMNS, From};
use crate::pipeline;
use crate::run::RunArgs;
use crate::transform::Naming;
use crate::vendors::{self, VendorSpec};

/// Export the customer lists of IT-channel platforms (C3, Crayon, Valomnia, AppXite,
/// Adobe VIP Marketplace) to CSV, NDJSON, Parquet and XLSX.
#[derive(Debug, Parser)]
#[command(name = "customer-export", version, propagate_version = true)]
#[command(
    after_help = "Quick start: customer-export run pipelines/demo.yaml  (runs against the embedded sandbox)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run pipelines: extract every source, transform, write and publish the outputs.
    Run(RunArgs),
    /// Parse and check pipeline files without touching the network.
    Validate {
        /// Pipeline files (YAML).
        #[arg(required = true, value_name = "PIPELINE.yaml")]
        pipelines: Vec<PathBuf>,
        /// Treat a `${VAR}` that is not set as an error (by default a warning: `validate` lints
        /// files where the secrets are absent; `run` always requires them).
        #[arg(long)]
        require_env: bool,
        /// Treat every warning as an error (a mapped path a source does not declare, an unset
        /// `${VAR}`).
        #[arg(long)]
        strict: bool,
    },
    /// List the vendors — built in, and declared in YAML — their filters and columns.
    Vendors {
        /// Show one vendor in detail: its id, or a definition file.
        #[arg(value_name = "VENDOR")]
        vendor: Option<String>,
        /// Definition files, or folders of them, listed beside the built-in vendors (default:
        /// `vendors/` in the working directory, when there is one).
        #[arg(long = "definitions", value_name = "PATH")]
        definitions: Vec<PathBuf>,
    },
    /// Show what a source really sends: its first pages, path by path (types, fill rate, an
    /// example, declared or drift). Writes nothing.
    Inspect(crate::run::inspect::InspectArgs),
    /// Compare two exports: the customers added, removed and changed, column by column.
    Diff(crate::diff::DiffArgs),
    /// Serve the emulation of every vendor API on 127.0.0.1 until Ctrl-C.
    Sandbox(Box<crate::sandbox::SandboxConfig>),
    /// Print the JSON Schema of pipeline files, for editor completion and checks
    /// (`customer-export schema > pipeline.schema.json`).
    Schema,
    /// Print a shell completion script (e.g. `customer-export completions bash > …`).
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Write a commented starter pipeline for these vendors, with `${VAR}` placeholders.
    Init {
        #[arg(required = true, value_name = "VENDOR")]
        vendors: Vec<String>,
        /// Write the pipeline to this new file (an existing one is never replaced) instead of
        /// stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Parses the arguments, runs the command, and maps the outcome to an exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // No thread has started yet. The sandbox keeps glibc's defaults: it stands in for a vendor's
    // servers, and with the export's two arenas and mapped page bodies its workers queue on the
    // arena locks: nearly 4× the CPU a page (1.4 → 5.2 CPU-s for 100k Valomnia records), taken from
    // the cores of the export it serves when both run on one machine.
    if !matches!(cli.command, Command::Sandbox(_)) {
        crate::allocator::tune();
    }
    match cli.command {
        Command::Validate {
            pipelines,
            require_env,
            strict,
        } => validate(&pipelines, require_env, strict),
        Command::Vendors {
            vendor,
            definitions,
        } => list_vendors(vendor.as_deref(), definitions),
        Command::Run(args) => crate::run::main(args),
        Command::Inspect(args) => crate::run::inspect::main(args),
        Command::Diff(args) => crate::diff::main(args),
        Command::Sandbox(config) => serve_sandbox(*config),
        Command::Schema => {
            let schema = pipeline::schema::pipeline_schema();
            console::out(serde_json::to_string_pretty(&schema).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "customer-export", &mut script);
            console::out(String::from_utf8_lossy(&script).trim_end());
            ExitCode::SUCCESS
        }
        Command::Init { vendors, output } => init(&vendors, output.as_deref()),
    }
}

/// `init`: the starter to stdout, or to a new file.
fn init(ids: &[String], output: Option<&std::path::Path>) -> ExitCode {
    use pipeline::starter::{self, InitError};
    let written = starter::find_vendors(ids).and_then(|found| {
        let text = starter::starter(&found, output);
        match output {
            None => {
                console::out(text.trim_end());
                Ok(())
            }
            Some(path) => starter::write_new(path, &text),
        }
    });
    match written {
        Ok(()) => {
            if let Some(path) = output {
                console::err(format!(
                    "wrote {}; next: customer-export validate {0}",
                    path.display()
                ));
            }
            ExitCode::SUCCESS
        }
        Err(e @ (InitError::UnknownVendor(_) | InitError::Exists(_))) => {
            console::err(format!("error: {e}"));
            ExitCode::from(2)
        }
        Err(e) => {
            console::err(format!("error: {e}"));
            ExitCode::from(1)
        }
    }
}

fn validate(paths: &[PathBuf], require_env: bool, strict: bool) -> ExitCode {
    let env = if require_env {
        pipeline::EnvMode::Strict
    } else {
        pipeline::EnvMode::Lenient
    };
    let mut ok = true;
    for path in paths {
        match pipeline::load(path, false, env) {
            Ok(pipeline::Loaded { warnings, .. }) if strict && !warnings.is_empty() => {
                ok = false;
                for w in &warnings {
                    console::err(format!("{} (--strict: an error)", w.render(path)));
                }
            }
            Ok(pipeline::Loaded { plan, warnings }) => {
                for w in &warnings {
                    console::err(format!("{} (warning)", w.render(path)));
                }
                console::out(format!(
                    "{}: ok — pipeline {:?}, {} source(s), {} output(s)",
                    path.display(),
                    plan.name,
                    plan.sources.len(),
                    plan.outputs.len()
                ));
                crate::run::report::print_destinations(&plan);
            }
            Err(e) => {
                ok = false;
                console::err(e.to_string());
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

fn serve_sandbox(config: crate::sandbox::SandboxConfig) -> ExitCode {
    if !(0.0..=1.0).contains(&config.faults) {
        console::err("error: --faults must be a probability from 0 to 1");
        return ExitCode::from(2);
    }
    if !(0.0..=1.0).contains(&config.drift) {
        console::err("error: --drift must be a share from 0 to 1");
        return ExitCode::from(2);
    }
    let runtime = match crate::run::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match runtime.block_on(crate::sandbox::serve_forever(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            console::err(format!("error: the sandbox stopped: {e}"));
            ExitCode::from(1)
        }
    }
}

fn list_vendors(vendor: Option<&str>, definitions: Vec<PathBuf>) -> ExitCode {
    // A definition file named as the vendor is shown whatever the folders hold.
    let file = vendor.map(PathBuf::from).filter(|p| p.is_file());
    let paths = match (&file, definitions.is_empty()) {
        (Some(file), _) => vec![file.clone()],
        (None, false) => definitions,
        (None, true) => vec![PathBuf::from(DEFAULT_DEFINITIONS)]
            .into_iter()
            .filter(|d| d.is_dir())
            .collect(),
    };
    let mut declared = Vec::new();
    let mut invalid = false;
    for path in &paths {
        for (file, loaded) in vendors::declared::load_all(path) {
            match loaded {
                Ok(vendor) => declared.push((vendor, file)),
                Err(e) => {
                    e.lines(&file).into_iter().for_each(console::err);
                    invalid = true;
                }
            }
        }
    }
    if invalid {
        return ExitCode::from(2);
    }
    let mut out = std::io::stdout().lock();
    let written = match (vendor, &file) {
        (None, _) => write_catalogue(&mut out, &declared),
        (Some(_), Some(_)) => write_vendor(&mut out, declared[0].0.spec()),
        (Some(id), None) => {
            let found = (vendors::find(id))
                .or_else(|| declared.iter().find(|(v, _)| v.id() == id).map(|(v, _)| *v));
            match found {
                Some(vendor) => write_vendor(&mut out, vendor.spec()),
                None => {
                    let ids: Vec<&str> = (vendors::ids().into_iter())
                        .chain(declared.iter().map(|(v, _)| v.id()))
                        .collect();
                    console::err(format!(
                        "error: unknown vendor {id:?}{}; allowed: {} (or a definition file)",
                        crate::model::suggest::hint(id, &ids),
                        ids.join(", ")
                    ));
                    return ExitCode::from(2);
                }
            }
        }
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            console::err(format!("error: {e}"));
            ExitCode::from(1)
        }
    }
}

/// Where `vendors` looks for definitions when told nowhere.
const DEFAULT_DEFINITIONS: &str = "vendors";

fn write_catalogue(
    out: &mut impl Write,
    declared: &[(&'static dyn vendors::Vendor, PathBuf)],
) -> std::io::Result<()> {
    for vendor in vendors::ALL {
        write_catalogue_entry(out, vendor.spec())?;
    }
    if !declared.is_empty() {
        writeln!(
            out,
            "
Declared in YAML:"
        )?;
    }
    for (vendor, file) in declared {
        write_catalogue_entry(out, vendor.spec())?;
        writeln!(out, "{:<12} definition: {}", "", file.display())?;
    }
    writeln!(out, "\nDetails: customer-export vendors VENDOR")
}

fn write_catalogue_entry(out: &mut impl Write, spec: &VendorSpec) -> std::io::Result<()> {
    writeln!(out, "{:<12} {}", spec.id, spec.title)?;
    let filters: Vec<String> = (spec.filters.iter())
        .map(|f| match f.required {
            true => format!("{} (required)", f.name),
            false => f.name.to_string(),
        })
        .collect();
    let filters = match filters.is_empty() {
        true => "none".to_string(),
        false => filters.join(", "),
    };
    writeln!(out, "{:<12} filters: {filters}", "")
}

fn write_vendor(out: &mut impl Write, spec: &VendorSpec) -> std::io::Result<()> {
    write_vendor_settings(out, spec)?;
    write_vendor_filters(out, spec)?;
    write_vendor_columns(out, spec)?;
    write_vendor_canonical(out, spec)
}

/// Endpoint, base URL, paging, key, its own source keys and auth modes.
fn write_vendor_settings(out: &mut impl Write, spec: &VendorSpec) -> std::io::Result<()> {
    writeln!(out, "{} — {}", spec.id, spec.title)?;
    writeln!(out, "endpoint:  {}", spec.endpoint)?;
    writeln!(
        out,
        "base_url:  {}",
        spec.default_base_url.unwrap_or("(required)")
    )?;
    if spec.pages() {
        writeln!(
            out,
            "page_size: default {}, at most {}",
            spec.page_size.default, spec.page_size.max
        )?;
    } else {
        writeln!(
            out,
            "page_size: no paging (one response holds every customer)"
        )?;
    }
    writeln!(out, "key:       {} (de-duplicated on it)", spec.record.key)?;
    for setting in spec.settings {
        writeln!(
            out,
            "setting:   {}{} — {}",
            setting.name,
            if setting.required { " (required)" } else { "" },
            setting.help
        )?;
    }
    writeln!(out, "\nauth (one of):")?;
    for mode in spec.auth_modes {
        write!(out, "  {}: {}", mode.name, mode.required.join(", "))?;
        if !mode.optional.is_empty() {
            write!(out, "; optional {}", mode.optional.join(", "))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn write_vendor_filters(out: &mut impl Write, spec: &VendorSpec) -> std::io::Result<()> {
    writeln!(out, "\nfilters:")?;
    if spec.filters.is_empty() {
        writeln!(out, "  none")?;
    }
    for f in spec.filters {
        writeln!(
            out,
            "  {:<26} {}{} — {}",
            f.name,
            f.kind.describe(),
            if f.required { ", required" } else { "" },
            f.help
        )?;
    }
    Ok(())
}

/// The columns of `fields: all`, arrays with their element columns.
fn write_vendor_columns(out: &mut impl Write, spec: &VendorSpec) -> std::io::Result<()> {
    let record = &spec.record;
    writeln!(out, "\ncolumns (fields: all):")?;
    for f in record.fields {
        let column = crate::transform::column_name(f.path, Naming::Source);
        writeln!(out, "  {column:<58} {:?}", f.ty)?;
    }
    for a in record.arrays {
        let default = if record.default_explode == Some(a.name) {
            " (exploded by default)"
        } else {
            ""
        };
        writeln!(out, "  array {:<18} from `{}`{default}", a.name, a.path)?;
        for f in a.fields {
            let path = format!("{}.{}", a.name, f.path);
            let column = crate::transform::column_name(&path, Naming::Source);
            writeln!(out, "    {column:<56} {:?}", f.ty)?;
        }
    }
    Ok(())
}

fn write_vendor_canonical(out: &mut impl Write, spec: &VendorSpec) -> std::io::Result<()> {
    writeln!(out, "\ncanonical columns:")?;
    let record = &spec.record;
    let sources = record.canonical.sources(spec.id);
    for ((column, _), from) in CANONICAL_COLUMNS.iter().zip(sources) {
        let from = match from {
            _ if *column == "source_record_id" => record.key.into(),
            From::Field(p) => p.to_string(),
            From::Element(a, p) => format!("{a}[].{p} (one row per element)"),
            From::First(a, p) => format!("{a}[0].{p}"),
            From::Const(c) => format!("{c:?}"),
            From::Lacking(why) => format!("(none: {why})"),
        };
        writeln!(out, "  {column:<18} ← {from}")?;
    }
    let codes: Vec<String> = (record.canonical.status_codes.iter())
        .map(|(code, status)| format!("{code} → {}", status.word()))
        .collect();
    writeln!(
        out,
        "  status codes: {}; any other value → unknown",
        codes.join(", ")
    )?;
    Ok(())
}

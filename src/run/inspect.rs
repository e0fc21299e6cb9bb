//! `customer-export inspect`: what a source really sends. A few pages are read through the same
//! engine as a run (auth, rate limit, retries) and their records summed up path by path — the
//! JSON types seen, how many records fill the path, an example (e-mail addresses and secrets
//! masked), and whether the vendor's declaration has it. Nothing is written.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use super::source::{Sample, sample};
use super::{RunError, http_client, logging, runtime, sandboxed};
use crate::console;
use crate::extract::SourceProgress;
use crate::model::secret::redact;
use crate::pipeline::{self, EnvMode, Plan};
use crate::transform::observe::{Declaration, Observation};

/// `customer-export inspect`'s arguments.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The pipeline file whose source is read.
    #[arg(value_name = "PIPELINE.yaml")]
    pub pipeline: PathBuf,
    /// The source to read: its name (its vendor id unless the file names it) or its position,
    /// from 1. Default: the first.
    #[arg(long, value_name = "N")]
    pub source: Option<String>,
    /// Pages to read.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub pages: u64,
    /// Print a `transform: fields:` mapping of every path seen, to paste into the pipeline.
    #[arg(long)]
    pub emit_mapping: bool,
    /// Read from the embedded sandbox instead of the vendor's host.
    #[arg(long)]
    pub sandbox: bool,
}

/// Runs `inspect` to its exit status: 0 the pages were read, 1 they could not be, 2 a bad
/// pipeline file or a source it does not have.
pub fn main(args: InspectArgs) -> ExitCode {
    let _bars = logging::init(logging::Verbosity {
        quiet: false,
        verbose: 0,
        format: logging::LogFormat::Text,
    });
    let mut plan = match pipeline::load(&args.pipeline, args.sandbox, EnvMode::Strict) {
        Ok(loaded) => loaded.plan,
        Err(e) => {
            console::err(e.to_string());
            return ExitCode::from(2);
        }
    };
    let index = match pick_source(&plan, args.source.as_deref()) {
        Ok(index) => index,
        Err(message) => {
            console::err(format!("error: {message}"));
            return ExitCode::from(2);
        }
    };
    if args.pages == 0 {
        console::err("error: --pages must be at least 1");
        return ExitCode::from(2);
    }
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match runtime.block_on(read(&mut plan, index, args.pages)) {
        Ok(sample) => {
            let source = &plan.sources[index];
            let text = if args.emit_mapping {
                mapping_text(&source.name, &sample)
            } else {
                tree_text(&source.name, &sample)
            };
            console::out(text.trim_end());
            ExitCode::SUCCESS
        }
        Err(e) => {
            console::err(format!("error: {}", redact(&e.to_string())));
            ExitCode::from(1)
        }
    }
}

/// The source `wanted` names (by name, or by position from 1), or the first.
fn pick_source(plan: &Plan, wanted: Option<&str>) -> Result<usize, String> {
    let Some(wanted) = wanted else {
        return Ok(0);
    };
    if let Some(i) = plan.sources.iter().position(|s| s.name == wanted) {
        return Ok(i);
    }
    match wanted.parse::<usize>() {
        Ok(n) if (1..=plan.sources.len()).contains(&n) => Ok(n - 1),
        _ => {
            let names: Vec<&str> = plan.sources.iter().map(|s| s.name.as_str()).collect();
            Err(format!(
                "--source {wanted:?}: the pipeline has no such source; its sources: {} (or their position, 1 to {})",
                names.join(", "),
                names.len()
            ))
        }
    }
}

/// Reads the first `pages` pages of source `index`, from the sandbox when the plan says so.
async fn read(plan: &mut Plan, index: usize, pages: u64) -> Result<Sample, RunError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sandbox = if plan.sandbox {
        let started = sandboxed::start_for(plan).await;
        Some(started.map_err(|e| RunError::Setup(format!("cannot start the sandbox: {e}")))?)
    } else {
        None
    };
    let client = http_client()?;
    let source = &plan.sources[index];
    let progress = SourceProgress::new(&source.name, None);
    let result = sample(source, &client, pages, progress).await;
    if let Some(sandbox) = sandbox {
        sandbox.shutdown().await;
    }
    result
}

/// The field tree as a table.
fn tree_text(source: &str, sample: &Sample) -> String {
    let observed = &sample.observed;
    let mut out = String::new();
    let total = sample
        .total
        .map_or(String::new(), |t| format!(" (the API reports {t} in all)"));
    let _ = writeln!(
        out,
        "{source}: {} page(s), {} record(s) read{total}\n",
        sample.pages, observed.records
    );
    let tree = observed.tree();
    let width = tree.iter().map(|o| o.path.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(
        out,
        "{:<width$}  {:<18} {:>6}  {:<42} declaration",
        "path", "types", "filled", "example"
    );
    let mut counts = [0usize; 3];
    for o in &tree {
        counts[declaration_index(o.declaration)] += 1;
        let _ = writeln!(out, "{}", line(o, observed.records, width));
    }
    let _ = writeln!(
        out,
        "\n{} declared, {} undeclared (drift), {} declared but absent from these records.",
        counts[0], counts[1], counts[2]
    );
    let _ = writeln!(
        out,
        "A path becomes a column with `fields: {{column: path}}` (a number steps into a list: `contacts.0.email`); --emit-mapping prints a block to start from."
    );
    out
}

fn declaration_index(d: Declaration) -> usize {
    match d {
        Declaration::Declared => 0,
        Declaration::Undeclared => 1,
        Declaration::Absent => 2,
    }
}

fn line(o: &Observation<'_>, records: u64, width: usize) -> String {
    let (types, filled, example) = match o.stats {
        None => ("-".to_string(), "0%".to_string(), String::new()),
        Some(stats) => {
            let types: Vec<&str> = stats.types.iter().map(|t| t.name()).collect();
            let percent = (stats.filled * 100).checked_div(records).unwrap_or(0);
            // A path filled now and then must not read as 0%.
            let percent = if stats.filled > 0 { percent.max(1) } else { 0 };
            (
                types.join(", "),
                format!("{percent}%"),
                stats.example.clone().unwrap_or_default(),
            )
        }
    };
    let declaration = match o.declaration {
        Declaration::Declared => "declared",
        Declaration::Undeclared => "undeclared (drift)",
        Declaration::Absent => "declared, absent",
    };
    format!(
        "{:<width$}  {types:<18} {filled:>6}  {example:<42} {declaration}",
        o.path
    )
}

/// A `transform: fields:` block of every path seen.
fn mapping_text(source: &str, sample: &Sample) -> String {
    let mut out = format!(
        "# What {source} sent in {} page(s), {} record(s): every path that held a value. Keep the\n# columns you want; `customer-export validate` checks the result.\ntransform:\n  fields:\n",
        sample.pages, sample.observed.records
    );
    for (column, path, ty) in sample.observed.mapping() {
        let column = yaml_text(&column);
        let line = match ty {
            None => format!("    {column}: {}\n", yaml_text(&path)),
            Some(ty) => format!("    {column}: {{path: {}, type: {ty}}}\n", yaml_text(&path)),
        };
        out.push_str(&line);
    }
    out
}

/// Text as YAML reads it back: plain when it is a simple word, else double-quoted (JSON's
/// quoting is valid YAML).
fn yaml_text(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && !text.starts_with(['-', '.'])
        && !matches!(
            text,
            "true" | "false" | "null" | "yes" | "no" | "on" | "off"
        )
        && text.parse::<f64>().is_err();
    if plain {
        text.to_string()
    } else {
        serde_json::Value::from(text).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_text_quotes_what_yaml_would_misread() {
        assert_eq!(
            yaml_text("companyProfile.address.country"),
            "companyProfile.address.country"
        );
        assert_eq!(yaml_text("no"), "\"no\"");
        assert_eq!(yaml_text("1000"), "\"1000\"");
        assert_eq!(yaml_text("a: b"), "\"a: b\"");
        assert_eq!(yaml_text("// Addresses"), "\"// Addresses\"");
    }
}

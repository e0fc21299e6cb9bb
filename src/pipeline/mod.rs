//! Pipeline files: YAML → validated [`Plan`].
//!
//! Two stages, as in ripgrep's low/high args: [`raw`] mirrors the file with every value's
//! location, [`plan`] checks it against the vendor registry (each source's own keys against its
//! vendor's tables) and builds the `Plan` that the other stages run. Every problem is a [`Diagnostic`] naming `file:line:column`, what was found and what
//! is allowed; all of them are reported at once when the file parses.

mod check;
mod fields;
mod output;
pub mod paths;
pub mod plan;
pub mod raw;
pub mod schema;
mod source;
pub mod starter;
mod syntax;
pub mod template;
pub mod vars;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use check::EnvMode;
pub use plan::{OnError, OutputPlan, Plan, SourcePlan};
pub use template::{PathTemplate, PathValues};

/// The largest pipeline file read; a pipeline is a page of YAML, not a data set.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// One problem at one place in a pipeline file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: u64,
    pub column: u64,
    pub message: String,
    /// The file it is in when that is not the pipeline file (a vendor definition it names).
    pub file: Option<PathBuf>,
}

impl Diagnostic {
    /// `file:line:column: message`; `file` is the pipeline's, used unless the problem is in
    /// another file.
    pub fn render(&self, file: &Path) -> String {
        format!(
            "{}:{}:{}: {}",
            self.file.as_deref().unwrap_or(file).display(),
            self.line,
            self.column,
            self.message
        )
    }

    pub fn at(location: &serde_saphyr::Location, message: impl Into<String>) -> Self {
        Diagnostic {
            line: location.line(),
            column: location.column(),
            message: message.into(),
            file: None,
        }
    }
}

/// Why a pipeline file could not become a plan.
#[derive(Debug)]
pub struct PipelineError {
    pub file: PathBuf,
    pub kind: PipelineErrorKind,
}

#[derive(Debug)]
pub enum PipelineErrorKind {
    Read(std::io::Error),
    TooLarge,
    Invalid(Vec<Diagnostic>),
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match &self.kind {
            PipelineErrorKind::Read(e) => write!(f, "{file}: cannot read the pipeline file: {e}"),
            PipelineErrorKind::TooLarge => write!(
                f,
                "{file}: too large for a pipeline file (at most {MAX_FILE_BYTES} bytes)"
            ),
            PipelineErrorKind::Invalid(diagnostics) => {
                for (i, d) in diagnostics.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    f.write_str(&d.render(&self.file))?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for PipelineError {}

/// A validated plan and the warnings found on the way (variables not set, in lenient mode).
pub struct Loaded {
    pub plan: Plan,
    pub warnings: Vec<Diagnostic>,
}

/// Reads, parses and validates a pipeline file. `sandbox` is `run --sandbox`.
pub fn load(path: &Path, sandbox: bool, env: EnvMode) -> Result<Loaded, PipelineError> {
    let fail = |kind| PipelineError {
        file: path.to_path_buf(),
        kind,
    };
    // Read at most one byte past the cap, whatever the file is: a pipe or `/dev/stdin` has no
    // size to check first, and `/dev/zero` never ends.
    let file = std::fs::File::open(path).map_err(|e| fail(PipelineErrorKind::Read(e)))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(PipelineErrorKind::Read(e)))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(PipelineErrorKind::TooLarge));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        fail(PipelineErrorKind::Read(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.utf8_error(),
        )))
    })?;
    parse(&text, path, sandbox, env, &|name| std::env::var(name).ok())
        .map(|(plan, warnings)| Loaded { plan, warnings })
        .map_err(|d| fail(PipelineErrorKind::Invalid(d)))
}

/// Parses and validates pipeline text; `lookup` reads `${VAR}`.
pub fn parse(
    text: &str,
    path: &Path,
    sandbox: bool,
    env: EnvMode,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(Plan, Vec<Diagnostic>), Vec<Diagnostic>> {
    let raw: raw::RawPipeline =
        serde_saphyr::from_str(text).map_err(|e| vec![yaml_error(&e, text)])?;
    let in_order = |mut found: Vec<Diagnostic>| {
        // In the order they stand in the files, as an editor lists them; once each (a key of the
        // pipeline's `transform:` is checked again for every output that keeps it).
        found.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        found.dedup();
        found
    };
    plan::resolve(raw, path.to_path_buf(), sandbox, env, lookup)
        .map(|(plan, warnings)| (plan, in_order(warnings)))
        .map_err(in_order)
}

/// serde's "unknown field `x`, expected one of `a`, `b`" with the nearest name suggested.
fn with_suggestion(message: String) -> String {
    let Some((head, expected)) = message.split_once(", expected one of ") else {
        return message;
    };
    let Some(field) = head.split('`').nth(1) else {
        return message;
    };
    let names: Vec<&str> = expected
        .split(", ")
        .map(|n| n.trim_matches(|c| c == '`' || c == ' '))
        .collect();
    match crate::model::suggest::did_you_mean(field, &names) {
        Some(meant) => format!("{head} (did you mean `{meant}`?), expected one of {expected}"),
        None => message,
    }
}

/// A YAML or shape error as a diagnostic, without a source snippet (it could show a literal secret).
fn yaml_error(error: &serde_saphyr::Error, text: &str) -> Diagnostic {
    let (line, column) = error
        .location()
        .map_or((1, 1), |l| (l.line().max(1), l.column().max(1)));
    let rendered = error.render_with_options(serde_saphyr::render_options! {
        snippets: serde_saphyr::SnippetMode::Off,
    });
    // The plain rendering ends with its own location; ours leads the line instead.
    let message = rendered
        .rsplit_once(" at line ")
        .map_or(rendered.as_str(), |(m, _)| m)
        .trim()
        .to_string();
    let message = syntax::explain(&message, text, line).unwrap_or_else(|| with_suggestion(message));
    Diagnostic {
        line,
        column,
        message,
        file: None,
    }
}

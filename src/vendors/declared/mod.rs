//! Vendors declared in YAML: a definition says what a built-in vendor's Rust says — its request,
//! auth flow, paging and where it ends, where the records and the total are, its errors, fields
//! and canonical mapping — and becomes a [`Vendor`] like the built-in ones, run by the same engine
//! (rate limit, retries, concurrent ordered paging, count check, de-duplication).
//!
//! `raw` mirrors the YAML, `check` turns it into a [`Definition`] and a [`VendorSpec`] (every
//! problem with its line and column), `template` fills placeholders, `connector` runs it. A
//! definition is read once per process and lives as long, like the built-in tables.

mod check;
mod connector;
pub mod raw;
mod template;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::Method;
use reqwest::header::HeaderName;
use serde_json::Value;

use super::{SourceConfig, Vendor, VendorSpec};
use crate::extract::auth::{ClientAuth, TokenBody, TokenFields};
use crate::extract::{Connector, RecordsAt};
pub use raw::RawDefinition;
use template::Template;

/// The largest definition file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// One problem at one place in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// Why a definition file could not become a vendor.
#[derive(Debug)]
pub enum DefinitionError {
    Read(PathBuf, std::io::Error),
    TooLarge(PathBuf),
    /// YAML or shape problems, or what the checks found.
    Invalid(Vec<Problem>),
}

impl DefinitionError {
    /// One line per problem, each naming `path` (and the line and column when known).
    pub fn lines(&self, path: &Path) -> Vec<String> {
        match self {
            DefinitionError::Read(p, e) => vec![format!("{}: cannot read: {e}", p.display())],
            DefinitionError::TooLarge(p) => {
                vec![format!("{}: too large for a definition", p.display())]
            }
            DefinitionError::Invalid(problems) => (problems.iter())
                .map(|p| format!("{}:{}:{}: {}", path.display(), p.line, p.column, p.message))
                .collect(),
        }
    }
}

/// The definitions at `path`: the file itself, or a folder's `*.yaml` and `*.yml` files in name
/// order; each read into a vendor, or the reasons it is not one.
pub fn load_all(path: &Path) -> Vec<(PathBuf, Result<&'static dyn Vendor, DefinitionError>)> {
    if !path.is_dir() {
        return vec![(path.to_path_buf(), load(path))];
    }
    let mut files: Vec<PathBuf> = match std::fs::read_dir(path) {
        Ok(entries) => (entries.filter_map(Result::ok))
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect(),
        Err(e) => {
            return vec![(
                path.to_path_buf(),
                Err(DefinitionError::Read(path.into(), e)),
            )];
        }
    };
    files.sort();
    files.into_iter().map(|f| (f.clone(), load(&f))).collect()
}

/// Reads a definition file into a vendor.
pub fn load(path: &Path) -> Result<&'static dyn Vendor, DefinitionError> {
    use std::io::Read;
    let read = |e| DefinitionError::Read(path.to_path_buf(), e);
    let file = std::fs::File::open(path).map_err(read)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(DefinitionError::TooLarge(path.to_path_buf()));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        read(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.utf8_error(),
        ))
    })?;
    let raw: RawDefinition = serde_saphyr::from_str(&text).map_err(|e| {
        let (line, column) = e
            .location()
            .map_or((1, 1), |l| (l.line().max(1), l.column().max(1)));
        let rendered = e.render_with_options(serde_saphyr::render_options! {
            snippets: serde_saphyr::SnippetMode::Off,
        });
        let message = (rendered.rsplit_once(" at line "))
            .map_or(rendered.as_str(), |(m, _)| m)
            .trim()
            .to_string();
        DefinitionError::Invalid(vec![Problem {
            line,
            column,
            message,
        }])
    })?;
    from_raw(&raw, path).map_err(DefinitionError::Invalid)
}

/// A definition already read (inline in a pipeline, or from its file) into a vendor; `file` is
/// where it is written, for the errors a run finds in it.
pub fn from_raw(raw: &RawDefinition, file: &Path) -> Result<&'static dyn Vendor, Vec<Problem>> {
    let (mut definition, spec) = check::check(raw)?;
    definition.file = file.to_path_buf();
    let vendor = Declared {
        spec: Box::leak(Box::new(spec)),
        definition,
    };
    Ok(Box::leak(Box::new(vendor)))
}

/// A vendor a definition declares.
struct Declared {
    spec: &'static VendorSpec,
    definition: Definition,
}

impl Vendor for Declared {
    fn spec(&self) -> &'static VendorSpec {
        self.spec
    }

    fn connect(&self, source: &SourceConfig<'_>) -> Result<Arc<dyn Connector>, String> {
        connector::connect(&self.definition, self.spec, source)
    }

    fn default_rate_limit(&self) -> Option<&str> {
        self.definition.rate_limit.as_deref()
    }
}

/// What a checked definition runs.
#[derive(Debug, Clone)]
struct Definition {
    method: Method,
    path: Template,
    query: Vec<(String, Template)>,
    headers: Vec<(HeaderName, Template)>,
    body: Option<Value>,
    auth: AuthPlan,
    paging: Paging,
    records: RecordsAt,
    /// Where a page says the total.
    total: Option<Vec<String>>,
    /// Where a page says how many records it holds, for an API that counts per page.
    page_total: Option<Vec<String>>,
    errors: ErrorPlan,
    /// Statuses retried besides 429; `None`: 408 and every 5xx.
    retry: Option<Vec<u16>>,
    rate_limit: Option<String>,
    /// The file the definition is written in, and where in it the paging's pointer path (the
    /// cursor, next link or token) is declared: a run that never finds it says where to look.
    file: PathBuf,
    pointer_at: Option<(u64, u64)>,
}

/// The auth flow, the headers sent with it, and where a token response keeps its parts.
#[derive(Debug, Clone)]
struct AuthPlan {
    flow: Flow,
    headers: Vec<(HeaderName, Template)>,
    fields: TokenFields,
}

#[derive(Debug, Clone)]
enum Flow {
    None,
    Bearer,
    Basic,
    ApiKeyHeader(HeaderName),
    ApiKeyQuery(String),
    OAuth2 {
        password: bool,
        token_url: Template,
        body: TokenBody,
        client_auth: ClientAuth,
        params: Vec<(&'static str, Template)>,
    },
    Session {
        login_url: Template,
        token_url: Template,
        username_field: &'static str,
        password_field: &'static str,
        form: Vec<(&'static str, &'static str)>,
        cookie: &'static str,
    },
}

/// How pages are asked for, and where the envelope says paging ends.
#[derive(Debug, Clone)]
enum Paging {
    None,
    Offset {
        offset_param: String,
        limit_param: String,
        ends: EndPaths,
    },
    PageNumber {
        page_param: String,
        size_param: String,
        first: u64,
        ends: EndPaths,
    },
    Cursor {
        cursor_path: Vec<String>,
        cursor_param: String,
        size_param: Option<String>,
        ends: EndPaths,
    },
    NextLink {
        from: TokenFrom,
        size_param: Option<String>,
        ends: EndPaths,
    },
    Continuation {
        from: TokenFrom,
        send_header: HeaderName,
        link_path: Option<Vec<String>>,
        size_param: Option<String>,
        ends: EndPaths,
    },
}

/// Paths of the envelope that say where paging ends, beside an empty page.
#[derive(Debug, Clone, Default)]
struct EndPaths {
    total_pages: Option<Vec<String>>,
    has_more: Option<Vec<String>>,
}

/// Where a next link or a token is.
#[derive(Debug, Clone)]
enum TokenFrom {
    Body(Vec<String>),
    Header(String),
    LinkHeader,
}

/// How the vendor's errors read.
#[derive(Debug, Clone)]
struct ErrorPlan {
    message: Vec<&'static str>,
    correlation: Vec<&'static str>,
    in_200: Option<In200>,
}

/// An application error inside an HTTP 200.
#[derive(Debug, Clone)]
struct In200 {
    path: Vec<String>,
    failure: String,
    message: Option<Vec<String>>,
    correlation: Option<Vec<String>>,
}

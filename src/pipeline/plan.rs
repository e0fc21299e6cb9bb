//! The validated plan: what the extract, transform and load stages run. Built from a
//! [`RawPipeline`] by [`resolve`], which fills in `${VAR}`, resolves vendors and URLs, checks every
//! value against what its vendor declares and collects every problem it finds with its location.

use std::path::{Path, PathBuf};

use url::Url;

use super::Diagnostic;
use super::check::{Checker, EnvMode};
use super::raw::{Block, Node, RawOutput, RawPipeline, Value};
use super::template::PathTemplate;
use crate::extract::Limits;
use crate::load;
use crate::load::store::{Location, StoreOptions, StoreUrl};
use crate::transform;
use crate::vendors::{Settings, Vendor};
use serde_saphyr::Spanned;

/// The most sources a pipeline may run at once (`sources_at_once:`).
const MAX_SOURCES_AT_ONCE: u64 = 64;

/// A pipeline ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub file: PathBuf,
    /// Run every source against the embedded sandbox.
    pub sandbox: bool,
    /// What the sandbox serves, where the pipeline (or the command line) says.
    pub sandbox_data: SandboxData,
    pub on_error: OnError,
    /// How many sources run at once (`sources_at_once:`; default all of them).
    pub sources_at_once: usize,
    pub sources: Vec<SourcePlan>,
    /// The distinct transforms the outputs ask for; each output names one by index.
    pub transforms: Vec<transform::Options>,
    pub outputs: Vec<OutputPlan>,
    /// The object store's settings (`storage:`), for outputs that go to one.
    pub storage: StoreOptions,
}

/// `sandbox: {customers, seed, faults}`: the sandbox's size, data and fault rate; each `None`
/// keeps the sandbox's default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SandboxData {
    /// Customers per vendor.
    pub customers: Option<u64>,
    /// The seed of the synthetic data and of the fault dice.
    pub seed: Option<u64>,
    /// The share of vendor requests that get a fault (5xx, 429, slow, dropped, truncated).
    pub faults: Option<f64>,
}

/// What happens to the run when one source fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// The run fails and publishes nothing (the default: yesterday's files stay as they were).
    Fail,
    /// The failed source is left out; the others are published and the run still exits 1.
    Skip,
}

/// One source: a vendor, where it is, its vendor's own settings, and how hard to push it.
#[derive(Debug, Clone)]
pub struct SourcePlan {
    /// Unique within the pipeline: the vendor id, or `vendor-2` for a second source of a vendor.
    pub name: String,
    pub vendor: &'static dyn Vendor,
    /// `None` only in sandbox mode, where the sandbox supplies it.
    pub base_url: Option<Url>,
    /// The vendor's own keys (`reseller_id`, `auth.client_id`, …), checked against its tables.
    pub settings: Settings,
    /// Query parameters, checked against the vendor's filters, in file order.
    pub filters: Vec<(String, String)>,
    pub page_size: u32,
    pub limits: Limits,
    /// Send credentials over plain http to a host that is not loopback.
    pub allow_insecure_http: bool,
}

/// One output: a format with its options, and where its files go.
#[derive(Debug, Clone)]
pub struct OutputPlan {
    pub format: load::Format,
    /// Its transform, in [`Plan::transforms`].
    pub transform: usize,
    /// Relative to the output root: the store's bucket when `store` is given, else the run's.
    pub path: PathTemplate,
    /// The bucket the path names (`s3://bucket/…`), when it names one.
    pub store: Option<StoreUrl>,
}

impl Plan {
    /// The root the outputs name themselves — a store's bucket — if they do; otherwise the run's
    /// (`--output-dir`, or the current directory) applies.
    pub fn output_location(&self) -> Option<Location> {
        let store = self.outputs.first()?.store.clone()?;
        Some(Location::Store(store))
    }
}

/// Resolves a raw pipeline. `sandbox_override` is `run --sandbox`.
///
/// With `env: EnvMode::Lenient` (`validate`), a `${VAR}` that is not set is a warning and the checks
/// that need its value are skipped, so pipeline files can be linted where the secrets are absent.
pub fn resolve(
    raw: RawPipeline,
    file: PathBuf,
    sandbox_override: bool,
    env: EnvMode,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(Plan, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut c = Checker {
        lookup,
        file: file.to_path_buf(),
        dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
        lenient: env == EnvMode::Lenient,
        sandbox_fills: false,
        named_vendors: Vec::new(),
        diagnostics: Vec::new(),
        warnings: Vec::new(),
    };
    c.unknown_keys(None, &raw.unknown, RawPipeline::KEYS);
    let misspelt = |key| Checker::misspelt(&raw.unknown, RawPipeline::KEYS, key);
    let name = c.name(raw.name.as_ref(), misspelt("name"));
    let (in_file, sandbox_data) = c.sandbox(raw.sandbox.as_ref());
    let sandbox = sandbox_override || in_file;
    let on_error = c.on_error(&raw);
    let sources_at_once = (raw.sources_at_once.as_ref())
        .and_then(|v| c.integer(v, "sources_at_once", 1, MAX_SOURCES_AT_ONCE))
        .map(|n| n as usize);

    let raw_sources = c.listed(
        raw.sources.as_ref(),
        "sources",
        misspelt("sources"),
        "list at least one source",
    );
    let mut sources: Vec<SourcePlan> = Vec::new();
    // The sandbox supplies what a source's unset `${VAR}`s would: its own credentials and
    // settings, so a pipeline written for production runs with `--sandbox` alone.
    c.sandbox_fills = sandbox;
    for source in raw_sources {
        if let Some(plan) = c.source(source, sandbox, &sources) {
            sources.push(plan);
        }
    }
    c.sandbox_fills = false;

    // Checked once on its own, so that its problems are found even where every output replaces it.
    let pipeline_transform = c.transform(raw.transform.as_ref(), None, &sources);

    let raw_outputs = c.listed(
        raw.outputs.as_ref(),
        "outputs",
        misspelt("outputs"),
        "list at least one output",
    );
    let (outputs, transforms) = c.outputs(&raw, raw_outputs, pipeline_transform, &sources);
    c.one_root(&outputs, raw_outputs);
    let storage = c.storage(raw.storage.as_ref());

    if !c.diagnostics.is_empty() {
        return Err(c.diagnostics);
    }
    let plan = Plan {
        name,
        file,
        sandbox,
        sandbox_data,
        on_error,
        sources_at_once: sources_at_once.unwrap_or(sources.len()).max(1),
        sources,
        transforms,
        outputs,
        storage,
    };
    c.output_paths(&plan, raw_outputs);
    if c.diagnostics.is_empty() {
        Ok((plan, c.warnings))
    } else {
        Err(c.diagnostics)
    }
}

impl Checker<'_> {
    /// The outputs, each with its transform (its own keys over the pipeline's), and the distinct
    /// transforms they name.
    fn outputs(
        &mut self,
        raw: &RawPipeline,
        raw_outputs: &[Spanned<RawOutput>],
        pipeline_transform: transform::Options,
        sources: &[SourcePlan],
    ) -> (Vec<OutputPlan>, Vec<transform::Options>) {
        let source_count = raw.sources.as_ref().map_or(0, |s| s.value.len());
        let mut transforms: Vec<transform::Options> = Vec::new();
        let mut outputs: Vec<OutputPlan> = Vec::new();
        for output in raw_outputs {
            let transform = match &output.value.transform {
                None => pipeline_transform.clone(),
                own => self.transform(raw.transform.as_ref(), own.as_ref(), sources),
            };
            let Some(mut planned) = self.output(output, &transform, source_count) else {
                continue;
            };
            planned.transform =
                (transforms.iter().position(|t| *t == transform)).unwrap_or_else(|| {
                    transforms.push(transform);
                    transforms.len() - 1
                });
            outputs.push(planned);
        }
        (outputs, transforms)
    }

    /// `name:`, which `{pipeline}` and the manifest use.
    fn name(&mut self, raw: Option<&Value>, misspelt: bool) -> String {
        let Some(value) = raw else {
            if !misspelt {
                self.error_in_file("name: missing; name the pipeline (paths use it as {pipeline})");
            }
            return String::new();
        };
        let name = self.text(value, "name").unwrap_or_default();
        if name.trim().is_empty() {
            self.error(value, "name: must not be empty");
        }
        name
    }

    /// `sandbox: true | false | {customers, seed, faults}`: whether the pipeline runs against
    /// the sandbox, and what the sandbox serves.
    fn sandbox(&mut self, raw: Option<&Spanned<Node>>) -> (bool, SandboxData) {
        let mut data = SandboxData::default();
        let Some(node) = raw else {
            return (false, data);
        };
        let Node::Map(pairs) = &node.value else {
            let on = (self.scalar(node, "sandbox")).and_then(|v| self.boolean(&v, "sandbox"));
            return (on.unwrap_or(false), data);
        };
        for (key, value) in &pairs.0 {
            match key.value.as_str() {
                "customers" => {
                    data.customers = self.integer(value, "sandbox.customers", 0, 100_000_000)
                }
                "seed" => data.seed = self.integer(value, "sandbox.seed", 0, u64::MAX),
                "faults" => data.faults = self.share(value, "sandbox.faults"),
                other => {
                    let allowed = ["customers", "seed", "faults"];
                    let message = format!(
                        "sandbox: unknown key `{other}`{}; allowed: {}",
                        crate::model::suggest::hint(other, &allowed),
                        allowed.join(", ")
                    );
                    self.error(key, message);
                }
            }
        }
        (true, data)
    }

    /// A share from 0 to 1 (`faults: 0.05`).
    fn share(&mut self, value: &Value, key: &str) -> Option<f64> {
        let text = self.text(value, key)?;
        match text.trim().parse::<f64>() {
            Ok(share) if (0.0..=1.0).contains(&share) => Some(share),
            _ => {
                self.error(
                    value,
                    format!("{key}: expected a share from 0 to 1 (0.05 is 5 %), found {text:?}"),
                );
                None
            }
        }
    }

    fn on_error(&mut self, raw: &RawPipeline) -> OnError {
        let Some(value) = &raw.on_error else {
            return OnError::Fail;
        };
        match self.text(value, "on_error").as_deref() {
            None | Some("fail") => OnError::Fail,
            Some("skip") => OnError::Skip,
            Some(other) => {
                let message = format!(
                    "on_error: {other:?} is not allowed{}; allowed: fail, skip",
                    crate::model::suggest::hint(other, &["fail", "skip"])
                );
                self.error(value, message);
                OnError::Fail
            }
        }
    }
}

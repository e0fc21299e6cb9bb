//! Shared test helpers: build a source for any vendor from the registries (the vendor's plugin
//! and its emulation's demo settings) against a running sandbox, extract it, collect.
//!
//! Nothing here names a vendor: a vendor added to both registries gets every shared test.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use customer_export::extract::{
    self, ExtractError, Extracted, Session, SourceProgress, ValueReader,
};
use customer_export::model::{Cell, Row};
use customer_export::pipeline::{self, EnvMode, Plan, SourcePlan};
use customer_export::sandbox::{self, Emulator, Sandbox, SandboxConfig};
use customer_export::transform::{ParsedRecord, RecordReport, Transformer};
use customer_export::vendors::{self, Vendor};
use serde_json::Value;
use tokio::sync::mpsc;

/// Parses a pipeline text (with `${VAR}` read from `vars`) or panics with the diagnostics.
pub fn plan(text: &str, vars: &[(&str, &str)]) -> Plan {
    let lookup = |name: &str| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    };
    match pipeline::parse(
        text,
        Path::new("test.yaml"),
        false,
        EnvMode::Strict,
        &lookup,
    ) {
        Ok((plan, _)) => plan,
        Err(d) => panic!("pipeline does not validate: {d:#?}\n{text}"),
    }
}

/// Every vendor with its emulation: the built-in ones in catalogue order, then the vendors
/// declared in YAML that ship in `vendors/`.
pub fn vendors() -> Vec<(&'static dyn Vendor, &'static dyn Emulator)> {
    (vendors::ALL.iter().copied())
        .chain(shipped().iter().map(|(v, _)| *v))
        .map(|v| {
            let emulator = sandbox::find(v.id()).expect("every vendor has an emulation");
            (v, emulator)
        })
        .collect()
}

/// The vendors declared in the shipped `vendors/*.yaml`, with their files, in file-name order.
pub fn shipped() -> &'static [(&'static dyn Vendor, PathBuf)] {
    static SHIPPED: OnceLock<Vec<(&'static dyn Vendor, PathBuf)>> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vendors");
        vendors::declared::load_all(&dir)
            .into_iter()
            .map(|(file, loaded)| match loaded {
                Ok(vendor) => (vendor, file),
                Err(e) => panic!("{}", e.lines(&file).join("\n")),
            })
            .collect()
    })
}

/// The vendor `id`'s plugin: built in, or declared in a shipped definition.
pub fn vendor(id: &str) -> &'static dyn Vendor {
    (vendors::find(id))
        .or_else(|| {
            shipped()
                .iter()
                .find(|(v, _)| v.id() == id)
                .map(|(v, _)| *v)
        })
        .expect("a registered or shipped vendor")
}

/// How a pipeline's source names vendor `id`: `vendor: ID` for a built-in one, `definition:
/// FILE` for a shipped definition (the first line of a source block, after `- `).
pub fn vendor_line(id: &str) -> String {
    match shipped().iter().find(|(v, _)| v.id() == id) {
        Some((_, file)) => format!(
            "definition: {}",
            quoted(file.to_str().expect("a UTF-8 path"))
        ),
        None => format!("vendor: {id}"),
    }
}

/// One source block (YAML, indented by 4 under `- `) wrapped in a minimal pipeline.
pub fn source(sandbox: &Sandbox, vendor: &str, extra: &str) -> SourcePlan {
    let text = format!(
        "name: t\nsources:\n  - {line}\n    base_url: {base}\n{auth}{extra}\noutputs:\n  - format: csv\n    path: out/x.csv\n",
        line = vendor_line(vendor),
        base = sandbox.base_url(vendor),
        auth = auth_block(sandbox, vendor),
    );
    plan(&text, &[]).sources.remove(0)
}

/// A value as YAML writes a string (JSON's escapes are YAML's).
pub fn quoted(value: &str) -> String {
    serde_json::to_string(value).expect("a string")
}

/// The `auth:` lines of `vendor` with the sandbox's credentials (indented for a source block).
pub fn auth_block(sandbox: &Sandbox, vendor: &str) -> String {
    auth_block_with(sandbox, vendor, &|key, value| {
        format!("{key}: {}", quoted(value))
    })
}

/// The `auth:` lines of `vendor`; `line(key, accepted value)` writes each key's line.
pub fn auth_block_with(
    sandbox: &Sandbox,
    vendor: &str,
    line: &dyn Fn(&str, &str) -> String,
) -> String {
    let demo = sandbox::find(vendor).expect("an emulation").demo();
    let mut lines: Vec<String> = demo
        .accepted
        .iter()
        .filter_map(|(key, _)| key.strip_prefix("auth."))
        .filter(|key| usable_auth_key(vendor, key, demo.accepted))
        .map(|key| line(key, sandbox.credential(vendor, &format!("auth.{key}"))))
        .collect();
    if let Some(url) = sandbox.token_url(vendor) {
        lines.push(format!("token_url: {url}"));
    }
    format!("    auth:\n      {}\n", lines.join("\n      "))
}

/// Whether an accepted auth key belongs to the vendor's first auth mode the demo completes (a
/// source gives one mode: Valomnia's session login, not also its static token).
fn usable_auth_key(vendor: &str, key: &str, accepted: &[(&str, &str)]) -> bool {
    let spec = self::vendor(vendor).spec();
    let complete = |required: &[&str]| {
        required
            .iter()
            .all(|k| accepted.iter().any(|(a, _)| *a == format!("auth.{k}")))
    };
    match spec.auth_modes.iter().find(|m| complete(m.required)) {
        Some(mode) => mode.required.contains(&key) || mode.optional.contains(&key),
        None => true,
    }
}

/// The source keys a demo source of `vendor` needs beyond `base_url` and `auth:` (its settings
/// and filters), indented for a source block; `page_size` is added when the vendor pages.
pub fn demo_block(vendor: &str, page_size: Option<u32>) -> String {
    let demo = sandbox::find(vendor).expect("an emulation").demo();
    let mut lines: Vec<String> = demo
        .accepted
        .iter()
        .chain(demo.settings)
        .filter(|(key, _)| !key.starts_with("auth."))
        .map(|(key, value)| format!("    {key}: {}", quoted(value)))
        .collect();
    if !demo.filters.is_empty() {
        lines.push("    filters:".into());
        for (key, value) in demo.filters {
            lines.push(format!("      {key}: {}", quoted(value)));
        }
    }
    if let Some(n) = page_size.filter(|_| self::vendor(vendor).spec().pages()) {
        lines.push(format!("    page_size: {n}"));
    }
    lines.join("\n")
}

/// The query a demo source of `vendor` sends that changes its dataset or its order.
pub fn demo_filters(vendor: &str) -> Vec<(String, String)> {
    let demo = sandbox::find(vendor).expect("an emulation").demo();
    demo.filters
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The sandbox's truth for a demo source of `vendor`.
pub fn expected(vendor: &str, config: &SandboxConfig) -> Vec<Value> {
    sandbox::expected_records(vendor, config, &demo_filters(vendor)).expect("truth")
}

/// A session of `source` as a run makes one (no redirects followed), counting into `progress`.
pub fn session(source: &SourcePlan, progress: SourceProgress) -> Arc<Session> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let connector = source.connector().expect("connector builds");
    Arc::new(Session::new(
        &source.name,
        &source.limits,
        client,
        connector,
        progress,
    ))
}

/// Extracts one source the way a run does (pages in order, repeats of a key dropped, the count
/// checked), keeping each record as a `Value`.
pub async fn extract_all(source: &SourcePlan) -> Result<(Vec<Value>, Extracted), ExtractError> {
    let session = session(source, SourceProgress::new(&source.name, None));
    let reader = Arc::new(ValueReader {
        record_key: source.vendor.spec().record.key,
    });
    let (tx, mut rx) = mpsc::channel::<Vec<Value>>(4);
    let collector = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(batch) = rx.recv().await {
            all.extend(batch);
        }
        all
    });
    let extracted = extract::extract(session, source.page_size, reader, tx).await;
    let records = collector.await.unwrap();
    extracted.map(|e| (records, e))
}

pub async fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).await.expect("sandbox starts")
}

/// The values of `key` in each record, as text.
pub fn ids(records: &[Value], key: &str) -> Vec<String> {
    records
        .iter()
        .map(|r| match &r[key] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// The rows of one record as a run makes them: read from the record's JSON text, then emitted.
pub fn rows_of(
    transformer: &Transformer,
    record: &Value,
    out: &mut Vec<(usize, Row<'static>)>,
) -> RecordReport {
    let text = serde_json::to_string(record).expect("a JSON value");
    let mut input = serde_json::Deserializer::from_str(&text);
    let parsed = transformer.read(&mut input).expect("any JSON is read");
    let (rows, report) = owned_rows(transformer, &parsed);
    out.extend(rows);
    report
}

/// The rows `emit` lends, kept.
pub fn owned_rows(
    transformer: &Transformer,
    record: &ParsedRecord<'_>,
) -> (Vec<(usize, Row<'static>)>, RecordReport) {
    let mut out = Vec::new();
    let report = transformer.emit(record, &mut |table, row| {
        out.push((table, row.iter().cloned().map(Cell::into_owned).collect()))
    });
    (out, report)
}

//! Shared test helpers: build a source from YAML against a running sandbox, extract it, collect.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use customer_export::extract::{
    self, ExtractError, Extracted, Session, SourceProgress, ValueReader,
};
use customer_export::pipeline::{self, EnvMode, Plan, SourcePlan};
use customer_export::sandbox::{Sandbox, SandboxConfig};
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

/// One source block (YAML, indented by 4 under `- `) wrapped in a minimal pipeline.
pub fn source(sandbox: &Sandbox, vendor: &str, extra: &str) -> SourcePlan {
    let text = format!(
        "name: t\nsources:\n  - vendor: {vendor}\n    base_url: {base}\n{auth}{extra}\noutputs:\n  - format: csv\n    path: out/x.csv\n",
        base = sandbox.base_url(vendor),
        auth = auth_block(sandbox, vendor),
    );
    plan(&text, &[]).sources.remove(0)
}

/// The `auth:` lines of `vendor` with the sandbox's credentials (indented for a source block).
pub fn auth_block(sandbox: &Sandbox, vendor: &str) -> String {
    let c = &sandbox.config().credentials;
    let lines = match vendor {
        "c3" => format!(
            "tenant_id: {}\n      client_id: {}\n      client_secret: {}\n      resource: {}",
            c.c3.tenant_id,
            c.c3.client_id,
            c.c3.client_secret.expose(),
            c.c3.resource
        ),
        "crayon" => format!(
            "client_id: {}\n      client_secret: {}\n      username: {}\n      password: {}",
            c.crayon.client_id,
            c.crayon.client_secret.expose(),
            c.crayon.username,
            c.crayon.password.expose()
        ),
        "valomnia" => format!(
            "username: {}\n      password: {}",
            c.valomnia.username,
            c.valomnia.password.expose()
        ),
        "appxite" => format!(
            "client_id: {}\n      client_secret: {}\n      subscription_key: {}",
            c.appxite.client_id,
            c.appxite.client_secret.expose(),
            c.appxite.subscription_key.expose()
        ),
        _ => format!(
            "client_id: {}\n      client_secret: {}",
            c.adobe_vipmp.client_id,
            c.adobe_vipmp.client_secret.expose()
        ),
    };
    let token_url = sandbox
        .token_url(vendor)
        .map(|u| format!("\n      token_url: {u}"))
        .unwrap_or_default();
    format!("    auth:\n      {lines}{token_url}\n")
}

/// Extracts a source completely, returning its records in delivery order.
/// Extracts one source the way a run does (pages in order, repeats of a key dropped, the count
/// checked), keeping each record as a `Value`.
pub async fn extract_all(source: &SourcePlan) -> Result<(Vec<Value>, Extracted), ExtractError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let connector = (source.vendor.connect)(source).expect("connector builds");
    let progress = SourceProgress::new(&source.name, None);
    let session = Arc::new(Session::new(source, client, connector, progress));
    let reader = Arc::new(ValueReader {
        record_key: source.vendor.record_key,
    });
    let (tx, mut rx) = mpsc::channel::<Vec<Value>>(4);
    let collector = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(batch) = rx.recv().await {
            all.extend(batch);
        }
        all
    });
    let extracted = extract::extract(source, session, reader, tx).await;
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

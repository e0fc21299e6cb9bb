//! `run --sandbox` (or `sandbox: true`): the sandbox started in-process on a loopback port, and
//! every source of a plan pointed at it. The two registries meet here by vendor id: each
//! emulation says what it accepts and needs as pipeline keys, so nothing here names a vendor.

use tracing::info;
use url::Url;

use crate::pipeline::{Plan, SourcePlan};
use crate::sandbox::{self, Sandbox, SandboxConfig};
use crate::vendors::settings::Value;

/// Starts the embedded sandbox and points every source at it. Credentials the pipeline gives are
/// the ones the sandbox accepts; the sandbox's demo values fill in the rest.
pub async fn start_for(plan: &mut Plan) -> std::io::Result<Sandbox> {
    let mut config = SandboxConfig::default();
    let data = &plan.sandbox_data;
    config.customers = data.customers.unwrap_or(config.customers);
    config.seed = data.seed.unwrap_or(config.seed);
    config.faults = data.faults.unwrap_or(config.faults);
    for source in &plan.sources {
        let id = source.vendor.id();
        let Some(emulator) = sandbox::find(id) else {
            // Its requests would go to the vendor's real host, with the sandbox's stand-ins.
            return Err(std::io::Error::other(format!(
                "source {} (vendor {id}) has no emulation in the sandbox; run it without --sandbox, or leave it out of a sandbox pipeline",
                source.name
            )));
        };
        for (key, _) in emulator.demo().accepted {
            match source.settings.get(key) {
                Some(Value::Secret(secret)) => config.credentials.set(id, key, secret.clone()),
                Some(value) => {
                    if let Some(given) = text(value) {
                        config.credentials.set_plain(id, key, &given);
                    }
                }
                None => {}
            }
        }
    }
    let sandbox = Sandbox::start(config).await?;
    for source in &mut plan.sources {
        point_at(&sandbox, source);
    }
    info!(addr = %sandbox.addr(), "Sandbox started; every source runs against it.");
    Ok(sandbox)
}

/// Points one source at the sandbox: its URLs, and every setting the emulation needs that the
/// pipeline left out.
fn point_at(sandbox: &Sandbox, source: &mut SourcePlan) {
    let id = source.vendor.id();
    let Some(emulator) = sandbox::find(id) else {
        return;
    };
    source.base_url = Url::parse(&sandbox.base_url(id)).ok();
    source.allow_insecure_http = true;
    if let Some(token_url) = sandbox.token_url(id).and_then(|u| Url::parse(&u).ok()) {
        fill(source, "auth.token_url", token_url.as_str(), true);
    }
    let demo = emulator.demo();
    for (key, _) in demo.accepted {
        let value = sandbox.credential(id, key).to_string();
        fill(source, key, &value, false);
    }
    for (key, value) in demo.settings {
        fill(source, key, value, false);
    }
    // A required filter the pipeline leaves to an unset `${VAR}` takes the demo's value.
    let required = |name: &str| {
        let filters = source.vendor.spec().filters;
        filters.iter().any(|f| f.name == name && f.required)
    };
    for (name, value) in demo.filters {
        if required(name) && !source.filters.iter().any(|(given, _)| given == name) {
            source.filters.push((name.to_string(), value.to_string()));
        }
    }
}

/// Sets `key` (a pipeline key such as `auth.client_id`) to `text` in the kind the vendor declares
/// for it — when it is missing, or always with `replace`; a key the vendor lacks is left out.
fn fill(source: &mut SourcePlan, key: &str, text: &str, replace: bool) {
    if source.settings.contains(key) && !replace {
        return;
    }
    let spec = source.vendor.spec();
    let declared = match key.strip_prefix("auth.") {
        Some(name) => spec.auth_key(name),
        None => spec.setting(key),
    };
    if let Some(value) = declared.and_then(|k| Value::parse(k.kind, text.to_string())) {
        source.settings.set(key, value);
    }
}

/// A plain setting's value as the text the sandbox compares.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Text(t) => Some(t.clone()),
        Value::Secret(s) => Some(s.expose().to_string()),
        Value::Url(u) => Some(u.to_string()),
        Value::List(_) => None,
    }
}

//! Secrets never leak: every secret key of every vendor in the registry gets a distinct secret,
//! given through `${VAR}`, and a successful run (`-vv`, JSON logs), a dry run, `validate` and a
//! failing run (every credential wrong) are grepped — stdout, stderr and every file written, manifest included. Credentials are
//! also never sent over plain `http://` to a non-loopback host without an explicit opt-in. Object
//! storage credentials (S3's keys, Azure's account key) never appear either, in a run to a real
//! storage server, its dry run, or a run the store refuses.

mod common;
#[path = "common/demo.rs"]
mod demo;
#[path = "common/stores.rs"]
mod stores;

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine;
use customer_export::sandbox::{Sandbox, SandboxConfig};
use customer_export::vendors::spec::KeyKind;

const BIN: &str = env!("CARGO_BIN_EXE_customer-export");

/// (variable, secret): a distinct, recognisable value for every secret key of every vendor.
fn secrets() -> Vec<(String, String)> {
    let mut all = Vec::new();
    for (vendor, _) in common::vendors() {
        for key in vendor.spec().auth_keys {
            if key.kind == KeyKind::Secret {
                let var = format!("{}_{}", vendor.id(), key.name).to_uppercase();
                let value = format!("zq-{}-{}-{:04x}", vendor.id(), key.name, all.len() * 7919);
                all.push((var, value));
            }
        }
    }
    all
}

/// One source per auth mode the sandbox's demo values complete, each with its secrets from the
/// environment. `head` is `sandbox: true` or nothing; `urls(vendor)` gives the base_url and
/// token_url lines (empty in sandbox mode).
fn pipeline(head: &str, urls: &dyn Fn(&str) -> (String, String)) -> String {
    let mut text = format!("name: secrets\n{head}on_error: skip\nsources:\n");
    for (vendor, emulator) in common::vendors() {
        let id = vendor.id();
        let spec = vendor.spec();
        let accepted = emulator.demo().accepted;
        let given = |key: &str| accepted.iter().any(|(k, _)| *k == format!("auth.{key}"));
        let (base, token) = urls(id);
        for mode in spec
            .auth_modes
            .iter()
            .filter(|m| m.required.iter().all(|k| given(k)))
        {
            let line = common::vendor_line(id);
            text.push_str(&format!("  - {line}{base}\n    auth:\n"));
            for key in mode
                .required
                .iter()
                .chain(mode.optional)
                .filter(|k| given(k))
            {
                let value = match spec.auth_key(key).map(|k| k.kind) {
                    Some(KeyKind::Secret) => {
                        format!("${{{}_{}}}", id.to_uppercase(), key.to_uppercase())
                    }
                    _ => common::quoted(
                        accepted
                            .iter()
                            .find(|(k, _)| *k == format!("auth.{key}"))
                            .unwrap()
                            .1,
                    ),
                };
                text.push_str(&format!("      {key}: {value}\n"));
            }
            text.push_str(&token);
            let block = common::demo_block(id, None);
            if !block.is_empty() {
                text.push_str(&block);
                text.push('\n');
            }
        }
    }
    text.push_str("outputs:\n  - format: parquet\n    path: out/{vendor}/customers.parquet\n  - format: ndjson\n    path: out/{vendor}/raw.ndjson\n    ndjson: {nested: true}\n  - format: csv\n    path: out/{vendor}/customers.csv\n");
    text
}

fn binary(args: &[&str], dir: &Path) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir);
    for (var, value) in secrets() {
        cmd.env(var, value);
    }
    cmd.output().expect("the binary runs")
}

/// Every form a secret could leak in: as is, base64, and base64 behind any demo client id (Basic
/// auth).
fn forms(secret: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut forms = vec![secret.to_string(), b64.encode(secret)];
    for (_, emulator) in common::vendors() {
        for (key, user) in emulator.demo().accepted {
            if *key == "auth.client_id" {
                forms.push(b64.encode(format!("{user}:{secret}")));
            }
        }
    }
    forms
}

/// Fails when any secret appears in `text` (named `what`).
fn assert_clean(what: &str, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    for (var, secret) in secrets() {
        for form in forms(&secret) {
            assert!(!text.contains(&form), "{var} leaked in {what}");
        }
    }
}

fn assert_run_clean(what: &str, out: &Output, dir: &Path) {
    assert_clean(&format!("{what}: stdout"), &out.stdout);
    assert_clean(&format!("{what}: stderr"), &out.stderr);
    for (path, bytes) in demo::snapshot(dir) {
        assert_clean(&format!("{what}: {}", path.display()), &bytes);
    }
}

#[test]
fn secrets_never_appear_in_logs_outputs_manifests_or_dry_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.yaml");
    std::fs::write(&file, pipeline("sandbox: true\n", &|_| Default::default())).unwrap();
    let file = file.to_str().unwrap();

    let out = binary(&["run", file, "-vv", "--log-format", "json"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path().join("out/manifest.json").exists(),
        "{:?}",
        demo::snapshot(dir.path()).keys()
    );
    // The verbose log did say something about the requests.
    assert!(String::from_utf8_lossy(&out.stderr).lines().count() > 10);
    assert_run_clean("run -vv --log-format json", &out, dir.path());

    let out = binary(&["run", file, "-vv"], dir.path());
    assert!(out.status.success());
    assert_run_clean("run -vv", &out, dir.path());

    let out = binary(&["run", file, "--dry-run", "-vv"], dir.path());
    assert!(out.status.success());
    assert!(!out.stdout.is_empty());
    assert_run_clean("run --dry-run", &out, dir.path());

    let out = binary(&["validate", file, "--require-env"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_run_clean("validate", &out, dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_when_every_credential_is_refused() {
    // A sandbox with its own demo credentials: every secret the pipeline sends is wrong.
    let sandbox = Sandbox::start(SandboxConfig {
        customers: 20,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.yaml");
    let text = pipeline("", &|vendor| {
        let base = format!("\n    base_url: {}", sandbox.base_url(vendor));
        let token = sandbox
            .token_url(vendor)
            .map(|t| format!("      token_url: {t}\n"))
            .unwrap_or_default();
        (base, token)
    });
    std::fs::write(&file, text).unwrap();
    let file = file.to_str().unwrap().to_string();
    let root = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        binary(&["run", &file, "-vv", "--log-format", "json"], &root)
    })
    .await
    .unwrap();
    sandbox.shutdown().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // Sources run at once and the first refused stops the others: whichever it is, its error
    // names the authentication.
    assert!(stderr.contains("authentication failed at"), "{stderr}");
    assert_run_clean("failing run", &out, dir.path());
}

#[test]
fn credentials_are_never_sent_over_plain_http_to_another_host() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.yaml");
    let text = |extra: &str| {
        format!(
            "name: t\nsources:\n  - vendor: valomnia\n    base_url: http://valomnia.example.com\n{extra}    auth:\n      username: u\n      password: ${{VALOMNIA_PASSWORD}}\noutputs:\n  - format: csv\n    path: x.csv\n"
        )
    };
    std::fs::write(&file, text("")).unwrap();
    let out = binary(&["run", file.to_str().unwrap()], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("allow_insecure_http"), "{stderr}");
    assert!(stderr.contains("p.yaml:"), "{stderr}");
    assert_run_clean("plain http", &out, dir.path());

    // The explicit opt-in passes validation.
    std::fs::write(&file, text("    allow_insecure_http: true\n")).unwrap();
    let out = binary(&["validate", file.to_str().unwrap()], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs the demo to `server` with `credentials`, then its dry run and a run into a bucket or
/// container that does not exist; nothing any of them prints or writes holds a credential.
async fn store_credentials_stay_secret(server: stores::Server, credentials: &[(&str, &str)]) {
    let secrets: Vec<&str> = credentials.iter().map(|(_, value)| *value).collect();
    let clean = |what: &str, text: &[u8]| {
        let text = String::from_utf8_lossy(text);
        for secret in &secrets {
            let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
            assert!(
                !text.contains(secret) && !text.contains(&b64),
                "a store credential leaked in {what}"
            );
        }
    };
    let prefix = stores::unique_prefix("secrets");
    let url = server.url(&prefix);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for args in [
        vec![
            "run",
            "pipelines/demo.yaml",
            "--output-dir",
            &url,
            "-vv",
            "--log-format",
            "json",
        ],
        vec!["run", "pipelines/demo.yaml", "--output-dir", &url, "-vv"],
        vec![
            "run",
            "pipelines/demo.yaml",
            "--output-dir",
            &url,
            "--dry-run",
        ],
    ] {
        let out = stores::run_with(&server, root, &args, credentials).await;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        clean(&format!("{args:?}: stdout"), &out.stdout);
        clean(&format!("{args:?}: stderr"), &out.stderr);
    }
    for (key, bytes) in stores::objects(&*server.client(), &prefix).await {
        clean(&key, &bytes);
    }
    let missing = server
        .url("")
        .replace(stores::BUCKET, "no-such-bucket")
        .replace(stores::CONTAINER, "no-such-container");
    let out = stores::run_with(
        &server,
        root,
        &[
            "run",
            "pipelines/demo.yaml",
            "--output-dir",
            &missing,
            "-vv",
        ],
        credentials,
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    clean("a refused run: stderr", &out.stderr);
    clean("a refused run: stdout", &out.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_credentials_never_appear_in_logs_manifests_objects_or_errors() {
    // moto takes any credentials: distinct ones, recognisable if they leak.
    if let Some(server) = stores::Server::s3() {
        let credentials = [
            ("AWS_ACCESS_KEY_ID", "AKIAZQSTORE7919KEYID"),
            ("AWS_SECRET_ACCESS_KEY", "zq-store-secret/7919+Hx9Qw"),
            ("AWS_SESSION_TOKEN", "zq-store-session-token-7919"),
        ];
        store_credentials_stay_secret(server, &credentials).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_account_keys_never_appear_in_logs_manifests_objects_or_errors() {
    if let Some(server) = stores::Server::azurite() {
        let credentials = [("AZURE_STORAGE_ACCOUNT_KEY", stores::AZURITE_KEY)];
        store_credentials_stay_secret(server, &credentials).await;
    }
}

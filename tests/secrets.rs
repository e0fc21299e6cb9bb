//! Secrets never leak: every vendor credential gets a distinct secret, given through `${VAR}`, and
//! a successful run (`-vv`, JSON logs), a dry run, `validate` and a failing run (every credential
//! wrong) are grepped — stdout, stderr and every file written, manifest included. Credentials are
//! also never sent over plain `http://` to a non-loopback host without an explicit opt-in.

mod common;
#[path = "common/demo.rs"]
mod demo;

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine;
use customer_export::sandbox::{Sandbox, SandboxConfig};

const BIN: &str = env!("CARGO_BIN_EXE_customer-export");

/// (variable, secret): distinct, recognisable values for every secret the five vendors take.
const SECRETS: [(&str, &str); 8] = [
    ("C3_CLIENT_SECRET", "zq1-c3-client-secret-7f3a"),
    ("CRAYON_CLIENT_SECRET", "zq2-crayon-client-secret-91bd"),
    ("CRAYON_PASSWORD", "zq3-crayon-password-c0de"),
    ("VALOMNIA_PASSWORD", "zq4-valomnia-password-5eed"),
    ("VALOMNIA_TOKEN", "zq5-valomnia-static-token-beef"),
    ("APPXITE_CLIENT_SECRET", "zq6-appxite-client-secret-f00d"),
    (
        "APPXITE_SUBSCRIPTION_KEY",
        "zq7-appxite-subscription-key-cafe",
    ),
    ("ADOBE_CLIENT_SECRET", "zq8-adobe-client-secret-d00d"),
];

/// Every source with its secrets from the environment. `head` is `sandbox: true` or nothing;
/// `urls(vendor)` gives the base_url and token_url lines (empty in sandbox mode).
fn pipeline(head: &str, urls: &dyn Fn(&str) -> (String, String)) -> String {
    let (c3, c3t) = urls("c3");
    let (cr, crt) = urls("crayon");
    let (va, _) = urls("valomnia");
    let (ax, axt) = urls("appxite");
    let (ad, adt) = urls("adobe_vipmp");
    format!(
        r#"name: secrets
{head}on_error: skip
sources:
  - vendor: c3{c3}
    auth:
      tenant_id: sandbox-c3-tenant
      client_id: sandbox-c3-client
      client_secret: ${{C3_CLIENT_SECRET}}
      resource: api://sandbox-c3{c3t}
  - vendor: crayon{cr}
    auth:
      client_id: sandbox-crayon-client
      client_secret: ${{CRAYON_CLIENT_SECRET}}
      username: sandbox-crayon-user
      password: ${{CRAYON_PASSWORD}}{crt}
    filters:
      organizationId: 4703
  - vendor: valomnia{va}
    auth:
      username: sandbox-valomnia-user
      password: ${{VALOMNIA_PASSWORD}}
  - vendor: valomnia{va}
    auth:
      token: ${{VALOMNIA_TOKEN}}
  - vendor: appxite{ax}
    organization_id: 97ab7e3c-74cb-4a72-a2c4-144a8996b7f9
    referer: https://secrets.test
    auth:
      client_id: sandbox-appxite-client
      client_secret: ${{APPXITE_CLIENT_SECRET}}
      subscription_key: ${{APPXITE_SUBSCRIPTION_KEY}}{axt}
  - vendor: adobe_vipmp{ad}
    reseller_id: "1000396138"
    auth:
      client_id: sandbox-adobe-client
      client_secret: ${{ADOBE_CLIENT_SECRET}}{adt}
outputs:
  - format: parquet
    path: out/{{vendor}}/customers.parquet
  - format: ndjson
    path: out/{{vendor}}/raw.ndjson
    ndjson: {{nested: true}}
  - format: csv
    path: out/{{vendor}}/customers.csv
"#
    )
}

fn binary(args: &[&str], dir: &Path) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir);
    for (var, value) in SECRETS {
        cmd.env(var, value);
    }
    cmd.output().expect("the binary runs")
}

/// Every form a secret could leak in: as is, base64 (Basic auth), URL-encoded.
fn forms(secret: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut forms = vec![secret.to_string(), b64.encode(secret)];
    for (user, pass) in [
        ("sandbox-crayon-client", secret),
        ("sandbox-c3-client", secret),
    ] {
        forms.push(b64.encode(format!("{user}:{pass}")));
    }
    forms
}

/// Fails when any secret appears in `text` (named `what`).
fn assert_clean(what: &str, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    for (var, secret) in SECRETS {
        for form in forms(secret) {
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
            .map(|t| format!("\n      token_url: {t}"))
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
    assert!(stderr.contains("check the credentials"), "{stderr}");
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

//! Outputs to object storage, end to end through the binary, against real storage servers: moto
//! (S3) and Azurite (Azure Blob). Every object is read back and compared with the manifest; a run
//! failing half-way — a vendor outage after some sources succeeded, the store gone mid-upload —
//! leaves the previous night's objects and manifest byte for byte, and no object at a new key.
//! And `diff` reads two nights published there as it reads the same objects on this machine, and
//! a run publishing there writes its change set (`--diff-against`) as a local one does.

mod common;
#[path = "common/demo.rs"]
mod demo;
#[path = "common/stores.rs"]
mod stores;
#[path = "common/xlsx.rs"]
mod xlsx;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use customer_export::sandbox::{Sandbox, SandboxConfig};
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::file::reader::{FileReader, SerializedFileReader};
use sha2::{Digest, Sha256};
use stores::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Reads the manifest at `manifest_key` and every object it names; checks size, SHA-256 and rows.
/// Returns (key, rows) for each output.
async fn check_against_manifest(store: &dyn ObjectStore, manifest_key: &str) -> Vec<(String, u64)> {
    let manifest = store.get(&Key::from(manifest_key)).await.unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&manifest.bytes().await.unwrap()).unwrap();
    let dir = manifest_key.rsplit_once('/').map_or("", |(d, _)| d);
    let mut seen = Vec::new();
    for output in manifest["outputs"].as_array().unwrap() {
        let key = format!("{dir}/{}", output["path"].as_str().unwrap());
        let bytes = store.get(&Key::from(key.as_str())).await.unwrap();
        let bytes = bytes.bytes().await.unwrap();
        assert_eq!(
            bytes.len() as u64,
            output["bytes"].as_u64().unwrap(),
            "{key}: size"
        );
        let sha: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sha, output["sha256"].as_str().unwrap(), "{key}: sha256");
        let rows = rows(output["format"].as_str().unwrap(), bytes);
        assert_eq!(rows, output["rows"].as_u64().unwrap(), "{key}: rows");
        seen.push((key, rows));
    }
    seen
}

/// The rows a file holds, read as its reader would.
fn rows(format: &str, bytes: Bytes) -> u64 {
    match format {
        "parquet" => {
            let reader = SerializedFileReader::new(bytes).expect("a Parquet file");
            reader.metadata().file_metadata().num_rows() as u64
        }
        "csv" => csv::Reader::from_reader(&bytes[..]).records().count() as u64,
        "ndjson" => bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count() as u64,
        "xlsx" => xlsx::Book::open(&bytes).data_rows() as u64,
        other => panic!("unexpected format {other}"),
    }
}

async fn demo_publishes_every_file_with_the_manifests_counts(server: Server) {
    let prefix = stores::unique_prefix("demo");
    let root = env!("CARGO_MANIFEST_DIR");
    let url = server.url(&prefix);
    let out = stores::run(
        &server,
        Path::new(root),
        &["run", "pipelines/demo.yaml", "--output-dir", &url],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("manifest: {url}/output/demo/manifest.json")),
        "{stderr}"
    );
    let store = server.client();
    let files =
        check_against_manifest(&*store, &format!("{prefix}/output/demo/manifest.json")).await;
    assert_eq!(files.len(), 12, "{files:?}");
    assert!(files.iter().all(|(_, rows)| *rows > 0), "{files:?}");
    let all = stores::objects(&*store, &prefix).await;
    assert_eq!(
        all.len(),
        13,
        "the files and the manifest, no staging: {:?}",
        all.keys()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_published_to_s3_reads_back_with_the_manifests_counts() {
    if let Some(server) = Server::s3() {
        demo_publishes_every_file_with_the_manifests_counts(server).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_published_to_azure_reads_back_with_the_manifests_counts() {
    if let Some(server) = Server::azurite() {
        demo_publishes_every_file_with_the_manifests_counts(server).await;
    }
}

/// The demo against `sandbox`, with one more output whose key is new every run.
fn nightly(sandbox: &Sandbox, per_source: &str) -> String {
    let mut text = demo::demo_text(sandbox, "nightly", "fail", per_source);
    text.push_str("  - format: csv\n    path: out/{pipeline}/runs/{run_id}/all.csv\n");
    text
}

/// Last night's healthy run into `prefix`: returns every object there, by key.
async fn last_night(server: &Server, dir: &Path, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    let sandbox = Sandbox::start(SandboxConfig {
        customers: 120,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let file = dir.join("last-night.yaml");
    std::fs::write(&file, nightly(&sandbox, "")).unwrap();
    let url = server.url(prefix);
    let out = stores::run(
        server,
        dir,
        &[
            "run",
            file.to_str().unwrap(),
            "--output-dir",
            &url,
            "--quiet",
        ],
    )
    .await;
    sandbox.shutdown().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = stores::objects(&*server.client(), prefix).await;
    let vendors = common::vendors().len();
    // Parquet and NDJSON per vendor, the CSV across vendors, the run's own CSV, the manifest.
    assert_eq!(before.len(), 2 * vendors + 3, "{:?}", before.keys());
    before
}

async fn a_vendor_outage_leaves_last_nights_objects(server: Server) {
    let dir = tempfile::tempdir().unwrap();
    let prefix = stores::unique_prefix("outage");
    let before = last_night(&server, dir.path(), &prefix).await;

    // Tonight Valomnia is down: the vendors before it succeed, then the run fails.
    let sandbox = Sandbox::start(SandboxConfig {
        customers: 120,
        outage: vec!["valomnia".into()],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let file = dir.path().join("tonight.yaml");
    std::fs::write(&file, nightly(&sandbox, "    max_attempts: 2")).unwrap();
    let url = server.url(&prefix);
    let out = stores::run(
        &server,
        dir.path(),
        &["run", file.to_str().unwrap(), "--output-dir", &url],
    )
    .await;
    sandbox.shutdown().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("valomnia"), "{stderr}");
    let after = stores::objects(&*server.client(), &prefix).await;
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "no new key, no staging left"
    );
    assert!(after == before, "last night's objects changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_outage_leaves_last_nights_s3_objects_byte_for_byte() {
    if let Some(server) = Server::s3() {
        a_vendor_outage_leaves_last_nights_objects(server).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_outage_leaves_last_nights_azure_objects_byte_for_byte() {
    if let Some(server) = Server::azurite() {
        a_vendor_outage_leaves_last_nights_objects(server).await;
    }
}

/// A TCP proxy to `upstream` that dies — every connection cut, the port closed — once clients
/// have sent it `budget` bytes: a store killed mid-upload.
async fn dying_proxy(upstream: String, budget: u64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let (kill, killed) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let mut dead = killed.clone();
        loop {
            let client = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((client, _)) => client,
                    Err(_) => return,
                },
                _ = dead.changed() => return, // the listener is dropped: the port refuses
            };
            let (sent, kill, killed) = (sent.clone(), kill.clone(), killed.clone());
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                pipe(client, server, sent, budget, kill, killed).await;
            });
        }
    });
    format!("http://{address}")
}

/// Copies both ways until either side closes or the proxy dies; counts what the client sends.
async fn pipe(
    client: TcpStream,
    server: TcpStream,
    sent: Arc<AtomicU64>,
    budget: u64,
    kill: tokio::sync::watch::Sender<bool>,
    mut killed: tokio::sync::watch::Receiver<bool>,
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upward = async {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64 > budget {
                let _ = kill.send(true);
                return;
            }
            if server_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    let downward = tokio::io::copy(&mut server_read, &mut client_write);
    tokio::select! {
        _ = upward => {}
        _ = downward => {}
        _ = killed.wait_for(|dead| *dead) => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_killed_mid_upload_leaves_last_nights_s3_objects_byte_for_byte() {
    let Some(server) = Server::s3() else { return };
    let dir = tempfile::tempdir().unwrap();
    let prefix = stores::unique_prefix("killed");
    let before = last_night(&server, dir.path(), &prefix).await;

    let Server::S3 { endpoint } = &server else {
        unreachable!()
    };
    let upstream = endpoint.trim_start_matches("http://").to_string();
    // About a third of what a night uploads: the store dies while files are on their way.
    let proxy = dying_proxy(upstream, 400_000).await;
    let sandbox = Sandbox::start(SandboxConfig {
        customers: 120,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let file = dir.path().join("tonight.yaml");
    std::fs::write(&file, nightly(&sandbox, "")).unwrap();
    let url = server.url(&prefix);
    let through_proxy = server.via(proxy);
    let out = stores::run(
        &through_proxy,
        dir.path(),
        &["run", file.to_str().unwrap(), "--output-dir", &url],
    )
    .await;
    sandbox.shutdown().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // It failed uploading a file (not at its start: the lease went through).
    assert!(stderr.contains("uploading "), "{stderr}");
    assert!(
        stderr.contains("Earlier outputs were left as they were"),
        "{stderr}"
    );

    // Read past the dead proxy: last night's outputs, byte for byte; no new key. The failed
    // run's staging may stay (the store was gone): a later run removes it once its lease is stale.
    let after = stores::objects(&*server.client(), &prefix).await;
    assert!(
        stores::outputs(&after) == stores::outputs(&before),
        "last night's objects changed: {:?}",
        after.keys()
    );
}

/// Runs `diff OLD NEW --output {dir}/{name}` with `server`'s environment: (exit status, stdout
/// without the change set's path, the change set, stderr).
async fn diff(server: &Server, dir: &Path, old: &str, new: &str, name: &str) -> DiffRun {
    let output = dir.join(name);
    let out = stores::run(
        server,
        dir,
        &["diff", old, new, "--output", output.to_str().unwrap()],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    DiffRun {
        code: out.status.code(),
        summary: (stdout.lines())
            .filter(|l| !l.starts_with("change set: "))
            .collect::<Vec<_>>()
            .join("\n"),
        changes: std::fs::read_to_string(&output).unwrap_or_default(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[derive(Debug, PartialEq)]
struct DiffRun {
    code: Option<i32>,
    summary: String,
    changes: String,
    stderr: String,
}

/// Two nights of the demo — 100 customers per vendor, then 120 — published to the store under
/// `prefix`; returns every object there, by key.
async fn two_nights(server: &Server, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (night, customers) in [("night1", "100"), ("night2", "120")] {
        let url = server.url(&format!("{prefix}/{night}"));
        let out = stores::run(
            server,
            root,
            &[
                "run",
                "pipelines/demo.yaml",
                "--sandbox-customers",
                customers,
                "--output-dir",
                &url,
                "--quiet",
            ],
        )
        .await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{night}: {stderr}");
    }
    stores::objects(&*server.client(), prefix).await
}

/// `diff` reads exports in the store as it reads local ones: by the folder holding the manifest,
/// by the manifest, one Parquet file, and with one side local, it finds what a local diff of the
/// same objects finds, byte for byte; a prefix holding no manifest is a usage error naming it.
async fn diff_reads_exports_in_the_store(server: Server) {
    let dir = tempfile::tempdir().unwrap();
    let prefix = stores::unique_prefix("diff");
    let objects = two_nights(&server, &prefix).await;
    // The same objects on this machine, at the same relative paths.
    let local = dir.path().join("copy");
    for (key, bytes) in &objects {
        let path = local.join(key.strip_prefix(&format!("{prefix}/")).unwrap());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let at = |night: &str| server.url(&format!("{prefix}/{night}/output/demo"));
    let here = |night: &str| local.join(night).join("output/demo");
    let here = |night: &str| here(night).to_str().unwrap().to_string();

    let want = diff(
        &server,
        dir.path(),
        &here("night1"),
        &here("night2"),
        "l.csv",
    )
    .await;
    assert_eq!(want.code, Some(0), "{}", want.stderr);
    let total = want.summary.lines().find(|l| l.starts_with("total"));
    let added: u64 = total
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        added >= 20,
        "the second night has more customers: {}",
        want.summary
    );

    let manifest = |url: String| format!("{url}/manifest.json");
    for (old, new) in [
        (at("night1"), at("night2")),
        (manifest(at("night1")), manifest(at("night2"))),
        (here("night1"), at("night2")),
    ] {
        let got = diff(&server, dir.path(), &old, &new, "s.csv").await;
        assert_eq!(got, want, "diff {old} {new}");
    }

    // A third night with the second's data, publishing its change set against the first: the
    // change set is read from the run's staged objects, published and listed with the others,
    // and holds a line for every line of the diff above.
    let diffed = change_set_against(&server, &format!("{prefix}/night3"), &at("night1")).await;
    let local_lines = csv::Reader::from_reader(want.changes.as_bytes())
        .records()
        .count() as u64;
    assert_eq!(diffed, local_lines);

    // One file: the first night's first Parquet object, against the second night's.
    let first_parquet = |night: &str| {
        let under = format!("{prefix}/{night}/");
        (objects.keys())
            .find(|k| k.starts_with(&under) && k.ends_with(".parquet"))
            .unwrap()
            .strip_prefix(&format!("{prefix}/"))
            .unwrap()
            .to_string()
    };
    let (old, new) = (first_parquet("night1"), first_parquet("night2"));
    let url = |relative: &str| server.url(&format!("{prefix}/{relative}"));
    let here = |relative: &str| local.join(relative).to_str().unwrap().to_string();
    let want = diff(&server, dir.path(), &here(&old), &here(&new), "l1.csv").await;
    assert_eq!(want.code, Some(0), "{}", want.stderr);
    let got = diff(&server, dir.path(), &url(&old), &url(&new), "s1.csv").await;
    assert_eq!(got, want);

    let missing = diff(&server, dir.path(), &at("night0"), &at("night2"), "m.csv").await;
    assert_eq!(missing.code, Some(2), "{}", missing.stderr);
    let named = format!("{}/manifest.json: no such object", at("night0"));
    assert!(missing.stderr.contains(&named), "{}", missing.stderr);
}

/// `run --diff-against previous` of the demo at 120 customers into `prefix` on the store: the rows
/// of the change set its manifest lists (every output checked against the manifest).
async fn change_set_against(server: &Server, prefix: &str, previous: &str) -> u64 {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let url = server.url(prefix);
    let args = [
        "run",
        "pipelines/demo.yaml",
        "--sandbox-customers",
        "120",
        "--output-dir",
        &url,
        "--diff-against",
        previous,
        "--quiet",
    ];
    let out = stores::run(server, root, &args).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = format!("{prefix}/output/demo/manifest.json");
    let files = check_against_manifest(&*server.client(), &manifest).await;
    let changes = format!("{prefix}/output/demo/changes.parquet");
    let found = files.iter().find(|(key, _)| *key == changes);
    found
        .unwrap_or_else(|| panic!("{changes} not in {files:?}"))
        .1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_reads_two_nights_in_s3_as_it_reads_them_locally() {
    if let Some(server) = Server::s3() {
        diff_reads_exports_in_the_store(server).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_reads_two_nights_in_azure_as_it_reads_them_locally() {
    if let Some(server) = Server::azurite() {
        diff_reads_exports_in_the_store(server).await;
    }
}

/// A key the store refuses is a usage error (exit 2) naming the URL and where credentials come
/// from, and the key is not in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_with_a_refused_azure_key_says_so_without_the_key() {
    let Some(server) = Server::azurite() else {
        return;
    };
    let Server::Azurite { endpoint } = &server else {
        unreachable!()
    };
    let dir = tempfile::tempdir().unwrap();
    let wrong_key = "bm90LXRoZS1henVyaXRlLWtleS1hdC1hbGwtbm90LWF0LWFsbA==";
    let account_endpoint = format!("{endpoint}/devstoreaccount1");
    let url = server.url(&stores::unique_prefix("refused"));
    let out = stores::run_with(
        &server,
        dir.path(),
        &["diff", &url, &url],
        &[
            ("AZURE_STORAGE_USE_EMULATOR", "false"),
            ("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1"),
            ("AZURE_STORAGE_ACCOUNT_KEY", wrong_key),
            ("AZURE_STORAGE_ENDPOINT", &account_endpoint),
            ("AZURE_ALLOW_HTTP", "true"),
        ],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{url}/manifest.json: the store refused the credentials"
        )) && stderr.contains("Writing to object storage"),
        "{stderr}"
    );
    assert!(!stderr.contains(wrong_key), "{stderr}");
}

//! Failure leaves no damage. A source that fails for good (lasting 5xx, 401 even after a fresh
//! token, C3 `Status:"Error"`), a loader that cannot write (a parent that is a file, a read-only
//! folder, a full disk simulated with `RLIMIT_FSIZE`), and a run killed with SIGKILL mid-write:
//! the run fails loudly (exit 1 where there is an exit), the previous night's files stay
//! byte-identical, nothing partial appears at a final path, and the next run removes what a killed
//! run left behind. `on_error: skip` publishes the other sources' own files.

mod common;
#[path = "common/demo.rs"]
mod demo;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use customer_export::sandbox::{Sandbox, SandboxConfig};

const BIN: &str = env!("CARGO_BIN_EXE_customer-export");
const NAME: &str = "nightly";

fn config(customers: u64) -> SandboxConfig {
    SandboxConfig {
        customers,
        ..SandboxConfig::default()
    }
}

/// A healthy run of the demo into `root`: yesterday's files. Returns their bytes.
async fn yesterday(root: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let sandbox = Sandbox::start(config(120)).await.unwrap();
    let plan = common::plan(&demo::demo_text(&sandbox, NAME, "fail", ""), &[]);
    demo::run(plan, root).await.expect("yesterday's run");
    sandbox.shutdown().await;
    let files = demo::snapshot(root);
    assert!(files.len() >= 11, "{files:?}");
    files
}

/// Tonight's run against a broken sandbox: it must fail, with yesterday's files untouched.
async fn failing_run(
    root: &Path,
    broken: SandboxConfig,
    on_error: &str,
    per_source: &str,
) -> String {
    let before = yesterday(root).await;
    let sandbox = Sandbox::start(broken).await.unwrap();
    let plan = common::plan(&demo::demo_text(&sandbox, NAME, on_error, per_source), &[]);
    let err = demo::run(plan, root)
        .await
        .expect_err("the run must fail")
        .to_string();
    sandbox.shutdown().await;
    assert_eq!(demo::snapshot(root), before, "yesterday's files changed");
    demo::assert_no_temp_files(root);
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lasting_outage_fails_the_run_and_keeps_yesterdays_files() {
    let root = tempfile::tempdir().unwrap();
    let broken = SandboxConfig {
        outage: vec!["valomnia".into()],
        ..config(120)
    };
    let err = failing_run(root.path(), broken, "fail", "    max_attempts: 3").await;
    assert!(err.contains("valomnia") && err.contains("503"), "{err}");
    assert!(err.contains("after 3 attempt"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refused_after_reauthentication_fails_the_run() {
    let root = tempfile::tempdir().unwrap();
    for vendor in ["appxite", "crayon"] {
        let broken = SandboxConfig {
            reject_tokens: vec![vendor.into()],
            ..config(120)
        };
        let err = failing_run(root.path(), broken, "fail", "").await;
        assert!(
            err.contains(vendor) && err.contains("401") && err.contains("check the credentials"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_refused_token_is_renewed_exactly_once() {
    let sandbox = common::sandbox(SandboxConfig {
        reject_tokens: vec!["adobe_vipmp".into()],
        ..config(20)
    })
    .await;
    let src = common::source(&sandbox, "adobe_vipmp", "    reseller_id: \"1000396138\"");
    let err = common::extract_all(&src).await.unwrap_err().to_string();
    assert!(err.contains("401"), "{err}");
    let stats = &sandbox.stats().vendors["adobe_vipmp"];
    assert_eq!(stats.tokens_issued, 2, "{stats:?}");
    assert_eq!(stats.list_requests, 2, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_c3_application_error_fails_the_run() {
    let root = tempfile::tempdir().unwrap();
    let broken = SandboxConfig {
        application_error: vec!["c3".into()],
        ..config(120)
    };
    let err = failing_run(root.path(), broken, "fail", "").await;
    assert!(
        err.contains("c3") && err.contains("Status \"Error\""),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_cannot_publish_a_file_shared_with_the_failed_source() {
    // The demo's CSV holds every vendor: without Valomnia it would be silently short, so `skip`
    // fails the run as `fail` does.
    let root = tempfile::tempdir().unwrap();
    let broken = SandboxConfig {
        outage: vec!["valomnia".into()],
        ..config(120)
    };
    let err = failing_run(root.path(), broken, "skip", "    max_attempts: 2").await;
    assert!(err.contains("valomnia"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_publishes_the_other_sources_own_files() {
    let root = tempfile::tempdir().unwrap();
    let config = SandboxConfig {
        outage: vec!["crayon".into()],
        ..config(80)
    };
    let sandbox = Sandbox::start(config.clone()).await.unwrap();
    let text = demo::demo_text(&sandbox, NAME, "skip", "    max_attempts: 2");
    // Per-vendor files only: no output is shared between sources.
    let text = text
        .lines()
        .take_while(|l| !l.starts_with("  - format: csv"))
        .collect::<Vec<_>>()
        .join("\n");
    let plan = common::plan(&text, &[]);
    let want = demo::expected_rows(&plan, &config);
    let err = demo::run(plan, root.path()).await.unwrap_err().to_string();
    sandbox.shutdown().await;
    assert!(err.contains("crayon"), "{err}");
    let dir = root.path().join("out").join(NAME);
    let published = demo::snapshot(&dir.join("crayon"));
    assert!(
        published.is_empty(),
        "the failed source's files were published: {:?}",
        published.keys()
    );
    let others: Vec<&str> = (common::vendors().into_iter().map(|(v, _)| v.id()))
        .filter(|v| *v != "crayon")
        .collect();
    for &vendor in &others {
        let rows = demo::read_parquet(&dir.join(vendor).join("customers.parquet"));
        assert_eq!(rows, want[vendor], "{vendor}");
        let rows = demo::read_ndjson(&dir.join(vendor).join("customers.ndjson"));
        assert_eq!(rows, want[vendor], "{vendor}");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["status"], "partial");
    // A Parquet and an NDJSON file for each of the others.
    let outputs = manifest["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 2 * others.len(), "{outputs:?}");
    assert!(manifest["errors"][0].as_str().unwrap().contains("crayon"));
    demo::assert_no_temp_files(root.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_output_folder_that_cannot_be_created_fails_the_run_cleanly() {
    let root = tempfile::tempdir().unwrap();
    // `out` is a regular file, so no folder can be made under it.
    std::fs::write(root.path().join("out"), b"not a folder").unwrap();
    let sandbox = Sandbox::start(config(20)).await.unwrap();
    let plan = common::plan(&demo::demo_text(&sandbox, NAME, "fail", ""), &[]);
    let err = demo::run(plan, root.path()).await.unwrap_err().to_string();
    sandbox.shutdown().await;
    assert!(err.contains("out"), "{err}");
    assert_eq!(
        std::fs::read(root.path().join("out")).unwrap(),
        b"not a folder"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_output_folder_fails_the_run_and_keeps_yesterdays_files() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let before = yesterday(root.path()).await;
    let dir = root.path().join("out").join(NAME);
    let folders: Vec<PathBuf> = std::iter::once(dir.clone())
        .chain(common::vendors().into_iter().map(|(v, _)| dir.join(v.id())))
        .collect();
    for f in &folders {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    // Root ignores permission bits: then there is nothing to test here (the full-disk test below
    // covers a loader that cannot write).
    let probe = dir.join(".probe");
    if std::fs::write(&probe, b"x").is_ok() {
        let _ = std::fs::remove_file(&probe);
        for f in &folders {
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        eprintln!("skipped: permission bits do not stop this user (root)");
        return;
    }
    let sandbox = Sandbox::start(config(120)).await.unwrap();
    let plan = common::plan(&demo::demo_text(&sandbox, NAME, "fail", ""), &[]);
    let err = demo::run(plan, root.path()).await.unwrap_err().to_string();
    sandbox.shutdown().await;
    for f in &folders {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert!(err.contains("cannot"), "{err}");
    assert_eq!(demo::snapshot(root.path()), before);
}

/// Runs the binary on `pipeline` with `root` as the output root, in `sh` so that `prelude` can set
/// limits first.
fn run_binary(prelude: &str, pipeline: &Path, root: &Path) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{prelude}\nexec \"$0\" run \"$1\" --output-dir \"$2\""
        ))
        .arg(BIN)
        .arg(pipeline)
        .arg(root)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_the_run_and_keeps_yesterdays_files() {
    // A full disk, simulated: RLIMIT_FSIZE (`ulimit -f`, in 512-byte blocks) makes every write past
    // 32 KiB fail with EFBIG, as ENOSPC would; SIGXFSZ is ignored so the write returns the error
    // instead of killing the process.
    let root = tempfile::tempdir().unwrap();
    let before = yesterday(root.path()).await;
    assert!(
        before.values().any(|b| b.len() > 32 * 1024),
        "outputs too small to hit the limit"
    );
    let sandbox = Sandbox::start(config(120)).await.unwrap();
    let pipeline = root.path().join("nightly.yaml");
    std::fs::write(&pipeline, demo::demo_text(&sandbox, NAME, "fail", "")).unwrap();
    let before = demo::snapshot(root.path());
    let (p, r) = (pipeline.clone(), root.path().to_path_buf());
    let out = tokio::task::spawn_blocking(move || run_binary("trap '' XFSZ\nulimit -f 64", &p, &r))
        .await
        .unwrap();
    sandbox.shutdown().await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write") && stderr.contains("File too large"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        demo::snapshot(root.path()),
        before,
        "yesterday's files changed"
    );
    demo::assert_no_temp_files(root.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_mid_write_leaves_yesterdays_files_and_the_next_run_cleans_up() {
    let root = tempfile::tempdir().unwrap();
    let before = yesterday(root.path()).await;
    // A slow vendor: every list page takes 300 ms, so the run is mid-write for seconds.
    let sandbox = Sandbox::start(SandboxConfig {
        list_delay_ms: 300,
        ..config(120)
    })
    .await
    .unwrap();
    let pipeline = root.path().join("nightly.yaml");
    std::fs::write(&pipeline, demo::demo_text(&sandbox, NAME, "fail", "")).unwrap();
    let before_kill = demo::snapshot(root.path());
    let mut child = Command::new(BIN)
        .arg("run")
        .arg(&pipeline)
        .arg("--output-dir")
        .arg(root.path())
        .arg("--quiet")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the temporary files are open and the first pages are being written, then SIGKILL
    // (what `Child::kill` sends on Unix).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if !demo::temp_files(root.path()).is_empty() {
            tokio::time::sleep(Duration::from_millis(700)).await;
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        assert!(Instant::now() < deadline, "no temporary file appeared");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    sandbox.shutdown().await;

    let stale = demo::temp_files(root.path());
    assert!(
        !stale.is_empty(),
        "the killed run left no temporary file to clean"
    );
    // Every final path holds yesterday's bytes: nothing partial, nothing new.
    let mut after = demo::snapshot(root.path());
    after.retain(|path, _| !stale.contains(path));
    assert_eq!(after, before_kill, "a final file changed");
    assert!(before.keys().all(|k| after.contains_key(k)));

    // The next (healthy) run removes the stale temporary files and publishes.
    let sandbox = Sandbox::start(config(120)).await.unwrap();
    std::fs::write(&pipeline, demo::demo_text(&sandbox, NAME, "fail", "")).unwrap();
    let (p, r) = (pipeline.clone(), root.path().to_path_buf());
    let out = tokio::task::spawn_blocking(move || run_binary("", &p, &r))
        .await
        .unwrap();
    sandbox.shutdown().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    demo::assert_no_temp_files(root.path());
}

/// Issue 11, item 8: a closed stdout or stderr (`… | head -1`) is a normal end: no panic, the
/// exit status is the command's own, and a run still publishes.
#[test]
fn a_broken_pipe_is_a_normal_end() {
    let manifest = env!("CARGO_MANIFEST_DIR");
    let closed = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        writer
    };
    let cases: [(&[&str], i32); 4] = [
        (&["validate", "pipelines/demo.yaml"], 0),
        (&["validate", "tests/fixtures/bad/unknown-vendor.yaml"], 2),
        (&["run", "pipelines/demo.yaml", "--dry-run"], 0),
        (&["vendors"], 0),
    ];
    for (args, code) in cases {
        let out = Command::new(BIN)
            .args(args)
            .current_dir(manifest)
            .stdout(closed())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // stderr closed for a whole run (`run … 2>&1 | head -1`): it still publishes and exits 0.
    let root = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["run", "pipelines/demo.yaml", "--output-dir"])
        .arg(root.path())
        .current_dir(manifest)
        .stdout(closed())
        .stderr(closed())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(root.path().join("output/demo/manifest.json").exists());
}

/// Issue 11, item 9: SIGINT or SIGTERM mid-run stops fetching, removes the run's temporary files
/// at once (not at some later run's cleanup), says nothing was published, and exits 130 or 143.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_says_so_and_leaves_nothing_behind() {
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let root = tempfile::tempdir().unwrap();
        yesterday(root.path()).await;
        let before = demo::snapshot(root.path());
        let sandbox = Sandbox::start(SandboxConfig {
            list_delay_ms: 300,
            ..config(120)
        })
        .await
        .unwrap();
        let pipeline = root.path().join("nightly.yaml");
        std::fs::write(&pipeline, demo::demo_text(&sandbox, NAME, "fail", "")).unwrap();
        let before = {
            let mut b = before;
            b.extend(
                demo::snapshot(root.path())
                    .into_iter()
                    .filter(|(p, _)| *p == pipeline),
            );
            b
        };
        let child = Command::new(BIN)
            .arg("run")
            .arg(&pipeline)
            .arg("--output-dir")
            .arg(root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while demo::temp_files(root.path()).is_empty() {
            assert!(Instant::now() < deadline, "no temporary file appeared");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let kill = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(kill.success());
        let out = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        sandbox.shutdown().await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains(&format!("interrupted by SIG{signal}"))
                && stderr.contains("published nothing"),
            "{stderr}"
        );
        demo::assert_no_temp_files(root.path());
        assert_eq!(
            demo::snapshot(root.path()),
            before,
            "SIG{signal}: an output changed"
        );
    }
}

/// Issue 11, item 1: a folder where a file (or the manifest) is to go stops the publication
/// before anything moves; the message says nothing was published, and it is true.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_blocked_half_way_publishes_nothing_and_says_so() {
    for blocked in ["manifest.json", "valomnia/customers.ndjson"] {
        let root = tempfile::tempdir().unwrap();
        let before = yesterday(root.path()).await;
        let dir = root.path().join("out").join(NAME);
        let in_the_way = dir.join(blocked);
        std::fs::remove_file(&in_the_way).unwrap();
        std::fs::create_dir_all(in_the_way.join("a folder")).unwrap();
        let before: std::collections::BTreeMap<_, _> = before
            .into_iter()
            .filter(|(p, _)| *p != in_the_way)
            .collect();
        let sandbox = Sandbox::start(config(120)).await.unwrap();
        let plan = common::plan(&demo::demo_text(&sandbox, NAME, "fail", ""), &[]);
        let err = demo::run(plan, root.path()).await.unwrap_err().to_string();
        sandbox.shutdown().await;
        assert!(err.contains("a folder is in the way"), "{blocked}: {err}");
        assert!(err.contains("nothing was published"), "{blocked}: {err}");
        assert_eq!(
            demo::snapshot(root.path()),
            before,
            "{blocked}: an output changed"
        );
        demo::assert_no_temp_files(root.path());
    }
}

/// Issue 11, item 2: while one run holds an output root, a second is refused at once, naming the
/// holder; it deletes nothing, and the first publishes whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_sharing_an_output_root_cannot_damage_each_other() {
    let root = tempfile::tempdir().unwrap();
    let theirs = root.path().join("other-team/2026/.their-upload.cetmp");
    std::fs::create_dir_all(theirs.parent().unwrap()).unwrap();
    std::fs::write(&theirs, b"theirs").unwrap();
    // Slow pages keep the first run busy for seconds after its files are open.
    let slow = Sandbox::start(SandboxConfig {
        list_delay_ms: 400,
        ..config(120)
    })
    .await
    .unwrap();
    let first = root.path().join("first.yaml");
    std::fs::write(&first, demo::demo_text(&slow, NAME, "fail", "")).unwrap();
    let (p, r) = (first.clone(), root.path().to_path_buf());
    let running = tokio::task::spawn_blocking(move || run_binary("", &p, &r));
    let deadline = Instant::now() + Duration::from_secs(60);
    while demo::temp_files(root.path()).iter().all(|t| *t == theirs) {
        assert!(Instant::now() < deadline, "the first run wrote nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let temps = demo::temp_files(root.path());
    let sandbox = Sandbox::start(config(20)).await.unwrap();
    let second = root.path().join("second.yaml");
    std::fs::write(&second, demo::demo_text(&sandbox, "second", "fail", "")).unwrap();
    let (p, r) = (second.clone(), root.path().to_path_buf());
    let out = tokio::task::spawn_blocking(move || run_binary("", &p, &r))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("another run holds the output root"),
        "{stderr}"
    );
    assert!(
        temps.iter().all(|t| t.exists()),
        "the second run deleted a temporary file"
    );
    let out = running.await.unwrap();
    slow.shutdown().await;
    sandbox.shutdown().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&theirs).unwrap(), b"theirs");
    assert!(
        root.path()
            .join("out")
            .join(NAME)
            .join("manifest.json")
            .exists()
    );
    assert!(!root.path().join("out/second").exists());
}

/// Issue 11, item 6: a folder under the root that is a symbolic link to elsewhere fails the run
/// (nothing lands elsewhere); `--follow-symlinks` is the operator's explicit yes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlinked_folder_cannot_lead_outside_the_root() {
    let root = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("out").join(NAME)).unwrap();
    std::os::unix::fs::symlink(
        elsewhere.path(),
        root.path().join("out").join(NAME).join("valomnia"),
    )
    .unwrap();
    let sandbox = Sandbox::start(config(20)).await.unwrap();
    let pipeline = root.path().join("nightly.yaml");
    std::fs::write(&pipeline, demo::demo_text(&sandbox, NAME, "fail", "")).unwrap();
    let (p, r) = (pipeline.clone(), root.path().to_path_buf());
    let out = tokio::task::spawn_blocking(move || run_binary("", &p, &r))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("is a symbolic link under the output root"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    assert!(
        !root
            .path()
            .join("out")
            .join(NAME)
            .join("manifest.json")
            .exists()
    );
    // The operator's explicit yes.
    let (p, r) = (pipeline.clone(), root.path().to_path_buf());
    let out = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["run", "--follow-symlinks", "--output-dir"])
            .arg(&r)
            .arg(&p)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    sandbox.shutdown().await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(elsewhere.path().join("customers.parquet").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_first_run_leaves_no_empty_folders_behind() {
    let root = tempfile::tempdir().unwrap();
    let broken = SandboxConfig {
        outage: vec!["valomnia".into()],
        ..config(60)
    };
    let sandbox = Sandbox::start(broken).await.unwrap();
    let plan = common::plan(
        &demo::demo_text(&sandbox, NAME, "fail", "    max_attempts: 2"),
        &[],
    );
    demo::run(plan, root.path())
        .await
        .expect_err("the run must fail");
    sandbox.shutdown().await;
    // The folders the run made for its files (out/nightly/…) went with them: only the root's
    // own lock and journal remain.
    let left: Vec<String> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        left.iter().all(|name| name.starts_with(".customer-export")),
        "{left:?}"
    );
}

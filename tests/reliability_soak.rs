//! Fault soak: the full demo pipeline (every vendor of the registry, Parquet + NDJSON per vendor,
//! one CSV across vendors) against a sandbox that faults 20 % of requests, over many seeds; with tokens
//! expiring mid-run; under a server-side rate limit. Every run must export exactly the sandbox's
//! dataset: every row, in order, no duplicate, every file readable, no temporary file left.
//!
//! `SOAK_SEEDS` sets the number of fault seeds (default 4; `.ci/run` sets 20).

mod common;
#[path = "common/demo.rs"]
mod demo;

use customer_export::load::RunStatus;
use customer_export::sandbox::{Sandbox, SandboxConfig};

/// Customers per vendor: a few hundred make every paged vendor take 6–12 pages.
const CUSTOMERS: u64 = 300;

fn seeds() -> u64 {
    std::env::var("SOAK_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4)
}

/// Runs the demo against a sandbox with `config`, checks every output; returns the sandbox stats.
async fn soak_once(config: SandboxConfig, per_source: &str) -> customer_export::sandbox::Stats {
    let sandbox = Sandbox::start(config.clone())
        .await
        .expect("sandbox starts");
    let name = format!("soak-{}", config.seed);
    let text = demo::demo_text(&sandbox, &name, "fail", per_source);
    let plan = common::plan(&text, &[]);
    let want = demo::expected_rows(&plan, &config);
    let root = tempfile::tempdir().unwrap();
    let report = demo::run(plan, root.path())
        .await
        .unwrap_or_else(|e| panic!("seed {}: the run failed: {e}", config.seed));
    assert_eq!(report.manifest.status, RunStatus::Succeeded);
    demo::check_outputs(root.path(), &name, &want);
    let stats = sandbox.stats();
    sandbox.shutdown().await;
    stats
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_survives_faults_over_many_seeds() {
    let seeds = seeds();
    // Most of a faulted run is spent waiting out backoffs, so several seeds run at once.
    let mut total_faults = 0;
    let mut next = 1;
    while next <= seeds {
        let batch: Vec<u64> = (next..=seeds).take(4).collect();
        next += batch.len() as u64;
        let runs = batch.iter().map(|&seed| {
            let config = SandboxConfig {
                customers: CUSTOMERS,
                faults: 0.2,
                seed,
                slow_ms: 30,
                ..SandboxConfig::default()
            };
            tokio::spawn(soak_once(config, "    max_attempts: 8"))
        });
        for run in runs.collect::<Vec<_>>() {
            let stats = run.await.expect("no panic");
            let faults: u64 = stats.vendors.values().map(|s| s.faults).sum();
            assert!(faults > 0, "no fault was injected: {stats:?}");
            for (vendor, s) in &stats.vendors {
                assert_eq!(s.duplicate_request_ids, 0, "{vendor}");
            }
            total_faults += faults;
        }
    }
    eprintln!("{seeds} seeds, {total_faults} faults injected, every export exact");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_survives_tokens_expiring_mid_run_with_faults() {
    let config = SandboxConfig {
        customers: CUSTOMERS,
        faults: 0.1,
        seed: 1001,
        slow_ms: 30,
        token_ttl_secs: 1,
        ..SandboxConfig::default()
    };
    // The limiter spaces requests evenly (no burst), and every paged vendor takes at least 6
    // pages: at 3 requests a second its last page comes at least 5/3 s after its first, so the
    // 1 s token must have been renewed whatever the machine's speed.
    let stats = soak_once(
        config,
        "    rate_limit: 3/s\n    concurrency: 2\n    max_attempts: 8",
    )
    .await;
    // Every vendor that pages: one response needs no second token.
    for (vendor, _) in common::vendors()
        .into_iter()
        .filter(|(v, _)| v.spec().pages())
    {
        let vendor = vendor.id();
        let s = &stats.vendors[vendor];
        assert!(
            s.tokens_issued >= 2,
            "{vendor}: no token was refreshed: {s:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_survives_a_server_rate_limit_with_faults() {
    // The server allows 10 requests a second; the pipeline asks for 20, so the server's 429s (with
    // and without Retry-After) must be honoured on top of the injected faults.
    let config = SandboxConfig {
        customers: CUSTOMERS,
        faults: 0.1,
        seed: 2002,
        slow_ms: 30,
        rate_limit: Some(10.0),
        ..SandboxConfig::default()
    };
    let stats = soak_once(
        config,
        "    rate_limit: 20/s\n    concurrency: 4\n    max_attempts: 10",
    )
    .await;
    let throttled: u64 = stats.vendors.values().map(|s| s.rate_limited).sum();
    assert!(throttled > 0, "the server never throttled: {stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_equal_to_the_servers_draws_no_429_in_the_full_demo() {
    let config = SandboxConfig {
        customers: CUSTOMERS,
        rate_limit: Some(20.0),
        ..SandboxConfig::default()
    };
    let stats = soak_once(config, "    rate_limit: 20/s").await;
    for (vendor, s) in &stats.vendors {
        assert_eq!(s.rate_limited, 0, "{vendor}: {s:?}");
    }
}

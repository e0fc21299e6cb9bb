//! Each connector against the in-process sandbox gets exactly the sandbox's dataset (ids compared,
//! in order): plainly, under faults, with tokens expiring mid-run, and under a server-side rate
//! limit equal to its own (then without a single 429).

mod common;

use common::{extract_all, ids, sandbox, source};
use customer_export::model::Secret;
use customer_export::sandbox::{SandboxConfig, VendorStats};
use customer_export::vendors::Vendor;
use customer_export::vendors::settings::Value;

/// Pages small enough that a few hundred customers take many requests.
const PAGE_SIZE: u32 = 25;

fn config(customers: u64) -> SandboxConfig {
    SandboxConfig {
        customers,
        ..SandboxConfig::default()
    }
}

/// The record keys of the sandbox's truth for a demo source of `vendor`.
fn expected(vendor: &dyn Vendor, config: &SandboxConfig) -> Vec<String> {
    let records = common::expected(vendor.id(), config);
    ids(&records, vendor.spec().record.key)
}

/// Extracts a demo source of `vendor` (plus `extra` source keys) from a sandbox with `config`,
/// checks it got exactly the truth, in order, and returns the sandbox's counters for it.
async fn check(vendor: &dyn Vendor, config: SandboxConfig, extra: &str) -> VendorStats {
    let id = vendor.id();
    let sandbox = sandbox(config.clone()).await;
    let keys = common::demo_block(id, Some(PAGE_SIZE));
    let src = source(&sandbox, id, &format!("{keys}\n{extra}"));
    let (records, extracted) = extract_all(&src)
        .await
        .unwrap_or_else(|e| panic!("{id}: {e}"));
    let want = expected(vendor, &config);
    assert!(!want.is_empty(), "{id}: the sandbox serves nothing");
    let key = vendor.spec().record.key;
    assert_eq!(ids(&records, key), want, "{id}: ids differ");
    if let Some(total) = extracted.counts.api_total {
        assert_eq!(total, want.len() as u64, "{id}");
    }
    let stats = sandbox.stats().vendors[id].clone();
    sandbox.shutdown().await;
    stats
}

#[tokio::test]
async fn every_vendor_yields_exactly_the_sandbox_dataset() {
    for (vendor, _) in common::vendors() {
        let stats = check(vendor, config(230), "").await;
        assert_eq!(stats.faults, 0);
    }
}

#[tokio::test]
async fn every_vendor_survives_faults() {
    for (vendor, _) in common::vendors() {
        for seed in [1, 2] {
            let config = SandboxConfig {
                faults: 0.2,
                seed,
                slow_ms: 20,
                ..config(230)
            };
            let stats = check(vendor, config, "    max_attempts: 6").await;
            assert_eq!(stats.duplicate_request_ids, 0, "{}", vendor.id());
        }
    }
}

#[tokio::test]
async fn tokens_expiring_mid_run_are_refreshed() {
    // A vendor without paging answers in one response: nothing to refresh mid-run.
    for (vendor, _) in common::vendors()
        .into_iter()
        .filter(|(v, _)| v.spec().pages())
    {
        // 1 s tokens, a run of several seconds: the client must re-authenticate on the way.
        let config = SandboxConfig {
            token_ttl_secs: 1,
            ..config(230)
        };
        let stats = check(vendor, config, "    rate_limit: 4/s\n    concurrency: 2").await;
        assert!(stats.tokens_issued >= 2, "{}: {stats:?}", vendor.id());
    }
}

#[tokio::test]
async fn a_rate_limit_equal_to_the_servers_draws_no_429() {
    for (vendor, _) in common::vendors() {
        let config = SandboxConfig {
            rate_limit: Some(20.0),
            ..config(230)
        };
        let stats = check(vendor, config, "    rate_limit: 20/s").await;
        assert_eq!(stats.rate_limited, 0, "{}: {stats:?}", vendor.id());
    }
}

#[tokio::test]
async fn adobe_request_ids_are_never_repeated_even_on_retries() {
    let config = SandboxConfig {
        faults: 0.3,
        seed: 7,
        slow_ms: 10,
        ..config(400)
    };
    let stats = check(common::vendor("adobe_vipmp"), config, "    max_attempts: 8").await;
    assert!(stats.faults > 0, "no retry happened: {stats:?}");
    assert_eq!(stats.duplicate_request_ids, 0);
}

#[tokio::test]
async fn valomnia_offset_paging_over_live_data_is_deduplicated() {
    let config = SandboxConfig {
        live_inserts: 3,
        ..config(200)
    };
    let sandbox = sandbox(config.clone()).await;
    let src = source(
        &sandbox,
        "valomnia",
        "    page_size: 25\n    concurrency: 1\n    allow_count_mismatch: true",
    );
    let (records, extracted) = extract_all(&src).await.unwrap();
    assert_eq!(
        ids(&records, "id"),
        expected(common::vendor("valomnia"), &config)
    );
    assert!(extracted.counts.duplicates > 0, "{:?}", extracted.counts);
}

#[tokio::test]
async fn valomnia_static_token_works() {
    let sandbox = sandbox(config(50)).await;
    let token = sandbox.credential("valomnia", "auth.token").to_string();
    let text = format!(
        "name: t\nsources:\n  - vendor: valomnia\n    base_url: {}\n    auth:\n      token: ${{TOKEN}}\noutputs:\n  - format: csv\n    path: x.csv\n",
        sandbox.base_url("valomnia")
    );
    let src = common::plan(&text, &[("TOKEN", &token)]).sources.remove(0);
    let (records, _) = extract_all(&src).await.unwrap();
    assert_eq!(records.len(), 50);
}

#[tokio::test]
async fn c3_application_error_in_a_200_fails_with_the_vendor_message() {
    let config = SandboxConfig {
        application_error: vec!["c3".into()],
        ..config(20)
    };
    let sandbox = sandbox(config).await;
    let src = source(&sandbox, "c3", "");
    let err = extract_all(&src).await.unwrap_err().to_string();
    assert!(err.contains("Status \"Error\""), "{err}");
    assert!(err.contains("correlation id"), "{err}");
}

#[tokio::test]
async fn wrong_credentials_fail_clearly_after_one_attempt() {
    let sandbox = sandbox(config(20)).await;
    let mut src = source(
        &sandbox,
        "crayon",
        "    filters:\n      organizationId: 4703",
    );
    let wrong = Value::Secret(Secret::new("wrong-password"));
    src.settings.set("auth.password", wrong);
    let err = extract_all(&src).await.unwrap_err().to_string();
    assert!(
        err.contains("authentication failed") && err.contains("check the credentials"),
        "{err}"
    );
    assert!(!err.contains("wrong-password"), "{err}");
    assert_eq!(sandbox.stats().vendors["crayon"].token_requests, 1);
}

#[tokio::test]
async fn a_vendor_error_fails_with_the_vendors_own_message() {
    let sandbox = sandbox(config(20)).await;
    let mut src = source(&sandbox, "adobe_vipmp", "    reseller_id: \"1000396138\"");
    src.settings
        .set("reseller_id", Value::Text("no-such-reseller".into()));
    let err = extract_all(&src).await.unwrap_err().to_string();
    assert!(err.contains("code"), "{err}");
    assert_eq!(
        sandbox.stats().vendors["adobe_vipmp"].list_requests,
        1,
        "a 4xx is not retried"
    );
}

/// Every vendor whose page requests do not need the page before (page numbers, offsets) is paged
/// `concurrency` pages at a time, with a total (fetched ahead up to it) or without one (fetched
/// ahead until a page says it is the last: only a few requests past it); one whose pages follow
/// one another (cursors, links) one page at a time. Exactly the dataset either way. (A rate limit
/// high enough not to space the requests: pax8 declares 1000/min.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_that_need_no_previous_page_are_fetched_ahead_with_or_without_a_total() {
    for (vendor, _) in common::vendors() {
        let id = vendor.id();
        let config = SandboxConfig {
            list_delay_ms: 20,
            ..config(230)
        };
        let sandbox = sandbox(config.clone()).await;
        let keys = common::demo_block(id, Some(PAGE_SIZE));
        let src = source(
            &sandbox,
            id,
            &format!("{keys}\n    concurrency: 4\n    rate_limit: 1000/s"),
        );
        let sequential = src.connector().expect("a connector").sequential();
        let (records, _) = extract_all(&src)
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let want = expected(vendor, &config);
        assert_eq!(ids(&records, vendor.spec().record.key), want, "{id}");
        let stats = sandbox.stats().vendors[id].clone();
        sandbox.shutdown().await;
        let pages = (want.len() as u64).div_ceil(u64::from(PAGE_SIZE));
        if !vendor.spec().pages() {
            assert_eq!(stats.list_requests, 1, "{id}: one response");
        } else if sequential {
            assert_eq!(
                stats.max_lists_in_flight, 1,
                "{id}: pages follow one another"
            );
        } else {
            assert!(stats.max_lists_in_flight > 1, "{id}: {stats:?}");
            // The pages, the empty one that may end them, and at most `concurrency` past it.
            assert!(stats.list_requests <= pages + 1 + 4, "{id}: {stats:?}");
        }
    }
}

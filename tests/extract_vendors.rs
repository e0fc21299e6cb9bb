//! Each connector against the in-process sandbox gets exactly the sandbox's dataset (ids compared,
//! in order): plainly, under faults, with tokens expiring mid-run, and under a server-side rate
//! limit equal to its own (then without a single 429).

mod common;

use common::{extract_all, ids, sandbox, source};
use customer_export::sandbox::{SandboxConfig, expected_records};

struct Case {
    vendor: &'static str,
    key: &'static str,
    /// Source keys beyond base_url and auth.
    extra: &'static str,
    /// The query the connector sends that changes the dataset or its order.
    filters: &'static [(&'static str, &'static str)],
}

const CASES: [Case; 5] = [
    Case {
        vendor: "c3",
        key: "CustomerID",
        extra: "",
        filters: &[],
    },
    Case {
        vendor: "crayon",
        key: "Id",
        extra: "    filters:\n      organizationId: 4703\n    page_size: 25",
        filters: &[("organizationId", "4703")],
    },
    Case {
        vendor: "valomnia",
        key: "id",
        extra: "    page_size: 30",
        filters: &[],
    },
    Case {
        vendor: "appxite",
        key: "customerId",
        extra: "    organization_id: 97ab7e3c-74cb-4a72-a2c4-144a8996b7f9\n    referer: https://test.local\n    page_size: 40\n    filters:\n      includeTenants: true",
        filters: &[("includeTenants", "true")],
    },
    Case {
        vendor: "adobe_vipmp",
        key: "customerId",
        extra: "    reseller_id: \"1000396138\"\n    page_size: 20",
        filters: &[("order-by", "asc")],
    },
];

fn expected(case: &Case, config: &SandboxConfig) -> Vec<String> {
    let filters: Vec<(String, String)> = case
        .filters
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    ids(
        &expected_records(case.vendor, config, &filters).unwrap(),
        case.key,
    )
}

fn config(customers: u64) -> SandboxConfig {
    SandboxConfig {
        customers,
        ..SandboxConfig::default()
    }
}

async fn check(
    case: &Case,
    config: SandboxConfig,
    extra: &str,
) -> customer_export::sandbox::VendorStats {
    let sandbox = sandbox(config.clone()).await;
    let src = source(&sandbox, case.vendor, &format!("{}\n{extra}", case.extra));
    let (records, extracted) = extract_all(&src)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", case.vendor));
    let want = expected(case, &config);
    assert!(
        !want.is_empty(),
        "{}: the sandbox serves nothing",
        case.vendor
    );
    assert_eq!(ids(&records, case.key), want, "{}: ids differ", case.vendor);
    if let Some(total) = extracted.counts.api_total {
        assert_eq!(total, want.len() as u64, "{}", case.vendor);
    }
    let stats = sandbox.stats().vendors[case.vendor].clone();
    sandbox.shutdown().await;
    stats
}

#[tokio::test]
async fn every_vendor_yields_exactly_the_sandbox_dataset() {
    for case in &CASES {
        let stats = check(case, config(230), "").await;
        assert_eq!(stats.faults, 0);
    }
}

#[tokio::test]
async fn every_vendor_survives_faults() {
    for case in &CASES {
        for seed in [1, 2] {
            let config = SandboxConfig {
                faults: 0.2,
                seed,
                slow_ms: 20,
                ..config(230)
            };
            let stats = check(case, config, "    max_attempts: 6").await;
            assert_eq!(stats.duplicate_request_ids, 0, "{}", case.vendor);
        }
    }
}

#[tokio::test]
async fn tokens_expiring_mid_run_are_refreshed() {
    for case in CASES.iter().filter(|c| c.vendor != "c3") {
        // 1 s tokens, a run of several seconds: the client must re-authenticate on the way.
        let config = SandboxConfig {
            token_ttl_secs: 1,
            ..config(230)
        };
        let stats = check(case, config, "    rate_limit: 4/s\n    concurrency: 2").await;
        assert!(stats.tokens_issued >= 2, "{}: {stats:?}", case.vendor);
    }
}

#[tokio::test]
async fn a_rate_limit_equal_to_the_servers_draws_no_429() {
    for case in &CASES {
        let config = SandboxConfig {
            rate_limit: Some(20.0),
            ..config(230)
        };
        let stats = check(case, config, "    rate_limit: 20/s").await;
        assert_eq!(stats.rate_limited, 0, "{}: {stats:?}", case.vendor);
    }
}

#[tokio::test]
async fn adobe_request_ids_are_never_repeated_even_on_retries() {
    let case = &CASES[4];
    let config = SandboxConfig {
        faults: 0.3,
        seed: 7,
        slow_ms: 10,
        ..config(400)
    };
    let stats = check(case, config, "    max_attempts: 8").await;
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
    assert_eq!(ids(&records, "id"), expected(&CASES[2], &config));
    assert!(extracted.counts.duplicates > 0, "{:?}", extracted.counts);
}

#[tokio::test]
async fn valomnia_static_token_works() {
    let sandbox = sandbox(config(50)).await;
    let token = sandbox
        .config()
        .credentials
        .valomnia
        .static_token
        .expose()
        .to_string();
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
        c3_application_error: true,
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
    src.auth.password = Some(customer_export::secret::Secret::new("wrong-password"));
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
    src.reseller_id = Some("no-such-reseller".into());
    let err = extract_all(&src).await.unwrap_err().to_string();
    assert!(err.contains("code"), "{err}");
    assert_eq!(
        sandbox.stats().vendors["adobe_vipmp"].list_requests,
        1,
        "a 4xx is not retried"
    );
}

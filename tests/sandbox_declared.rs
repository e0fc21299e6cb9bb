//! The emulations of the vendors declared in YAML (Pax8, Microsoft Partner Center), seen from a
//! plain HTTP client: each vendor's real auth flow and full paging reproduce `expected_records`,
//! every documented error answers as the vendor would, and faults, rate limits and token expiry
//! behave as each vendor's do.

use std::collections::HashSet;
use std::time::Duration;

use customer_export::sandbox::{Sandbox, SandboxConfig, expected_records};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

#[path = "common/http.rs"]
mod http;

use http::{client, config, pairs, send};

// ------------------------------------------------------------------------------------------------
// Pax8

fn pax8_token_request(sb: &Sandbox) -> Value {
    json!({
        "client_id": sb.credential("pax8", "auth.client_id"),
        "client_secret": sb.credential("pax8", "auth.client_secret"),
        "audience": "api://p8p.client",
        "grant_type": "client_credentials",
    })
}

async fn pax8_token(sb: &Sandbox, http: &Client, attempts: u32) -> String {
    let url = sb.token_url("pax8").expect("pax8 has a token url");
    let request = pax8_token_request(sb);
    let (status, body, _) = send(attempts, || http.post(&url).json(&request).send()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

fn pax8_list_url(sb: &Sandbox) -> String {
    format!("{}/v1/companies", sb.base_url("pax8"))
}

/// Every company, page by page from 0, until `number + 1 >= totalPages`; checks the paging block.
async fn fetch_pax8(
    sb: &Sandbox,
    http: &Client,
    attempts: u32,
    query: &[(&str, &str)],
) -> Vec<Value> {
    let token = pax8_token(sb, http, attempts).await;
    let url = pax8_list_url(sb);
    let mut records = Vec::new();
    for page in 0u64.. {
        let page_s = page.to_string();
        let (status, body, _) = send(attempts, || {
            http.get(&url)
                .bearer_auth(&token)
                .query(query)
                .query(&[("page", page_s.as_str()), ("size", "7")])
                .send()
        })
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let paging = &body["page"];
        assert_eq!(paging["number"], page);
        assert_eq!(paging["size"], 7);
        let total = paging["totalElements"].as_u64().expect("totalElements");
        let pages = paging["totalPages"].as_u64().expect("totalPages");
        assert_eq!(pages, total.div_ceil(7));
        records.extend(body["content"].as_array().expect("content").iter().cloned());
        if page + 1 >= pages {
            assert_eq!(records.len() as u64, total, "every record, once");
            break;
        }
    }
    records
}

#[tokio::test]
async fn pax8_full_export_matches_expected() {
    let sb = Sandbox::start(config(50)).await.expect("starts");
    let http = client();
    let got = fetch_pax8(&sb, &http, 1, &[]).await;
    assert_eq!(got.len(), 50);
    assert_eq!(
        got,
        expected_records("pax8", sb.config(), &[]).expect("expected")
    );
    let ids: HashSet<&str> = got.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids.len(), 50, "id unique");
    assert!(got.iter().all(|c| {
        c["address"]["country"].is_string()
            && c["billOnBehalfOfEnabled"].is_boolean()
            && c["updatedDate"]
                .as_str()
                .is_some_and(|d| d.ends_with("-0600"))
    }));
    // Filters and a sort, as the truth says.
    let q = [
        ("status", "Active"),
        ("sort", "name,desc"),
        ("selfServiceAllowed", "true"),
    ];
    let got = fetch_pax8(&sb, &http, 1, &q).await;
    let want = expected_records("pax8", sb.config(), &pairs(&q)).expect("expected");
    assert!(!want.is_empty() && want.len() < 50, "{}", want.len());
    assert_eq!(got, want);
    assert!(
        got.iter()
            .all(|c| c["status"] == "Active" && c["selfServiceAllowed"] == true)
    );
}

#[tokio::test]
async fn pax8_token_is_json_only_and_errors_are_auth0_shaped() {
    let sb = Sandbox::start(config(5)).await.expect("starts");
    let http = client();
    let url = sb.token_url("pax8").expect("url");
    let r = http
        .post(&url)
        .json(&pax8_token_request(&sb))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        body["expires_in"], 3600,
        "a number: the sandbox's token lifetime"
    );
    // The same credentials as a form: refused with Pax8's envelope.
    let r = http
        .post(&url)
        .form(&[
            ("client_id", sb.credential("pax8", "auth.client_id")),
            ("client_secret", sb.credential("pax8", "auth.client_secret")),
            ("audience", "api://p8p.client"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["type"], "UNSUPPORTED_MEDIA_TYPE");
    assert_eq!(body["status"], 415);
    let cases = [
        (
            "client_secret",
            json!("wrong"),
            StatusCode::UNAUTHORIZED,
            "access_denied",
        ),
        (
            "audience",
            json!("api://usage"),
            StatusCode::FORBIDDEN,
            "access_denied",
        ),
        (
            "audience",
            json!("api://nope"),
            StatusCode::FORBIDDEN,
            "access_denied",
        ),
        (
            "grant_type",
            json!("password"),
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
    ];
    for (key, value, status, error) in cases {
        let mut request = pax8_token_request(&sb);
        request[key] = value;
        let r = http.post(&url).json(&request).send().await.expect("sent");
        assert_eq!(r.status(), status, "{key}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["error"], error, "{key}");
        assert!(body["error_description"].is_string());
    }
    let mut request = pax8_token_request(&sb);
    request["client_secret"] = json!("wrong");
    let body: Value = http
        .post(&url)
        .json(&request)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(
        body,
        json!({"error": "access_denied", "error_description": "Unauthorized"})
    );
    // The other documented partner audience works too.
    request = pax8_token_request(&sb);
    request["audience"] = json!("https://api.pax8.com");
    let r = http.post(&url).json(&request).send().await.expect("sent");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(sb.stats().vendors["pax8"].tokens_issued, 2);
}

#[tokio::test]
async fn pax8_list_errors_use_the_documented_envelope() {
    let sb = Sandbox::start(config(12)).await.expect("starts");
    let http = client();
    let url = pax8_list_url(&sb);
    let r = http.get(&url).send().await.expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().contains_key("www-authenticate"));
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["type"], "UNAUTHORIZED");
    assert_eq!(body["status"], 401);
    assert!(body["instance"].is_string() && body["details"].is_array());
    let token = pax8_token(&sb, &http, 1).await;
    for bad in [
        ("size", "201"),
        ("size", "0"),
        ("page", "-1"),
        ("sort", "id,asc"),
        ("status", "Suspended"),
        ("billOnBehalfOfEnabled", "maybe"),
    ] {
        let r = http
            .get(&url)
            .bearer_auth(&token)
            .query(&[bad])
            .send()
            .await
            .expect("sent");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["type"], "BAD_REQUEST", "{bad:?}");
        assert_eq!(body["status"], 400);
        assert!(body["message"].as_str().is_some_and(|m| m.contains(bad.0)));
    }
    // The largest page, the default page, a page past the end, an unknown parameter.
    let get = |query: Vec<(&'static str, &'static str)>| {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        async move {
            let r = http
                .get(&url)
                .bearer_auth(&token)
                .query(&query)
                .send()
                .await
                .expect("sent");
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.expect("json")
        }
    };
    let body = get(vec![("size", "200"), ("whatever", "1")]).await;
    assert_eq!(body["content"].as_array().map(Vec::len), Some(12));
    let body = get(vec![]).await;
    assert_eq!(
        body["content"].as_array().map(Vec::len),
        Some(10),
        "size 10 by default"
    );
    assert_eq!(
        body["page"],
        json!({"size": 10, "totalElements": 12, "totalPages": 2, "number": 0})
    );
    let body = get(vec![("page", "5")]).await;
    assert_eq!(body["content"], json!([]));
    assert_eq!(body["page"]["totalElements"], 12);
}

// ------------------------------------------------------------------------------------------------
// Microsoft Partner Center

async fn partner_center_token(sb: &Sandbox, http: &Client, attempts: u32) -> String {
    let url = sb.token_url("partner_center").expect("token url");
    let (status, body, _) = send(attempts, || {
        http.post(&url)
            .form(&[
                ("grant_type", "client_credentials"),
                (
                    "client_id",
                    sb.credential("partner_center", "auth.client_id"),
                ),
                (
                    "client_secret",
                    sb.credential("partner_center", "auth.client_secret"),
                ),
                ("resource", "https://api.partnercenter.microsoft.com"),
            ])
            .send()
    })
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// Every customer: the first page, then `links.next` with its headers until there is none.
/// `links.next.uri` is resolved against the base URL by appending it, as a connector with a
/// `base_url` does. Returns the records and the pages' `totalCount`s.
async fn fetch_partner_center(
    sb: &Sandbox,
    http: &Client,
    attempts: u32,
    first: &str,
) -> (Vec<Value>, Vec<u64>) {
    let token = partner_center_token(sb, http, attempts).await;
    let base = sb.base_url("partner_center");
    let mut url = format!("{base}{first}");
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut records = Vec::new();
    let mut counts = Vec::new();
    loop {
        let (status, body, _) = send(attempts, || {
            let mut rb = http.get(&url).bearer_auth(&token);
            for (k, v) in &headers {
                rb = rb.header(k, v);
            }
            rb.send()
        })
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["items"].as_array().expect("items");
        let count = body["totalCount"].as_u64().expect("totalCount");
        assert_eq!(count, items.len() as u64, "totalCount counts this page");
        assert_eq!(body["attributes"]["objectType"], "Collection");
        counts.push(count);
        records.extend(items.iter().cloned());
        let Some(next) = body["links"].get("next") else {
            break;
        };
        url = format!("{base}{}", next["uri"].as_str().expect("next uri"));
        headers = next["headers"]
            .as_array()
            .expect("next headers")
            .iter()
            .map(|h| {
                let key = h["key"].as_str().expect("key").to_string();
                (key, h["value"].as_str().expect("value").to_string())
            })
            .collect();
    }
    (records, counts)
}

#[tokio::test]
async fn partner_center_continuation_paging_returns_every_customer_once() {
    let sb = Sandbox::start(config(45)).await.expect("starts");
    let http = client();
    let (got, counts) = fetch_partner_center(&sb, &http, 1, "/v1/customers?size=7").await;
    assert_eq!(counts, vec![7, 7, 7, 7, 7, 7, 3]);
    let want = expected_records("partner_center", sb.config(), &[]).expect("expected");
    assert_eq!(got, want);
    let ids: HashSet<&str> = got.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids.len(), 45, "every customer exactly once");
    assert!(got.iter().all(|c| {
        c["companyProfile"]["domain"]
            .as_str()
            .is_some_and(|d| d.ends_with(".onmicrosoft.com"))
    }));
    // The documented link shape, and the same token for the same position every time.
    let token = partner_center_token(&sb, &http, 1).await;
    let url = format!("{}/v1/customers?size=7", sb.base_url("partner_center"));
    let first = |token: String| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let r = http
                .get(&url)
                .bearer_auth(token)
                .send()
                .await
                .expect("sent");
            r.json::<Value>().await.expect("json")
        }
    };
    let a = first(token.clone()).await;
    let b = first(token).await;
    assert_eq!(a, b);
    let next = &a["links"]["next"];
    assert_eq!(next["uri"], "/v1/customers?size=7&seekOperation=Next");
    assert_eq!(next["method"], "GET");
    assert_eq!(next["headers"][0]["key"], "MS-ContinuationToken");
    assert_eq!(a["links"]["self"]["uri"], "/v1/customers?size=7");
}

#[tokio::test]
async fn partner_center_pages_hold_at_most_500_and_filters_carry_over() {
    let sb = Sandbox::start(config(1100)).await.expect("starts");
    let http = client();
    let (got, counts) = fetch_partner_center(&sb, &http, 1, "/v1/customers").await;
    assert_eq!(counts, vec![500, 500, 100], "500 by default");
    assert_eq!(got.len(), 1100);
    let (_, counts) = fetch_partner_center(&sb, &http, 1, "/v1/customers?size=2000").await;
    assert_eq!(counts, vec![500, 500, 100], "capped at 500");
    let (_, counts) = fetch_partner_center(&sb, &http, 1, "/v1/customers?size=0").await;
    assert_eq!(counts, vec![500, 500, 100], "size=0 is the default");
    // A filter, paged with its links: the truth for that filter.
    let all = expected_records("partner_center", sb.config(), &[]).expect("all");
    let reseller = all
        .iter()
        .find_map(|c| c["associatedPartnerId"].as_str())
        .expect("an indirect reseller");
    let filter =
        format!(r#"{{"Field":"IndirectReseller","Value":"{reseller}","Operator":"starts_with"}}"#);
    let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    let (got, counts) = fetch_partner_center(
        &sb,
        &http,
        1,
        &format!("/v1/customers?size=25&filter={encoded}"),
    )
    .await;
    let want = expected_records(
        "partner_center",
        sb.config(),
        &pairs(&[("filter", &filter)]),
    )
    .expect("filtered");
    assert!(counts.len() > 1, "several pages: {counts:?}");
    assert_eq!(got, want);
    assert!(got.iter().all(|c| c["associatedPartnerId"] == reseller));
}

#[tokio::test]
async fn partner_center_refuses_bad_continuations_and_parameters() {
    let sb = Sandbox::start(config(30)).await.expect("starts");
    let http = client();
    let token = partner_center_token(&sb, &http, 1).await;
    let base = sb.base_url("partner_center");
    let get = |path: String, continuation: Option<String>| {
        let (http, token, url) = (http.clone(), token.clone(), format!("{base}{path}"));
        async move {
            let mut rb = http.get(&url).bearer_auth(token);
            if let Some(c) = continuation {
                rb = rb.header("MS-ContinuationToken", c);
            }
            let r = rb.send().await.expect("sent");
            let status = r.status();
            (status, r.json::<Value>().await.expect("json"))
        }
    };
    let (_, first) = get("/v1/customers?size=10".into(), None).await;
    let good = first["links"]["next"]["headers"][0]["value"]
        .as_str()
        .expect("token")
        .to_string();
    let next = "/v1/customers?size=10&seekOperation=Next".to_string();
    let (status, body) = get(next.clone(), Some(good.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["totalCount"], 10);
    // Names and values match case-insensitively, as ASP.NET binds them.
    let (status, _) = get(
        "/v1/customers?SIZE=10&seekoperation=next".into(),
        Some(good.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let filtered = format!(
        "{next}&filter={}",
        url::form_urlencoded::byte_serialize(
            br#"{"Field":"CompanyName","Value":"C","Operator":"starts_with"}"#
        )
        .collect::<String>()
    );
    let cases = [
        (next.clone(), Some("garbled".to_string())),
        (next.clone(), Some(format!("A{good}"))),
        (next.clone(), None),
        (filtered, Some(good.clone())),
        (
            "/v1/customers?size=10&seekOperation=Previous".into(),
            Some(good),
        ),
        ("/v1/customers?size=-1".into(), None),
        ("/v1/customers?size=ten".into(), None),
        ("/v1/customers?filter=%7B%7D".into(), None),
    ];
    for (path, continuation) in cases {
        let (status, body) = get(path.clone(), continuation).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(body["code"], 2000, "{path}");
        assert!(body["description"].is_string() && body["source"].is_string());
        assert_eq!(body["data"], json!([]));
    }
    // No token; another vendor's token.
    let r = http
        .get(format!("{base}/v1/customers"))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().contains_key("www-authenticate"));
    assert_eq!(r.json::<Value>().await.expect("json")["code"], 800001);
    let other = pax8_token(&sb, &http, 1).await;
    let r = http
        .get(format!("{base}/v1/customers"))
        .bearer_auth(other)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.expect("json")["code"], 900420);
}

#[tokio::test]
async fn partner_center_token_is_azure_ad_v1_for_its_resource() {
    let sb = Sandbox::start(config(5)).await.expect("starts");
    let http = client();
    let url = sb.token_url("partner_center").expect("url");
    assert!(url.contains("/partner-center-aad/sandbox-partner-center-tenant/oauth2/token"));
    let form = |resource: &'static str, secret: &'static str| {
        let (http, url) = (http.clone(), url.clone());
        let client_id = sb
            .credential("partner_center", "auth.client_id")
            .to_string();
        let secret = if secret.is_empty() {
            sb.credential("partner_center", "auth.client_secret")
                .to_string()
        } else {
            secret.to_string()
        };
        async move {
            let r = http
                .post(&url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id.as_str()),
                    ("client_secret", secret.as_str()),
                    ("resource", resource),
                ])
                .send()
                .await
                .expect("sent");
            (r.status(), r.json::<Value>().await.expect("json"))
        }
    };
    let (status, body) = form("https://api.partnercenter.microsoft.com", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expires_in"], "3599", "numbers as strings");
    assert!(
        body["expires_on"]
            .as_str()
            .is_some_and(|s| s.parse::<u64>().is_ok())
    );
    assert_eq!(body["resource"], "https://api.partnercenter.microsoft.com");
    let (status, body) = form("https://graph.windows.net", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_resource");
    assert_eq!(body["error_codes"][0], 500011);
    let (status, body) = form("https://api.partnercenter.microsoft.com", "wrong").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    // A v2-style scope names the same resource.
    let r = http
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            (
                "client_id",
                sb.credential("partner_center", "auth.client_id"),
            ),
            (
                "client_secret",
                sb.credential("partner_center", "auth.client_secret"),
            ),
            ("scope", "https://api.partnercenter.microsoft.com/.default"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn partner_center_next_links_also_resolve_against_the_host() {
    let sb = Sandbox::start(config(12)).await.expect("starts");
    let http = client();
    let token = partner_center_token(&sb, &http, 1).await;
    let base = url::Url::parse(&sb.base_url("partner_center")).expect("url");
    let first = base
        .join("/partner-center/v1/customers?size=5")
        .expect("url");
    let body: Value = http
        .get(first)
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let next = &body["links"]["next"];
    // RFC 3986: a path-absolute reference replaces the base URL's path.
    let url = base.join(next["uri"].as_str().expect("uri")).expect("url");
    assert_eq!(url.path(), "/v1/customers");
    let r = http
        .get(url)
        .bearer_auth(&token)
        .header(
            "MS-ContinuationToken",
            next["headers"][0]["value"].as_str().expect("token"),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::OK);
    let page: Value = r.json().await.expect("json");
    let want = expected_records("partner_center", sb.config(), &[]).expect("expected");
    assert_eq!(page["items"].as_array().expect("items")[..], want[5..10]);
}

// ------------------------------------------------------------------------------------------------
// Both: token expiry, rate limits, faults.

#[tokio::test]
async fn expired_tokens_get_each_vendors_401() {
    let sb = Sandbox::start(SandboxConfig {
        customers: 5,
        token_ttl_secs: 1,
        ..SandboxConfig::default()
    })
    .await
    .expect("starts");
    let http = client();
    let pax8 = pax8_token(&sb, &http, 1).await;
    let pc = partner_center_token(&sb, &http, 1).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = http
        .get(pax8_list_url(&sb))
        .bearer_auth(&pax8)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .is_ok_and(|v| v.contains("invalid_token"))
    );
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["type"], "UNAUTHORIZED");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired"))
    );
    let r = http
        .get(format!("{}/v1/customers", sb.base_url("partner_center")))
        .bearer_auth(&pc)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["code"], 900420);
    assert!(
        body["description"]
            .as_str()
            .is_some_and(|m| m.contains("expired"))
    );
    let stats = sb.stats();
    assert_eq!(stats.vendors["pax8"].unauthorized, 1);
    assert_eq!(stats.vendors["partner_center"].unauthorized, 1);
    // A fresh token works again.
    let pax8 = pax8_token(&sb, &http, 1).await;
    let r = http
        .get(pax8_list_url(&sb))
        .bearer_auth(&pax8)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn rate_limits_answer_each_vendors_429() {
    let sb = Sandbox::start(SandboxConfig {
        customers: 5,
        rate_limit: Some(1.0),
        ..SandboxConfig::default()
    })
    .await
    .expect("starts");
    let http = client();
    let _ = http.get(pax8_list_url(&sb)).send().await.expect("sent");
    let r = http.get(pax8_list_url(&sb)).send().await.expect("sent");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        !r.headers().contains_key("retry-after"),
        "Pax8 documents no Retry-After"
    );
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["type"], "TOO_MANY_REQUESTS");
    assert_eq!(body["status"], 429);
    let url = format!("{}/v1/customers", sb.base_url("partner_center"));
    let _ = http.get(&url).send().await.expect("sent");
    let r = http.get(&url).send().await.expect("sent");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.headers()["retry-after"].to_str().ok(),
        Some("1"),
        "Partner Center always sends Retry-After"
    );
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["statusCode"], 429);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Rate limit is exceeded. Try again in"))
    );
    let stats = sb.stats();
    assert_eq!(stats.vendors["pax8"].rate_limited, 1);
    assert_eq!(stats.vendors["partner_center"].rate_limited, 1);
}

#[tokio::test]
async fn faults_with_three_attempts_still_reproduce_both_datasets() {
    let sb = Sandbox::start(SandboxConfig {
        customers: 60,
        faults: 0.5,
        slow_ms: 20,
        ..SandboxConfig::default()
    })
    .await
    .expect("starts");
    let http = client();
    assert_eq!(
        fetch_pax8(&sb, &http, 3, &[]).await,
        expected_records("pax8", sb.config(), &[]).expect("pax8")
    );
    let (got, _) = fetch_partner_center(&sb, &http, 3, "/v1/customers?size=7").await;
    assert_eq!(
        got,
        expected_records("partner_center", sb.config(), &[]).expect("partner center")
    );
    let stats = sb.stats();
    let faults = stats.vendors["pax8"].faults + stats.vendors["partner_center"].faults;
    assert!(faults >= 3, "faults were injected: {faults}");
}

//! The sandbox seen from a plain HTTP client: every vendor's real auth flow and full paging must
//! reproduce `expected_records`, and every documented error or quirk answers as the vendor would.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use customer_export::model::Secret;
use customer_export::sandbox::{self, Sandbox, SandboxConfig, expected_records};
use reqwest::{Client, StatusCode};
use serde_json::Value;

#[path = "common/http.rs"]
mod http;

use http::{client, config, pairs, send};

/// The values a vendor's emulation accepts, by the names its requests use.
struct Creds {
    client_id: String,
    client_secret: Secret,
    username: String,
    password: Secret,
    resource: String,
    subscription_key: Secret,
    reseller_id: String,
    static_token: Secret,
}

fn creds(sb: &Sandbox, vendor: &str) -> Creds {
    let text = |key: &str| sb.credential(vendor, key).to_string();
    let secret = |key: &str| Secret::new(text(key));
    Creds {
        client_id: text("auth.client_id"),
        client_secret: secret("auth.client_secret"),
        username: text("auth.username"),
        password: secret("auth.password"),
        resource: text("auth.resource"),
        subscription_key: secret("auth.subscription_key"),
        reseller_id: text("reseller_id"),
        static_token: secret("auth.token"),
    }
}

async fn c3_token(sb: &Sandbox, http: &Client, attempts: u32) -> String {
    let creds = creds(sb, "c3");
    let url = sb.token_url("c3").expect("c3 has a token url");
    let (status, body, _) = send(attempts, || {
        http.post(&url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", creds.client_id.as_str()),
                ("client_secret", creds.client_secret.expose()),
                ("resource", creds.resource.as_str()),
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

async fn fetch_c3(sb: &Sandbox, http: &Client, attempts: u32) -> Vec<Value> {
    let token = c3_token(sb, http, attempts).await;
    let url = format!("{}/api/activecustomers/v5", sb.base_url("c3"));
    let (status, body, _) = send(attempts, || http.get(&url).bearer_auth(&token).send()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["Status"], "Success");
    body["Data"].as_array().expect("Data array").clone()
}

async fn crayon_token(sb: &Sandbox, http: &Client, attempts: u32) -> Value {
    let creds = creds(sb, "crayon");
    let url = sb.token_url("crayon").expect("crayon token url");
    let (_, body, _) = send(attempts, || {
        http.post(&url)
            .basic_auth(&creds.client_id, Some(creds.client_secret.expose()))
            .form(&[
                ("grant_type", "password"),
                ("username", creds.username.as_str()),
                ("password", creds.password.expose()),
                ("scope", "CustomerApi"),
            ])
            .send()
    })
    .await;
    body
}

async fn fetch_crayon(
    sb: &Sandbox,
    http: &Client,
    attempts: u32,
    filters: &[(&str, &str)],
) -> Vec<Value> {
    let token = crayon_token(sb, http, attempts).await["AccessToken"]
        .as_str()
        .expect("token")
        .to_string();
    let url = format!("{}/api/v1/customertenants/", sb.base_url("crayon"));
    let mut records = Vec::new();
    for page in 1.. {
        let page_s = page.to_string();
        let (status, body, _) = send(attempts, || {
            http.get(&url)
                .bearer_auth(&token)
                .query(filters)
                .query(&[("page", page_s.as_str()), ("pageSize", "7")])
                .send()
        })
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["Items"].as_array().expect("Items").clone();
        let total = body["TotalHits"].as_u64().expect("TotalHits");
        let done = items.is_empty() || page * 7 >= total;
        records.extend(items);
        if done {
            break;
        }
    }
    records
}

async fn valomnia_token(sb: &Sandbox, http: &Client, attempts: u32) -> String {
    let creds = creds(sb, "valomnia");
    let base = sb.base_url("valomnia");
    let (status, _, headers) = send(attempts, || {
        http.post(format!("{base}/j_spring_security_check"))
            .form(&[
                ("j_username", creds.username.as_str()),
                ("j_password", creds.password.expose()),
                ("ajax", "true"),
            ])
            .send()
    })
    .await;
    assert_eq!(status, StatusCode::FOUND);
    let cookie = headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("JSESSIONID cookie")
        .to_string();
    assert!(cookie.starts_with("JSESSIONID="), "{cookie}");
    let (status, body, _) = send(attempts, || {
        http.get(format!("{base}/login/ajaxSuccess"))
            .header("Cookie", &cookie)
            .send()
    })
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    body["token"].as_str().expect("token").to_string()
}

async fn fetch_valomnia(
    sb: &Sandbox,
    http: &Client,
    attempts: u32,
    query: &str,
) -> (Vec<Value>, u64) {
    let token = valomnia_token(sb, http, attempts).await;
    let base = sb.base_url("valomnia");
    let mut url = format!("{base}/api/v1.0/customers?max=7{query}");
    let mut records: Vec<Value> = Vec::new();
    let mut seen = HashSet::new();
    let mut pages = 0;
    loop {
        let (status, body, _) = send(attempts, || http.get(&url).bearer_auth(&token).send()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        for r in body["data"].as_array().expect("data") {
            if seen.insert(r["id"].as_u64().expect("numeric id")) {
                records.push(r.clone());
            }
        }
        match body["paging"]["next"].as_str() {
            Some(next) => url = format!("{base}{next}"),
            None => break,
        }
    }
    (records, pages)
}

async fn appxite_token(sb: &Sandbox, http: &Client, attempts: u32) -> String {
    let creds = creds(sb, "appxite");
    let url = sb.token_url("appxite").expect("appxite token url");
    let (status, body, _) = send(attempts, || {
        http.post(&url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", creds.client_id.as_str()),
                ("client_secret", creds.client_secret.expose()),
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

const DISTRIBUTOR: &str = "97ab7e3c-74cb-4a72-a2c4-144a8996b7f9";
const ALL_INCLUDES: [(&str, &str); 5] = [
    ("includeAddresses", "true"),
    ("includeContacts", "true"),
    ("includeCustomProperties", "true"),
    ("includeTenants", "true"),
    ("IncludeIndustries", "true"),
];

async fn fetch_appxite(
    sb: &Sandbox,
    http: &Client,
    attempts: u32,
    query: &[(&str, &str)],
) -> Vec<Value> {
    let token = appxite_token(sb, http, attempts).await;
    let key = creds(sb, "appxite").subscription_key.expose().to_string();
    let url = format!(
        "{}/distis/organizations/details/{DISTRIBUTOR}",
        sb.base_url("appxite")
    );
    let mut records = Vec::new();
    for page in 1.. {
        let page_s = page.to_string();
        let (status, body, _) = send(attempts, || {
            http.get(&url)
                .bearer_auth(&token)
                .header("Ocp-Apim-Subscription-Key", &key)
                .header("X-Referer", "https://example.com")
                .query(query)
                .query(&[("page", page_s.as_str()), ("pageSize", "7")])
                .send()
        })
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body.as_array().expect("a bare JSON array").clone();
        let short = items.len() < 7;
        records.extend(items);
        if short {
            break;
        }
    }
    records
}

async fn adobe_token(sb: &Sandbox, http: &Client, attempts: u32) -> String {
    let creds = creds(sb, "adobe_vipmp");
    let url = sb.token_url("adobe_vipmp").expect("adobe token url");
    let (status, body, _) = send(attempts, || {
        http.post(&url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", creds.client_id.as_str()),
                ("client_secret", creds.client_secret.expose()),
                ("scope", "openid,AdobeID,read_organizations"),
            ])
            .send()
    })
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "bearer");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

fn adobe_list_url(sb: &Sandbox) -> String {
    let reseller = &creds(sb, "adobe_vipmp").reseller_id;
    format!(
        "{}/v3/resellers/{reseller}/customers",
        sb.base_url("adobe_vipmp")
    )
}

async fn fetch_adobe(
    sb: &Sandbox,
    http: &Client,
    attempts: u32,
    query: &[(&str, &str)],
) -> Vec<Value> {
    let token = adobe_token(sb, http, attempts).await;
    let client_id = creds(sb, "adobe_vipmp").client_id.clone();
    let url = adobe_list_url(sb);
    let mut records = Vec::new();
    let mut offset = 0u64;
    loop {
        let offset_s = offset.to_string();
        let (status, body, _) = send(attempts, || {
            http.get(&url)
                .bearer_auth(&token)
                .header("X-Api-Key", &client_id)
                .header("X-Request-Id", uuid::Uuid::new_v4().to_string())
                .query(query)
                .query(&[("offset", offset_s.as_str()), ("limit", "7")])
                .send()
        })
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let accounts = body["accounts"].as_array().expect("accounts").clone();
        let count = body["count"].as_u64().expect("count");
        let total = body["totalCount"].as_u64().expect("totalCount");
        assert_eq!(count, accounts.len() as u64);
        records.extend(accounts);
        offset += count;
        if count == 0 || offset >= total {
            break;
        }
    }
    records
}

// ------------------------------------------------------------------------------------------------
// Full exports reproduce expected_records.

#[tokio::test]
async fn c3_full_export_matches_expected() {
    let sb = Sandbox::start(config(40)).await.expect("starts");
    let got = fetch_c3(&sb, &client(), 1).await;
    let want = expected_records("c3", sb.config(), &[]).expect("expected");
    assert_eq!(got.len(), 40);
    assert_eq!(got, want);
    let ids: HashSet<&str> = got
        .iter()
        .filter_map(|r| r["CustomerID"].as_str())
        .collect();
    assert_eq!(ids.len(), 40, "CustomerID unique");
    assert!(got.iter().any(|r| {
        r["CustomerID"]
            .as_str()
            .is_some_and(|id| uuid::Uuid::parse_str(id).is_err())
    }));
    assert!(
        got.iter().any(|r| r["EmailAddresses"].is_null())
            || got.iter().any(|r| r["EmailAddresses"] == "")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn crayon_full_export_matches_expected() {
    let sb = Sandbox::start(config(60)).await.expect("starts");
    let http = client();
    let got = fetch_crayon(&sb, &http, 1, &[("organizationId", "4703")]).await;
    let want = expected_records("crayon", sb.config(), &pairs(&[("organizationId", "4703")]))
        .expect("expected");
    assert!(
        got.len() > 40 && got.len() < 60,
        "4703 holds most customers: {}",
        got.len()
    );
    assert_eq!(got, want);
    assert!(got.iter().all(|r| r["Organization"]["Id"] == 4703));
    assert!(
        got[0].get("agreement").is_some() && got[0].get("DefaultSubscriptionPriceType").is_some()
    );
    let filtered = [("organizationId", "4703"), ("customerTenantType", "1")];
    let got = fetch_crayon(&sb, &http, 1, &filtered).await;
    assert_eq!(
        got,
        expected_records("crayon", sb.config(), &pairs(&filtered)).expect("expected")
    );
    assert!(!got.is_empty() && got.iter().all(|r| r["CustomerTenantType"] == 1));
}

#[tokio::test]
async fn valomnia_session_login_and_paging_match_expected() {
    let sb = Sandbox::start(config(50)).await.expect("starts");
    let http = client();
    let (got, pages) = fetch_valomnia(&sb, &http, 1, "").await;
    assert_eq!(pages, 8);
    assert_eq!(
        got,
        expected_records("valomnia", sb.config(), &[]).expect("expected")
    );
    let ids: Vec<u64> = got.iter().filter_map(|r| r["id"].as_u64()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "default sort is id asc"
    );
    // Filters and another sort, followed through `next` links that keep them.
    let (got, _) = fetch_valomnia(
        &sb,
        &http,
        1,
        "&sort=name&order=desc&isActive=true&name=*a*",
    )
    .await;
    let filters = pairs(&[
        ("sort", "name"),
        ("order", "desc"),
        ("isActive", "true"),
        ("name", "*a*"),
    ]);
    let want = expected_records("valomnia", sb.config(), &filters).expect("expected");
    assert!(!want.is_empty());
    assert_eq!(got, want);
    // The static token works too.
    let token = creds(&sb, "valomnia").static_token.expose().to_string();
    let r = http
        .get(format!("{}/api/v1.0/customers", sb.base_url("valomnia")))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn appxite_full_export_matches_expected() {
    let sb = Sandbox::start(config(45)).await.expect("starts");
    let http = client();
    let got = fetch_appxite(&sb, &http, 1, &ALL_INCLUDES).await;
    assert_eq!(
        got.len(),
        45,
        "the distributor sees every customer by default"
    );
    assert_eq!(
        got,
        expected_records("appxite", sb.config(), &pairs(&ALL_INCLUDES)).expect("expected")
    );
    assert!(
        got.iter()
            .all(|r| r.get("// Addresses") == Some(&Value::String(String::new())))
    );
    assert!(got.iter().any(|r| {
        r["customerTenants"]
            .as_array()
            .is_some_and(|t| t.is_empty())
    }));
    assert!(got.iter().any(|r| {
        r["customerTenants"]
            .as_array()
            .is_some_and(|t| t.len() >= 2)
    }));
    assert!(
        got.iter()
            .all(|r| r["customerIndustries"].is_array()
                && r["customerServiceDeskContact"].is_object())
    );
}

#[tokio::test]
async fn adobe_full_export_matches_expected_in_documented_order() {
    let sb = Sandbox::start(config(60)).await.expect("starts");
    let http = client();
    let got = fetch_adobe(&sb, &http, 1, &[]).await;
    let want = expected_records("adobe_vipmp", sb.config(), &[]).expect("expected");
    assert!(
        got.len() < 60 && got.len() > 20,
        "default status 1000 filters: {}",
        got.len()
    );
    assert_eq!(got, want);
    assert!(got.iter().all(|r| r["status"] == "1000"));
    let dates: Vec<&str> = got
        .iter()
        .filter_map(|r| r["creationDate"].as_str())
        .collect();
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "creationDate desc by default"
    );
    let q = [
        ("status", "1004"),
        ("sort-by", "companyName"),
        ("order-by", "asc"),
    ];
    let got = fetch_adobe(&sb, &http, 1, &q).await;
    assert_eq!(
        got,
        expected_records("adobe_vipmp", sb.config(), &pairs(&q)).expect("expected")
    );
}

// ------------------------------------------------------------------------------------------------
// C3 quirks.

#[tokio::test]
async fn c3_application_error_is_http_200_with_status_error() {
    let sb = Sandbox::start(SandboxConfig {
        customers: 5,
        application_error: vec!["c3".into()],
        ..SandboxConfig::default()
    })
    .await
    .expect("starts");
    let http = client();
    let token = c3_token(&sb, &http, 1).await;
    let r = http
        .get(format!("{}/api/activecustomers/v5", sb.base_url("c3")))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["Status"], "Error");
    assert!(body["Data"].is_null());
    assert!(body["ErrorMessage"].is_string() && body["RequestCorrelationID"].is_string());
}

#[tokio::test]
async fn c3_token_numbers_are_strings_and_errors_are_aad_shaped() {
    let sb = Sandbox::start(config(5)).await.expect("starts");
    let http = client();
    let creds = creds(&sb, "c3");
    let url = sb.token_url("c3").expect("url");
    let body: Value = http
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.expose()),
            ("resource", creds.resource.as_str()),
        ])
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(body["expires_in"], "3599");
    assert!(
        body["expires_on"]
            .as_str()
            .is_some_and(|s| s.parse::<u64>().is_ok())
    );
    assert_eq!(body["token_type"], "Bearer");
    let r = http
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", "wrong"),
            ("resource", creds.resource.as_str()),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "invalid_client");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.starts_with("AADSTS7000215"))
    );
    assert_eq!(body["error_codes"][0], 7000215);
    let r = http
        .get(format!("{}/api/activecustomers/v5", sb.base_url("c3")))
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .is_ok_and(|v| v.starts_with("Bearer "))
    );
}

// ------------------------------------------------------------------------------------------------
// Crayon quirks.

#[tokio::test]
async fn crayon_token_is_pascal_case_and_needs_basic_auth() {
    let sb = Sandbox::start(config(5)).await.expect("starts");
    let http = client();
    let body = crayon_token(&sb, &http, 1).await;
    assert!(body["AccessToken"].is_string() && body["Error"].is_null());
    assert_eq!(body["TokenType"], "Bearer");
    assert_eq!(body["ExpiresIn"], 3600);
    assert!(body.get("access_token").is_none());
    let creds = creds(&sb, "crayon");
    // Client id and secret in the form instead of Basic auth: rejected.
    let r = http
        .post(sb.token_url("crayon").expect("url"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.expose()),
            ("username", creds.username.as_str()),
            ("password", creds.password.expose()),
            ("scope", "CustomerApi"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.expect("json");
    assert!(body["Error"].is_string() && body["AccessToken"].is_null());
}

#[tokio::test]
async fn crayon_requires_organization_id() {
    let sb = Sandbox::start(config(5)).await.expect("starts");
    let http = client();
    let token = crayon_token(&sb, &http, 1).await["AccessToken"]
        .as_str()
        .expect("token")
        .to_string();
    let url = format!("{}/api/v1/customertenants/", sb.base_url("crayon"));
    for query in [
        vec![],
        vec![("organizationId", "abc")],
        vec![("organizationId", "4703"), ("pageSize", "1001")],
    ] {
        let r = http
            .get(&url)
            .bearer_auth(&token)
            .query(&query)
            .send()
            .await
            .expect("sent");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{query:?}");
        let body: Value = r.json().await.expect("json");
        assert!(
            body["ErrorCode"].is_string() && body["ObjectErrors"][0]["Message"].is_string(),
            "{body}"
        );
    }
    let r = http
        .get(&url)
        .bearer_auth(&token)
        .query(&[("organizationId", "4703"), ("customerTenantType", "9")])
        .send()
        .await;
    assert_eq!(r.expect("sent").status(), StatusCode::BAD_REQUEST);
    assert_eq!(sb.stats().vendors["crayon"].bad_requests, 4);
}

// ------------------------------------------------------------------------------------------------
// Valomnia quirks.

#[tokio::test]
async fn valomnia_rejects_unknown_params_and_bad_dates() {
    let sb = Sandbox::start(config(5)).await.expect("starts");
    let http = client();
    let token = creds(&sb, "valomnia").static_token.expose().to_string();
    let url = format!("{}/api/v1.0/customers", sb.base_url("valomnia"));
    let r = http
        .get(&url)
        .bearer_auth(&token)
        .query(&[("dateCreated_gta", "x")])
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "invalid_param");
    assert_eq!(
        body["error_description"],
        "The parameters [dateCreated_gta] you provided are not valid for this request."
    );
    let r = http
        .get(&url)
        .bearer_auth(&token)
        .query(&[("dateCreated_gt", "2016-08-1Z")])
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"], "invalid_datetime_format");
    assert_eq!(
        body["error_description"],
        "Invalid datetime filter (not ISO-8601 formatted): [2016-08-1Z]"
    );
    let r = http
        .get(&url)
        .bearer_auth(&token)
        .query(&[("max", "1001")])
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http
        .get(&url)
        .bearer_auth("nope")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"],
        "invalid_token"
    );
    // Bad login credentials: 401, no cookie.
    let r = http
        .post(format!(
            "{}/j_spring_security_check",
            sb.base_url("valomnia")
        ))
        .form(&[("j_username", "x"), ("j_password", "y"), ("ajax", "true")])
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn valomnia_live_inserts_repeat_rows_and_dedup_yields_the_base_set() {
    let sb = Sandbox::start(SandboxConfig {
        customers: 40,
        live_inserts: 3,
        ..SandboxConfig::default()
    })
    .await
    .expect("starts");
    let http = client();
    let token = creds(&sb, "valomnia").static_token.expose().to_string();
    let base = sb.base_url("valomnia");
    let mut url = format!("{base}/api/v1.0/customers?max=10&sort=id&order=asc");
    let (mut rows, mut totals) = (Vec::new(), Vec::new());
    loop {
        let body: Value = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        totals.push(body["paging"]["total"].as_u64().expect("total"));
        rows.extend(body["data"].as_array().expect("data").iter().cloned());
        match body["paging"]["next"].as_str() {
            Some(next) => url = format!("{base}{next}"),
            None => break,
        }
    }
    assert!(
        totals.windows(2).all(|w| w[1] == w[0] + 3),
        "total grows: {totals:?}"
    );
    let mut seen = HashSet::new();
    let unique: Vec<Value> = rows
        .iter()
        .filter(|r| seen.insert(r["id"].as_u64()))
        .cloned()
        .collect();
    assert!(rows.len() > unique.len(), "offset paging repeated rows");
    assert_eq!(
        unique,
        expected_records("valomnia", sb.config(), &[]).expect("expected")
    );
}

// ------------------------------------------------------------------------------------------------
// AppXite quirks.

#[tokio::test]
async fn appxite_needs_subscription_key_and_referer() {
    let sb = Sandbox::start(config(5)).await.expect("starts");
    let http = client();
    let token = appxite_token(&sb, &http, 1).await;
    let key = creds(&sb, "appxite").subscription_key.expose().to_string();
    let url = format!(
        "{}/distis/organizations/details/{DISTRIBUTOR}",
        sb.base_url("appxite")
    );
    let r = http
        .get(&url)
        .bearer_auth(&token)
        .header("X-Referer", "https://example.com")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["statusCode"], 401);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("missing subscription key"))
    );
    let r = http
        .get(&url)
        .bearer_auth(&token)
        .header("Ocp-Apim-Subscription-Key", "wrong")
        .header("X-Referer", "https://example.com")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http
        .get(&url)
        .bearer_auth(&token)
        .header("Ocp-Apim-Subscription-Key", &key)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http
        .get(&url)
        .bearer_auth(&token)
        .header("Ocp-Apim-Subscription-Key", &key)
        .header("X-Referer", "https://example.com")
        .query(&[("customerStatus", "Gone")])
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn appxite_bare_arrays_includes_and_child_organizations() {
    let sb = Sandbox::start(config(30)).await.expect("starts");
    let http = client();
    // Without include flags the blocks (and their junk keys) are absent.
    let plain = fetch_appxite(&sb, &http, 1, &[]).await;
    assert_eq!(plain.len(), 30);
    assert!(
        plain
            .iter()
            .all(|r| r.get("customerTenants").is_none() && r.get("// Addresses").is_none())
    );
    assert!(
        plain
            .iter()
            .all(|r| r["customerId"].is_string() && r["resellerId"].is_string())
    );
    // includeChildOrganizations=false: only the distributor's direct customers.
    let direct = fetch_appxite(&sb, &http, 1, &[("includeChildOrganizations", "false")]).await;
    assert_eq!(direct.len(), 3);
    assert!(direct.iter().all(|r| r["resellerId"] == DISTRIBUTOR));
    let filters = pairs(&[("includeChildOrganizations", "false")]);
    assert_eq!(
        direct,
        expected_records("appxite", sb.config(), &filters).expect("expected")
    );
    // The POST form with a list of organizations, and a page past the end is `[]`.
    let token = appxite_token(&sb, &http, 1).await;
    let key = creds(&sb, "appxite").subscription_key.expose().to_string();
    let resellers = [
        "e8dee4e8-3674-4063-ad3f-cbee1df74b33",
        "125fc22b-08ef-47b4-a339-5c45e49133d5",
    ];
    let post = |page: &'static str| {
        http.post(format!(
            "{}/api/v2/organizations/details",
            sb.base_url("appxite")
        ))
        .bearer_auth(&token)
        .header("Ocp-Apim-Subscription-Key", &key)
        .header("X-Referer", "https://example.com")
        .query(&[("includeTenants", "true"), ("page", page)])
        .json(&resellers)
        .send()
    };
    let body: Value = post("1").await.expect("sent").json().await.expect("json");
    let want = expected_records(
        "appxite",
        sb.config(),
        &pairs(&[
            ("organization_ids", &resellers.join(",")),
            ("includeTenants", "true"),
        ]),
    )
    .expect("expected");
    assert_eq!(body.as_array().expect("bare array"), &want);
    assert!(!want.is_empty() && want.len() < 30);
    let body: Value = post("2").await.expect("sent").json().await.expect("json");
    assert_eq!(body, Value::Array(vec![]));
}

// ------------------------------------------------------------------------------------------------
// Adobe quirks.

#[tokio::test]
async fn adobe_header_rules_limit_and_accounts_key() {
    let sb = Sandbox::start(config(30)).await.expect("starts");
    let http = client();
    let token = adobe_token(&sb, &http, 1).await;
    let client_id = creds(&sb, "adobe_vipmp").client_id.clone();
    let url = adobe_list_url(&sb);
    let get = |token: Option<&str>, key: Option<&str>, request_id: &str, query: &[(&str, &str)]| {
        let mut rb = http
            .get(&url)
            .header("X-Request-Id", request_id)
            .query(query);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(k) = key {
            rb = rb.header("X-Api-Key", k);
        }
        rb.send()
    };
    let r = get(Some(&token), Some(&client_id), "req-1", &[])
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("json");
    assert!(body["accounts"].is_array() && body.get("customers").is_none());
    assert_eq!(body["limit"], 20);
    // The same X-Request-Id again: 4120, counted.
    let r = get(Some(&token), Some(&client_id), "req-1", &[])
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.expect("json")["code"], "4120");
    assert_eq!(sb.stats().vendors["adobe_vipmp"].duplicate_request_ids, 1);
    let cases: [(Option<&str>, Option<&str>, StatusCode, &str); 4] = [
        (None, Some(&client_id), StatusCode::FORBIDDEN, "4117"),
        (Some(&token), None, StatusCode::FORBIDDEN, "4115"),
        (
            Some(&token),
            Some("other-key"),
            StatusCode::FORBIDDEN,
            "4115",
        ),
        (
            Some("bogus"),
            Some(&client_id),
            StatusCode::UNAUTHORIZED,
            "4116",
        ),
    ];
    for (k, (t, key, status, code)) in cases.into_iter().enumerate() {
        let r = get(t, key, &format!("case-{k}"), &[]).await.expect("sent");
        assert_eq!(r.status(), status, "case {k}");
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["code"], code, "case {k}");
        assert!(body["additionalDetails"].is_array());
    }
    for (k, q) in [
        ("limit", "51"),
        ("limit", "0"),
        ("status", "999"),
        ("order-by", "up"),
        ("from-created-date", "2025-13-01"),
    ]
    .into_iter()
    .enumerate()
    {
        let r = get(Some(&token), Some(&client_id), &format!("bad-{k}"), &[q])
            .await
            .expect("sent");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q:?}");
        assert!(r.json::<Value>().await.expect("json")["code"].is_string());
    }
    let r = get(Some(&token), Some(&client_id), "max", &[("limit", "50")])
        .await
        .expect("sent");
    let want = expected_records("adobe_vipmp", sb.config(), &[]).expect("expected");
    assert_eq!(
        r.json::<Value>().await.expect("json")["count"].as_u64(),
        Some(want.len().min(50) as u64)
    );
}

#[tokio::test]
async fn expired_tokens_get_the_vendors_401() {
    let sb = Sandbox::start(SandboxConfig {
        customers: 5,
        token_ttl_secs: 1,
        ..SandboxConfig::default()
    })
    .await
    .expect("starts");
    let http = client();
    let token = adobe_token(&sb, &http, 1).await;
    let c3 = c3_token(&sb, &http, 1).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = http
        .get(adobe_list_url(&sb))
        .bearer_auth(&token)
        .header("X-Api-Key", &creds(&sb, "adobe_vipmp").client_id)
        .header("X-Request-Id", "expired-1")
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.expect("json")["code"], "4116");
    let r = http
        .get(format!("{}/api/activecustomers/v5", sb.base_url("c3")))
        .bearer_auth(&c3)
        .send()
        .await
        .expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(sb.stats().vendors["c3"].unauthorized, 1);
}

// ------------------------------------------------------------------------------------------------
// Rate limits and faults.

#[tokio::test]
async fn rate_limit_answers_429_and_counts_it() {
    let sb = Sandbox::start(SandboxConfig {
        customers: 5,
        rate_limit: Some(2.0),
        ..SandboxConfig::default()
    })
    .await
    .expect("starts");
    let http = client();
    let url = format!(
        "{}/distis/organizations/details/{DISTRIBUTOR}",
        sb.base_url("appxite")
    );
    let mut throttled = 0;
    for _ in 0..5 {
        let r = http.get(&url).send().await.expect("sent");
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled += 1;
            assert!(
                r.headers().contains_key("retry-after"),
                "AppXite always sends Retry-After"
            );
            let body: Value = r.json().await.expect("json");
            assert!(
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("Rate limit is exceeded. Try again in"))
            );
        }
    }
    assert!(throttled >= 3, "{throttled}");
    let adobe = http.get(adobe_list_url(&sb)).send().await.expect("sent");
    let adobe2 = http.get(adobe_list_url(&sb)).send().await.expect("sent");
    assert_eq!(
        adobe2.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "first: {}",
        adobe.status()
    );
    assert!(
        !adobe2.headers().contains_key("retry-after"),
        "Adobe never sends Retry-After"
    );
    let stats = sb.stats();
    assert_eq!(stats.vendors["appxite"].rate_limited, throttled);
    assert_eq!(stats.vendors["adobe_vipmp"].rate_limited, 1);
}

#[tokio::test]
async fn faults_with_three_attempts_still_reproduce_every_dataset() {
    let sb = Sandbox::start(SandboxConfig {
        customers: 40,
        faults: 0.5,
        slow_ms: 20,
        ..SandboxConfig::default()
    })
    .await
    .expect("starts");
    let http = client();
    assert_eq!(
        fetch_c3(&sb, &http, 3).await,
        expected_records("c3", sb.config(), &[]).expect("c3")
    );
    let org = [("organizationId", "4703")];
    assert_eq!(
        fetch_crayon(&sb, &http, 3, &org).await,
        expected_records("crayon", sb.config(), &pairs(&org)).expect("crayon")
    );
    assert_eq!(
        fetch_appxite(&sb, &http, 3, &ALL_INCLUDES).await,
        expected_records("appxite", sb.config(), &pairs(&ALL_INCLUDES)).expect("ax")
    );
    assert_eq!(
        fetch_adobe(&sb, &http, 3, &[]).await,
        expected_records("adobe_vipmp", sb.config(), &[]).expect("adobe")
    );
    let token = creds(&sb, "valomnia").static_token.expose().to_string();
    let base = sb.base_url("valomnia");
    let mut url = format!("{base}/api/v1.0/customers?max=7");
    let mut rows = Vec::new();
    loop {
        let (_, body, _) = send(3, || http.get(&url).bearer_auth(&token).send()).await;
        rows.extend(body["data"].as_array().expect("data").iter().cloned());
        match body["paging"]["next"].as_str() {
            Some(next) => url = format!("{base}{next}"),
            None => break,
        }
    }
    assert_eq!(
        rows,
        expected_records("valomnia", sb.config(), &[]).expect("valomnia")
    );
    let faults: u64 = sb.stats().vendors.values().map(|v| v.faults).sum();
    assert!(faults >= 5, "faults were injected: {faults}");
}

#[tokio::test]
async fn stats_are_served_as_json_and_not_counted() {
    let sb = Sandbox::start(config(3)).await.expect("starts");
    let http = client();
    let _ = fetch_c3(&sb, &http, 1).await;
    let stats: sandbox::Stats = http
        .get(format!("http://{}/_sandbox/stats", sb.addr()))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("stats json");
    let c3 = &stats.vendors["c3"];
    assert_eq!(
        (
            c3.requests,
            c3.token_requests,
            c3.tokens_issued,
            c3.list_requests
        ),
        (2, 1, 1, 1)
    );
    assert_eq!(stats.vendors.len(), sandbox::ids().len());
}

#[tokio::test]
async fn the_same_config_serves_identical_pages() {
    let a = Sandbox::start(config(20)).await.expect("starts");
    let b = Sandbox::start(config(20)).await.expect("starts");
    let http = client();
    for emulator in sandbox::ALL {
        let filters: Vec<(String, String)> = (emulator.demo().filters.iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let vendor = emulator.id();
        assert_eq!(
            expected_records(vendor, a.config(), &filters),
            expected_records(vendor, b.config(), &filters)
        );
    }
    let other = SandboxConfig {
        seed: 7,
        ..config(20)
    };
    assert_ne!(
        expected_records("valomnia", &other, &[]),
        expected_records("valomnia", a.config(), &[])
    );
    assert_eq!(
        fetch_appxite(&a, &http, 1, &ALL_INCLUDES).await,
        fetch_appxite(&b, &http, 1, &ALL_INCLUDES).await
    );
}

// ------------------------------------------------------------------------------------------------
// Throughput: run with
// `cargo test --release --test sandbox_api -- --ignored --nocapture throughput_report`.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn throughput_report() {
    let sb = Sandbox::start(config(100_000)).await.expect("starts");
    let http = client();
    let token = creds(&sb, "valomnia").static_token.expose().to_string();
    let url = format!("{}/api/v1.0/customers", sb.base_url("valomnia"));
    let pages: u64 = 1000;
    let started = Instant::now();
    for p in 0..pages {
        let offset = (p * 100).to_string();
        let r = http
            .get(&url)
            .bearer_auth(&token)
            .query(&[("max", "100"), ("offset", offset.as_str())])
            .send()
            .await
            .expect("sent");
        assert_eq!(r.status(), StatusCode::OK);
        let _ = r.bytes().await.expect("body");
    }
    let sequential = pages as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..8u64 {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            for p in (worker..pages).step_by(8) {
                let offset = (p * 100).to_string();
                let r = http
                    .get(&url)
                    .bearer_auth(&token)
                    .query(&[("max", "100"), ("offset", offset.as_str())])
                    .send()
                    .await
                    .expect("sent");
                let _ = r.bytes().await.expect("body");
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    let concurrent = pages as f64 / started.elapsed().as_secs_f64();
    println!(
        "valomnia max=100 pages, 100000 customers: sequential {sequential:.0} req/s, 8 concurrent {concurrent:.0} req/s"
    );

    let adobe_token = adobe_token(&sb, &http, 1).await;
    let started = Instant::now();
    let body: Value = http
        .get(adobe_list_url(&sb))
        .bearer_auth(&adobe_token)
        .header("X-Api-Key", &creds(&sb, "adobe_vipmp").client_id)
        .header("X-Request-Id", "throughput-1")
        .query(&[("limit", "50"), ("offset", "5000")])
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    println!(
        "adobe limit=50 page: count {} of {} in {:?}",
        body["count"],
        body["totalCount"],
        started.elapsed()
    );
    assert_eq!(body["count"], 50);

    // Every Adobe page (50 customers each), 8 at a time, each with its own request id.
    let total = body["totalCount"].as_u64().expect("totalCount");
    let adobe_pages = total.div_ceil(50);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..8u64 {
        let (http, url, token) = (http.clone(), adobe_list_url(&sb), adobe_token.clone());
        let key = creds(&sb, "adobe_vipmp").client_id.clone();
        tasks.push(tokio::spawn(async move {
            for p in (worker..adobe_pages).step_by(8) {
                let offset = (p * 50).to_string();
                let r = http
                    .get(&url)
                    .bearer_auth(&token)
                    .header("X-Api-Key", &key)
                    .header("X-Request-Id", format!("throughput-all-{p}"))
                    .query(&[("limit", "50"), ("offset", offset.as_str())])
                    .send()
                    .await
                    .expect("sent");
                assert_eq!(r.status(), StatusCode::OK);
                let _ = r.bytes().await.expect("body");
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    println!(
        "adobe all {adobe_pages} pages of 50, 8 concurrent: {:.0} req/s",
        adobe_pages as f64 / started.elapsed().as_secs_f64()
    );

    let appxite_token = appxite_token(&sb, &http, 1).await;
    let key = creds(&sb, "appxite").subscription_key.expose().to_string();
    let started = Instant::now();
    let body: Value = http
        .get(format!(
            "{}/distis/organizations/details/{DISTRIBUTOR}",
            sb.base_url("appxite")
        ))
        .bearer_auth(&appxite_token)
        .header("Ocp-Apim-Subscription-Key", &key)
        .header("X-Referer", "https://example.com")
        .query(&ALL_INCLUDES)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let n = body.as_array().map_or(0, Vec::len);
    println!(
        "appxite default pageSize page with all includes: {n} records in {:?}",
        started.elapsed()
    );
    assert_eq!(n, 10_000);
}

#[test]
#[ignore]
fn generation_cost_report() {
    for vendor in sandbox::ids() {
        let cfg = config(20_000);
        let filters = if vendor == "crayon" {
            pairs(&[("organizationId", "4703")])
        } else {
            vec![]
        };
        let started = Instant::now();
        let n = expected_records(vendor, &cfg, &filters)
            .expect("records")
            .len();
        let per = started.elapsed() / n as u32;
        println!("{vendor}: {n} records, {per:?} per record");
    }
}

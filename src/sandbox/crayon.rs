//! Crayon Cloud-iQ: `GET /crayon/api/v1/customertenants/` behind an OAuth2 password grant at
//! `POST /crayon/api/v1/connect/token/` (client in `Authorization: Basic`, PascalCase response).
//!
//! Promises and choices:
//! - Records belong to three organizations: **4703** (the demo's, 80 % of the customers: every
//!   index whose last digit is not 3 or 7), **4343** (indices ending in 3) and **5120** (ending in 7).
//!   Any other valid organizationId returns no records. `organizationId` is required (400 otherwise).
//! - Order is `Id` ascending (index order); `page` starts at 1, `pageSize` defaults to 50 (the SDK
//!   default) and must be 1..=1000. `search` is a case-insensitive substring of Name or Reference;
//!   `domainPrefix` is a case-insensitive equality; `publisherId` and `customerTenantType`
//!   (0|1|2, also `None|T1|T2`) are equalities. Unknown parameters are ignored, as ASP.NET does.
//! - Both the documented trailing-slash paths and the slash-less ones are served.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use serde_json::{Value, json};

use super::data::{self, Gen};
use super::shared::TokenCheck;
use super::{Demo, Emulator, RetryAfter, SandboxConfig, Shared};

const ID: &str = "crayon";

/// The organization the demo pipeline exports.
const DEMO_ORGANIZATION_ID: i64 = 4703;

/// The Crayon emulation.
pub struct Crayon;

impl Emulator for Crayon {
    fn id(&self) -> &'static str {
        ID
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["crayon"]
    }

    fn routes(&self) -> Router<Arc<Shared>> {
        Router::new()
            .route("/crayon/api/v1/connect/token/", post(token))
            .route("/crayon/api/v1/connect/token", post(token))
            .route("/crayon/api/v1/customertenants/", get(list))
            .route("/crayon/api/v1/customertenants", get(list))
    }

    fn is_token_path(&self, path: &str) -> bool {
        path.contains("/connect/token")
    }

    fn base_path(&self) -> &'static str {
        "/crayon"
    }

    fn token_path(&self, _config: &SandboxConfig) -> Option<String> {
        Some("/crayon/api/v1/connect/token/".into())
    }

    fn demo(&self) -> &'static Demo {
        &Demo {
            accepted: &[
                ("auth.client_id", "sandbox-crayon-client"),
                ("auth.client_secret", "sandbox-crayon-secret"),
                ("auth.username", "sandbox-crayon-user"),
                ("auth.password", "sandbox-crayon-password"),
            ],
            settings: &[],
            filters: &[("organizationId", "4703")],
        }
    }

    fn expected(
        &self,
        config: &SandboxConfig,
        filters: &[(String, String)],
    ) -> Result<Vec<Value>, String> {
        let q = Query::parse(filters)
            .map_err(|_| "invalid crayon filters (organizationId is required)".to_string())?;
        let g = Gen::of(config, ID);
        Ok(select(&g, config.customers_for(ID), &q)
            .into_iter()
            .map(|i| record(&g, u64::from(i)))
            .collect())
    }

    fn retry_after(&self) -> RetryAfter {
        RetryAfter::Mixed
    }

    fn server_error(&self, status: StatusCode) -> Response {
        server_error(status)
    }

    fn throttled(&self, _seconds: u64) -> Response {
        throttled()
    }
}

/// A validated list query.
#[derive(Debug, Clone)]
struct Query {
    organization_id: i64,
    search: Option<String>,
    domain_prefix: Option<String>,
    publisher_id: Option<i64>,
    tenant_type: Option<u64>,
    page: u64,
    page_size: u64,
}

impl Query {
    fn parse(pairs: &[(String, String)]) -> Result<Query, Response> {
        let p = |name: &str| super::param(pairs, name).filter(|v| !v.is_empty());
        let organization_id = match p("organizationId") {
            None => {
                return Err(bad_request(
                    "organizationId",
                    "The organizationId field is required.",
                ));
            }
            Some(v) => v.parse::<i64>().map_err(|_| {
                bad_request(
                    "organizationId",
                    &format!("The value '{v}' is not valid for organizationId."),
                )
            })?,
        };
        let int = |name: &str| -> Result<Option<i64>, Response> {
            p(name)
                .map(|v| {
                    v.parse::<i64>().map_err(|_| {
                        bad_request(name, &format!("The value '{v}' is not valid for {name}."))
                    })
                })
                .transpose()
        };
        let publisher_id = int("publisherId")?;
        let page = int("page")?.unwrap_or(1);
        if page < 1 {
            return Err(bad_request(
                "page",
                "The field page must be greater than or equal to 1.",
            ));
        }
        let page_size = int("pageSize")?.unwrap_or(50);
        if !(1..=1000).contains(&page_size) {
            return Err(bad_request(
                "pageSize",
                "The field pageSize must be between 1 and 1000.",
            ));
        }
        let tenant_type = match p("customerTenantType") {
            None => None,
            Some(v) => Some(match v.to_ascii_lowercase().as_str() {
                "0" | "none" => 0,
                "1" | "t1" => 1,
                "2" | "t2" => 2,
                _ => {
                    let msg = format!("The value '{v}' is not valid for customerTenantType.");
                    return Err(bad_request("customerTenantType", &msg));
                }
            }),
        };
        Ok(Query {
            organization_id,
            search: p("search").map(str::to_lowercase),
            domain_prefix: p("domainPrefix").map(str::to_lowercase),
            publisher_id,
            tenant_type,
            page: page as u64,
            page_size: page_size as u64,
        })
    }

    /// The cache key of the filtered view (paging excluded).
    fn view_key(&self) -> String {
        format!(
            "crayon|{}|{:?}|{:?}|{:?}|{:?}",
            self.organization_id,
            self.search,
            self.domain_prefix,
            self.publisher_id,
            self.tenant_type
        )
    }
}

/// The ordered indices of the records matching `q`.
fn select(g: &Gen, n: u64, q: &Query) -> Vec<u32> {
    (0..n)
        .filter(|&i| {
            organization_of(i) == q.organization_id
                && q.publisher_id.is_none_or(|p| publisher(g, i).0 == p)
                && q.tenant_type.is_none_or(|t| tenant_type(g, i) == t)
                && q.domain_prefix
                    .as_deref()
                    .is_none_or(|d| domain_prefix(g, i).to_lowercase() == d)
                && q.search.as_deref().is_none_or(|s| {
                    data::company_name(g, i).to_lowercase().contains(s)
                        || reference(g, i).to_lowercase().contains(s)
                })
        })
        .map(super::count_u32)
        .collect()
}

fn organization_of(i: u64) -> i64 {
    match i % 10 {
        3 => 4343,
        7 => 5120,
        _ => DEMO_ORGANIZATION_ID,
    }
}

fn publisher(g: &Gen, i: u64) -> (i64, &'static str) {
    match g.pick(i, 40, 10) {
        0..=6 => (2, "Microsoft"),
        7 | 8 => (3, "Adobe"),
        _ => (7, "Google"),
    }
}

fn tenant_type(g: &Gen, i: u64) -> u64 {
    g.h(i, 41) % 3
}

fn domain_prefix(g: &Gen, i: u64) -> String {
    let name = data::company_name(g, i);
    let slug: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(10)
        .collect();
    format!("{}{}", slug.to_ascii_lowercase(), i + 1)
}

fn reference(g: &Gen, i: u64) -> String {
    match g.pick(i, 42, 6) {
        0 | 1 => String::new(),
        2 => format!("=REF({})", i + 1),
        3 => format!("Ref, \"{}\"", i + 1),
        _ => format!("REF-{:05}", i + 1),
    }
}

fn organization(g: &Gen, i: u64) -> Value {
    let id = organization_of(i);
    let name = match id {
        4703 => "My company AB",
        4343 => "My company AB 2",
        _ => "Société Réseller SAS",
    };
    let tenant_id = match id {
        4703 => 1,
        4343 => 2,
        _ => 3,
    };
    let mut org = json!({"Id": id, "Name": name, "Tenant": {"Id": tenant_id, "Name": name}});
    // Some responses carry the extra organization fields the page does not show.
    if g.chance(i, 43, 50)
        && let Some(map) = org.as_object_mut()
    {
        map.insert("ParentId".into(), json!(1));
        map.insert("CrayonCompanyName".into(), json!("Crayon Group AS"));
        map.insert("AccountNumber".into(), json!(format!("{}", 100_000 + id)));
    }
    org
}

fn record(g: &Gen, i: u64) -> Value {
    let (publisher_id, publisher_name) = publisher(g, i);
    let prefix = domain_prefix(g, i);
    let invoice = [
        (57, "Invoice profile"),
        (7, "My Invoice profile"),
        (12, "Fakturaprofil, Nord"),
    ];
    let (invoice_id, invoice_name) = invoice[g.pick(i, 44, invoice.len())];
    let first = data::first_name(g, i, 45);
    let last = data::last_name(g, i, 46);
    // As Crayon's SDK declares `CustomerTenant`: `Consumer` an object reference, `agreement`
    // who accepted the Microsoft customer agreement, and when.
    let consumer = if g.chance(i, 47, 60) {
        json!({"Id": 20_000 + i, "Name": data::company_name(g, i)})
    } else {
        Value::Null
    };
    let agreement = if g.chance(i, 51, 50) {
        json!({
            "FirstName": first,
            "LastName": last,
            "PhoneNumber": data::phone(g, i, 52),
            "Email": data::email(first, last, i),
            "DateAgreed": data::iso_seconds(1_546_300_800 + (g.h(i, 53) % 150_000_000) as i64),
            "AgreementType": g.h(i, 48) % 2,
        })
    } else {
        Value::Null
    };
    g.drifted(
        i,
        json!({
        "Id": 10_000 + i,
        "Name": data::company_name(g, i),
        "Publisher": {"Id": publisher_id, "Name": publisher_name},
        "PublisherCustomerId": g.guid(i, 54),
        "ExternalPublisherCustomerId": g.guid(i, 55),
        "DomainPrefix": prefix,
        "Reference": reference(g, i),
        "CustomerTenantType": tenant_type(g, i),
        "Organization": organization(g, i),
        "InvoiceProfile": {"Id": invoice_id, "Name": invoice_name},
        "Program": if g.chance(i, 56, 80) { json!({"Id": 1, "Name": "CSP"}) } else { json!({"Id": 4, "Name": "Enterprise Agreement"}) },
        "Domain": format!("{prefix}.onmicrosoft.com"),
        // `enum EntityStatus { None = 0, Removed = 1 }`.
        "EntityStatus": if g.chance(i, 57, 90) { 0 } else { 1 },
        "Consumer": consumer,
        "ResellerMarkup": if g.chance(i, 58, 50) { json!((g.h(i, 59) % 300) as f64 / 10.0) } else { Value::Null },
        "DefaultSubscriptionPriceType": g.h(i, 60) % 2,
        "agreement": agreement,
    }),
    )
}

/// The Crayon error shape.
fn error_body(code: &str, message: &str, object_errors: &[&str]) -> Value {
    let errors: Vec<Value> = object_errors
        .iter()
        .map(|m| json!({"Message": m}))
        .collect();
    json!({"ErrorCode": code, "Message": message, "Parameters": null, "ObjectErrors": errors})
}

fn bad_request(parameter: &str, message: &str) -> Response {
    let mut body = error_body("BadRequest", "The request is invalid.", &[message]);
    if let Some(map) = body.as_object_mut() {
        map.insert("Parameters".into(), json!({"parameter": parameter}));
    }
    super::json(StatusCode::BAD_REQUEST, &body)
}

fn server_error(status: StatusCode) -> Response {
    let body = error_body(
        "InternalServerError",
        "An unexpected error occurred. Please try again later.",
        &[],
    );
    super::json(status, &body)
}

fn throttled() -> Response {
    let body = error_body(
        "TooManyRequests",
        "Too many requests. Please slow down.",
        &[],
    );
    super::json(StatusCode::TOO_MANY_REQUESTS, &body)
}

async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let check = shared.check_bearer(ID, &headers);
    if check != TokenCheck::Valid {
        let message = if check == TokenCheck::Expired {
            "The access token has expired."
        } else {
            "Authorization has been denied for this request."
        };
        return super::json(
            StatusCode::UNAUTHORIZED,
            &error_body("Unauthorized", message, &[]),
        );
    }
    let pairs = super::query_pairs(raw.as_deref());
    let q = match Query::parse(&pairs) {
        Ok(q) => q,
        Err(response) => return response,
    };
    let g = Gen::of(&shared.config, ID);
    let n = shared.config.customers_for(ID);
    let view = shared.view(q.view_key(), || select(&g, n, &q));
    let start = (q.page - 1).saturating_mul(q.page_size);
    let items: Vec<Value> = view
        .iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(q.page_size as usize)
        .map(|&i| record(&g, u64::from(i)))
        .collect();
    super::json(
        StatusCode::OK,
        &json!({"Items": items, "TotalHits": view.len()}),
    )
}

/// The PascalCase token answer, used for errors too (with `Error` set and the rest empty).
fn token_body(access_token: Option<&str>, ttl: u64, error: Option<&str>) -> Value {
    json!({
        "AccessToken": access_token,
        "TokenType": access_token.map(|_| "Bearer"),
        "ExpiresIn": if access_token.is_some() { ttl } else { 0 },
        "RefreshToken": access_token.map(|_| uuid::Uuid::new_v4().simple().to_string()),
        "IdentityToken": access_token.map(|_| format!("sbx-crayon-id-{}", uuid::Uuid::new_v4().simple())),
        "Error": error,
    })
}

fn token_error(error: &str) -> Response {
    super::json(StatusCode::BAD_REQUEST, &token_body(None, 0, Some(error)))
}

/// The client's `(id, secret)` from `Authorization: Basic …`.
fn basic_client(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let accepted = |key: &str| shared.config.credential(ID, key);
    let Some((client_id, client_secret)) = basic_client(&headers) else {
        return token_error("invalid_client");
    };
    if client_id != accepted("auth.client_id") || client_secret != accepted("auth.client_secret") {
        return token_error("invalid_client");
    }
    let form = super::query_pairs(std::str::from_utf8(&body).ok());
    let field = |name: &str| super::param(&form, name).unwrap_or("");
    if field("grant_type") != "password" {
        return token_error("unsupported_grant_type");
    }
    if !field("scope").split(' ').any(|s| s == "CustomerApi") {
        return token_error("invalid_scope");
    }
    if field("username") != accepted("auth.username")
        || field("password") != accepted("auth.password")
    {
        return token_error("invalid_grant");
    }
    let (access_token, ttl) = shared.issue_token(ID);
    super::json(StatusCode::OK, &token_body(Some(&access_token), ttl, None))
}

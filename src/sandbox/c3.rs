//! C3 (Spektra Systems): `GET /c3/api/activecustomers/v5` behind Azure AD v1 client credentials at
//! `POST /aad/{tenant_id}/oauth2/token`.
//!
//! Promises: no paging (one envelope holds every customer, in index order); the token response
//! carries its numbers as strings; an invalid or expired token gets an ASP.NET-style 401 with
//! `WWW-Authenticate: Bearer …`; `c3_application_error` makes every list call an HTTP 200 with
//! `Status:"Error"` and `Data:null`, while random faults use HTTP 5xx with the same envelope (so a
//! client can tell the retryable kind apart). `RequestCorrelationID` is a fresh UUID per response:
//! it is the only part of a page that is not a function of the config.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::data::{self, Gen};
use super::shared::TokenCheck;
use super::{Demo, Emulator, RetryAfter, SandboxConfig, Shared};

const ID: &str = "c3";

/// The C3 emulation.
pub struct C3;

impl Emulator for C3 {
    fn id(&self) -> &'static str {
        ID
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["c3", "aad"]
    }

    fn routes(&self) -> Router<Arc<Shared>> {
        Router::new()
            .route("/aad/{tenant_id}/oauth2/token", post(token))
            .route("/c3/api/activecustomers/v5", get(list))
    }

    fn is_token_path(&self, path: &str) -> bool {
        path.starts_with("/aad/")
    }

    fn base_path(&self) -> &'static str {
        "/c3"
    }

    fn token_path(&self, config: &SandboxConfig) -> Option<String> {
        let tenant = config.credential(ID, "auth.tenant_id");
        Some(format!("/aad/{tenant}/oauth2/token"))
    }

    fn demo(&self) -> &'static Demo {
        &Demo {
            accepted: &[
                ("auth.tenant_id", "sandbox-c3-tenant"),
                ("auth.client_id", "sandbox-c3-client"),
                ("auth.client_secret", "sandbox-c3-secret"),
                ("auth.resource", "api://sandbox-c3"),
            ],
            settings: &[],
            filters: &[],
        }
    }

    fn expected(
        &self,
        config: &SandboxConfig,
        _filters: &[(String, String)],
    ) -> Result<Vec<Value>, String> {
        let g = Gen::of(config, ID);
        Ok((0..config.customers_for(ID))
            .map(|i| record(&g, i))
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

    fn has_application_errors(&self) -> bool {
        true
    }
}

/// Customer `i`, exactly as the documentation's example shapes it.
fn record(g: &Gen, i: u64) -> Value {
    serde_json::to_value(customer(g, i)).unwrap_or(Value::Null)
}

/// Customer `i` as the API serialises it: typed fields (a tree of `Value`s with sorted maps for
/// each of 100,000 customers cost the sandbox more CPU than the client reading them).
fn customer(g: &Gen, i: u64) -> Customer {
    let first = data::first_name(g, i, 10);
    let last = data::last_name(g, i, 11);
    let (city, state, country, zip) = data::place(g, i, 12);
    let name = data::company_name(g, i);
    let slug: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(12)
        .collect();
    let text_or_empty = |text: Option<String>, field: u64| {
        text.map_or_else(|| data::empty_text(g, i, field).map(String::from), Some)
    };
    Customer {
        CRMOpportunityID: text_or_empty(
            (g.chance(i, 30, 40)).then(|| format!("OPP-{}", g.h(i, 31) % 1_000_000)),
            32,
        ),
        City: city,
        Country: country,
        CustomerBillingReferenceId: data::sometimes_empty_text(g, i, 17, format!("BR-{:06}", i + 1)),
        CustomerBillingType: match g.pick(i, 27, 4) {
            0 => Some("Invoice"),
            1 => Some("CreditCard"),
            _ => data::empty_text(g, i, 28),
        },
        CustomerFirstName: data::sometimes_empty_text(g, i, 13, first.to_string()),
        CustomerID: customer_id(g, i),
        CustomerLastName: data::sometimes_empty_text(g, i, 14, last.to_string()),
        ERPCustomerID: data::sometimes_empty_text(g, i, 29, format!("=ERP{:05}", i % 100_000)),
        EmailAddresses: data::sometimes_empty_text(g, i, 19, data::email(first, last, i)),
        Line1: data::street(g, i, 22),
        Line2: text_or_empty((g.chance(i, 23, 30)).then(|| format!("Floor {}", i % 12 + 1)), 24),
        LinkedProviderName: if g.chance(i, 18, 85) { "Microsoft" } else { "Partner" },
        ProviderReferenceName: format!("{}{}.onmicrosoft.com", slug.to_ascii_lowercase(), i + 1),
        Name: name,
        PhoneNumbers: data::sometimes_empty_text(g, i, 20, data::phone(g, i, 21)),
        State: if state.is_empty() { data::empty_text(g, i, 25) } else { Some(state) },
        TenantId: g.guid(i, 16),
        Zip: (!g.chance(i, 26, 20)).then_some(zip),
        drift: g.drift(i),
    }
}

/// One customer, its keys in the order C3 serves them (byte order: the lower-case keys of drift
/// come last). `None` is the API's `null`.
#[allow(non_snake_case)]
#[derive(serde::Serialize)]
struct Customer {
    CRMOpportunityID: Option<String>,
    City: &'static str,
    Country: &'static str,
    CustomerBillingReferenceId: Option<String>,
    CustomerBillingType: Option<&'static str>,
    CustomerFirstName: Option<String>,
    CustomerID: String,
    CustomerLastName: Option<String>,
    ERPCustomerID: Option<String>,
    EmailAddresses: Option<String>,
    Line1: String,
    Line2: Option<String>,
    LinkedProviderName: &'static str,
    Name: String,
    PhoneNumbers: Option<String>,
    ProviderReferenceName: String,
    State: Option<&'static str>,
    TenantId: String,
    Zip: Option<&'static str>,
    /// Fields beyond the documentation, on the drifted share of records.
    #[serde(flatten)]
    drift: serde_json::Map<String, Value>,
}

/// Upper-case GUIDs, except now and then an id that is not a GUID at all (real C3 data has them).
fn customer_id(g: &Gen, i: u64) -> String {
    match i % 23 {
        5 => format!("C3-LEGACY-{:06}", i + 1),
        17 => g.guid(i, 15).replace('-', "").to_uppercase(),
        _ => g.guid(i, 15).to_uppercase(),
    }
}

/// The envelope of every answer of the list, success or error, in the key order C3 serves it.
#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    data: Option<Vec<Customer>>,
    error_detail: Option<String>,
    error_message: Option<&'static str>,
    operation_type: (),
    #[serde(rename = "RequestCorrelationID")]
    request_correlation_id: String,
    status: &'static str,
}

/// An `Error` envelope: no data, the vendor's message and its detail.
fn failed(message: &'static str, detail: Option<String>) -> Envelope {
    Envelope {
        data: None,
        error_detail: detail,
        error_message: Some(message),
        operation_type: (),
        request_correlation_id: uuid::Uuid::new_v4().to_string(),
        status: "Error",
    }
}

fn server_error(status: StatusCode) -> Response {
    let body = failed(
        "An error has occurred while processing the request.",
        Some(format!("Upstream service unavailable ({})", status.as_u16())),
    );
    super::json(status, &body)
}

fn throttled() -> Response {
    let body = failed("Too many requests. Please retry later.", None);
    super::json(StatusCode::TOO_MANY_REQUESTS, &body)
}

async fn list(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let check = shared.check_bearer(ID, &headers);
    if check != TokenCheck::Valid {
        return unauthorized(&shared, check);
    }
    if shared.config.application_error.iter().any(|v| v == ID) {
        let body = failed(
            "An error occurred while fetching the active customers.",
            Some("Sandbox: application_error is set (HTTP 200 with Status:\"Error\").".into()),
        );
        return super::json(StatusCode::OK, &body);
    }
    let g = Gen::of(&shared.config, ID);
    let body = Envelope {
        data: Some(
            (0..shared.config.customers_for(ID))
                .map(|i| customer(&g, i))
                .collect(),
        ),
        error_detail: None,
        error_message: None,
        operation_type: (),
        request_correlation_id: uuid::Uuid::new_v4().to_string(),
        status: "Success",
    };
    super::json(StatusCode::OK, &body)
}

fn unauthorized(shared: &Shared, check: TokenCheck) -> Response {
    let tenant = shared.config.credential(ID, "auth.tenant_id");
    let description = match check {
        TokenCheck::Expired => "The token is expired",
        TokenCheck::Missing => "The access token is missing",
        _ => "The signature is invalid",
    };
    let mut response = super::json(
        StatusCode::UNAUTHORIZED,
        &json!({"Message": "Authorization has been denied for this request."}),
    );
    let challenge = format!(
        "Bearer authorization_uri=\"https://login.microsoftonline.com/{tenant}/oauth2/authorize\", error=\"invalid_token\", error_description=\"{description}\""
    );
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// Azure AD v1 client-credentials token endpoint, for the resource the demo accepts.
async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant_id): Path<String>,
    body: Bytes,
) -> Response {
    let resource = shared.config.credential(ID, "auth.resource").to_string();
    super::aad::token(&shared, ID, &tenant_id, &body, &resource)
}

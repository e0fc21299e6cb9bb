//! AppXite "GET All Customers": `GET /appxite/distis/organizations/details/{organization_id}` and
//! `POST /appxite/api/v2/organizations/details` (JSON array of organization GUIDs), behind Azure API
//! Management (`Ocp-Apim-Subscription-Key`), a client-credentials bearer token
//! (`POST /appxite/oauth2/token`) and a required `X-Referer` header.
//!
//! Promises and choices:
//! - Organizations: the demo **distributor** `97ab7e3c-74cb-4a72-a2c4-144a8996b7f9` has three child
//!   **resellers** (`e8dee4e8-…`, `125fc22b-…`, `506f98aa-…`, see [`RESELLERS`]). Every tenth
//!   customer (index ≡ 0 mod 10) belongs directly to the distributor, the rest round-robin to the
//!   resellers. A distributor query with `includeChildOrganizations=true` (the default) returns all
//!   customers; with `false` only its direct customers. A reseller returns its own customers either
//!   way. An unknown GUID in the path is a 404; in a POST body it contributes nothing.
//! - Checks in APIM order: subscription key (401), bearer token (401), then `X-Referer` (400).
//! - Query parameter names and boolean/enum values are case-insensitive (ASP.NET binding), so the
//!   doc's `IncludeIndustries` works. `customerStatus` must be New|Active|Suspended (else 400).
//!   `page` starts at 1; `pageSize` defaults to 10000. The body is a bare array in index order.
//! - A block whose `include…` flag is false is **absent** (key missing, junk keys included), not null.
//!   `customerTenants` holds 0–4 tenants, so some customers have none (`[]`).

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::data::{self, Gen};
use super::shared::TokenCheck;
use super::{Demo, Emulator, RetryAfter, SandboxConfig, Shared};

const ID: &str = "appxite";

/// The demo distributor's organization id.
const DISTRIBUTOR_ID: &str = "97ab7e3c-74cb-4a72-a2c4-144a8996b7f9";
/// The distributor's child resellers: (GUID, name).
const RESELLERS: [(&str, &str); 3] = [
    ("e8dee4e8-3674-4063-ad3f-cbee1df74b33", "Reseller Nord AS"),
    ("125fc22b-08ef-47b4-a339-5c45e49133d5", "Revendeur Sud SARL"),
    (
        "506f98aa-ccf7-41fd-8ccd-eadb48a20dfc",
        "Reseller \"West\", Ltd.",
    ),
];
const DISTRIBUTOR_NAME: &str = "Sandbox Distribution Europe B.V.";

/// The AppXite emulation.
pub struct Appxite;

impl Emulator for Appxite {
    fn id(&self) -> &'static str {
        ID
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["appxite"]
    }

    fn routes(&self) -> Router<Arc<Shared>> {
        Router::new()
            .route("/appxite/oauth2/token", post(token))
            .route(
                "/appxite/distis/organizations/details/{organization_id}",
                get(list_one),
            )
            .route("/appxite/api/v2/organizations/details", post(list_many))
    }

    fn is_token_path(&self, path: &str) -> bool {
        path.ends_with("/oauth2/token")
    }

    fn base_path(&self) -> &'static str {
        "/appxite"
    }

    fn token_path(&self, _config: &SandboxConfig) -> Option<String> {
        Some("/appxite/oauth2/token".into())
    }

    fn demo(&self) -> &'static Demo {
        &Demo {
            accepted: &[
                ("auth.client_id", "sandbox-appxite-client"),
                ("auth.client_secret", "sandbox-appxite-secret"),
                ("auth.subscription_key", "sandbox-appxite-subscription-key"),
            ],
            // Any non-empty X-Referer is accepted unless a pipeline gives one.
            settings: &[
                ("organization_id", DISTRIBUTOR_ID),
                ("referer", "https://sandbox.customer-export.local"),
            ],
            filters: &[
                ("includeTenants", "true"),
                ("includeContacts", "true"),
                ("includeAddresses", "true"),
                ("includeCustomProperties", "true"),
                ("includeIndustries", "true"),
            ],
        }
    }

    /// `organization_id` (or `organizationId`, default the demo distributor) names the
    /// organization, a comma-separated `organization_ids` the POST form's list.
    fn expected(
        &self,
        config: &SandboxConfig,
        filters: &[(String, String)],
    ) -> Result<Vec<Value>, String> {
        let q = Query::parse(filters).map_err(|_| "invalid appxite filters".to_string())?;
        let orgs: Vec<String> = match super::param(filters, "organization_ids") {
            Some(list) => list.split(',').map(|s| s.trim().to_lowercase()).collect(),
            None => vec![
                super::param(filters, "organization_id")
                    .or_else(|| super::param(filters, "organizationId"))
                    .unwrap_or(DISTRIBUTOR_ID)
                    .to_lowercase(),
            ],
        };
        let g = Gen::of(config, ID);
        Ok(select(&g, config.customers_for(ID), &orgs, &q)
            .into_iter()
            .map(|i| record(&g, u64::from(i), &q.includes))
            .collect())
    }

    fn retry_after(&self) -> RetryAfter {
        RetryAfter::Always
    }

    fn server_error(&self, status: StatusCode) -> Response {
        apim(status, "Internal server error")
    }

    fn throttled(&self, seconds: u64) -> Response {
        apim(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Rate limit is exceeded. Try again in {seconds} seconds."),
        )
    }
}

#[derive(Debug, Clone, Default)]
struct Includes {
    addresses: bool,
    contacts: bool,
    custom_properties: bool,
    tenants: bool,
    industries: bool,
}

#[derive(Debug, Clone)]
struct Query {
    includes: Includes,
    status: Option<&'static str>,
    include_children: bool,
    page: u64,
    page_size: u64,
}

impl Query {
    fn parse(pairs: &[(String, String)]) -> Result<Query, Response> {
        let p = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let flag = |name: &str, default: bool| -> Result<bool, Response> {
            match p(name).map(str::to_ascii_lowercase).as_deref() {
                None => Ok(default),
                Some("true") => Ok(true),
                Some("false") => Ok(false),
                Some(other) => Err(bad_request(&format!(
                    "The value '{other}' is not valid for {name}."
                ))),
            }
        };
        let number = |name: &str, default: u64| -> Result<u64, Response> {
            match p(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=100_000).contains(n))
                    .ok_or_else(|| {
                        bad_request(&format!("The value '{v}' is not valid for {name}."))
                    }),
            }
        };
        let status = match p("customerStatus").map(str::to_ascii_lowercase).as_deref() {
            None => None,
            Some("new") => Some("New"),
            Some("active") => Some("Active"),
            Some("suspended") => Some("Suspended"),
            Some(other) => {
                return Err(bad_request(&format!(
                    "The value '{other}' is not valid for customerStatus. Allowed values: New, Active, Suspended."
                )));
            }
        };
        Ok(Query {
            includes: Includes {
                addresses: flag("includeAddresses", false)?,
                contacts: flag("includeContacts", false)?,
                custom_properties: flag("includeCustomProperties", false)?,
                tenants: flag("includeTenants", false)?,
                industries: flag("includeIndustries", false)?,
            },
            status,
            include_children: flag("includeChildOrganizations", true)?,
            page: number("page", 1)?,
            page_size: number("pageSize", 10_000)?,
        })
    }
}

/// The organization owning customer `i`.
fn owner(i: u64) -> (&'static str, &'static str) {
    if i.is_multiple_of(10) {
        (DISTRIBUTOR_ID, DISTRIBUTOR_NAME)
    } else {
        RESELLERS[(i % 3) as usize]
    }
}

fn is_known(org: &str) -> bool {
    org == DISTRIBUTOR_ID || RESELLERS.iter().any(|(id, _)| *id == org)
}

fn status(g: &Gen, i: u64) -> &'static str {
    match g.pick(i, 200, 10) {
        0 => "New",
        1 => "Suspended",
        _ => "Active",
    }
}

/// Whether customer `i` is listed for the requested `orgs`.
fn listed(i: u64, orgs: &[String], include_children: bool) -> bool {
    let (own, _) = owner(i);
    orgs.iter()
        .any(|org| org == own || (include_children && org == DISTRIBUTOR_ID))
}

fn select(g: &Gen, n: u64, orgs: &[String], q: &Query) -> Vec<u32> {
    (0..n)
        .filter(|&i| {
            listed(i, orgs, q.include_children) && q.status.is_none_or(|s| status(g, i) == s)
        })
        .map(super::count_u32)
        .collect()
}

/// Customer `i`, as [`customer`] serialises it.
fn record(g: &Gen, i: u64, inc: &Includes) -> Value {
    serde_json::to_value(customer(g, i, inc)).unwrap_or(Value::Null)
}

/// Customer `i` as the API serialises it: typed fields (a tree of `Value`s with sorted maps for
/// each customer cost the sandbox twice the CPU of the client reading them). A block whose
/// `include…` flag is false is `None`, and absent from the JSON.
fn customer(g: &Gen, i: u64, inc: &Includes) -> Customer {
    let (reseller_id, reseller_name) = owner(i);
    let (_, _, country, _) = data::place(g, i, 201);
    let registration = format!("{:09}", g.h(i, 205) % 1_000_000_000);
    let vat = format!("{country}{:09}", g.h(i, 207) % 1_000_000_000);
    let mut drift = g.drift(i);
    // The documentation's comment keys, each served as "" before the blocks it names.
    let comment = |on: bool| on.then_some("");
    let contact = |kind, role, field| inc.contacts.then(|| contact(g, i, kind, role, field));
    let address = |kind, field| inc.addresses.then(|| address(g, i, kind, field));
    Customer {
        comment_account_manager: comment(inc.contacts),
        comment_billing: comment(inc.contacts || inc.addresses),
        comment_primary: comment(inc.contacts || inc.addresses),
        comment_service_desk: comment(inc.contacts),
        comment_addresses: comment(inc.addresses),
        comment_contacts: comment(inc.contacts),
        accountHealth: drift.remove("accountHealth"),
        customerAccountManagerContact: contact("accountManager", "Account Manager", 260),
        customerBillingAddress: address("billing", 230),
        customerBillingContact: contact("billing", "CFO", 250),
        customerCountry: country,
        customerCurrency: ["EUR", "NOK", "SEK", "USD", "GBP"][g.pick(i, 208, 5)],
        customerCustomProperties: inc.custom_properties.then(|| custom_properties(g, i)),
        customerErpOrganizationId: data::sometimes_empty_text(g, i, 203, format!("{}", 10_000 + i)),
        customerId: g.guid(i, 202),
        customerIndustries: inc.industries.then(|| industries(g, i)),
        customerName: data::company_name(g, i),
        customerPrimaryAddress: address("primary", 220),
        customerPrimaryContact: contact("primary", "CEO", 240),
        customerRegistrationNumber: data::sometimes_empty_text(g, i, 204, registration),
        customerSegment: ["Segment1", "SMB", "Enterprise", "Public sector, EU"][g.pick(i, 209, 4)],
        customerServiceDeskContact: contact("serviceDesk", "Service Desk Lead", 270),
        customerStatus: status(g, i),
        customerTenants: inc
            .tenants
            .then(|| (0..g.h(i, 210) % 5).map(|k| tenant(g, i, k)).collect()),
        customerVatNumber: data::sometimes_empty_text(g, i, 206, vat),
        loyaltyTier: drift.remove("loyaltyTier"),
        resellerId: reseller_id,
        resellerName: reseller_name,
        other_drift: drift,
    }
}

/// One customer, its keys in the byte order AppXite's sorted maps served them: the comment keys
/// (`/` sorts first), then the rest, drift's `accountHealth` and `loyaltyTier` among them.
#[allow(non_snake_case)]
#[derive(serde::Serialize)]
struct Customer {
    #[serde(rename = "// \"Type\": \"AccountManager\"", skip_serializing_if = "Option::is_none")]
    comment_account_manager: Option<&'static str>,
    #[serde(rename = "// \"Type\": \"Billing\"", skip_serializing_if = "Option::is_none")]
    comment_billing: Option<&'static str>,
    #[serde(rename = "// \"Type\": \"Primary\"", skip_serializing_if = "Option::is_none")]
    comment_primary: Option<&'static str>,
    #[serde(rename = "// \"Type\": \"ServiceDesk\"", skip_serializing_if = "Option::is_none")]
    comment_service_desk: Option<&'static str>,
    #[serde(rename = "// Addresses", skip_serializing_if = "Option::is_none")]
    comment_addresses: Option<&'static str>,
    #[serde(rename = "// Contacts", skip_serializing_if = "Option::is_none")]
    comment_contacts: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accountHealth: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customerAccountManagerContact: Option<Block>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customerBillingAddress: Option<Block>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customerBillingContact: Option<Block>,
    customerCountry: &'static str,
    customerCurrency: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    customerCustomProperties: Option<Vec<CustomProperty>>,
    customerErpOrganizationId: Option<String>,
    customerId: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    customerIndustries: Option<Vec<&'static str>>,
    customerName: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    customerPrimaryAddress: Option<Block>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customerPrimaryContact: Option<Block>,
    customerRegistrationNumber: Option<String>,
    customerSegment: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    customerServiceDeskContact: Option<Block>,
    customerStatus: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    customerTenants: Option<Vec<Tenant>>,
    customerVatNumber: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loyaltyTier: Option<Value>,
    resellerId: &'static str,
    resellerName: &'static str,
    /// Drift's other fields, should it grow any.
    #[serde(flatten)]
    other_drift: Map<String, Value>,
}

/// An address or contact block: every key starts with its kind (`billingAddressCity`); its
/// fields are in sorted order, text or `null`.
struct Block {
    kind: &'static str,
    fields: Vec<(&'static str, Option<Cow<'static, str>>)>,
}

impl serde::Serialize for Block {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (suffix, value) in &self.fields {
            map.serialize_entry(&format!("{}{suffix}", self.kind), value)?;
        }
        map.end()
    }
}

#[allow(non_snake_case)]
#[derive(serde::Serialize)]
struct CustomProperty {
    customPropertyName: &'static str,
    customPropertyValue: &'static str,
}

#[allow(non_snake_case)]
#[derive(serde::Serialize)]
struct Tenant {
    DomainName: String,
    ExternalId: String,
    InternalId: String,
    vendorId: &'static str,
    vendorName: &'static str,
}

fn custom_properties(g: &Gen, i: u64) -> Vec<CustomProperty> {
    let props = [
        ("Tax Zone", "EU_Belgium"),
        ("Payment Terms", "30 days, net"),
        ("Formula", "=1+2"),
        ("Note", "Line1\nLine2"),
    ];
    (0..g.h(i, 280) % 4)
        .map(|k| {
            let (name, value) = props[(k as usize + g.pick(i, 281, props.len())) % props.len()];
            CustomProperty {
                customPropertyName: name,
                customPropertyValue: value,
            }
        })
        .collect()
}

fn industries(g: &Gen, i: u64) -> Vec<&'static str> {
    let industries = [
        "Retail",
        "Manufacturing",
        "Healthcare",
        "Education",
        "Public Sector",
        "Finance & Insurance",
    ];
    (0..g.h(i, 290) % 3)
        .map(|k| industries[(k as usize + g.pick(i, 291, 6)) % 6])
        .collect()
}

fn tenant(g: &Gen, i: u64, k: u64) -> Tenant {
    let vendors = [
        ("77777777-8888-9999-aaaa-bbbbbbbbbbbb", "Microsoft"),
        ("77777777-8888-9999-aaaa-bbbbbbbbbbb1", "Adobe"),
        ("77777777-8888-9999-aaaa-bbbbbbbbbbb2", "Acronis"),
        ("77777777-8888-9999-aaaa-bbbbbbbbbbb3", "Dropbox"),
    ];
    let (vendor_id, vendor_name) = vendors[((k + g.h(i, 211)) % 4) as usize];
    let field = 212 + k * 4;
    Tenant {
        DomainName: format!("tenant{}-{}.example", i + 1, k + 1),
        ExternalId: format!("G{:09}", g.h(i, field + 1) % 1_000_000_000),
        InternalId: g.guid(i, field),
        vendorId: vendor_id,
        vendorName: vendor_name,
    }
}

fn address(g: &Gen, i: u64, kind: &'static str, field: u64) -> Block {
    let (city, province, country, postal) = data::place(g, i, field);
    let line2 = data::sometimes_empty_text(g, i, field + 2, format!("Unit {}", i % 50 + 1));
    Block {
        kind,
        fields: vec![
            ("AddressAddressLine1", Some(data::street(g, i, field + 1).into())),
            ("AddressAddressLine2", line2.map(Cow::Owned)),
            ("AddressCity", Some(city.into())),
            ("AddressCountryCode", Some(country.into())),
            ("AddressPostalCode", Some(postal.into())),
            ("AddressProvince", Some(province.into())),
        ],
    }
}

fn contact(g: &Gen, i: u64, kind: &'static str, role: &'static str, field: u64) -> Block {
    let first = data::first_name(g, i, field);
    let last = data::last_name(g, i, field + 1);
    let email = data::sometimes_empty_text(g, i, field + 2, data::email(first, last, i));
    Block {
        kind,
        fields: vec![
            ("ContactEmail", email.map(Cow::Owned)),
            ("ContactFirstName", Some(first.into())),
            ("ContactLastName", Some(last.into())),
            ("ContactPhone", Some(data::phone(g, i, field + 3).into())),
            ("ContactRole", Some(role.into())),
        ],
    }
}

fn apim(status: StatusCode, message: &str) -> Response {
    super::json(
        status,
        &json!({"statusCode": status.as_u16(), "message": message}),
    )
}

fn bad_request(message: &str) -> Response {
    apim(StatusCode::BAD_REQUEST, message)
}

/// The APIM gate, then the backend's `X-Referer` check.
fn check_headers(shared: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    let accepted = |key: &str| shared.config.credential(ID, key);
    match headers
        .get("ocp-apim-subscription-key")
        .and_then(|v| v.to_str().ok())
    {
        None => {
            return Err(apim(
                StatusCode::UNAUTHORIZED,
                "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.",
            ));
        }
        Some(key) if key != accepted("auth.subscription_key") => {
            return Err(apim(
                StatusCode::UNAUTHORIZED,
                "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
            ));
        }
        Some(_) => {}
    }
    if shared.check_bearer(ID, headers) != TokenCheck::Valid {
        return Err(apim(
            StatusCode::UNAUTHORIZED,
            "Unauthorized. Access token is missing or invalid.",
        ));
    }
    let referer = headers
        .get("x-referer")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    let expected = accepted("referer");
    let known = if expected.is_empty() {
        !referer.is_empty()
    } else {
        referer == expected
    };
    if !known {
        return Err(bad_request(
            "The X-Referer header is missing or does not identify a known platform.",
        ));
    }
    Ok(())
}

fn respond(shared: &Shared, orgs: Vec<String>, raw: Option<&str>) -> Response {
    let pairs = super::query_pairs(raw);
    let q = match Query::parse(&pairs) {
        Ok(q) => q,
        Err(response) => return response,
    };
    let g = Gen::of(&shared.config, ID);
    let n = shared.config.customers_for(ID);
    let key = format!("appxite|{orgs:?}|{}|{:?}", q.include_children, q.status);
    let view = shared.view(key, || select(&g, n, &orgs, &q));
    let start = (q.page - 1).saturating_mul(q.page_size);
    let items: Vec<Customer> = view
        .iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(q.page_size as usize)
        .map(|&i| customer(&g, u64::from(i), &q.includes))
        .collect();
    super::json(StatusCode::OK, &items)
}

fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

async fn list_one(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(organization_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Err(response) = check_headers(&shared, &headers) {
        return response;
    }
    if !is_guid(&organization_id) {
        return bad_request(&format!(
            "The value '{organization_id}' is not a valid organization id."
        ));
    }
    let org = organization_id.to_lowercase();
    if !is_known(&org) {
        return apim(
            StatusCode::NOT_FOUND,
            &format!("Organization '{organization_id}' was not found."),
        );
    }
    respond(&shared, vec![org], raw.as_deref())
}

async fn list_many(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Response {
    if let Err(response) = check_headers(&shared, &headers) {
        return response;
    }
    let orgs: Vec<String> = match serde_json::from_slice::<Vec<String>>(&body) {
        Ok(orgs) if !orgs.is_empty() && orgs.iter().all(|o| is_guid(o)) => {
            orgs.iter().map(|o| o.to_lowercase()).collect()
        }
        _ => {
            return bad_request(
                "The request body must be a non-empty JSON array of organization ids.",
            );
        }
    };
    respond(&shared, orgs, raw.as_deref())
}

async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form = super::query_pairs(std::str::from_utf8(&body).ok());
    let field = |name: &str| super::param(&form, name).unwrap_or("");
    let accepted = |key: &str| shared.config.credential(ID, key);
    let oauth_error = |status: StatusCode, error: &str, description: &str| {
        super::json(
            status,
            &json!({"error": error, "error_description": description}),
        )
    };
    if field("grant_type") != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only client_credentials is supported.",
        );
    }
    if field("client_id") != accepted("auth.client_id")
        || field("client_secret") != accepted("auth.client_secret")
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        );
    }
    let (access_token, ttl) = shared.issue_token(ID);
    let body = json!({"access_token": access_token, "token_type": "Bearer", "expires_in": ttl.saturating_sub(1).max(1)});
    super::json(StatusCode::OK, &body)
}

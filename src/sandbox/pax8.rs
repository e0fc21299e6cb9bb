//! Pax8 partner API "List Companies": `GET /pax8/v1/companies` (pages from 0) behind OAuth2 client
//! credentials at `POST /pax8/v1/token` (a **JSON** body; Auth0 answers underneath).
//!
//! Sources: the Pax8 OpenAPI documents published at devx.pax8.com (`partner-endpoints.json`:
//! `findCompanies`, the `Company`, `Address`, `Page` and `Error` schemas and the `companies-paged`
//! example; `authentication.json`: `createAccessToken`), kept in the public repository
//! `api-evangelist/pax8` (`openapi/_original/`), and the pages devx.pax8.com/docs/authentication,
//! /docs/errors and /docs/public-api-details.
//!
//! Promises and choices:
//! - Token: `{"client_id","client_secret","audience","grant_type":"client_credentials"}` as JSON →
//!   `{"access_token","token_type":"Bearer","expires_in","expires_at"}`; `expires_in` is a number,
//!   86400 in production, here the sandbox's token lifetime. Any other media type (a form) → 415
//!   with Pax8's error envelope; a body that is not a JSON object → 400, same envelope. The rest
//!   answers as Auth0 does: a missing `grant_type` → 400 `invalid_request`, another grant → 400
//!   `unsupported_grant_type`, a wrong client id or secret → 401
//!   `{"error":"access_denied","error_description":"Unauthorized"}` (the documented example), no
//!   audience → 403, the vendor audiences (`api://provisioning`, `api://usage`) or an unknown one →
//!   403 `access_denied`. Accepted audiences: `api://p8p.client` and `https://api.pax8.com` (the
//!   docs have named both for the partner endpoints).
//! - List: `page` ≥ 0 (default 0), `size` 1..=200 (default 10), `sort=field[,asc|desc]` with the
//!   documented fields `name|city|country|stateOrProvince|postalCode` (ties on the index, a
//!   descending sort reverses the ascending order), and equality filters `city`, `country`,
//!   `stateOrProvince`, `postalCode` (case-insensitive), `selfServiceAllowed`,
//!   `billOnBehalfOfEnabled`, `orderApprovalRequired` (`true|false`) and `status`
//!   (`Active|Inactive|Deleted`, case-sensitive as Spring converts enums). An invalid value → 400
//!   `BAD_REQUEST` naming the parameter; an empty value is no filter; unknown parameters are
//!   ignored, as Spring does. Without `sort` the order is the index (stable, so page-number
//!   paging is deterministic); every status is listed unless `status` is given.
//! - Body `{"content":[…],"page":{"size","totalElements","totalPages","number"}}`; a page past
//!   the end is `content: []` with the totals. Done when `number + 1 >= totalPages`.
//! - Company as the `Company` schema: `id` (uuid), `name`, `address {street, street2?, city,
//!   stateOrProvince, postalCode, country}` (ISO alpha-2), `phone`, `website` (with or without a
//!   scheme, as the example shows), `externalId?`, `billOnBehalfOfEnabled`, `selfServiceAllowed`,
//!   `orderApprovalRequired`, `status`, `updatedDate` (`2023-08-11T11:33:12.314-0600`, the
//!   example's form). Absent optional values are left out, not null (the example omits them);
//!   `phone` is missing on some records, as in the list example.
//! - Errors use the documented envelope `{type, message, instance, status, details}`; `instance`
//!   is the internal path the docs' example shows (`/public/v1/companies`), also for a 429 or 5xx
//!   the shared layer injects. 401 (no, unknown or expired token) carries `WWW-Authenticate:
//!   Bearer`. The docs name no `Retry-After` on 429 (1000 successful calls a minute): never sent.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::data::{self, Gen};
use super::shared::TokenCheck;
use super::{Demo, Emulator, RetryAfter, SandboxConfig, Shared};

const ID: &str = "pax8";

/// The path the docs' error example names as `instance` for the companies list.
const LIST_INSTANCE: &str = "/public/v1/companies";
const TOKEN_INSTANCE: &str = "/v1/token";

/// The audiences a partner's client may ask for.
const PARTNER_AUDIENCES: [&str; 2] = ["api://p8p.client", "https://api.pax8.com"];
/// The vendor audiences: they exist, but a partner's client has no grant for them.
const VENDOR_AUDIENCES: [&str; 2] = ["api://provisioning", "api://usage"];

/// 2020-01-01T00:00:00Z: the earliest `updatedDate`.
const EPOCH: i64 = 1_577_836_800;
/// Pax8 is in Denver: its timestamps carry the -06:00 offset, as the example's do.
const OFFSET_SECS: i64 = -6 * 3600;

/// The Pax8 emulation.
pub struct Pax8;

impl Emulator for Pax8 {
    fn id(&self) -> &'static str {
        ID
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["pax8"]
    }

    fn routes(&self) -> Router<Arc<Shared>> {
        Router::new()
            .route("/pax8/v1/token", post(token))
            .route("/pax8/v1/companies", get(list))
    }

    fn is_token_path(&self, path: &str) -> bool {
        path == "/pax8/v1/token"
    }

    fn base_path(&self) -> &'static str {
        "/pax8"
    }

    fn token_path(&self, _config: &SandboxConfig) -> Option<String> {
        Some("/pax8/v1/token".into())
    }

    fn demo(&self) -> &'static Demo {
        &Demo {
            accepted: &[
                ("auth.client_id", "sandbox-pax8-client"),
                ("auth.client_secret", "sandbox-pax8-secret"),
            ],
            settings: &[],
            filters: &[],
        }
    }

    fn expected(
        &self,
        config: &SandboxConfig,
        filters: &[(String, String)],
    ) -> Result<Vec<Value>, String> {
        let pairs: Vec<(String, String)> = filters
            .iter()
            .filter(|(k, _)| !["page", "size"].contains(&k.as_str()))
            .cloned()
            .collect();
        let q = Query::parse(&pairs).map_err(|_| "invalid pax8 filters".to_string())?;
        let g = Gen::of(config, ID);
        Ok(select(&g, config.customers_for(ID), &q)
            .into_iter()
            .map(|i| record(&g, u64::from(i)))
            .collect())
    }

    fn retry_after(&self) -> RetryAfter {
        RetryAfter::Never
    }

    fn server_error(&self, status: StatusCode) -> Response {
        let kind = status
            .canonical_reason()
            .unwrap_or("Internal Server Error")
            .to_ascii_uppercase()
            .replace(' ', "_");
        let message = "Something went wrong on the Pax8 server. Please try again later.";
        error(status, &kind, message, LIST_INSTANCE)
    }

    fn throttled(&self, _seconds: u64) -> Response {
        error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many requests hit the API too quickly. Please slow down.",
            LIST_INSTANCE,
        )
    }
}

/// The fields `sort` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortField {
    Name,
    City,
    Country,
    StateOrProvince,
    PostalCode,
}

impl SortField {
    fn parse(name: &str) -> Option<SortField> {
        Some(match name {
            "name" => SortField::Name,
            "city" => SortField::City,
            "country" => SortField::Country,
            "stateOrProvince" => SortField::StateOrProvince,
            "postalCode" => SortField::PostalCode,
            _ => return None,
        })
    }

    fn key(self, g: &Gen, i: u64) -> String {
        let (city, state, country, postal) = data::place(g, i, 20);
        match self {
            SortField::Name => data::company_name(g, i),
            SortField::City => city.to_string(),
            SortField::Country => country.to_string(),
            SortField::StateOrProvince => state.to_string(),
            SortField::PostalCode => postal.to_string(),
        }
        .to_lowercase()
    }
}

/// A validated list query.
#[derive(Debug, Clone)]
struct Query {
    page: u64,
    size: u64,
    sort: Option<(SortField, bool)>,
    city: Option<String>,
    country: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    self_service: Option<bool>,
    bill_on_behalf: Option<bool>,
    approval: Option<bool>,
    status: Option<&'static str>,
}

impl Query {
    fn parse(pairs: &[(String, String)]) -> Result<Query, Response> {
        let p = |name: &str| super::param(pairs, name).filter(|v| !v.is_empty());
        let page = match p("page") {
            None => 0,
            Some(v) => v
                .parse::<u64>()
                .map_err(|_| invalid("page", v, "must be a whole number ≥ 0"))?,
        };
        let size = match p("size") {
            None => 10,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=200).contains(s))
                .ok_or_else(|| invalid("size", v, "must be between 1 and 200"))?,
        };
        let sort = match p("sort") {
            None => None,
            Some(v) => {
                let (field, direction) = v.split_once(',').unwrap_or((v, "asc"));
                let desc = match direction.to_ascii_lowercase().as_str() {
                    "asc" => false,
                    "desc" => true,
                    _ => return Err(invalid("sort", v, "direction must be asc or desc")),
                };
                let field = SortField::parse(field).ok_or_else(|| {
                    let why = "field must be one of name, city, country, stateOrProvince, postalCode";
                    invalid("sort", v, why)
                })?;
                Some((field, desc))
            }
        };
        let flag = |name: &str| -> Result<Option<bool>, Response> {
            p(name)
                .map(|v| match v.to_ascii_lowercase().as_str() {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err(invalid(name, v, "must be true or false")),
                })
                .transpose()
        };
        let status = match p("status") {
            None => None,
            Some(v) => Some(
                ["Active", "Inactive", "Deleted"]
                    .into_iter()
                    .find(|s| *s == v)
                    .ok_or_else(|| invalid("status", v, "must be Active, Inactive or Deleted"))?,
            ),
        };
        let text = |name: &str| p(name).map(str::to_lowercase);
        Ok(Query {
            page,
            size,
            sort,
            city: text("city"),
            country: text("country"),
            state: text("stateOrProvince"),
            postal_code: text("postalCode"),
            self_service: flag("selfServiceAllowed")?,
            bill_on_behalf: flag("billOnBehalfOfEnabled")?,
            approval: flag("orderApprovalRequired")?,
            status,
        })
    }

    /// The cache key of the filtered, sorted view (paging excluded).
    fn view_key(&self) -> String {
        format!(
            "pax8|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.sort,
            self.city,
            self.country,
            self.state,
            self.postal_code,
            self.self_service,
            self.bill_on_behalf,
            self.approval,
            self.status
        )
    }

    fn matches(&self, g: &Gen, i: u64) -> bool {
        let (city, state, country, postal) = data::place(g, i, 20);
        let same = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|w| w == have.to_lowercase())
        };
        let flags = Flags::of(g, i);
        same(&self.city, city)
            && same(&self.country, country)
            && same(&self.state, state)
            && same(&self.postal_code, postal)
            && self.self_service.is_none_or(|f| f == flags.self_service)
            && self.bill_on_behalf.is_none_or(|f| f == flags.bill_on_behalf)
            && self.approval.is_none_or(|f| f == flags.approval)
            && self.status.is_none_or(|s| s == status(g, i))
    }
}

/// The ordered indices of the records matching `q`.
fn select(g: &Gen, n: u64, q: &Query) -> Vec<u32> {
    let rows = (0..n).filter(|&i| q.matches(g, i));
    let Some((field, desc)) = q.sort else {
        return rows.map(super::count_u32).collect();
    };
    let mut keyed: Vec<(String, u64)> = rows.map(|i| (field.key(g, i), i)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    if desc {
        keyed.reverse();
    }
    keyed
        .into_iter()
        .map(|(_, i)| super::count_u32(i))
        .collect()
}

/// The company's three documented switches.
struct Flags {
    self_service: bool,
    bill_on_behalf: bool,
    approval: bool,
}

impl Flags {
    fn of(g: &Gen, i: u64) -> Flags {
        let self_service = g.chance(i, 21, 40);
        Flags {
            self_service,
            bill_on_behalf: g.chance(i, 22, 30),
            // Approval only means something for self-service orders, and is mostly set there.
            approval: self_service && g.chance(i, 23, 50),
        }
    }
}

/// `Active` (a company with contacts), `Inactive` (none yet), `Deleted`.
fn status(g: &Gen, i: u64) -> &'static str {
    match g.pick(i, 24, 20) {
        0..=15 => "Active",
        16..=18 => "Inactive",
        _ => "Deleted",
    }
}

/// `2023-08-11T11:33:12.314-0600`: milliseconds and an offset without a colon.
fn pax8_timestamp(unix: i64, millis: u64) -> String {
    let local = data::iso_seconds(unix + OFFSET_SECS);
    format!("{}.{millis:03}-0600", local.trim_end_matches('Z'))
}

/// Company `i`, as the `Company` schema and the list example shape it.
fn record(g: &Gen, i: u64) -> Value {
    let name = data::company_name(g, i);
    let (city, state, country, postal) = data::place(g, i, 20);
    let slug: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    let slug = if slug.is_empty() { "company".into() } else { slug };
    let mut address = Map::new();
    address.insert("street".into(), json!(data::street(g, i, 25)));
    if g.chance(i, 26, 30) {
        address.insert("street2".into(), json!(format!("Suite {}", 100 + i % 800)));
    }
    address.insert("city".into(), json!(city));
    address.insert("stateOrProvince".into(), json!(state));
    address.insert("postalCode".into(), json!(postal));
    address.insert("country".into(), json!(country));
    let flags = Flags::of(g, i);
    let mut company = Map::new();
    company.insert("id".into(), json!(g.guid(i, 27)));
    company.insert("name".into(), json!(name));
    company.insert("address".into(), Value::Object(address));
    if !g.chance(i, 28, 10) {
        company.insert("phone".into(), json!(data::phone(g, i, 29)));
    }
    let website = match g.pick(i, 30, 3) {
        0 => format!("https://www.{slug}{}.com/", i + 1),
        _ => format!("{slug}-{}.com", i + 1),
    };
    company.insert("website".into(), json!(website));
    match g.pick(i, 31, 5) {
        0 | 1 => {}
        2 => {
            company.insert("externalId".into(), json!(format!("=CRM{:05}", i + 1)));
        }
        _ => {
            company.insert("externalId".into(), json!(format!("PSA-{:06}", i + 1)));
        }
    }
    company.insert("billOnBehalfOfEnabled".into(), json!(flags.bill_on_behalf));
    company.insert("selfServiceAllowed".into(), json!(flags.self_service));
    company.insert("orderApprovalRequired".into(), json!(flags.approval));
    company.insert("status".into(), json!(status(g, i)));
    let updated = EPOCH + (g.h(i, 32) % 150_000_000) as i64;
    company.insert(
        "updatedDate".into(),
        json!(pax8_timestamp(updated, g.h(i, 33) % 1000)),
    );
    g.drifted(i, Value::Object(company))
}

/// Pax8's error envelope.
fn error(status: StatusCode, kind: &str, message: &str, instance: &str) -> Response {
    error_with(status, kind, message, instance, Vec::new())
}

fn error_with(
    status: StatusCode,
    kind: &str,
    message: &str,
    instance: &str,
    details: Vec<Value>,
) -> Response {
    let body = json!({
        "type": kind,
        "message": message,
        "instance": instance,
        "status": status.as_u16(),
        "details": details,
    });
    super::json(status, &body)
}

fn invalid(parameter: &str, value: &str, why: &str) -> Response {
    let message = format!("Invalid value '{value}' for parameter '{parameter}': {why}");
    let detail = json!({
        "type": "INVALID_PARAM",
        "status": 400,
        "message": format!("{parameter} {why}"),
        "instance": LIST_INSTANCE,
    });
    error_with(
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        &message,
        LIST_INSTANCE,
        vec![detail],
    )
}

fn unauthorized(check: TokenCheck) -> Response {
    let (message, challenge) = match check {
        TokenCheck::Missing => (
            "Full authentication is required to access this resource",
            "Bearer".to_string(),
        ),
        TokenCheck::Expired => (
            "The access token has expired",
            "Bearer error=\"invalid_token\", error_description=\"Jwt expired\"".to_string(),
        ),
        _ => (
            "The access token is invalid",
            "Bearer error=\"invalid_token\", error_description=\"Invalid token\"".to_string(),
        ),
    };
    let mut response = error(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        message,
        LIST_INSTANCE,
    );
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let check = shared.check_bearer(ID, &headers);
    if check != TokenCheck::Valid {
        return unauthorized(check);
    }
    let q = match Query::parse(&super::query_pairs(raw.as_deref())) {
        Ok(q) => q,
        Err(response) => return response,
    };
    let g = Gen::of(&shared.config, ID);
    let n = shared.config.customers_for(ID);
    let view = shared.view(q.view_key(), || select(&g, n, &q));
    let total = view.len() as u64;
    let start = q.page.saturating_mul(q.size);
    let content: Vec<Value> = view
        .iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(usize::try_from(q.size).unwrap_or(usize::MAX))
        .map(|&i| record(&g, u64::from(i)))
        .collect();
    let body = json!({
        "content": content,
        "page": {
            "size": q.size,
            "totalElements": total,
            "totalPages": total.div_ceil(q.size),
            "number": q.page,
        },
    });
    super::json(StatusCode::OK, &body)
}

/// Auth0's error shape, which the token endpoint passes through.
fn auth0_error(status: StatusCode, error: &str, description: &str) -> Response {
    super::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

/// Whether the request says its body is JSON (`application/json`, parameters allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// The JSON client-credentials token endpoint.
async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let request = match json_body(&headers, &body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    let field = |name: &str| request.get(name).and_then(Value::as_str).unwrap_or("");
    let accepted = |key: &str| shared.config.credential(ID, key);
    if let Err(response) = check_grant(field("grant_type")) {
        return response;
    }
    if field("client_id") != accepted("auth.client_id")
        || field("client_secret") != accepted("auth.client_secret")
    {
        return auth0_error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
    }
    if let Err(response) = check_audience(field("audience")) {
        return response;
    }
    let (access_token, ttl) = shared.issue_token(ID);
    let body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "expires_at": expires_at(ttl),
    });
    super::json(StatusCode::OK, &body)
}

/// The token request's JSON object; a form or anything else is refused by Pax8's gateway.
fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, Response> {
    if !is_json(headers) {
        let given = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let message = format!("Content-Type '{given}' is not supported; send application/json");
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            &message,
            TOKEN_INSTANCE,
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(request)) => Ok(request),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "Malformed JSON request: expected an object with client_id, client_secret, audience and grant_type",
            TOKEN_INSTANCE,
        )),
    }
}

fn check_grant(grant_type: &str) -> Result<(), Response> {
    match grant_type {
        "client_credentials" => Ok(()),
        "" => Err(auth0_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: grant_type",
        )),
        other => Err(auth0_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Unsupported grant type: {other}"),
        )),
    }
}

/// Auth0 issues a partner's client tokens for the partner API only.
fn check_audience(audience: &str) -> Result<(), Response> {
    let description = if audience.is_empty() {
        "No audience parameter was provided, and no default audience has been configured".into()
    } else if VENDOR_AUDIENCES.contains(&audience) {
        format!(
            "Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API."
        )
    } else if !PARTNER_AUDIENCES.contains(&audience) {
        format!("Service not found: {audience}")
    } else {
        return Ok(());
    };
    Err(auth0_error(
        StatusCode::FORBIDDEN,
        "access_denied",
        &description,
    ))
}

/// When a token issued now for `ttl` seconds expires, as Pax8 writes it
/// (`2024-12-20T17:53:50.460+00:00`).
fn expires_at(ttl: u64) -> String {
    let millis = jiff::Timestamp::now().as_millisecond() + ttl as i64 * 1000;
    let seconds = data::iso_seconds(millis.div_euclid(1000));
    format!(
        "{}.{:03}+00:00",
        seconds.trim_end_matches('Z'),
        millis.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn timestamps_have_the_documented_shape() {
        // 2023-08-11T17:33:12Z is 11:33:12 in Denver.
        assert_eq!(
            pax8_timestamp(1_691_775_192, 314),
            "2023-08-11T11:33:12.314-0600"
        );
    }

    #[test]
    fn query_limits_follow_the_openapi_document() {
        assert!(Query::parse(&pairs(&[("size", "200")])).is_ok());
        for bad in [
            ("size", "201"),
            ("size", "0"),
            ("page", "-1"),
            ("sort", "id"),
            ("sort", "name,up"),
            ("status", "active"),
            ("selfServiceAllowed", "yes"),
        ] {
            assert!(Query::parse(&pairs(&[bad])).is_err(), "{bad:?}");
        }
        let q = Query::parse(&pairs(&[("sort", "name,DESC"), ("unknown", "x")])).expect("valid");
        assert_eq!(q.sort, Some((SortField::Name, true)));
        assert_eq!((q.page, q.size), (0, 10));
    }

    #[test]
    fn filters_and_sorts_select_the_right_companies() {
        let config = SandboxConfig {
            customers: 60,
            ..SandboxConfig::default()
        };
        let all = Pax8.expected(&config, &[]).expect("all");
        assert_eq!(all.len(), 60);
        let active = Pax8
            .expected(&config, &pairs(&[("status", "Active")]))
            .expect("active");
        assert!(!active.is_empty() && active.len() < 60);
        assert!(active.iter().all(|c| c["status"] == "Active"));
        let by_name = Pax8
            .expected(&config, &pairs(&[("sort", "name,desc")]))
            .expect("sorted");
        let names: Vec<String> = by_name
            .iter()
            .map(|c| c["name"].as_str().unwrap_or("").to_lowercase())
            .collect();
        assert!(names.windows(2).all(|w| w[0] >= w[1]));
        assert!(all.iter().any(|c| c.get("phone").is_none()));
        assert!(all.iter().any(|c| c.get("externalId").is_none()));
    }
}

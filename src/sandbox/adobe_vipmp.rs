//! Adobe VIP Marketplace "Get customer list": `GET /adobe/v3/resellers/{reseller_id}/customers`
//! behind Adobe IMS client credentials at `POST /ims/ims/token/v3`.
//!
//! Promises and choices:
//! - Header checks in this order: a reused `X-Request-Id` → 400 code `4120` (checked before
//!   anything else, retries of failed calls included; a missing id is allowed, as the doc says one is
//!   then generated); no bearer token → 403 `4117`; missing or wrong `X-Api-Key` (must equal the
//!   client id) → 403 `4115`; unknown or expired token → 401 `4116`.
//! - Unknown reseller → 404 code `1116`. Invalid parameters → 400 code `1117` naming the parameter:
//!   `status` ∈ 1000|1002|1004|1026 (default 1000), `limit` 1..=50 (default 20), `offset` ≥ 0,
//!   `sort-by` creationDate|companyName (default creationDate), `order-by` asc|desc (default desc),
//!   `from-`/`to-created-date` as `YYYY-MM-DD` (or `YYYY-MM-DDTHH:MM:SSZ`); a plain date in
//!   `to-created-date` includes that whole day. Other parameters are ignored.
//! - Data: creation dates strictly increase with the index, so the default order (creationDate
//!   desc) is reverse index order; `companyName` sorts by name, ties on creation date. Statuses are
//!   ~70 % 1000, the rest 1002, 1004 and 1026, so the default filter matters.
//! - Body `{totalCount, count, offset, limit, accounts}` (the doc example's key). 429s (code
//!   `4118`) never carry `Retry-After`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::data::{self, Gen};
use super::shared::{Seen, TokenCheck, lock};
use super::{Demo, Emulator, RetryAfter, SandboxConfig, Shared};

const ID: &str = "adobe_vipmp";

/// 2019-01-01T00:00:00Z: the first customer's creation time.
const EPOCH: i64 = 1_546_300_800;

/// The Adobe VIP Marketplace emulation.
pub struct AdobeVipmp;

/// The `X-Request-Id`s seen so far (bounded).
#[derive(Default)]
struct RequestIds(std::sync::Mutex<Seen>);

impl Emulator for AdobeVipmp {
    fn id(&self) -> &'static str {
        ID
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["adobe", "ims"]
    }

    fn routes(&self) -> Router<Arc<Shared>> {
        Router::new()
            .route("/ims/ims/token/v3", post(token))
            .route("/adobe/v3/resellers/{reseller_id}/customers", get(list))
    }

    fn is_token_path(&self, path: &str) -> bool {
        path.starts_with("/ims/")
    }

    fn base_path(&self) -> &'static str {
        "/adobe"
    }

    fn token_path(&self, _config: &SandboxConfig) -> Option<String> {
        Some("/ims/ims/token/v3".into())
    }

    fn demo(&self) -> &'static Demo {
        &Demo {
            accepted: &[
                ("auth.client_id", "sandbox-adobe-client"),
                ("auth.client_secret", "sandbox-adobe-secret"),
                ("reseller_id", "1000396138"),
            ],
            settings: &[],
            // The connector asks oldest first; the truth must be read in that order.
            filters: &[("order-by", "asc")],
        }
    }

    fn expected(
        &self,
        config: &SandboxConfig,
        filters: &[(String, String)],
    ) -> Result<Vec<Value>, String> {
        let pairs: Vec<(String, String)> = filters
            .iter()
            .filter(|(k, _)| !["offset", "limit"].contains(&k.as_str()))
            .cloned()
            .collect();
        let q = Query::parse(&pairs).map_err(|_| "invalid adobe_vipmp filters".to_string())?;
        let g = Gen::of(config, ID);
        let reseller = config.credential(ID, "reseller_id");
        let mut rows = select(&g, config.customers_for(ID), &q);
        if q.desc {
            rows.reverse();
        }
        Ok(rows
            .into_iter()
            .map(|i| record(&g, u64::from(i), reseller))
            .collect())
    }

    fn retry_after(&self) -> RetryAfter {
        RetryAfter::Never
    }

    fn server_error(&self, status: StatusCode) -> Response {
        error(status, "9999", "Internal Server Error")
    }

    fn throttled(&self, _seconds: u64) -> Response {
        error(StatusCode::TOO_MANY_REQUESTS, "4118", "Too many requests")
    }

    /// Adobe rejects a reused `X-Request-Id` even on a retry of a failed call, so every id is
    /// recorded before anything else can fail the request.
    fn screen(&self, shared: &Shared, path: &str, headers: &HeaderMap) -> Option<Response> {
        if !path.starts_with("/adobe/") {
            return None;
        }
        let id = headers.get("x-request-id")?.to_str().ok()?;
        let seen = shared.state::<RequestIds>();
        if lock(&seen.0).first_time(id) {
            return None;
        }
        shared.duplicate_request_id(ID);
        let message = format!("Duplicate request id {id}: every request needs a new X-Request-Id.");
        Some(error(StatusCode::BAD_REQUEST, "4120", &message))
    }
}

#[derive(Debug, Clone)]
struct Query {
    status: &'static str,
    from: Option<i64>,
    to: Option<i64>,
    offset: u64,
    limit: u64,
    by_name: bool,
    desc: bool,
}

impl Query {
    fn parse(pairs: &[(String, String)]) -> Result<Query, Response> {
        let p = |name: &str| super::param(pairs, name);
        let status = match p("status") {
            None => "1000",
            Some(v) => ["1000", "1002", "1004", "1026"]
                .into_iter()
                .find(|s| *s == v)
                .ok_or_else(|| invalid("status", v))?,
        };
        let date = |name: &str, end_of_day: bool| -> Result<Option<i64>, Response> {
            let Some(v) = p(name) else { return Ok(None) };
            if let Some(day) = data::parse_date(v) {
                return Ok(Some(if end_of_day { day + 86_399 } else { day }));
            }
            data::parse_iso_seconds(v)
                .map(Some)
                .ok_or_else(|| invalid(name, v))
        };
        let from = date("from-created-date", false)?;
        let to = date("to-created-date", true)?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(invalid(
                "from-created-date",
                p("from-created-date").unwrap_or(""),
            ));
        }
        let offset = match p("offset") {
            None => 0,
            Some(v) => v.parse::<u64>().map_err(|_| invalid("offset", v))?,
        };
        let limit = match p("limit") {
            None => 20,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|l| (1..=50).contains(l))
                .ok_or_else(|| invalid("limit", v))?,
        };
        let by_name = match p("sort-by") {
            None | Some("creationDate") => false,
            Some("companyName") => true,
            Some(v) => return Err(invalid("sort-by", v)),
        };
        let desc = match p("order-by") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(v) => return Err(invalid("order-by", v)),
        };
        Ok(Query {
            status,
            from,
            to,
            offset,
            limit,
            by_name,
            desc,
        })
    }

    fn view_key(&self) -> String {
        format!(
            "adobe|{}|{:?}|{:?}|{}",
            self.status, self.from, self.to, self.by_name
        )
    }
}

fn created(g: &Gen, i: u64) -> i64 {
    EPOCH + i as i64 * 600 + (g.h(i, 300) % 500) as i64
}

fn status(g: &Gen, i: u64) -> &'static str {
    match g.pick(i, 301, 20) {
        0..=13 => "1000",
        14 | 15 => "1002",
        16 | 17 => "1004",
        _ => "1026",
    }
}

/// Matching indices in ascending sort order (the handler reverses for `desc`).
fn select(g: &Gen, n: u64, q: &Query) -> Vec<u32> {
    let mut rows: Vec<u64> = (0..n)
        .filter(|&i| {
            let c = created(g, i);
            status(g, i) == q.status && q.from.is_none_or(|f| c >= f) && q.to.is_none_or(|t| c <= t)
        })
        .collect();
    if q.by_name {
        let mut keyed: Vec<(String, u64)> = rows
            .iter()
            .map(|&i| (data::company_name(g, i), i))
            .collect();
        // Index order is creation order, so the tie-break on the index is a tie-break on creationDate.
        keyed.sort();
        rows = keyed.into_iter().map(|(_, i)| i).collect();
    }
    rows.into_iter().map(super::count_u32).collect()
}

/// A list entry: the Customer resource of Adobe's "Get customer account" page (the list page
/// shows only a few of its fields).
fn record(g: &Gen, i: u64, reseller_id: &str) -> Value {
    let customer_id = format!("{}", 1_006_500_000 + i);
    let created = created(g, i);
    let segment = ["COM", "COM", "COM", "EDU", "GOV"][g.pick(i, 303, 5)];
    let sub_segments: Vec<&str> = match (segment, g.pick(i, 304, 3)) {
        ("EDU", 0) => vec!["K_12"],
        ("EDU", 1) => vec!["HIGHER_ED"],
        _ => vec![],
    };
    let (city, region, country, postal) = data::place(g, i, 305);
    let contacts: Vec<Value> = (0..1 + g.pick(i, 306, 2) as u64)
        .map(|n| {
            let first = data::first_name(g, i, 307 + n);
            let last = data::last_name(g, i, 309 + n);
            json!({
                "firstName": first,
                "lastName": last,
                "email": data::email(first, last, i * 10 + n),
                "phoneNumber": data::phone(g, i, 311 + n),
            })
        })
        .collect();
    let mut customer = json!({
        "externalReferenceId": g.guid(i, 302),
        "customerId": customer_id,
        "resellerId": reseller_id,
        "globalSalesEnabled": g.chance(i, 313, 10),
        "status": status(g, i),
        "companyProfile": {
            "companyName": data::company_name(g, i),
            "preferredLanguage": (["en-US", "fr-FR", "de-DE", "ja-JP"][g.pick(i, 314, 4)]),
            "marketSegment": segment,
            "marketSubSegments": sub_segments,
            "address": {
                "country": country,
                "region": region,
                "city": city,
                "addressLine1": data::street(g, i, 315),
                "addressLine2": data::empty(g, i, 316),
                "postalCode": postal,
                "phoneNumber": data::phone(g, i, 317),
            },
            "contacts": contacts,
        },
        "discounts": [
            {"offerType": "LICENSE", "level": format!("0{}", 1 + g.pick(i, 318, 4))},
            {"offerType": "CONSUMABLES", "level": "T1"},
        ],
        "creationDate": data::iso_seconds(created),
        "benefits": [],
        "links": {"self": {"uri": format!("/v3/customers/{customer_id}"), "method": "GET", "headers": []}},
    });
    // The anniversary date comes with the first order: a new customer has none yet.
    if g.chance(i, 319, 80) {
        let coterm = data::iso_seconds(created + 365 * 86_400);
        customer["cotermDate"] = json!(coterm[..10]);
    }
    if g.chance(i, 320, 15) {
        let start = data::iso_seconds(created + 30 * 86_400);
        let end = data::iso_seconds(created + (30 + 3 * 365) * 86_400);
        customer["benefits"] = json!([{
            "type": "THREE_YEAR_COMMIT",
            "commitment": {
                "status": (["COMMITTED", "COMMITTED", "EXPIRED"][g.pick(i, 321, 3)]),
                "startDate": &start[..10],
                "endDate": &end[..10],
                "minimumQuantities": [{"offerType": "LICENSE", "quantity": 10 + g.h(i, 322) % 90}],
            },
        }]);
    }
    if g.chance(i, 323, 15) {
        customer["linkedMembership"] = json!({
            "id": format!("LM{}", 1000 + g.h(i, 324) % 9000),
            "name": format!("{} group", data::company_name(g, i / 10 * 10)),
            "type": (["STANDARD", "CONSORTIUM"][g.pick(i, 325, 2)]),
            "linkedMembershipType": (["OWNER", "MEMBER"][g.pick(i, 326, 2)]),
        });
    }
    g.drifted(i, customer)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    super::json(
        status,
        &json!({"code": code, "message": message, "additionalDetails": []}),
    )
}

fn invalid(parameter: &str, value: &str) -> Response {
    let body = json!({
        "code": "1117",
        "message": "Invalid request parameter",
        "additionalDetails": [format!("Invalid value '{value}' for parameter '{parameter}'")],
    });
    super::json(StatusCode::BAD_REQUEST, &body)
}

fn check_headers(shared: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    if super::bearer(headers).is_none() {
        return Err(error(StatusCode::FORBIDDEN, "4117", "Missing access token"));
    }
    let key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    if key != Some(shared.config.credential(ID, "auth.client_id")) {
        return Err(error(StatusCode::FORBIDDEN, "4115", "Invalid API key"));
    }
    match shared.check_bearer(ID, headers) {
        TokenCheck::Valid => Ok(()),
        TokenCheck::Expired => Err(error(
            StatusCode::UNAUTHORIZED,
            "4116",
            "Access token expired",
        )),
        _ => Err(error(
            StatusCode::UNAUTHORIZED,
            "4116",
            "Invalid access token",
        )),
    }
}

async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(reseller_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Err(response) = check_headers(&shared, &headers) {
        return response;
    }
    if reseller_id != shared.config.credential(ID, "reseller_id") {
        return error(StatusCode::NOT_FOUND, "1116", "Reseller not found");
    }
    let q = match Query::parse(&super::query_pairs(raw.as_deref())) {
        Ok(q) => q,
        Err(response) => return response,
    };
    let g = Gen::of(&shared.config, ID);
    let n = shared.config.customers_for(ID);
    let view = shared.view(q.view_key(), || select(&g, n, &q));
    let total = view.len() as u64;
    let accounts: Vec<Value> = (q.offset..q.offset.saturating_add(q.limit).min(total))
        .filter_map(|k| {
            let k = if q.desc { total - 1 - k } else { k };
            view.get(usize::try_from(k).ok()?)
                .map(|&i| record(&g, u64::from(i), &reseller_id))
        })
        .collect();
    let body = json!({
        "totalCount": total,
        "count": accounts.len(),
        "offset": q.offset,
        "limit": q.limit,
        "accounts": accounts,
    });
    super::json(StatusCode::OK, &body)
}

/// Adobe IMS client-credentials token endpoint.
async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form = super::query_pairs(std::str::from_utf8(&body).ok());
    let field = |name: &str| super::param(&form, name).unwrap_or("");
    let accepted = |key: &str| shared.config.credential(ID, key);
    let ims_error = |status: StatusCode, error: &str, description: &str| {
        super::json(
            status,
            &json!({"error": error, "error_description": description}),
        )
    };
    if field("grant_type") != "client_credentials" {
        return ims_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    if field("client_id") != accepted("auth.client_id") {
        return ims_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "invalid client_id parameter",
        );
    }
    if field("client_secret") != accepted("auth.client_secret") {
        return ims_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "invalid client_secret parameter",
        );
    }
    let (access_token, ttl) = shared.issue_token(ID);
    let body = json!({"access_token": access_token, "token_type": "bearer", "expires_in": ttl.saturating_sub(1).max(1)});
    super::json(StatusCode::OK, &body)
}

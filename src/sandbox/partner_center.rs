//! Microsoft Partner Center "Get a list of customers": `GET /partner-center/v1/customers` (seek
//! paging with a continuation token) behind Azure AD v1 client credentials at
//! `POST /partner-center-aad/{tenant_id}/oauth2/token` (resource
//! `https://api.partnercenter.microsoft.com`).
//!
//! Sources: Microsoft's Partner Center REST docs (learn.microsoft.com/partner-center/developer:
//! get-a-list-of-customers, get-a-customer-by-name, get-customers-of-an-indirect-reseller,
//! customer-resources, error-codes, api-throttling-guidance, and the `links.next` +
//! `MS-ContinuationToken` examples of the invoice line-item pages; copies in the public
//! repository `xdmushui/partner-center-sdk`, `develop/*.md`), the REST reference
//! learn.microsoft.com/rest/api/partner-center/manage-customer-accounts/get-customers, the
//! Partner Center .NET SDK as shipped in `microsoft/Partner-Center-PowerShell`
//! (`src/PartnerCenter/Models/ResourceCollectionWithLinks.cs`, `SeekBasedResourceCollection.cs`,
//! `Models/Customers/*.cs`, `Customers/CustomerCollectionOperations.cs`,
//! `Enumerators/BaseResourceCollectionEnumerator.cs`, `Configuration/PartnerService.json`, before
//! commit cd9d363 moved the SDK out) and its issue #379 (a production `links.next.uri` of
//! `/v1/customers?size=500&seekOperation=Next`).
//!
//! Promises and choices:
//! - Token: as C3's Azure AD v1 endpoint (form body; `expires_in`, `ext_expires_in`,
//!   `expires_on`, `not_before` as strings; AADSTS error bodies); `resource` must be
//!   `https://api.partnercenter.microsoft.com` (a v2-style `scope` of `{resource}/.default` is
//!   accepted too). It lives under this emulation's own `partner-center-aad` prefix.
//! - List: `size` is the page size: absent or `0` (the docs' examples send `size=0`) means the
//!   server's default of 500, larger values are capped at 500 (the service "pulls up to 500
//!   records"; no error is documented), a negative or non-numeric one → 400. The first page is
//!   `GET /v1/customers?size=N`; while more remain, `links.next` is
//!   `{"uri":"/v1/customers?size=N&seekOperation=Next[&filter=…]","method":"GET","headers":[{"key":
//!   "MS-ContinuationToken","value":"<token>"}]}` and the client sends that request with that
//!   header. The last page has no `links.next`. `seekOperation` other than `Next` → 400 (only
//!   forward paging is emulated); `Next` without the header, or with a token that is garbled,
//!   from another sandbox configuration or for another filter → 400 code 2000. Tokens are base64,
//!   opaque, and a pure function of (config, filter, position). Query parameter names match
//!   case-insensitively (ASP.NET binding; the docs write both `seekOperation=Next` and
//!   `seekoperation=next`).
//! - `totalCount` is the number of items **in that page** (the SDK's `ResourceCollection` computes
//!   it as `Items.Count`, and every documented example agrees): the API reports no grand total,
//!   so the sum of `totalCount` over all pages is the number of customers.
//! - `filter` is the documented URL-encoded JSON `{"Field":"CompanyName"|"Domain"|
//!   "IndirectReseller","Value":"…","Operator":"starts_with"}` (case-insensitive prefix match;
//!   `IndirectReseller` matches `associatedPartnerId`); anything else → 400. Order is the
//!   index, stable across pages.
//! - A list item as the docs' examples: `id` (= `companyProfile.tenantId`), `companyProfile
//!   {tenantId, domain, companyName, links, attributes}`, `relationshipToPartner` (`reseller`,
//!   some `advisor`), `associatedPartnerId` only for an indirect reseller's customers (left out,
//!   not null, otherwise), `links.self`, `attributes {objectType: "Customer"}`. No
//!   `billingProfile` and no `allowDelegatedAccess` ("only available when getting a customer by
//!   ID, not by list").
//! - The collection carries `links.self` and `attributes {objectType: "Collection"}`; responses
//!   echo `MS-RequestId` and `MS-CorrelationId` (made up when missing).
//! - Errors: `{"code", "description", "data": [], "source"}` (error-codes page; `code` a number as
//!   in every example). 401: no token → code 800001, unknown or expired → 900420 "Invalid Token",
//!   with `WWW-Authenticate: OAuth realm=…`. 5xx → code 800003. 429 is Azure API Management's
//!   `{"statusCode":429,"message":"Rate limit is exceeded. Try again in N seconds."}`, always with
//!   `Retry-After` (api-throttling-guidance).
//! - The list is also served at the host root (`/v1/customers`), so a `links.next.uri` resolved
//!   against the host, as RFC 3986 resolves a path-absolute reference, reaches it too.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::data::{self, Gen};
use super::shared::TokenCheck;
use super::{Demo, Emulator, RetryAfter, SandboxConfig, Shared};

const ID: &str = "partner_center";

/// The resource (audience) Partner Center tokens are issued for.
const RESOURCE: &str = "https://api.partnercenter.microsoft.com";

/// The server's page size when none is given, and the most a page holds.
const MAX_SIZE: u64 = 500;

const CONTINUATION_HEADER: &str = "ms-continuationtoken";

/// The Microsoft Partner Center emulation.
pub struct PartnerCenter;

impl Emulator for PartnerCenter {
    fn id(&self) -> &'static str {
        ID
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["partner-center", "partner-center-aad", "v1"]
    }

    fn routes(&self) -> Router<Arc<Shared>> {
        Router::new()
            .route("/partner-center-aad/{tenant_id}/oauth2/token", post(token))
            .route("/partner-center/v1/customers", get(list))
            .route("/v1/customers", get(list))
    }

    fn is_token_path(&self, path: &str) -> bool {
        path.starts_with("/partner-center-aad/")
    }

    fn base_path(&self) -> &'static str {
        "/partner-center"
    }

    fn token_path(&self, config: &SandboxConfig) -> Option<String> {
        let tenant = config.credential(ID, "auth.tenant_id");
        Some(format!("/partner-center-aad/{tenant}/oauth2/token"))
    }

    fn demo(&self) -> &'static Demo {
        &Demo {
            accepted: &[
                ("auth.tenant_id", "sandbox-partner-center-tenant"),
                ("auth.client_id", "sandbox-partner-center-client"),
                ("auth.client_secret", "sandbox-partner-center-secret"),
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
        let filter = match param(filters, "filter") {
            None => None,
            Some(text) => Some(
                Filter::parse(text)
                    .map_err(|_| format!("invalid partner_center filter {text:?}"))?,
            ),
        };
        let g = Gen::of(config, ID);
        let resellers = Resellers::of(&g);
        Ok(select(&g, &resellers, config.customers_for(ID), &filter)
            .into_iter()
            .map(|i| record(&g, &resellers, u64::from(i)))
            .collect())
    }

    fn retry_after(&self) -> RetryAfter {
        RetryAfter::Always
    }

    fn server_error(&self, status: StatusCode) -> Response {
        error(status, 800003, "Unexpected service error", "PartnerFD")
    }

    fn throttled(&self, seconds: u64) -> Response {
        let message = format!("Rate limit is exceeded. Try again in {seconds} seconds.");
        super::json(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({"statusCode": 429, "message": message}),
        )
    }
}

/// The last value of query parameter `name`, matched case-insensitively as ASP.NET binds them;
/// an empty value counts as absent.
fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The fields a customer list can be filtered on (`CustomerSearchField`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SearchField {
    CompanyName,
    Domain,
    IndirectReseller,
}

/// A documented `filter`: a case-insensitive `starts_with` on one field.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filter {
    field: SearchField,
    /// Lower-cased.
    prefix: String,
}

impl Filter {
    fn parse(text: &str) -> Result<Filter, String> {
        let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) else {
            return Err("The filter must be a JSON object with Field, Value and Operator.".into());
        };
        // JSON.NET binds property names case-insensitively.
        let get = |name: &str| {
            object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.as_str())
        };
        let field = match get("Field").map(str::to_ascii_lowercase).as_deref() {
            Some("companyname") => SearchField::CompanyName,
            Some("domain") => SearchField::Domain,
            Some("indirectreseller") => SearchField::IndirectReseller,
            other => {
                return Err(format!(
                    "Filter field {other:?} is not supported; use CompanyName, Domain or IndirectReseller."
                ));
            }
        };
        if !get("Operator").is_some_and(|o| o.eq_ignore_ascii_case("starts_with")) {
            return Err("The only supported filter operator is starts_with.".into());
        }
        let Some(value) = get("Value").filter(|v| !v.is_empty()) else {
            return Err("The filter needs a non-empty Value.".into());
        };
        Ok(Filter {
            field,
            prefix: value.to_lowercase(),
        })
    }

    fn matches(&self, g: &Gen, resellers: &Resellers, i: u64) -> bool {
        let text = match self.field {
            SearchField::CompanyName => data::company_name(g, i),
            SearchField::Domain => domain(g, i),
            SearchField::IndirectReseller => match resellers.of_customer(g, i) {
                Some(id) => id.to_string(),
                None => return false,
            },
        };
        text.to_lowercase().starts_with(&self.prefix)
    }
}

/// A validated list request.
#[derive(Debug, Clone)]
struct Query {
    size: u64,
    filter: Option<Filter>,
    /// The filter as the request gave it, to carry into `links.next`.
    filter_text: Option<String>,
    /// The continuation token, when the request seeks the next page.
    token: Option<String>,
}

impl Query {
    fn parse(pairs: &[(String, String)], headers: &HeaderMap) -> Result<Query, Response> {
        let size = match param(pairs, "size") {
            None => MAX_SIZE,
            Some(v) => match v.parse::<i64>() {
                Ok(0) => MAX_SIZE,
                Ok(n) if n > 0 => (n as u64).min(MAX_SIZE),
                _ => {
                    let message = format!("The value '{v}' is not valid for size.");
                    return Err(bad_request(&message));
                }
            },
        };
        let filter_text = param(pairs, "filter").map(str::to_string);
        let filter = match &filter_text {
            None => None,
            Some(text) => Some(Filter::parse(text).map_err(|m| bad_request(&m))?),
        };
        let token = match param(pairs, "seekOperation") {
            None => None,
            Some(op) if op.eq_ignore_ascii_case("next") => {
                let token = headers
                    .get(CONTINUATION_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| {
                        bad_request("seekOperation=Next needs the MS-ContinuationToken header.")
                    })?;
                Some(token.to_string())
            }
            Some(op) => {
                let message = format!("The seek operation '{op}' is not supported; use Next.");
                return Err(bad_request(&message));
            }
        };
        Ok(Query {
            size,
            filter,
            filter_text,
            token,
        })
    }

    /// The cache key of the filtered view (paging excluded); continuation tokens are bound to it.
    fn view_key(&self) -> String {
        format!("partner_center|{:?}", self.filter)
    }

    /// A list URI as the service writes it in `links`: relative to the API root.
    fn uri(&self, next: bool) -> String {
        let mut uri = format!("/v1/customers?size={}", self.size);
        if next {
            uri.push_str("&seekOperation=Next");
        }
        if let Some(filter) = &self.filter_text {
            let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
            uri.push_str("&filter=");
            uri.push_str(&encoded);
        }
        uri
    }
}

/// The indirect resellers some customers belong to (their `associatedPartnerId`).
struct Resellers([String; 3]);

impl Resellers {
    fn of(g: &Gen) -> Resellers {
        Resellers([0, 1, 2].map(|k| g.guid(k, 60)))
    }

    /// The indirect reseller of customer `i`: a quarter of the customers have one.
    fn of_customer(&self, g: &Gen, i: u64) -> Option<&str> {
        g.chance(i, 61, 25)
            .then(|| self.0[g.pick(i, 62, self.0.len())].as_str())
    }
}

/// The ordered indices of the customers matching `filter`.
fn select(g: &Gen, resellers: &Resellers, n: u64, filter: &Option<Filter>) -> Vec<u32> {
    (0..n)
        .filter(|&i| filter.as_ref().is_none_or(|f| f.matches(g, resellers, i)))
        .map(super::count_u32)
        .collect()
}

/// The customer's initial domain, `{name}{n}.onmicrosoft.com`, its case kept as the tenant
/// was named.
fn domain(g: &Gen, i: u64) -> String {
    let slug: String = data::company_name(g, i)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    let slug = if slug.is_empty() { "tenant".into() } else { slug };
    format!("{slug}{}.onmicrosoft.com", i + 1)
}

fn link(uri: String) -> Value {
    json!({"uri": uri, "method": "GET", "headers": []})
}

/// Customer `i` as a list item.
fn record(g: &Gen, resellers: &Resellers, i: u64) -> Value {
    let id = g.guid(i, 63);
    let company_profile = json!({
        "tenantId": id,
        "domain": domain(g, i),
        "companyName": data::company_name(g, i),
        "links": {"self": link(format!("/customers/{id}/profiles/company"))},
        "attributes": {"objectType": "CustomerCompanyProfile"},
    });
    let mut customer = Map::new();
    customer.insert("id".into(), json!(id));
    customer.insert("companyProfile".into(), company_profile);
    let relationship = if g.chance(i, 64, 90) {
        "reseller"
    } else {
        "advisor"
    };
    customer.insert("relationshipToPartner".into(), json!(relationship));
    if let Some(reseller) = resellers.of_customer(g, i) {
        customer.insert("associatedPartnerId".into(), json!(reseller));
    }
    customer.insert(
        "links".into(),
        json!({"self": link(format!("/customers/{id}"))}),
    );
    customer.insert("attributes".into(), json!({"objectType": "Customer"}));
    g.drifted(i, Value::Object(customer))
}

/// The opaque token of the page starting at `position` of a view: base64 of the position and a
/// tag keyed by the config (seed, customer count) and the view, so that only the tokens this
/// sandbox handed out are taken back.
fn continuation_token(g: &Gen, n: u64, view_key: &str, position: u64) -> String {
    let mut bytes = position.to_le_bytes().to_vec();
    bytes.extend_from_slice(&tag(g, n, view_key, position).to_le_bytes());
    STANDARD.encode(bytes)
}

fn tag(g: &Gen, n: u64, view_key: &str, position: u64) -> u64 {
    let view = (view_key.bytes()).fold(data::mix(n), |h, b| data::mix(h ^ u64::from(b)));
    g.h(position, view)
}

/// The position a token this sandbox handed out stands for; `None` for anything else.
fn position_of(g: &Gen, n: u64, view_key: &str, token: &str) -> Option<u64> {
    let bytes = STANDARD.decode(token).ok()?;
    let (position, check) = (bytes.len() == 16).then(|| bytes.split_at(8))?;
    let position = u64::from_le_bytes(position.try_into().ok()?);
    let check = u64::from_le_bytes(check.try_into().ok()?);
    (check == tag(g, n, view_key, position)).then_some(position)
}

/// The Partner Center error body.
fn error(status: StatusCode, code: u64, description: &str, source: &str) -> Response {
    super::json(
        status,
        &json!({"code": code, "description": description, "data": [], "source": source}),
    )
}

fn bad_request(description: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        2000,
        description,
        "PartnerApiServiceControllers",
    )
}

fn unauthorized(check: TokenCheck) -> Response {
    let mut response = match check {
        TokenCheck::Missing => error(
            StatusCode::UNAUTHORIZED,
            800001,
            "Partner Token missing in request context",
            "PartnerFD",
        ),
        TokenCheck::Expired => error(
            StatusCode::UNAUTHORIZED,
            900420,
            "Invalid Token: the token has expired.",
            "PartnerFD",
        ),
        _ => error(
            StatusCode::UNAUTHORIZED,
            900420,
            "Invalid Token: the token could not be validated.",
            "PartnerFD",
        ),
    };
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("OAuth realm=urn:cpsvc:cpid:sandbox"),
    );
    response
}

/// `response` with the request's `MS-RequestId` and `MS-CorrelationId`, or new ones.
fn with_request_ids(mut response: Response, request: &HeaderMap) -> Response {
    for name in ["ms-requestid", "ms-correlationid"] {
        let value = request
            .get(name)
            .cloned()
            .or_else(|| HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).ok());
        if let Some(value) = value {
            let name = HeaderName::from_static(name);
            response.headers_mut().insert(name, value);
        }
    }
    response
}

async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let response = page(&shared, &headers, raw.as_deref());
    with_request_ids(response, &headers)
}

fn page(shared: &Shared, headers: &HeaderMap, raw: Option<&str>) -> Response {
    let check = shared.check_bearer(ID, headers);
    if check != TokenCheck::Valid {
        return unauthorized(check);
    }
    let q = match Query::parse(&super::query_pairs(raw), headers) {
        Ok(q) => q,
        Err(response) => return response,
    };
    let g = Gen::of(&shared.config, ID);
    let resellers = Resellers::of(&g);
    let n = shared.config.customers_for(ID);
    let key = q.view_key();
    let view = shared.view(key.clone(), || select(&g, &resellers, n, &q.filter));
    let total = view.len() as u64;
    let start = match &q.token {
        None => 0,
        Some(token) => match position_of(&g, n, &key, token).filter(|p| *p <= total) {
            Some(position) => position,
            None => {
                return bad_request(
                    "The continuation token is invalid or does not belong to this query.",
                );
            }
        },
    };
    let end = start.saturating_add(q.size).min(total);
    let items: Vec<Value> = (start..end)
        .filter_map(|k| view.get(usize::try_from(k).ok()?))
        .map(|&i| record(&g, &resellers, u64::from(i)))
        .collect();
    let mut links = Map::new();
    links.insert("self".into(), link(q.uri(q.token.is_some())));
    if end < total {
        let token = continuation_token(&g, n, &key, end);
        let next = json!({
            "uri": q.uri(true),
            "method": "GET",
            "headers": [{"key": "MS-ContinuationToken", "value": token}],
        });
        links.insert("next".into(), next);
    }
    let body = json!({
        "totalCount": items.len(),
        "items": items,
        "links": links,
        "attributes": {"objectType": "Collection"},
    });
    super::json(StatusCode::OK, &body)
}

/// Azure AD v1 client-credentials token endpoint, for the Partner Center resource.
async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant_id): Path<String>,
    body: Bytes,
) -> Response {
    super::aad::token(&shared, ID, &tenant_id, &body, RESOURCE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_tokens_round_trip_and_refuse_anything_else() {
        let g = Gen::new(42, ID);
        let token = continuation_token(&g, 1000, "view", 500);
        assert_eq!(position_of(&g, 1000, "view", &token), Some(500));
        assert_eq!(token, continuation_token(&g, 1000, "view", 500));
        // Another view, another dataset, another seed, a garbled token: refused.
        assert_eq!(position_of(&g, 1000, "other", &token), None);
        assert_eq!(position_of(&g, 999, "view", &token), None);
        assert_eq!(position_of(&Gen::new(7, ID), 1000, "view", &token), None);
        let mut garbled = token.clone();
        garbled.replace_range(0..1, if token.starts_with('A') { "B" } else { "A" });
        assert_eq!(position_of(&g, 1000, "view", &garbled), None);
        assert_eq!(position_of(&g, 1000, "view", "not base64!"), None);
    }

    #[test]
    fn filters_follow_the_documented_syntax() {
        let f = Filter::parse(r#"{"Field":"CompanyName","Value":"Cont","Operator":"starts_with"}"#)
            .expect("valid");
        assert_eq!(f.field, SearchField::CompanyName);
        assert_eq!(f.prefix, "cont");
        let f = Filter::parse(r#"{"field":"domain","value":"x","operator":"STARTS_WITH"}"#)
            .expect("names match case-insensitively");
        assert_eq!(f.field, SearchField::Domain);
        for bad in [
            r#"{"Field":"CompanyName","Value":"a","Operator":"equals"}"#,
            r#"{"Field":"Country","Value":"a","Operator":"starts_with"}"#,
            r#"{"Field":"CompanyName","Value":"","Operator":"starts_with"}"#,
            "not json",
        ] {
            assert!(Filter::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_items_have_the_documented_shape() {
        let config = SandboxConfig {
            customers: 40,
            drift: 0.0,
            ..SandboxConfig::default()
        };
        let all = PartnerCenter.expected(&config, &[]).expect("all");
        assert_eq!(all.len(), 40);
        for c in &all {
            assert_eq!(c["id"], c["companyProfile"]["tenantId"]);
            assert_eq!(c["attributes"]["objectType"], "Customer");
            assert!(c.get("billingProfile").is_none() && c.get("allowDelegatedAccess").is_none());
        }
        let reseller = all
            .iter()
            .find_map(|c| c["associatedPartnerId"].as_str())
            .expect("some customers have an indirect reseller")
            .to_string();
        let filter = format!(
            r#"{{"Field":"IndirectReseller","Value":"{reseller}","Operator":"starts_with"}}"#
        );
        let theirs = PartnerCenter
            .expected(&config, &[("filter".into(), filter)])
            .expect("filtered");
        assert!(!theirs.is_empty() && theirs.len() < all.len());
        assert!(theirs.iter().all(|c| c["associatedPartnerId"] == reseller));
    }
}

//! Adobe VIP Marketplace — `GET {base_url}/v3/resellers/{reseller_id}/customers`.
//!
//! Adobe IMS client credentials; every request carries `X-Api-Key` and a fresh `X-Request-Id`
//! (a repeated id is rejected with 4120); `offset`/`limit` paging (at most 50) with `totalCount`.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::spec::*;
use super::{SourceConfig, Vendor};
use crate::extract::auth::{Auth, HeaderSource, OAuth2, WithHeaders};
use crate::extract::connector::*;
use crate::model::record::*;
use crate::model::ColumnType;

/// The Adobe VIP Marketplace plugin.
pub struct AdobeVipmp;

impl Vendor for AdobeVipmp {
    fn spec(&self) -> &'static VendorSpec {
        &SPEC
    }

    fn connect(&self, source: &SourceConfig<'_>) -> Result<Arc<dyn Connector>, String> {
        let settings = source.settings;
        let client_id = settings.required_text("auth.client_id")?;
        let token_url = match settings.url("auth.token_url") {
            Some(url) => url.clone(),
            None => Url::parse("https://ims-na1.adobelogin.com/ims/token/v3")
                .map_err(|e| e.to_string())?,
        };
        let api_key = HeaderValue::from_str(client_id)
            .map_err(|_| "auth.client_id holds characters a header cannot carry")?;
        // Adobe IMS client credentials; every call carries the client id as its API key and a
        // request id of its own: Adobe rejects a repeated one (4120), retries included.
        let auth = WithHeaders {
            inner: OAuth2::client_credentials(
                token_url,
                client_id.to_string(),
                settings.required_secret("auth.client_secret")?.clone(),
            )
            .param("scope", settings.text("auth.scope")),
            headers: vec![
                (
                    HeaderName::from_static("x-api-key"),
                    HeaderSource::Fixed(api_key),
                ),
                (
                    HeaderName::from_static("x-request-id"),
                    HeaderSource::FreshUuid,
                ),
            ],
        };
        let reseller = settings.required_text("reseller_id")?;
        let mut filters = source.filters.to_vec();
        // Oldest first unless the pipeline says otherwise: customers created mid-export then land
        // after the pages already read instead of shifting them.
        if !filters.iter().any(|(k, _)| k == "order-by") {
            filters.push(("order-by".into(), "asc".into()));
        }
        Ok(Arc::new(Connection {
            auth,
            url: endpoint(
                source.base_url,
                &format!("v3/resellers/{reseller}/customers"),
            )?,
            filters,
            page_size: u64::from(source.page_size),
        }))
    }
}

static SPEC: VendorSpec = VendorSpec {
    id: "adobe_vipmp",
    title: "Adobe VIP Marketplace partner API",
    endpoint: "GET {base_url}/v3/resellers/{reseller_id}/customers?offset=…&limit=…",
    default_base_url: Some("https://partners.adobe.io"),
    settings: &[Key {
        name: "reseller_id",
        kind: KeyKind::Text,
        required: true,
        help: "the reseller whose customers are listed",
    }],
    auth_keys: &[
        Key::text("client_id"),
        Key::secret("client_secret"),
        Key::text("scope"),
        Key::url("token_url"),
    ],
    auth_modes: &[AuthMode {
        name: "Adobe IMS client credentials",
        required: &["client_id", "client_secret"],
        optional: &["scope", "token_url"],
    }],
    filters: &[
        FilterSpec {
            name: "status",
            kind: FilterKind::OneOf(&["1000", "1002", "1004", "1026"]),
            required: false,
            help: "1000 active (the API's default), 1002 pending, 1004 inactive, 1026",
        },
        FilterSpec {
            name: "from-created-date",
            kind: FilterKind::Date,
            required: false,
            help: "customers created on or after this date",
        },
        FilterSpec {
            name: "to-created-date",
            kind: FilterKind::Date,
            required: false,
            help: "customers created up to this date",
        },
        FilterSpec {
            name: "sort-by",
            kind: FilterKind::OneOf(&["creationDate", "companyName"]),
            required: false,
            help: "sort field (default creationDate)",
        },
        FilterSpec {
            name: "order-by",
            kind: FilterKind::OneOf(&["asc", "desc"]),
            required: false,
            help: "sort direction (default desc)",
        },
    ],
    page_size: PageSize {
        default: 50,
        max: 50,
    },
    // The list's entries are Customer resources: beyond the list page's few fields, the "Get
    // customer account" page documents the rest, declared here as it does.
    record: RecordSpec {
        key: "customerId",
        fields: &[
            text("customerId"),
            text("externalReferenceId"),
            text("resellerId"),
            boolean("globalSalesEnabled"),
            text("status"),
            text("companyProfile.companyName"),
            text("companyProfile.preferredLanguage"),
            text("companyProfile.marketSegment"),
            text("companyProfile.address.country"),
            text("companyProfile.address.region"),
            text("companyProfile.address.city"),
            text("companyProfile.address.addressLine1"),
            text("companyProfile.address.addressLine2"),
            text("companyProfile.address.postalCode"),
            text("companyProfile.address.phoneNumber"),
            // The anniversary date all subscriptions renew on: a calendar date.
            date("cotermDate"),
            timestamp("creationDate"),
            text("linkedMembership.id"),
            text("linkedMembership.name"),
            text("linkedMembership.type"),
            text("linkedMembership.linkedMembershipType"),
            text("links.self.uri"),
            text("links.self.method"),
            // A list of headers; kept as JSON text.
            text("links.self.headers"),
        ],
        arrays: &[
            ArraySpec {
                name: "contacts",
                path: "companyProfile.contacts",
                fields: &[
                    text("firstName"),
                    text("lastName"),
                    text("email"),
                    text("phoneNumber"),
                ],
                scalar: None,
            },
            ArraySpec {
                name: "market_sub_segments",
                path: "companyProfile.marketSubSegments",
                fields: &[],
                scalar: Some(ColumnType::Utf8),
            },
            ArraySpec {
                name: "discounts",
                path: "discounts",
                fields: &[text("offerType"), text("level")],
                scalar: None,
            },
            ArraySpec {
                name: "benefits",
                path: "benefits",
                fields: &[
                    text("type"),
                    text("commitment.status"),
                    date("commitment.startDate"),
                    date("commitment.endDate"),
                    // A list of {offerType, quantity}; kept as JSON text.
                    text("commitment.minimumQuantities"),
                ],
                scalar: None,
            },
        ],
        // One row per customer unless the pipeline explodes an array.
        default_explode: None,
        canonical: Canonical {
            customer_id: From::Field("customerId"),
            customer_reference: From::Field("externalReferenceId"),
            customer_name: From::Field("companyProfile.companyName"),
            status: From::Field("status"),
            // The doc's status filter: 1000 active (its default), 1002 pending, 1004 inactive;
            // it accepts 1026 without saying what it means, so that one stays `unknown`.
            status_codes: &[
                ("1000", Status::Active),
                ("1002", Status::Pending),
                ("1004", Status::Inactive),
            ],
            country: From::Field("companyProfile.address.country"),
            created_at: From::Field("creationDate"),
            reseller_id: From::Field("resellerId"),
            tenant_id: From::Lacking("VIP Marketplace customers have no cloud tenant"),
            tenant_domain: From::Lacking("VIP Marketplace customers have no cloud tenant"),
            contact_email: From::First("contacts", "email"),
        },
    },
};

struct Connection {
    auth: WithHeaders<OAuth2>,
    url: Url,
    filters: Vec<(String, String)>,
    page_size: u64,
}

impl Connector for Connection {
    fn auth(&self) -> &dyn Auth {
        &self.auth
    }

    fn headers(&self, headers: &mut HeaderMap) {
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }

    fn page_request(&self, index: u64, _after: Option<&Next>) -> PageRequest {
        let mut query = self.filters.clone();
        query.push(("offset".into(), (index * self.page_size).to_string()));
        query.push(("limit".into(), self.page_size.to_string()));
        PageRequest::get(self.url.clone(), query)
    }

    fn records_at(&self) -> RecordsAt {
        // The doc's table says `customers`, its example `accounts`: accept either.
        RecordsAt::Key(&["accounts", "customers"])
    }

    fn read_page(&self, _index: u64, page: &Envelope) -> Result<PageInfo, VendorError> {
        let json = &page.fields;
        let total = json_count(json, "totalCount")
            .ok_or_else(|| VendorError::new("the response has no totalCount"))?;
        let offset = json_count(json, "offset").unwrap_or(0);
        let records = page.records()?;
        let count = json_count(json, "count").unwrap_or(records);
        Ok(PageInfo {
            last: count == 0 || offset + count >= total,
            total: Some(total),
            next: None,
            in_page: None,
        })
    }

    fn parse_error(&self, body: &[u8]) -> VendorError {
        let mut error = error_from_json(body, &["message", "error_description", "error"], &[]);
        if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body)
            && let Some(code) = json_text(&json, &["code"])
        {
            error.message = format!("code {code}: {}", error.message);
        }
        error
    }
}

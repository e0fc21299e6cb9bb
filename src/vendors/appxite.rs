//! AppXite — "GET All Customers", `GET {base_url}/distis/organizations/details/{organization_id}`
//! (or `POST {base_url}/api/v2/organizations/details` for several organizations).
//!
//! Client credentials behind Azure API Management (`Ocp-Apim-Subscription-Key`, `X-Referer`);
//! the body is a bare JSON array with no total, and a short page ends the data.

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::spec::*;
use super::{Problem, Settings, SourceConfig, Vendor};
use crate::extract::auth::{Auth, HeaderSource, OAuth2, WithHeaders, sensitive};
use crate::extract::connector::*;
use crate::model::ColumnType;
use crate::model::record::*;

/// The AppXite plugin.
pub struct Appxite;

impl Vendor for Appxite {
    fn spec(&self) -> &'static VendorSpec {
        &SPEC
    }

    fn check(&self, settings: &Settings, complete: bool) -> Vec<Problem> {
        let one = settings.contains("organization_id");
        let many = settings.contains("organization_ids");
        let message = match (one, many) {
            (true, true) => {
                "give `organization_id` (one GUID) or `organization_ids` (a list), not both"
            }
            (false, false) if complete => {
                "appxite: give `organization_id` (one GUID) or `organization_ids` (a list)"
            }
            _ => return Vec::new(),
        };
        let key = if many {
            "organization_ids"
        } else {
            "organization_id"
        };
        vec![Problem {
            key: (one || many).then_some(key),
            message: message.to_string(),
        }]
    }

    fn connect(&self, source: &SourceConfig<'_>) -> Result<Arc<dyn Connector>, String> {
        let settings = source.settings;
        let token_url = settings
            .url("auth.token_url")
            .ok_or("`auth.token_url` is not set")?
            .clone();
        let client = OAuth2::client_credentials(
            token_url,
            settings.required_text("auth.client_id")?.to_string(),
            settings.required_secret("auth.client_secret")?.clone(),
        )
        .param("scope", settings.text("auth.scope"));
        // Azure API Management in front: every call carries the subscription key.
        let key = sensitive(settings.required_secret("auth.subscription_key")?.expose())
            .map_err(|e| format!("auth.subscription_key: {e}"))?;
        let auth = WithHeaders {
            inner: client,
            headers: vec![(
                HeaderName::from_static("ocp-apim-subscription-key"),
                HeaderSource::Fixed(key),
            )],
        };
        let referer = settings.required_text("referer")?;
        let mut headers = HeaderMap::new();
        headers.insert(
            "X-Referer",
            HeaderValue::from_str(referer).map_err(|_| "referer is not a valid header value")?,
        );
        let organizations: Vec<&str> = match settings.list("organization_ids") {
            [] => settings.text("organization_id").into_iter().collect(),
            many => many.iter().map(String::as_str).collect(),
        };
        let (url, organizations) = match organizations.as_slice() {
            [one] => (
                endpoint(
                    source.base_url,
                    &format!("distis/organizations/details/{one}"),
                )?,
                None,
            ),
            many => (
                endpoint(source.base_url, "api/v2/organizations/details")?,
                Some(serde_json::json!(many)),
            ),
        };
        Ok(Arc::new(Connection {
            auth,
            headers,
            url,
            organizations,
            filters: source.filters.to_vec(),
            page_size: u64::from(source.page_size),
        }))
    }
}

const INCLUDE: FilterKind = FilterKind::Boolean;

static SPEC: VendorSpec = VendorSpec {
    id: "appxite",
    title: "AppXite marketplace (GET All Customers)",
    endpoint: "GET {base_url}/distis/organizations/details/{organization_id}?page=…&pageSize=…",
    default_base_url: Some("https://api.appxite.com"),
    settings: &[
        Key {
            name: "organization_id",
            kind: KeyKind::Text,
            required: false,
            help: "the distributor or reseller GUID (or give organization_ids)",
        },
        Key {
            name: "organization_ids",
            kind: KeyKind::List,
            required: false,
            help: "several organization GUIDs, sent as the POST body",
        },
        Key {
            name: "referer",
            kind: KeyKind::Text,
            required: true,
            help: "the X-Referer header: your platform's URL",
        },
    ],
    auth_keys: &[
        Key::text("client_id"),
        Key::secret("client_secret"),
        Key::secret("subscription_key"),
        Key::url("token_url"),
        Key::text("scope"),
    ],
    auth_modes: &[AuthMode {
        name: "client credentials behind API Management",
        required: &[
            "client_id",
            "client_secret",
            "subscription_key",
            "token_url",
        ],
        optional: &["scope"],
    }],
    filters: &[
        include("includeAddresses"),
        include("includeContacts"),
        include("includeCustomProperties"),
        include("includeTenants"),
        include("includeIndustries"),
        include("includeChildOrganizations"),
        FilterSpec {
            name: "customerStatus",
            kind: FilterKind::OneOf(&["New", "Active", "Suspended"]),
            required: false,
            help: "only customers with this status",
        },
    ],
    page_size: PageSize {
        default: 1000,
        max: 10000,
    },
    record: RecordSpec {
        key: "customerId",
        fields: &[
            text("customerId"),
            text("customerName"),
            text("resellerId"),
            text("resellerName"),
            text("customerStatus"),
            text("customerCountry"),
            text("customerErpOrganizationId"),
            text("customerRegistrationNumber"),
            text("customerVatNumber"),
            text("customerCurrency"),
            text("customerSegment"),
            text("customerPrimaryAddress.primaryAddressAddressLine1"),
            text("customerPrimaryAddress.primaryAddressAddressLine2"),
            text("customerPrimaryAddress.primaryAddressCity"),
            text("customerPrimaryAddress.primaryAddressProvince"),
            text("customerPrimaryAddress.primaryAddressPostalCode"),
            text("customerPrimaryAddress.primaryAddressCountryCode"),
            text("customerBillingAddress.billingAddressAddressLine1"),
            text("customerBillingAddress.billingAddressAddressLine2"),
            text("customerBillingAddress.billingAddressCity"),
            text("customerBillingAddress.billingAddressProvince"),
            text("customerBillingAddress.billingAddressPostalCode"),
            text("customerBillingAddress.billingAddressCountryCode"),
            text("customerPrimaryContact.primaryContactFirstName"),
            text("customerPrimaryContact.primaryContactLastName"),
            text("customerPrimaryContact.primaryContactRole"),
            text("customerPrimaryContact.primaryContactEmail"),
            text("customerPrimaryContact.primaryContactPhone"),
            text("customerBillingContact.billingContactFirstName"),
            text("customerBillingContact.billingContactLastName"),
            text("customerBillingContact.billingContactRole"),
            text("customerBillingContact.billingContactEmail"),
            text("customerBillingContact.billingContactPhone"),
            text("customerAccountManagerContact.accountManagerContactFirstName"),
            text("customerAccountManagerContact.accountManagerContactLastName"),
            text("customerAccountManagerContact.accountManagerContactRole"),
            text("customerAccountManagerContact.accountManagerContactEmail"),
            text("customerAccountManagerContact.accountManagerContactPhone"),
            text("customerServiceDeskContact.serviceDeskContactFirstName"),
            text("customerServiceDeskContact.serviceDeskContactLastName"),
            text("customerServiceDeskContact.serviceDeskContactRole"),
            text("customerServiceDeskContact.serviceDeskContactEmail"),
            text("customerServiceDeskContact.serviceDeskContactPhone"),
        ],
        arrays: &[
            ArraySpec {
                name: "tenants",
                path: "customerTenants",
                fields: &[
                    text("vendorId"),
                    text("vendorName"),
                    text("DomainName"),
                    text("InternalId"),
                    text("ExternalId"),
                ],
                scalar: None,
            },
            ArraySpec {
                name: "custom_properties",
                path: "customerCustomProperties",
                fields: &[text("customPropertyName"), text("customPropertyValue")],
                scalar: None,
            },
            ArraySpec {
                name: "industries",
                path: "customerIndustries",
                fields: &[],
                scalar: Some(ColumnType::Utf8),
            },
        ],
        default_explode: Some("tenants"),
        canonical: Canonical {
            customer_id: From::Field("customerId"),
            customer_reference: From::Field("customerErpOrganizationId"),
            customer_name: From::Field("customerName"),
            status: From::Field("customerStatus"),
            // The doc's `customerStatus` filter: New, Active, Suspended. A new customer is not
            // active yet.
            status_codes: &[
                ("New", Status::Pending),
                ("Active", Status::Active),
                ("Suspended", Status::Suspended),
            ],
            country: From::Field("customerCountry"),
            created_at: From::Lacking("the GET All Customers response carries no creation date"),
            reseller_id: From::Field("resellerId"),
            tenant_id: From::Element("tenants", "ExternalId"),
            tenant_domain: From::Element("tenants", "DomainName"),
            contact_email: From::Field("customerPrimaryContact.primaryContactEmail"),
        },
    },
};

const fn include(name: &'static str) -> FilterSpec {
    FilterSpec {
        name,
        kind: INCLUDE,
        required: false,
        help: "include this block (true/false)",
    }
}

struct Connection {
    auth: WithHeaders<OAuth2>,
    headers: HeaderMap,
    url: Url,
    /// Several organizations go as the POST body.
    organizations: Option<serde_json::Value>,
    filters: Vec<(String, String)>,
    page_size: u64,
}

impl Connector for Connection {
    fn auth(&self) -> &dyn Auth {
        &self.auth
    }

    fn headers(&self, headers: &mut HeaderMap) {
        headers.extend(self.headers.clone());
    }

    fn page_request(&self, index: u64, _after: Option<&Next>) -> PageRequest {
        let mut query = self.filters.clone();
        query.push(("page".into(), (index + 1).to_string()));
        query.push(("pageSize".into(), self.page_size.to_string()));
        match &self.organizations {
            None => PageRequest::get(self.url.clone(), query),
            Some(body) => PageRequest {
                method: reqwest::Method::POST,
                url: self.url.clone(),
                query,
                json: Some(body.clone()),
                headers: Vec::new(),
            },
        }
    }

    fn records_at(&self) -> RecordsAt {
        RecordsAt::Body
    }

    fn read_page(&self, _index: u64, page: &Envelope) -> Result<PageInfo, VendorError> {
        // A bare array and no total: a short page ends the data.
        let records = page.records()?;
        Ok(PageInfo {
            last: records < self.page_size,
            total: None,
            next: None,
            in_page: None,
        })
    }

    fn parse_error(&self, body: &[u8]) -> VendorError {
        error_from_json(
            body,
            &["message", "Message", "error_description", "error"],
            &[],
        )
    }
}

//! AppXite — "GET All Customers", `GET {base_url}/distis/organizations/details/{organization_id}`
//! (or `POST {base_url}/api/v2/organizations/details` for several organizations).
//!
//! Client credentials behind Azure API Management (`Ocp-Apim-Subscription-Key`, `X-Referer`);
//! the body is a bare JSON array with no total, and a short page ends the data.

use super::spec::*;

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue};
use url::Url;

use crate::extract::auth::AuthFlow;
use crate::extract::connector::*;
use crate::pipeline::SourcePlan;
use crate::transform::row::ColumnType;

const INCLUDE: FilterKind = FilterKind::Boolean;

pub const SPEC: VendorSpec = VendorSpec {
    id: "appxite",
    title: "AppXite marketplace (GET All Customers)",
    endpoint: "GET {base_url}/distis/organizations/details/{organization_id}?page=…&pageSize=…",
    default_base_url: Some("https://api.appxite.com"),
    settings: &[
        Setting {
            name: "organization_id",
            required: false,
            help: "the distributor or reseller GUID (or give organization_ids)",
        },
        Setting {
            name: "organization_ids",
            required: false,
            help: "several organization GUIDs, sent as the POST body",
        },
        Setting {
            name: "referer",
            required: true,
            help: "the X-Referer header: your platform's URL",
        },
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
    record_key: "customerId",
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
        customer_name: From::Field("customerName"),
        status: From::Field("customerStatus"),
        country: From::Field("customerCountry"),
        created_at: From::None,
        reseller_id: From::Field("resellerId"),
        tenant_id: From::Element("tenants", "ExternalId"),
        tenant_domain: From::Element("tenants", "DomainName"),
        contact_email: From::Field("customerPrimaryContact.primaryContactEmail"),
    },
    connect,
};

const fn include(name: &'static str) -> FilterSpec {
    FilterSpec {
        name,
        kind: INCLUDE,
        required: false,
        help: "include this block (true/false)",
    }
}

fn connect(source: &SourcePlan) -> Result<Arc<dyn Connector>, String> {
    let base = source.base_url.as_ref().ok_or("appxite needs base_url")?;
    let auth = &source.auth;
    let mut extra = Vec::new();
    if let Some(scope) = &auth.scope {
        extra.push(("scope", scope.clone()));
    }
    let flow = AuthFlow::ClientCredentials {
        token_url: auth
            .token_url
            .clone()
            .ok_or("appxite needs auth.token_url")?,
        client_id: auth
            .client_id
            .clone()
            .ok_or("appxite needs auth.client_id")?,
        client_secret: auth
            .client_secret
            .clone()
            .ok_or("appxite needs auth.client_secret")?,
        extra,
    };
    let subscription_key = auth
        .subscription_key
        .as_ref()
        .ok_or("appxite needs auth.subscription_key")?;
    let mut headers = HeaderMap::new();
    let mut key = HeaderValue::from_str(subscription_key.expose())
        .map_err(|_| "auth.subscription_key holds characters a header cannot carry")?;
    key.set_sensitive(true);
    headers.insert("Ocp-Apim-Subscription-Key", key);
    let referer = source.referer.as_deref().ok_or("appxite needs referer")?;
    headers.insert(
        "X-Referer",
        HeaderValue::from_str(referer).map_err(|_| "referer is not a valid header value")?,
    );
    let (request, organizations) = match source.organization_ids.as_slice() {
        [one] => (
            endpoint(base, &format!("distis/organizations/details/{one}"))?,
            None,
        ),
        many => (
            endpoint(base, "api/v2/organizations/details")?,
            Some(serde_json::json!(many)),
        ),
    };
    Ok(Arc::new(Appxite {
        flow,
        headers,
        url: request,
        organizations,
        filters: source.filters.clone(),
        page_size: u64::from(source.page_size),
    }))
}

struct Appxite {
    flow: AuthFlow,
    headers: HeaderMap,
    url: Url,
    /// Several organizations go as the POST body.
    organizations: Option<serde_json::Value>,
    filters: Vec<(String, String)>,
    page_size: u64,
}

impl Connector for Appxite {
    fn auth(&self) -> &AuthFlow {
        &self.flow
    }

    fn headers(&self, headers: &mut HeaderMap) {
        headers.extend(self.headers.clone());
    }

    fn page_request(&self, index: u64) -> PageRequest {
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

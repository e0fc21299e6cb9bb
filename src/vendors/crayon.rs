//! Crayon Cloud-iQ — `GET {base_url}/api/v1/customertenants/`.
//!
//! OAuth2 password grant with the client in Basic auth (PascalCase token body); `page` from 1,
//! `{Items, TotalHits}`; each record is one customer tenant.

use super::spec::*;

use std::sync::Arc;

use url::Url;

use crate::extract::auth::AuthFlow;
use crate::extract::connector::*;
use crate::pipeline::SourcePlan;

pub const SPEC: VendorSpec = VendorSpec {
    id: "crayon",
    title: "Crayon Cloud-iQ",
    endpoint: "GET {base_url}/api/v1/customertenants/?organizationId=…&page=…&pageSize=…",
    default_base_url: Some("https://api.crayon.com"),
    settings: &[],
    auth_modes: &[AuthMode {
        name: "OAuth2 password grant",
        required: &["client_id", "client_secret", "username", "password"],
        optional: &["token_url", "scope"],
    }],
    filters: &[
        FilterSpec {
            name: "organizationId",
            kind: FilterKind::Integer,
            required: true,
            help: "the organization whose customer tenants are listed",
        },
        FilterSpec {
            name: "search",
            kind: FilterKind::Text,
            required: false,
            help: "customer tenant name or reference",
        },
        FilterSpec {
            name: "domainPrefix",
            kind: FilterKind::Text,
            required: false,
            help: "domain prefix of the tenant",
        },
        FilterSpec {
            name: "publisherId",
            kind: FilterKind::Integer,
            required: false,
            help: "publisher identifier",
        },
        FilterSpec {
            name: "customerTenantType",
            kind: FilterKind::OneOf(&["0", "1", "2"]),
            required: false,
            help: "T1 = 1, T2 = 2",
        },
    ],
    page_size: PageSize {
        default: 200,
        max: 1000,
    },
    record_key: "Id",
    fields: &[
        int("Id"),
        text("Name"),
        int("Publisher.Id"),
        text("Publisher.Name"),
        text("PublisherCustomerId"),
        text("ExternalPublisherCustomerId"),
        text("DomainPrefix"),
        text("Reference"),
        int("CustomerTenantType"),
        int("Organization.Id"),
        text("Organization.Name"),
        int("Organization.ParentId"),
        text("Organization.CrayonCompanyName"),
        text("Organization.AccountNumber"),
        int("Organization.Tenant.Id"),
        text("Organization.Tenant.Name"),
        int("InvoiceProfile.Id"),
        text("InvoiceProfile.Name"),
        text("Program"),
        text("Domain"),
        text("EntityStatus"),
        text("Consumer"),
        float("ResellerMarkup"),
        text("DefaultSubscriptionPriceType"),
        text("agreement"),
    ],
    arrays: &[],
    default_explode: None,
    canonical: Canonical {
        customer_id: From::Field("Id"),
        customer_name: From::Field("Name"),
        status: From::Field("EntityStatus"),
        country: From::None,
        created_at: From::None,
        reseller_id: From::Field("Organization.Id"),
        tenant_id: From::Field("PublisherCustomerId"),
        tenant_domain: From::Field("DomainPrefix"),
        contact_email: From::None,
    },
    connect,
};

fn connect(source: &SourcePlan) -> Result<Arc<dyn Connector>, String> {
    let base = source.base_url.as_ref().ok_or("crayon needs base_url")?;
    let auth = &source.auth;
    let token_url = match &auth.token_url {
        Some(url) => url.clone(),
        None => endpoint(base, "api/v1/connect/token/")?,
    };
    let flow = AuthFlow::PasswordGrant {
        token_url,
        client_id: auth
            .client_id
            .clone()
            .ok_or("crayon needs auth.client_id")?,
        client_secret: auth
            .client_secret
            .clone()
            .ok_or("crayon needs auth.client_secret")?,
        username: auth.username.clone().ok_or("crayon needs auth.username")?,
        password: auth.password.clone().ok_or("crayon needs auth.password")?,
        scope: auth.scope.clone().unwrap_or_else(|| "CustomerApi".into()),
    };
    Ok(Arc::new(Crayon {
        flow,
        url: endpoint(base, "api/v1/customertenants/")?,
        filters: source.filters.clone(),
        page_size: u64::from(source.page_size),
    }))
}

struct Crayon {
    flow: AuthFlow,
    url: Url,
    filters: Vec<(String, String)>,
    page_size: u64,
}

impl Connector for Crayon {
    fn auth(&self) -> &AuthFlow {
        &self.flow
    }

    fn page_request(&self, index: u64) -> PageRequest {
        let mut query = self.filters.clone();
        query.push(("page".into(), (index + 1).to_string()));
        query.push(("pageSize".into(), self.page_size.to_string()));
        PageRequest::get(self.url.clone(), query)
    }

    fn records_at(&self) -> RecordsAt {
        RecordsAt::Key(&["Items"])
    }

    fn read_page(&self, index: u64, page: &Envelope) -> Result<PageInfo, VendorError> {
        let total = json_count(&page.fields, "TotalHits")
            .ok_or_else(|| VendorError::new("the response has no TotalHits"))?;
        let records = page.records()?;
        Ok(PageInfo {
            total: Some(total),
            last: records == 0 || (index + 1) * self.page_size >= total,
        })
    }

    fn parse_error(&self, body: &[u8]) -> VendorError {
        let mut error = error_from_json(body, &["Message", "ErrorCode", "Error"], &[]);
        // ObjectErrors carry the per-field reasons of a 400.
        if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body)
            && let Some(list) = json.get("ObjectErrors").and_then(|o| o.as_array())
        {
            for item in list {
                if let Some(m) = json_text(item, &["Message"]) {
                    error.message.push_str("; ");
                    error.message.push_str(&m);
                }
            }
        }
        error
    }
}

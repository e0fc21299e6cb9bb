//! Crayon Cloud-iQ — `GET {base_url}/api/v1/customertenants/`.
//!
//! OAuth2 password grant with the client in Basic auth (PascalCase token body); `page` from 1,
//! `{Items, TotalHits}`; each record is one customer tenant.

use std::sync::Arc;

use url::Url;

use super::spec::*;
use super::{SourceConfig, Vendor};
use crate::extract::auth::{Auth, ClientAuth, Grant, OAuth2, TokenBody, TokenFields};
use crate::extract::connector::*;
use crate::model::record::*;

/// The Crayon plugin.
pub struct Crayon;

/// Crayon answers its token in PascalCase.
const TOKEN_FIELDS: TokenFields = TokenFields {
    token: "AccessToken",
    expires_in: Some("ExpiresIn"),
    error: "Error",
    error_description: "ErrorDescription",
};

impl Vendor for Crayon {
    fn spec(&self) -> &'static VendorSpec {
        &SPEC
    }

    fn connect(&self, source: &SourceConfig<'_>) -> Result<Arc<dyn Connector>, String> {
        let settings = source.settings;
        let token_url = match settings.url("auth.token_url") {
            Some(url) => url.clone(),
            None => endpoint(source.base_url, "api/v1/connect/token/")?,
        };
        // The password grant, with the client in Basic auth.
        let auth = OAuth2 {
            token_url,
            client_id: settings.required_text("auth.client_id")?.to_string(),
            client_secret: settings.required_secret("auth.client_secret")?.clone(),
            client_auth: ClientAuth::Basic,
            body: TokenBody::Form,
            grant: Grant::Password {
                username: settings.required_text("auth.username")?.to_string(),
                password: settings.required_secret("auth.password")?.clone(),
            },
            params: vec![(
                "scope",
                settings
                    .text("auth.scope")
                    .unwrap_or("CustomerApi")
                    .to_string(),
            )],
            fields: TOKEN_FIELDS,
        };
        Ok(Arc::new(Connection {
            auth,
            url: endpoint(source.base_url, "api/v1/customertenants/")?,
            filters: source.filters.to_vec(),
            page_size: u64::from(source.page_size),
        }))
    }
}

static SPEC: VendorSpec = VendorSpec {
    id: "crayon",
    title: "Crayon Cloud-iQ",
    endpoint: "GET {base_url}/api/v1/customertenants/?organizationId=…&page=…&pageSize=…",
    default_base_url: Some("https://api.crayon.com"),
    settings: &[],
    auth_keys: &[
        Key::text("client_id"),
        Key::secret("client_secret"),
        Key::text("username"),
        Key::secret("password"),
        Key::url("token_url"),
        Key::text("scope"),
    ],
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
    record: RecordSpec {
        key: "Id",
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
            // Beyond the list page, as Crayon's SDK declares `CustomerTenant`: `Program` and
            // `Consumer` are object references, `agreement` the customer agreement's acceptance.
            int("Program.Id"),
            text("Program.Name"),
            text("Domain"),
            text("EntityStatus"),
            int("Consumer.Id"),
            text("Consumer.Name"),
            float("ResellerMarkup"),
            text("DefaultSubscriptionPriceType"),
            text("agreement.FirstName"),
            text("agreement.LastName"),
            text("agreement.PhoneNumber"),
            text("agreement.Email"),
            timestamp("agreement.DateAgreed"),
            // MicrosoftCloudAgreement = 0, MicrosoftCustomerAgreement = 1.
            text("agreement.AgreementType"),
        ],
        arrays: &[],
        default_explode: None,
        canonical: Canonical {
            customer_id: From::Field("Id"),
            customer_reference: From::Field("Reference"),
            customer_name: From::Field("Name"),
            status: From::Field("EntityStatus"),
            // Crayon's SDK: `enum EntityStatus { None = 0, Removed = 1 }`, serialised as its
            // number (or its name with a string enum converter).
            status_codes: &[
                ("0", Status::Active),
                ("None", Status::Active),
                ("1", Status::Deleted),
                ("Removed", Status::Deleted),
            ],
            country: From::Lacking(
                "the customer-tenant list carries no address (the detailed tenant resource has it)",
            ),
            created_at: From::Lacking("the customer-tenant list carries no creation date"),
            reseller_id: From::Field("Organization.Id"),
            tenant_id: From::Field("PublisherCustomerId"),
            tenant_domain: From::Field("DomainPrefix"),
            // The person who accepted the Microsoft customer agreement for the tenant.
            contact_email: From::Field("agreement.Email"),
        },
    },
};

struct Connection {
    auth: OAuth2,
    url: Url,
    filters: Vec<(String, String)>,
    page_size: u64,
}

impl Connector for Connection {
    fn auth(&self) -> &dyn Auth {
        &self.auth
    }

    fn page_request(&self, index: u64, _after: Option<&Next>) -> PageRequest {
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
            next: None,
            in_page: None,
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

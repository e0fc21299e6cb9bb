//! C3 (Spektra Systems) — `GET {base_url}/api/activecustomers/v5`.
//!
//! Azure AD v1 client credentials (numbers arrive as strings), no paging: one envelope holds every
//! customer, and an application error may arrive as HTTP 200 with `Status: "Error"`.

use std::sync::Arc;

use url::Url;

use super::spec::*;
use super::{SourceConfig, Vendor};
use crate::extract::auth::{Auth, OAuth2, StaticToken};
use crate::extract::connector::*;
use crate::model::record::*;

/// The C3 plugin.
pub struct C3;

impl Vendor for C3 {
    fn spec(&self) -> &'static VendorSpec {
        &SPEC
    }

    fn connect(&self, source: &SourceConfig<'_>) -> Result<Arc<dyn Connector>, String> {
        let settings = source.settings;
        let auth: Box<dyn Auth> = match settings.secret("auth.token") {
            Some(token) => Box::new(StaticToken(token.clone())),
            None => {
                let tenant = settings.required_text("auth.tenant_id")?;
                let token_url = match settings.url("auth.token_url") {
                    Some(url) => url.clone(),
                    None => Url::parse(&format!(
                        "https://login.microsoftonline.com/{tenant}/oauth2/token"
                    ))
                    .map_err(|e| format!("auth.tenant_id does not make a token URL: {e}"))?,
                };
                // Azure AD v1 client credentials; its numbers arrive as strings, which the
                // standard token reader takes.
                let flow = OAuth2::client_credentials(
                    token_url,
                    settings.required_text("auth.client_id")?.to_string(),
                    settings.required_secret("auth.client_secret")?.clone(),
                )
                .param("resource", settings.text("auth.resource"))
                .param("scope", settings.text("auth.scope"));
                Box::new(flow)
            }
        };
        Ok(Arc::new(Connection {
            auth,
            url: endpoint(source.base_url, "api/activecustomers/v5")?,
        }))
    }
}

static SPEC: VendorSpec = VendorSpec {
    id: "c3",
    title: "Spektra Systems C3 (Microsoft CSP billing)",
    endpoint: "GET {base_url}/api/activecustomers/v5",
    default_base_url: None,
    settings: &[],
    auth_keys: &[
        Key::text("tenant_id"),
        Key::text("client_id"),
        Key::secret("client_secret"),
        Key::text("resource"),
        Key::text("scope"),
        Key::url("token_url"),
        Key::secret("token"),
    ],
    auth_modes: &[
        AuthMode {
            name: "Azure AD client credentials",
            required: &["tenant_id", "client_id", "client_secret"],
            optional: &["resource", "scope", "token_url"],
        },
        AuthMode {
            name: "static bearer token",
            required: &["token"],
            optional: &[],
        },
    ],
    filters: &[],
    page_size: PageSize { default: 0, max: 0 },
    record: RecordSpec {
        key: "CustomerID",
        fields: &[
            text("CustomerID"),
            text("Name"),
            text("CustomerFirstName"),
            text("CustomerLastName"),
            text("TenantId"),
            text("CustomerBillingReferenceId"),
            text("LinkedProviderName"),
            text("ProviderReferenceName"),
            text("EmailAddresses"),
            text("PhoneNumbers"),
            text("Line1"),
            text("Line2"),
            text("City"),
            text("State"),
            text("Zip"),
            text("Country"),
            text("CustomerBillingType"),
            text("ERPCustomerID"),
            text("CRMOpportunityID"),
        ],
        arrays: &[],
        default_explode: None,
        canonical: Canonical {
            customer_id: From::Field("CustomerID"),
            customer_reference: From::Field("CustomerBillingReferenceId"),
            customer_name: From::Field("Name"),
            // The endpoint lists active customers only.
            status: From::Const("Active"),
            status_codes: &[("Active", Status::Active)],
            country: From::Field("Country"),
            created_at: From::Lacking("the active-customers list carries no creation date"),
            reseller_id: From::Lacking(
                "C3 runs one partner's own platform; its customers carry no reseller id",
            ),
            tenant_id: From::Field("TenantId"),
            tenant_domain: From::Field("ProviderReferenceName"),
            contact_email: From::Field("EmailAddresses"),
        },
    },
};

struct Connection {
    auth: Box<dyn Auth>,
    url: Url,
}

impl Connector for Connection {
    fn auth(&self) -> &dyn Auth {
        &*self.auth
    }

    fn page_request(&self, _index: u64, _after: Option<&Next>) -> PageRequest {
        PageRequest::get(self.url.clone(), Vec::new())
    }

    fn records_at(&self) -> RecordsAt {
        RecordsAt::Key(&["Data"])
    }

    /// Every active customer in one response: read as it arrives.
    fn one_response(&self) -> bool {
        true
    }

    fn read_page(&self, _index: u64, page: &Envelope) -> Result<PageInfo, VendorError> {
        let json = &page.fields;
        let correlation = json_text(json, &["RequestCorrelationID"]);
        if json_text(json, &["Status"]).as_deref() != Some("Success") {
            // An application error, possibly in an HTTP 200: never an empty export.
            let message = [
                json_text(json, &["ErrorMessage"]),
                json_text(json, &["ErrorDetail"]),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": ");
            let status = json_text(json, &["Status"]).unwrap_or_else(|| "missing".into());
            return Err(VendorError::new(format!(
                "C3 reported Status {status:?}: {}",
                if message.is_empty() {
                    "no ErrorMessage"
                } else {
                    &message
                }
            ))
            .with_correlation(correlation)
            .fatal());
        }
        page.records()?;
        Ok(PageInfo {
            total: None,
            last: true,
            next: None,
            in_page: None,
        })
    }

    fn parse_error(&self, body: &[u8]) -> VendorError {
        error_from_json(
            body,
            &[
                "ErrorMessage",
                "error_description",
                "Message",
                "message",
                "error",
            ],
            &["RequestCorrelationID", "correlation_id"],
        )
    }
}

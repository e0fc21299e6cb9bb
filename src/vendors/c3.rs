//! C3 (Spektra Systems) — `GET {base_url}/api/activecustomers/v5`.
//!
//! Azure AD v1 client credentials (numbers arrive as strings), no paging: one envelope holds every
//! customer, and an application error may arrive as HTTP 200 with `Status: "Error"`.

use super::spec::*;

use std::sync::Arc;

use url::Url;

use crate::extract::auth::AuthFlow;
use crate::extract::connector::*;
use crate::pipeline::SourcePlan;

pub const SPEC: VendorSpec = VendorSpec {
    id: "c3",
    title: "Spektra Systems C3 (Microsoft CSP billing)",
    endpoint: "GET {base_url}/api/activecustomers/v5",
    default_base_url: None,
    settings: &[],
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
    record_key: "CustomerID",
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
        customer_name: From::Field("Name"),
        // The endpoint lists active customers only.
        status: From::Const("Active"),
        country: From::Field("Country"),
        created_at: From::None,
        reseller_id: From::None,
        tenant_id: From::Field("TenantId"),
        tenant_domain: From::Field("ProviderReferenceName"),
        contact_email: From::Field("EmailAddresses"),
    },
    connect,
};

fn connect(source: &SourcePlan) -> Result<Arc<dyn Connector>, String> {
    let base = source.base_url.as_ref().ok_or("c3 needs base_url")?;
    let auth = &source.auth;
    let flow = match (&auth.token, &auth.client_secret) {
        (Some(token), _) => AuthFlow::Static(token.clone()),
        (None, Some(secret)) => {
            let tenant = auth.tenant_id.as_deref().ok_or("c3 needs auth.tenant_id")?;
            let token_url = match &auth.token_url {
                Some(url) => url.clone(),
                None => Url::parse(&format!(
                    "https://login.microsoftonline.com/{tenant}/oauth2/token"
                ))
                .map_err(|e| format!("auth.tenant_id does not make a token URL: {e}"))?,
            };
            let mut extra = Vec::new();
            if let Some(resource) = &auth.resource {
                extra.push(("resource", resource.clone()));
            }
            if let Some(scope) = &auth.scope {
                extra.push(("scope", scope.clone()));
            }
            AuthFlow::ClientCredentials {
                token_url,
                client_id: auth.client_id.clone().ok_or("c3 needs auth.client_id")?,
                client_secret: secret.clone(),
                extra,
            }
        }
        _ => return Err("c3 needs auth.token, or tenant_id + client_id + client_secret".into()),
    };
    Ok(Arc::new(C3 {
        flow,
        url: endpoint(base, "api/activecustomers/v5")?,
    }))
}

struct C3 {
    flow: AuthFlow,
    url: Url,
}

impl Connector for C3 {
    fn auth(&self) -> &AuthFlow {
        &self.flow
    }

    fn page_request(&self, _index: u64) -> PageRequest {
        PageRequest::get(self.url.clone(), Vec::new())
    }

    fn records_at(&self) -> RecordsAt {
        RecordsAt::Key(&["Data"])
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

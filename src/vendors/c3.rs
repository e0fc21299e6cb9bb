//! C3 (Spektra Systems) — `GET {base_url}/api/activecustomers/v5`.
//!
//! Azure AD v1 client credentials (numbers arrive as strings), no paging: one envelope holds every
//! customer, and an application error may arrive as HTTP 200 with `Status: "Error"`.

use super::spec::*;

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
};

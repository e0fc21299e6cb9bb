//! Adobe VIP Marketplace — `GET {base_url}/v3/resellers/{reseller_id}/customers`.
//!
//! Adobe IMS client credentials; every request carries `X-Api-Key` and a fresh `X-Request-Id`
//! (a repeated id is rejected with 4120); `offset`/`limit` paging (at most 50) with `totalCount`.

use super::spec::*;

pub const SPEC: VendorSpec = VendorSpec {
    id: "adobe_vipmp",
    title: "Adobe VIP Marketplace partner API",
    endpoint: "GET {base_url}/v3/resellers/{reseller_id}/customers?offset=…&limit=…",
    default_base_url: Some("https://partners.adobe.io"),
    settings: &[Setting {
        name: "reseller_id",
        required: true,
        help: "the reseller whose customers are listed",
    }],
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
    record_key: "customerId",
    fields: &[
        text("customerId"),
        text("externalReferenceId"),
        text("resellerId"),
        text("status"),
        text("companyProfile.companyName"),
        timestamp("creationDate"),
        text("links.self.uri"),
        text("links.self.method"),
    ],
    arrays: &[],
    default_explode: None,
    canonical: Canonical {
        customer_id: From::Field("customerId"),
        customer_name: From::Field("companyProfile.companyName"),
        status: From::Field("status"),
        country: From::None,
        created_at: From::Field("creationDate"),
        reseller_id: From::Field("resellerId"),
        tenant_id: From::None,
        tenant_domain: From::None,
        contact_email: From::None,
    },
};

//! Valomnia — `GET {base_url}/api/v1.0/customers`.
//!
//! Session login (`j_spring_security_check` → cookie → `/login/ajaxSuccess`) or a static token;
//! `max`/`offset` paging with `paging.total`, sorted on `id` so that offset paging over live data
//! can be de-duplicated.

use std::sync::Arc;

use url::Url;

use super::spec::*;
use super::{SourceConfig, Vendor};
use crate::extract::auth::{Auth, SessionLogin, StaticToken, TokenFields};
use crate::extract::connector::*;
use crate::model::ColumnType;
use crate::model::record::*;

/// The Valomnia plugin.
pub struct Valomnia;

impl Vendor for Valomnia {
    fn spec(&self) -> &'static VendorSpec {
        &SPEC
    }

    fn connect(&self, source: &SourceConfig<'_>) -> Result<Arc<dyn Connector>, String> {
        let settings = source.settings;
        let base = source.base_url;
        let auth: Box<dyn Auth> = match settings.secret("auth.token") {
            Some(token) => Box::new(StaticToken(token.clone())),
            // Spring Security's form login; the session cookie buys a token without an expiry.
            None => Box::new(SessionLogin {
                login_url: endpoint(base, "j_spring_security_check")?,
                username_field: "j_username",
                password_field: "j_password",
                username: settings.required_text("auth.username")?.to_string(),
                password: settings.required_secret("auth.password")?.clone(),
                form: vec![("ajax", "true")],
                cookie: "JSESSIONID",
                token_url: endpoint(base, "login/ajaxSuccess")?,
                fields: TokenFields {
                    token: "token",
                    expires_in: None,
                    ..TokenFields::OAUTH2
                },
            }),
        };
        Ok(Arc::new(Connection {
            auth,
            url: endpoint(base, "api/v1.0/customers")?,
            filters: source.filters.to_vec(),
            page_size: u64::from(source.page_size),
        }))
    }
}

const DATE_TIME: FilterKind = FilterKind::DateTime;

static SPEC: VendorSpec = VendorSpec {
    id: "valomnia",
    title: "Valomnia field-sales / distribution ERP",
    endpoint: "GET {base_url}/api/v1.0/customers?max=…&offset=…",
    default_base_url: None,
    settings: &[],
    auth_keys: &[
        Key::text("username"),
        Key::secret("password"),
        Key::secret("token"),
    ],
    auth_modes: &[
        AuthMode {
            name: "session login",
            required: &["username", "password"],
            optional: &[],
        },
        AuthMode {
            name: "static bearer token",
            required: &["token"],
            optional: &[],
        },
    ],
    filters: &[
        filter("dateCreated_gt", DATE_TIME),
        filter("dateCreated_gte", DATE_TIME),
        filter("dateCreated_lt", DATE_TIME),
        filter("dateCreated_lte", DATE_TIME),
        filter("lastUpdated_gt", DATE_TIME),
        filter("lastUpdated_gte", DATE_TIME),
        filter("lastUpdated_lt", DATE_TIME),
        filter("lastUpdated_lte", DATE_TIME),
        FilterSpec {
            name: "reference",
            kind: FilterKind::Text,
            required: false,
            help: "wildcard search, e.g. *ef-6*",
        },
        FilterSpec {
            name: "name",
            kind: FilterKind::Text,
            required: false,
            help: "wildcard search on the name",
        },
        FilterSpec {
            name: "categoryReference",
            kind: FilterKind::Text,
            required: false,
            help: "wildcard search, e.g. Ref-6*",
        },
        FilterSpec {
            name: "isActive",
            kind: FilterKind::Boolean,
            required: false,
            help: "active customers only (true) or inactive only (false)",
        },
    ],
    page_size: PageSize {
        default: 100,
        max: 1000,
    },
    record: RecordSpec {
        key: "id",
        fields: &[
            int("id"),
            text("reference"),
            text("reference2"),
            text("name"),
            text("categoryReference"),
            int("customerCategory.id"),
            text("customerCategory.reference"),
            text("customerCategory.name"),
            text("customerCategory.href"),
            boolean("isSubCustomer"),
            int("parentCustomer.id"),
            text("parentCustomer.reference"),
            text("parentCustomer.href"),
            boolean("billWithParent"),
            text("customerSegmentationReference"),
            int("customerSegmentation.id"),
            text("customerSegmentation.reference"),
            text("customerSegmentation.name"),
            text("customerSegmentation.href"),
            text("pocTenus"),
            text("email"),
            text("logo"),
            text("phone"),
            text("mobile"),
            text("fax"),
            text("comment"),
            text("barcode"),
            boolean("isSameAddress"),
            text("billingCountry"),
            text("billingCity"),
            text("billingPostalCode"),
            text("billingAddress"),
            float("billingLat"),
            float("billingLng"),
            text("country"),
            text("city"),
            text("postalCode"),
            text("address"),
            float("latitude"),
            float("longitude"),
            boolean("isCredit"),
            float("creditLimit"),
            float("balance"),
            int("maxChequePeriod"),
            float("maxChequeValue"),
            float("appliedCashBackOutput"),
            float("returnDiscount"),
            int("invoicesPerRoute"),
            boolean("isActive"),
            boolean("onHold"),
            text("onHoldReason"),
            text("paymentTerm"),
            int("createdBy.userId"),
            text("createdBy.reference"),
            text("createdBy.href"),
            int("dueDateConfigNumber"),
            text("dueDateConfigType"),
            text("website"),
            text("taxNumber"),
            text("companyRegistrationNumber"),
            text("currency"),
            text("organization"),
            timestamp("dateCreated"),
            timestamp("lastUpdated"),
            text("region"),
        ],
        arrays: &[
            ArraySpec {
                name: "contacts",
                path: "contacts",
                fields: &[
                    int("id"),
                    text("firstName"),
                    text("lastName"),
                    text("position"),
                    text("email"),
                    text("phone"),
                    boolean("isMain"),
                ],
                scalar: None,
            },
            ArraySpec {
                name: "payment_types",
                path: "paymentTypes",
                fields: &[],
                scalar: Some(ColumnType::Utf8),
            },
        ],
        default_explode: Some("contacts"),
        canonical: Canonical {
            // `reference` is the business's own code and is not unique; `id` is.
            customer_id: From::Field("id"),
            customer_reference: From::Field("reference"),
            customer_name: From::Field("name"),
            status: From::Field("isActive"),
            status_codes: &[("true", Status::Active), ("false", Status::Inactive)],
            country: From::Field("country"),
            created_at: From::Field("dateCreated"),
            reseller_id: From::Field("organization"),
            tenant_id: From::Lacking("a field-sales ERP has no cloud tenants"),
            tenant_domain: From::Lacking("a field-sales ERP has no cloud tenants"),
            contact_email: From::Field("email"),
        },
    },
};

const fn filter(name: &'static str, kind: FilterKind) -> FilterSpec {
    FilterSpec {
        name,
        kind,
        required: false,
        help: "YYYY-MM-DDTHH:MM:SSZ",
    }
}

struct Connection {
    auth: Box<dyn Auth>,
    url: Url,
    filters: Vec<(String, String)>,
    page_size: u64,
}

impl Connector for Connection {
    fn auth(&self) -> &dyn Auth {
        &*self.auth
    }

    fn page_request(&self, index: u64, _after: Option<&Next>) -> PageRequest {
        let mut query = self.filters.clone();
        query.push(("max".into(), self.page_size.to_string()));
        query.push(("offset".into(), (index * self.page_size).to_string()));
        // A stable order: rows added mid-export shift pages, and de-duplication on `id` absorbs it.
        query.push(("sort".into(), "id".into()));
        query.push(("order".into(), "asc".into()));
        PageRequest::get(self.url.clone(), query)
    }

    fn records_at(&self) -> RecordsAt {
        RecordsAt::Key(&["data"])
    }

    fn read_page(&self, _index: u64, page: &Envelope) -> Result<PageInfo, VendorError> {
        let paging = page
            .fields
            .get("paging")
            .ok_or_else(|| VendorError::new("the response has no `paging` object"))?;
        let total = json_count(paging, "total");
        let offset = json_count(paging, "offset").unwrap_or(0);
        let next = (paging.get("next").and_then(|n| n.as_str())).map(|n| Next::link(untrusted(n)));
        let next_is_null = paging.get("next").is_none_or(|n| n.is_null());
        let records = page.records()?;
        let end_by_count = total.is_some_and(|t| offset + records >= t);
        Ok(PageInfo {
            last: next_is_null || end_by_count || records == 0,
            total,
            next,
            in_page: None,
        })
    }

    fn parse_error(&self, body: &[u8]) -> VendorError {
        error_from_json(body, &["error_description", "error", "message"], &[])
    }
}

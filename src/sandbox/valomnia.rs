//! Valomnia: `GET /valomnia/api/v1.0/customers` (offset paging) behind a static bearer token or the
//! session login real clients use (`POST /valomnia/j_spring_security_check` → 302 + `JSESSIONID`
//! cookie → `GET /valomnia/login/ajaxSuccess` → `{"success":true,"token":…}`).
//!
//! Promises and choices:
//! - Bad login credentials: **401** `{"error":"authentication_failed",…}` (no redirect). A good
//!   login answers 302 to `/valomnia/login/ajaxSuccess` with `Set-Cookie: JSESSIONID=…; Path=/; HttpOnly`.
//!   `ajaxSuccess` without a live session: 401 `{"error":"invalid_session"}`.
//! - Default sort is `id` ascending; ties in other sorts break on `id`. `name` sorts
//!   case-insensitively. `reference`, `name` and `categoryReference` match case-insensitively,
//!   `*` being a wildcard and no `*` meaning equality. Date filters must be `YYYY-MM-DDTHH:MM:SSZ`.
//! - `max` defaults to 100 and must be 1..=1000, `offset` ≥ 0, `sort` one of id|name|dateCreated|
//!   lastUpdated, `order` asc|desc, `isActive` true|false: anything else, or any unknown
//!   parameter, is a 400 `invalid_param` naming the parameters.
//! - `next`/`previous` are relative to the base URL (`/api/v1.0/customers?max&offset&sort&order`
//!   followed by the request's filters); the list is also served at the host root so that the link
//!   resolved against the host works too.
//! - Generated customers have ids 100000 + index and strictly increasing `dateCreated`. With
//!   `live_inserts = K`, after every list page served K customers appear with ids counting down
//!   from 99999 and the newest `dateCreated`: offset paging by id then repeats rows, as it does live.

use std::cmp::Ordering as CmpOrdering;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::data::{self, Gen};
use super::shared::{TokenCheck, lock};
use super::{Demo, Emulator, RetryAfter, SandboxConfig, Shared};

const ID: &str = "valomnia";

/// Ids of generated customers start here; live inserts count down from just below it.
const FIRST_ID: u64 = 100_000;
/// 2016-01-01T00:00:00Z: the first customer's creation time.
const EPOCH: i64 = 1_451_606_400;
/// Generated customers are created at most this many seconds apart (strictly increasing).
const CREATED_STEP: i64 = 300;
const MAX_SESSIONS: usize = 100_000;

/// The Valomnia emulation.
pub struct Valomnia;

/// What the emulation remembers between requests: login sessions and live inserts so far.
#[derive(Default)]
struct Memory {
    sessions: std::sync::Mutex<std::collections::HashMap<String, Instant>>,
    inserted: std::sync::atomic::AtomicU64,
}

impl Emulator for Valomnia {
    fn id(&self) -> &'static str {
        ID
    }

    fn prefixes(&self) -> &'static [&'static str] {
        &["valomnia", "api"]
    }

    fn routes(&self) -> Router<Arc<Shared>> {
        Router::new()
            .route("/valomnia/j_spring_security_check", post(login))
            .route("/valomnia/login/ajaxSuccess", get(ajax_success))
            .route("/valomnia/api/v1.0/customers", get(list))
            .route("/api/v1.0/customers", get(list))
    }

    fn is_token_path(&self, path: &str) -> bool {
        path.ends_with("/j_spring_security_check") || path.ends_with("/login/ajaxSuccess")
    }

    fn base_path(&self) -> &'static str {
        "/valomnia"
    }

    /// It logs in by session; no token endpoint to point at.
    fn token_path(&self, _config: &SandboxConfig) -> Option<String> {
        None
    }

    fn demo(&self) -> &'static Demo {
        &Demo {
            accepted: &[
                ("auth.username", "sandbox-valomnia-user"),
                ("auth.password", "sandbox-valomnia-password"),
                ("auth.token", "sandbox-valomnia-token"),
            ],
            settings: &[],
            filters: &[],
        }
    }

    fn expected(
        &self,
        config: &SandboxConfig,
        filters: &[(String, String)],
    ) -> Result<Vec<Value>, String> {
        let paging = ["max", "offset"];
        let pairs: Vec<(String, String)> = filters
            .iter()
            .filter(|(k, _)| !paging.contains(&k.as_str()))
            .cloned()
            .collect();
        let q = Query::parse(&pairs).map_err(|_| "invalid valomnia filters".to_string())?;
        let g = Gen::of(config, ID);
        let mut rows: Vec<Row> = select_base(g, config.customers_for(ID), &q)
            .into_iter()
            .map(|i| Row::base(g, u64::from(i)))
            .collect();
        if q.desc {
            rows.reverse();
        }
        Ok(rows.iter().map(Row::record).collect())
    }

    fn retry_after(&self) -> RetryAfter {
        RetryAfter::Mixed
    }

    fn server_error(&self, status: StatusCode) -> Response {
        error(
            status,
            "server_error",
            Some("Oops! Something went wrong..."),
        )
    }

    fn throttled(&self, _seconds: u64) -> Response {
        error(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            Some("Too many requests, please retry later."),
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    Id,
    Name,
    DateCreated,
    LastUpdated,
}

impl Sort {
    fn as_str(self) -> &'static str {
        match self {
            Sort::Id => "id",
            Sort::Name => "name",
            Sort::DateCreated => "dateCreated",
            Sort::LastUpdated => "lastUpdated",
        }
    }
}

/// A validated list query.
#[derive(Debug, Clone)]
struct Query {
    max: u64,
    offset: u64,
    sort: Sort,
    desc: bool,
    /// (field is lastUpdated, operator, unix seconds)
    dates: Vec<(bool, &'static str, i64)>,
    reference: Option<String>,
    name: Option<String>,
    category_reference: Option<String>,
    is_active: Option<bool>,
    /// The filter parameters as given, for the `next`/`previous` links.
    filters: Vec<(String, String)>,
}

const DATE_PARAMS: [(&str, bool, &str); 8] = [
    ("dateCreated_gt", false, "gt"),
    ("dateCreated_gte", false, "gte"),
    ("dateCreated_lt", false, "lt"),
    ("dateCreated_lte", false, "lte"),
    ("lastUpdated_gt", true, "gt"),
    ("lastUpdated_gte", true, "gte"),
    ("lastUpdated_lt", true, "lt"),
    ("lastUpdated_lte", true, "lte"),
];
const OTHER_PARAMS: [&str; 8] = [
    "max",
    "offset",
    "sort",
    "order",
    "reference",
    "name",
    "categoryReference",
    "isActive",
];

impl Query {
    fn parse(pairs: &[(String, String)]) -> Result<Query, Response> {
        let unknown: Vec<&str> = pairs
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !OTHER_PARAMS.contains(k) && !DATE_PARAMS.iter().any(|(d, _, _)| d == k))
            .collect();
        if !unknown.is_empty() {
            return Err(invalid_param(&unknown));
        }
        let p = |name: &str| super::param(pairs, name);
        let max = match p("max") {
            None => 100,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|m| (1..=1000).contains(m))
                .ok_or_else(|| invalid_param(&["max"]))?,
        };
        let offset = match p("offset") {
            None => 0,
            Some(v) => v.parse::<u64>().map_err(|_| invalid_param(&["offset"]))?,
        };
        let sort = match p("sort") {
            None | Some("id") => Sort::Id,
            Some("name") => Sort::Name,
            Some("dateCreated") => Sort::DateCreated,
            Some("lastUpdated") => Sort::LastUpdated,
            Some(_) => return Err(invalid_param(&["sort"])),
        };
        let desc = match p("order") {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(invalid_param(&["order"])),
        };
        let is_active = match p("isActive") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(invalid_param(&["isActive"])),
        };
        let mut dates = Vec::new();
        for (name, updated, op) in DATE_PARAMS {
            if let Some(v) = p(name) {
                let secs = data::parse_iso_seconds(v).ok_or_else(|| invalid_datetime(v))?;
                dates.push((updated, op, secs));
            }
        }
        let filters = pairs
            .iter()
            .filter(|(k, _)| !["max", "offset", "sort", "order"].contains(&k.as_str()))
            .cloned()
            .collect();
        Ok(Query {
            max,
            offset,
            sort,
            desc,
            dates,
            reference: p("reference").map(str::to_string),
            name: p("name").map(str::to_string),
            category_reference: p("categoryReference").map(str::to_string),
            is_active,
            filters,
        })
    }

    fn has_filters(&self) -> bool {
        !self.dates.is_empty()
            || self.reference.is_some()
            || self.name.is_some()
            || self.category_reference.is_some()
            || self.is_active.is_some()
    }

    fn view_key(&self) -> String {
        format!(
            "valomnia|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.sort,
            self.dates,
            self.reference,
            self.name,
            self.category_reference,
            self.is_active
        )
    }

    fn matches(&self, row: &Row) -> bool {
        self.is_active.is_none_or(|a| row.is_active() == a)
            && self.dates.iter().all(|(updated, op, secs)| {
                let v = if *updated {
                    row.last_updated()
                } else {
                    row.created
                };
                match *op {
                    "gt" => v > *secs,
                    "gte" => v >= *secs,
                    "lt" => v < *secs,
                    _ => v <= *secs,
                }
            })
            && self
                .reference
                .as_deref()
                .is_none_or(|p| data::wildcard_match(p, &row.reference()))
            && self
                .category_reference
                .as_deref()
                .is_none_or(|p| data::wildcard_match(p, row.category().0))
            && self
                .name
                .as_deref()
                .is_none_or(|p| data::wildcard_match(p, &row.name()))
    }

    /// The `next`/`previous` link for `offset`.
    fn link(&self, offset: u64) -> String {
        let mut link = format!(
            "/api/v1.0/customers?max={}&offset={offset}&sort={}&order={}",
            self.max,
            self.sort.as_str(),
            if self.desc { "desc" } else { "asc" }
        );
        for (k, v) in &self.filters {
            let pair: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair(k, v)
                .finish();
            link.push('&');
            link.push_str(&pair);
        }
        link
    }
}

/// One customer: a generated one (`Gen` "valomnia", index i) or a live insert (`Gen` "valomnia-live").
#[derive(Debug, Clone, Copy)]
struct Row {
    g: Gen,
    i: u64,
    id: u64,
    created: i64,
}

impl Row {
    fn base(g: Gen, i: u64) -> Row {
        let created = EPOCH + i as i64 * CREATED_STEP + (g.h(i, 70) % 250) as i64;
        Row {
            g,
            i,
            id: FIRST_ID + i,
            created,
        }
    }

    /// The `j`-th live insert (0-based), newer than all `n` generated customers.
    fn live(g: Gen, n: u64, j: u64) -> Row {
        let created = EPOCH + n as i64 * CREATED_STEP + (j as i64 + 1) * 60;
        Row {
            g,
            i: j,
            id: FIRST_ID - 1 - j,
            created,
        }
    }

    fn last_updated(&self) -> i64 {
        self.created + (self.g.h(self.i, 71) % (90 * 86_400)) as i64
    }

    fn is_active(&self) -> bool {
        self.g.chance(self.i, 72, 85)
    }

    fn name(&self) -> String {
        data::company_name(&self.g, self.i)
    }

    fn reference(&self) -> String {
        match self.g.pick(self.i, 73, 8) {
            0 => format!("REF-6{}", self.i % 100),
            1 => format!("-{}", self.id),
            _ => format!("NC-{}", self.id),
        }
    }

    /// (reference, name, id) of the customer category.
    fn category(&self) -> (&'static str, &'static str, u64) {
        const CATEGORIES: [(&str, &str, u64); 5] = [
            ("jewelry", "Home", 2),
            ("Ref-6", "Wholesale, B2B", 6),
            ("retail", "Retail", 3),
            ("horeca", "Hôtels & Cafés", 7),
            ("pharma", "Pharmacie \"Santé\"", 9),
        ];
        CATEGORIES[self.g.pick(self.i, 74, CATEGORIES.len())]
    }

    fn sort_cmp(&self, other: &Row, sort: Sort) -> CmpOrdering {
        let primary = match sort {
            Sort::Id => CmpOrdering::Equal,
            Sort::DateCreated => self.created.cmp(&other.created),
            Sort::LastUpdated => self.last_updated().cmp(&other.last_updated()),
            Sort::Name => {
                let (a, b) = (self.name(), other.name());
                a.to_lowercase()
                    .cmp(&b.to_lowercase())
                    .then_with(|| a.cmp(&b))
            }
        };
        primary.then(self.id.cmp(&other.id))
    }

    fn record(&self) -> Value {
        serde_json::to_value(self.customer()).unwrap_or(Value::Null)
    }

    /// The record as the API serialises it: typed fields, so a page is written straight from
    /// them (a tree of `Value`s a record, and its sorted maps, cost the sandbox as much CPU as the
    /// client's whole export, on the same cores).
    fn customer(&self) -> Customer {
        Customer {
            identity: self.identity(),
            addresses: self.addresses(),
            account: self.account(),
            drift: self.g.drift(self.i),
        }
    }

    /// A value `percent` % of the time, else null.
    fn maybe<T>(&self, field: u64, percent: u64, value: impl FnOnce() -> T) -> Option<T> {
        self.g.chance(self.i, field, percent).then(value)
    }

    fn identity(&self) -> Identity {
        let (g, i) = (&self.g, self.i);
        let (category_ref, category_name, category_id) = self.category();
        let (segment_ref, segment_name, segment_id) = [
            ("seg_a", "Segmentation A", 1),
            ("seg_b", "Segmentation B", 2),
        ][g.pick(i, 75, 2)];
        let first = data::first_name(g, i, 79);
        let last = data::last_name(g, i, 80);
        let sub = g.chance(i, 86, 5) && self.id > FIRST_ID;
        let parent = sub.then(|| Parent {
            href: format!("/api/v1.0/customers/{}", self.id - 1),
            id: self.id - 1,
            reference: format!("NC-{}", self.id - 1),
        });
        Identity {
            id: self.id,
            reference: self.reference(),
            reference2: self.maybe(88, 20, || format!("+{}", self.id)),
            name: self.name(),
            categoryReference: category_ref,
            customerCategory: Link {
                href: format!("/api/v1.0/customerCategories/{category_id}"),
                id: category_id,
                name: category_name,
                reference: category_ref,
            },
            isSubCustomer: sub,
            parentCustomer: parent,
            billWithParent: sub && g.chance(i, 89, 50),
            customerSegmentationReference: segment_ref,
            customerSegmentation: Link {
                href: format!("/api/v1.0/customerSegmentations/{segment_id}"),
                id: segment_id,
                name: segment_name,
                reference: segment_ref,
            },
            pocTenus: (),
            email: data::sometimes_empty_text(g, i, 90, data::email(first, last, self.id)),
            logo: self.maybe(91, 10, || {
                format!("/entity1-1450169988465/photoCustomer/{}_logo.png", self.id)
            }),
            phone: data::sometimes_empty_text(g, i, 92, data::phone(g, i, 93)),
            mobile: self.maybe(94, 50, || data::phone(g, i, 95)),
            fax: (),
            comment: match g.pick(i, 96, 6) {
                0 => Some("Deliver before 10:00, ring twice"),
                1 => Some("Note:\n\"fragile\" goods"),
                2 => Some("@sales please call"),
                _ => None,
            },
            barcode: self.maybe(97, 30, || {
                format!("{:013}", g.h(i, 98) % 10_000_000_000_000)
            }),
        }
    }

    fn addresses(&self) -> Addresses {
        let (g, i) = (&self.g, self.i);
        let (city, _, country, postal) = data::place(g, i, 76);
        let same_address = g.chance(i, 77, 70);
        let (bill_city, _, bill_country, bill_postal) = if same_address {
            (city, "", country, postal)
        } else {
            data::place(g, i, 78)
        };
        // Whole numbers divided by a power of ten: the shortest decimal form parses back to the same f64.
        let coordinate = |field: u64, span: i64| {
            self.maybe(field, 50, || {
                let micro = (g.h(i, field + 1) % (span as u64 * 100_000)) as i64 - span * 50_000;
                micro as f64 / 100_000.0
            })
        };
        let unless = |field: u64, value: &'static str| (!g.chance(i, field, 20)).then_some(value);
        Addresses {
            isSameAddress: same_address,
            billingCountry: bill_country,
            billingCity: bill_city,
            billingPostalCode: unless(99, bill_postal),
            billingAddress: (!same_address).then(|| data::street(g, i, 100)),
            billingLat: (),
            billingLng: (),
            country,
            city,
            postalCode: unless(101, postal),
            address: data::sometimes_empty_text(g, i, 102, data::street(g, i, 103)),
            latitude: coordinate(104, 180),
            longitude: coordinate(106, 360),
        }
    }

    fn account(&self) -> Account {
        let (g, i) = (&self.g, self.i);
        let contacts = (0..g.h(i, 81) % 4)
            .map(|k| contact(g, i, k, self.id))
            .collect();
        let payment_types = ["CASH", "CHEQUE", "BANK_TRANSFER", "CREDIT"]
            .into_iter()
            .enumerate()
            .filter(|(k, _)| g.chance(i, 82 + *k as u64, 40))
            .map(|(_, t)| t)
            .collect();
        let user = g.h(i, 87) % 5 + 1;
        let tax = format!("FR{:011}", g.h(i, 118) % 100_000_000_000);
        Account {
            isCredit: self.maybe(108, 50, || g.chance(i, 109, 50)),
            creditLimit: self.maybe(110, 60, || (g.h(i, 111) % 100) * 500),
            balance: self.maybe(112, 40, || {
                ((g.h(i, 113) % 2_000_000) as f64 - 1_000_000.0) / 100.0
            }),
            maxChequePeriod: (),
            maxChequeValue: (),
            appliedCashBackOutput: (),
            returnDiscount: (),
            invoicesPerRoute: (),
            isActive: self.is_active(),
            onHold: g.chance(i, 114, 5),
            onHoldReason: self.maybe(114, 5, || "Unpaid invoices, see \"dunning\""),
            paymentTerm: (),
            createdBy: User {
                href: format!("/api/v1.0/users/{user}"),
                reference: format!("emp-{user:03}"),
                userId: user,
            },
            dueDateConfigNumber: g.h(i, 115) % 60,
            dueDateConfigType: "daysAfterInvoiceDate",
            paymentTypes: payment_types,
            website: self.maybe(116, 30, || format!("https://www.example.com/c/{}", self.id)),
            taxNumber: data::sometimes_empty_text(g, i, 117, tax),
            companyRegistrationNumber: self.maybe(119, 40, || {
                format!("{:09}", g.h(i, 120) % 1_000_000_000)
            }),
            contacts,
            currency: ["EUR", "TND", "USD", "MAD"][g.pick(i, 121, 4)],
            organization: "entity1",
            dateCreated: data::iso_seconds(self.created),
            lastUpdated: data::iso_seconds(self.last_updated()),
            region: (),
        }
    }
}

/// One customer as the API serialises it, in its key order: three parts, flattened. `None` and
/// `()` are the API's `null`s; nested objects keep the sorted key order they were first served in.
#[derive(serde::Serialize)]
struct Customer {
    #[serde(flatten)]
    identity: Identity,
    #[serde(flatten)]
    addresses: Addresses,
    #[serde(flatten)]
    account: Account,
    /// Fields beyond the documentation, on the drifted share of records.
    #[serde(flatten)]
    drift: serde_json::Map<String, Value>,
}

#[allow(non_snake_case)]
#[derive(serde::Serialize)]
struct Identity {
    id: u64,
    reference: String,
    reference2: Option<String>,
    name: String,
    categoryReference: &'static str,
    customerCategory: Link,
    isSubCustomer: bool,
    parentCustomer: Option<Parent>,
    billWithParent: bool,
    customerSegmentationReference: &'static str,
    customerSegmentation: Link,
    pocTenus: (),
    email: Option<String>,
    logo: Option<String>,
    phone: Option<String>,
    mobile: Option<String>,
    fax: (),
    comment: Option<&'static str>,
    barcode: Option<String>,
}

/// A customer's category or segmentation.
#[derive(serde::Serialize)]
struct Link {
    href: String,
    id: u64,
    name: &'static str,
    reference: &'static str,
}

#[derive(serde::Serialize)]
struct Parent {
    href: String,
    id: u64,
    reference: String,
}

#[allow(non_snake_case)]
#[derive(serde::Serialize)]
struct User {
    href: String,
    reference: String,
    userId: u64,
}

#[allow(non_snake_case)]
#[derive(serde::Serialize)]
struct Addresses {
    isSameAddress: bool,
    billingCountry: &'static str,
    billingCity: &'static str,
    billingPostalCode: Option<&'static str>,
    billingAddress: Option<String>,
    billingLat: (),
    billingLng: (),
    country: &'static str,
    city: &'static str,
    postalCode: Option<&'static str>,
    address: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[allow(non_snake_case)]
#[derive(serde::Serialize)]
struct Account {
    isCredit: Option<bool>,
    creditLimit: Option<u64>,
    balance: Option<f64>,
    maxChequePeriod: (),
    maxChequeValue: (),
    appliedCashBackOutput: (),
    returnDiscount: (),
    invoicesPerRoute: (),
    isActive: bool,
    onHold: bool,
    onHoldReason: Option<&'static str>,
    paymentTerm: (),
    createdBy: User,
    dueDateConfigNumber: u64,
    dueDateConfigType: &'static str,
    paymentTypes: Vec<&'static str>,
    website: Option<String>,
    taxNumber: Option<String>,
    companyRegistrationNumber: Option<String>,
    contacts: Vec<Contact>,
    currency: &'static str,
    organization: &'static str,
    dateCreated: String,
    lastUpdated: String,
    region: (),
}

#[allow(non_snake_case)]
#[derive(serde::Serialize)]
struct Contact {
    email: Option<String>,
    firstName: &'static str,
    id: u64,
    isMain: bool,
    lastName: &'static str,
    phone: Option<String>,
    position: &'static str,
}

fn contact(g: &Gen, i: u64, k: u64, customer_id: u64) -> Contact {
    let field = 130 + k * 10;
    let first = data::first_name(g, i, field);
    let last = data::last_name(g, i, field + 1);
    Contact {
        email: data::sometimes_empty_text(g, i, field + 3, data::email(first, last, customer_id)),
        firstName: first,
        id: customer_id * 4 + k,
        isMain: k == 0,
        lastName: last,
        phone: data::sometimes_empty_text(g, i, field + 4, data::phone(g, i, field + 5)),
        position: ["Owner", "Buyer", "Accountant, AP", "=Manager"][g.pick(i, field + 2, 4)],
    }
}

/// The ordered base rows matching `q`, as indices (cached by the handler).
fn select_base(g: Gen, n: u64, q: &Query) -> Vec<u32> {
    let mut rows: Vec<Row> = (0..n)
        .map(|i| Row::base(g, i))
        .filter(|r| q.matches(r))
        .collect();
    // Index order already is id and dateCreated order.
    if matches!(q.sort, Sort::Name | Sort::LastUpdated) {
        rows.sort_by(|a, b| a.sort_cmp(b, q.sort));
    }
    rows.into_iter().map(|r| super::count_u32(r.i)).collect()
}

/// Which base view a query reads: everything in index order, or a cached list.
enum BaseView {
    All(u64),
    List(Arc<Vec<u32>>),
}

impl BaseView {
    fn len(&self) -> u64 {
        match self {
            BaseView::All(n) => *n,
            BaseView::List(v) => v.len() as u64,
        }
    }

    /// The index of the `k`-th row in ascending order.
    fn get(&self, k: u64) -> Option<u64> {
        match self {
            BaseView::All(n) => (k < *n).then_some(k),
            BaseView::List(v) => v.get(usize::try_from(k).ok()?).map(|&i| u64::from(i)),
        }
    }
}

/// The rows of the page `[offset, offset+max)` of base ∪ inserted, and the total.
fn page(g: Gen, live: Gen, n: u64, base: &BaseView, q: &Query, inserted: u64) -> (Vec<Row>, u64) {
    let nth_base = |k: u64| -> Option<Row> {
        let k = if q.desc {
            base.len().checked_sub(k + 1)?
        } else {
            k
        };
        base.get(k).map(|i| Row::base(g, i))
    };
    if inserted == 0 {
        let rows = (q.offset..q.offset.saturating_add(q.max))
            .map_while(nth_base)
            .collect();
        return (rows, base.len());
    }
    // Live inserts: merge the (small) sorted inserted list into the base order.
    let mut extra: Vec<Row> = (0..inserted)
        .map(|j| Row::live(live, n, j))
        .filter(|r| q.matches(r))
        .collect();
    extra.sort_by(|a, b| a.sort_cmp(b, q.sort));
    if q.desc {
        extra.reverse();
    }
    let total = base.len() + extra.len() as u64;
    let (mut kb, mut ke) = (0u64, 0usize);
    let mut rows = Vec::new();
    let mut position = 0u64;
    while position < q.offset.saturating_add(q.max) {
        let b = nth_base(kb);
        let e = extra.get(ke).copied();
        let take_extra = match (&b, &e) {
            (None, None) => break,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(b), Some(e)) => {
                let ord = e.sort_cmp(b, q.sort);
                if q.desc {
                    ord == CmpOrdering::Greater
                } else {
                    ord == CmpOrdering::Less
                }
            }
        };
        let row = if take_extra {
            ke += 1;
            e
        } else {
            kb += 1;
            b
        };
        if position >= q.offset {
            rows.extend(row);
        }
        position += 1;
    }
    (rows, total)
}

fn error(status: StatusCode, error: &str, description: Option<&str>) -> Response {
    let body = match description {
        Some(d) => json!({"error": error, "error_description": d}),
        None => json!({"error": error}),
    };
    super::json(status, &body)
}

fn invalid_param(names: &[&str]) -> Response {
    let msg = format!(
        "The parameters [{}] you provided are not valid for this request.",
        names.join(", ")
    );
    error(StatusCode::BAD_REQUEST, "invalid_param", Some(&msg))
}

fn invalid_datetime(value: &str) -> Response {
    let msg = format!("Invalid datetime filter (not ISO-8601 formatted): [{value}]");
    error(
        StatusCode::BAD_REQUEST,
        "invalid_datetime_format",
        Some(&msg),
    )
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(token) = super::bearer(headers) else {
        return false;
    };
    token == shared.config.credential(ID, "auth.token")
        || shared.check_token(ID, token) == TokenCheck::Valid
}

async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    if !authorized(&shared, &headers) {
        return error(StatusCode::UNAUTHORIZED, "invalid_token", None);
    }
    let pairs = super::query_pairs(raw.as_deref());
    let q = match Query::parse(&pairs) {
        Ok(q) => q,
        Err(response) => return response,
    };
    let g = Gen::of(&shared.config, ID);
    let live = Gen::new(shared.config.seed, "valomnia-live");
    let n = shared.config.customers_for(ID).min(u64::from(u32::MAX));
    let state = shared.state::<Memory>();
    let base = if q.has_filters() || matches!(q.sort, Sort::Name | Sort::LastUpdated) {
        BaseView::List(shared.view(q.view_key(), || select_base(g, n, &q)))
    } else {
        BaseView::All(n)
    };
    let inserted = state.inserted.load(Ordering::Relaxed);
    let (rows, total) = page(g, live, n, &base, &q, inserted);
    let next = (q.offset.saturating_add(q.max) < total).then(|| q.link(q.offset + q.max));
    let previous = (q.offset > 0).then(|| q.link(q.offset.saturating_sub(q.max)));
    #[derive(serde::Serialize)]
    struct Page {
        paging: Value,
        data: Vec<Customer>,
    }
    let page = Page {
        paging: json!({"total": total, "max": q.max, "offset": q.offset, "previous": previous, "next": next}),
        data: rows.iter().map(Row::customer).collect(),
    };
    let response = super::json(StatusCode::OK, &page);
    // New customers arrive while the client pages (ids stay positive: at most FIRST_ID - 1 inserts).
    let k = u64::from(shared.config.live_inserts);
    if k > 0 {
        let _ = state
            .inserted
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_add(k).min(FIRST_ID - 1))
            });
    }
    response
}

async fn login(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form = super::query_pairs(std::str::from_utf8(&body).ok());
    let accepted = |key: &str| shared.config.credential(ID, key);
    let username = super::param(&form, "j_username").unwrap_or("");
    let password = super::param(&form, "j_password").unwrap_or("");
    if username != accepted("auth.username") || password != accepted("auth.password") {
        let msg = "Sorry, we were not able to find a user with that username and password.";
        return error(StatusCode::UNAUTHORIZED, "authentication_failed", Some(msg));
    }
    let session = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    {
        let state = shared.state::<Memory>();
        let mut sessions = lock(&state.sessions);
        if sessions.len() >= MAX_SESSIONS {
            sessions.clear();
        }
        sessions.insert(session.clone(), Instant::now());
    }
    let mut response = (
        StatusCode::FOUND,
        [(header::LOCATION, "/valomnia/login/ajaxSuccess")],
    )
        .into_response();
    if let Ok(cookie) = HeaderValue::from_str(&format!("JSESSIONID={session}; Path=/; HttpOnly")) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// The `JSESSIONID` value of the request's cookies.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "JSESSIONID")
        .map(|(_, value)| value.to_string())
}

async fn ajax_success(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    // Sessions live 30 minutes, like a servlet container's default.
    let live = session_cookie(&headers).is_some_and(|s| {
        lock(&shared.state::<Memory>().sessions)
            .get(&s)
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1800))
    });
    if !live {
        return error(StatusCode::UNAUTHORIZED, "invalid_session", None);
    }
    let (token, _) = shared.issue_token(ID);
    let username = shared.config.credential(ID, "auth.username");
    let body = json!({
        "success": true,
        "username": username,
        "token": token,
        "user": {"id": 2, "reference": "emp-002", "username": username, "firstName": "Sandbox", "lastName": "User", "organization": "entity1"},
    });
    super::json(StatusCode::OK, &body)
}

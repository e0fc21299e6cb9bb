//! The transform's contract, on the vendors' own documented example records: canonical rows for
//! every vendor, explosion, JSON and child-table modes, mappings, coercion and drift, and (by
//! property test) rows that always match their schema whatever JSON comes in.

mod common;

use customer_export::model::record::{self, CANONICAL_COLUMNS, Canonical, RecordSpec};
use customer_export::model::{Cell, ColumnType, Row, VendorRecord};
use customer_export::transform::{
    ArrayMode, FieldType, Fields, Mapping, Options as TransformPlan, Promoted, RecordReport, Table,
    Transformer,
};
use serde_json::{Value, json};

// ---- the vendors' documented examples -------------------------------------------------------

/// AppXite "GET All Customers" example, junk `//` keys included (duplicates and all).
const APPXITE: &str = r#"{
"customerId": "11111111-2222-3333-4444-555555555555",
"customerName": "Some Customer Name",
"resellerId": "22222222-3333-4444-5555-666666666666",
"resellerName": "Some Reseller Name",
"customerStatus": "Active",
"customerCountry": "GenericCountry",
"customerErpOrganizationId": "99999",
"customerRegistrationNumber": "123456789",
"customerVatNumber": "123456789",
"customerCurrency": "EUR",
"customerSegment": "Segment1",
"customerTenants": [
{
"vendorId": "77777777-8888-9999-aaaa-bbbbbbbbbbbb",
"vendorName": "Some Vendor's Name",
"DomainName": "genericdomain.example",
"InternalId": "abcdef12-3456-7890-abcd-ef1234567890",
"ExternalId": "G999999999"
},
{
"vendorId": "77777777-8888-9999-aaaa-bbbbbbbbbbb1",
"vendorName": "Another Vendor's Name",
"DomainName": "anothergenericdomain.example",
"InternalId": "abcdef12-3456-7890-abcd-ef1234567891",
"ExternalId": "G999999998"
}
],
"// Addresses": "",
"// \"Type\": \"Primary\"": "",
"customerPrimaryAddress": {
"primaryAddressAddressLine1": "Primary Address Line 1",
"primaryAddressAddressLine2": "Primary Address Line 2",
"primaryAddressCity": "PrimaryCity",
"primaryAddressProvince": "PrimaryProvince",
"primaryAddressPostalCode": "0000AA",
"primaryAddressCountryCode": "GC"
},
"// \"Type\": \"Billing\"": "",
"customerBillingAddress": {
"billingAddressAddressLine1": "Billing Address Line 1",
"billingAddressAddressLine2": "Billing Address Line 2",
"billingAddressCity": "BillingCity",
"billingAddressProvince": "BillingProvince",
"billingAddressPostalCode": "1111BB",
"billingAddressCountryCode": "BE"
},
"// Contacts": "",
"// \"Type\": \"Primary\"": "",
"customerPrimaryContact": {
"primaryContactFirstName": "John",
"primaryContactLastName": "Brown",
"primaryContactRole": "CEO",
"primaryContactEmail": "primary@example.com",
"primaryContactPhone": "+10000000000"
},
"// \"Type\": \"Billing\"": "",
"customerBillingContact": {
"billingContactFirstName": "Jane",
"billingContactLastName": "Jackson",
"billingContactRole": "CFO",
"billingContactEmail": "billing@example.com",
"billingContactPhone": "+10000000001"
},
"// \"Type\": \"AccountManager\"": "",
"customerAccountManagerContact": {
"accountManagerContactFirstName": "Adam",
"accountManagerContactLastName": "Smith",
"accountManagerContactRole": "Account Manager",
"accountManagerContactEmail": "accountmanager@example.com",
"accountManagerContactPhone": "+10000000002"
},
"// \"Type\": \"ServiceDesk\"": "",
"customerServiceDeskContact": {
"serviceDeskContactFirstName": "Bob",
"serviceDeskContactLastName": "Johnson",
"serviceDeskContactRole": "Service Desk Lead",
"serviceDeskContactEmail": "servicedesk@example.com",
"serviceDeskContactPhone": "+10000000003"
},
"customerCustomProperties": [
{
"customPropertyName": "Tax Zone",
"customPropertyValue": "EU_Belgium"
}
],
"customerIndustries": [
"SomeIndustry"
]
}"#;

/// Adobe VIP Marketplace "Get customer list", first account.
const ADOBE: &str = r#"{
    "externalReferenceId": "a19143f0-b5a7-47d3-abf5-bdfd79dc9ef",
    "customerId": "1006500792",
    "resellerId": "1000396138",
    "status": "1000",
    "companyProfile": {
        "companyName": "Customer Name 1"
    },
    "creationDate": "2025-08-27T12:57:22Z",
    "links": {
        "self": {
            "uri": "/v3/customers/1006500792",
            "method": "GET",
            "headers": []
        }
    }
}"#;

/// Valomnia `GET /api/v1.0/customers`, first customer.
const VALOMNIA: &str = r#"{
  "id": 256,
  "reference": "NC-3",
  "reference2": null,
  "name": "Marie's Jewelry",
  "categoryReference": "jewelry",
  "customerCategory": {
    "id": 2,
    "reference": "jewelry",
    "name": "Home",
    "href": "/api/v1.0/customerCategories/2"
  },
  "isSubCustomer": false,
  "parentCustomer": null,
  "billWithParent": true,
  "customerSegmentationReference": "seg_a",
  "customerSegmentation": {
    "id": 1,
    "reference": "seg_a",
    "name": "Segmentation A",
    "href": "/api/v1.0/customerSegmentations/1"
  },
  "pocTenus": null,
  "email": null,
  "logo": null,
  "phone": null,
  "mobile": null,
  "fax": null,
  "comment": null,
  "barcode": null,
  "isSameAddress": true,
  "billingCountry": "FR",
  "billingCity": "Nice",
  "billingPostalCode": null,
  "billingAddress": null,
  "billingLat": null,
  "billingLng": null,
  "country": "FR",
  "city": "Nice",
  "postalCode": null,
  "address": null,
  "latitude": null,
  "longitude": null,
  "isCredit": null,
  "creditLimit": 5000,
  "balance": null,
  "maxChequePeriod": null,
  "maxChequeValue": null,
  "appliedCashBackOutput": null,
  "returnDiscount": null,
  "invoicesPerRoute": null,
  "isActive": true,
  "onHold": false,
  "onHoldReason": null,
  "paymentTerm": null,
  "createdBy": {
    "userId": 2,
    "reference": "emp-002",
    "href": "/api/v1.0/users/2"
  },
  "dueDateConfigNumber": 3,
  "dueDateConfigType": "daysAfterInvoiceDate",
  "paymentTypes": [],
  "website": null,
  "taxNumber": null,
  "companyRegistrationNumber": null,
  "contacts": [],
  "currency": "EUR",
  "organization": "entity1",
  "dateCreated": "2015-12-17T23:00:00Z",
  "lastUpdated": "2015-12-17T23:00:00Z",
  "region": null
}"#;

/// Crayon `GET /api/v1/customertenants/`, first item.
const CRAYON: &str = r#"{
  "Id": 32,
  "Name": "My Customer AB",
  "Publisher": {
    "Id": 2,
    "Name": "Microsoft"
  },
  "PublisherCustomerId": "y73ce2e6-d573-4fbe-966c-c5155015cce5",
  "ExternalPublisherCustomerId": "f1f80c1e-498d-4c4e-b54c-55095479c8e3",
  "DomainPrefix": "mycustomer",
  "Reference": "",
  "CustomerTenantType": 2,
  "Organization": {
    "Id": 4703,
    "Name": "My company AB",
    "Tenant": {
      "Id": 1,
      "Name": "My company AB"
    }
  },
  "InvoiceProfile": {
    "Id": 57,
    "Name": "Invoice profile"
  }
}"#;

/// C3 `GET /api/activecustomers/v5`, the one customer of the example.
const C3: &str = r#"{
    "CustomerFirstName": "John",
    "CustomerLastName": "Doe",
    "Name": "City of Urbandale",
    "CustomerID": "9582D9F2-1234-5678-AB56-DADED948C1C4",
    "TenantId": "0f96f6b1-fe7f-8909-5678-152d0f2ff171",
    "CustomerBillingReferenceId": "",
    "LinkedProviderName": "Microsoft",
    "ProviderReferenceName": "contoso.onmicrosoft.com",
    "EmailAddresses": "johndoe@contoso.com",
    "PhoneNumbers": "(123) 456-7890",
    "Line1": "3600 86th Street",
    "Line2": null,
    "City": "Urbandale",
    "State": "IA",
    "Zip": null,
    "Country": "US",
    "CustomerBillingType": null,
    "ERPCustomerID": null,
    "CRMOpportunityID": null
}"#;

/// Every vendor of the registry, as the transform sees it.
fn all_vendors() -> Vec<VendorRecord> {
    common::vendors().iter().map(|(v, _)| v.record()).collect()
}

/// One vendor, as the transform sees it.
fn v(id: &str) -> VendorRecord {
    common::vendor(id).record()
}

// ---- helpers --------------------------------------------------------------------------------

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("example JSON")
}

fn plan(fields: Fields, arrays: ArrayMode) -> TransformPlan {
    TransformPlan {
        fields,
        arrays,
        ..TransformPlan::default()
    }
}

fn mapping(pairs: &[(&str, &str)]) -> Fields {
    Fields::Mapping(pairs.iter().map(|(c, p)| Mapping::new(c, p)).collect())
}

fn transformer(vendor: VendorRecord, plan: &TransformPlan) -> Transformer {
    Transformer::new(vendor, plan, &all_vendors())
}

/// The rows of one record for one table, checked against that table's schema.
fn run(t: &Transformer, record: &Value) -> (Vec<(usize, Row<'static>)>, RecordReport) {
    let mut out = Vec::new();
    let report = common::rows_of(t, record, &mut out);
    for (table, row) in &out {
        assert_rows_fit(&t.tables()[*table], row);
    }
    (out, report)
}

/// The rows of a record read from a `Value` rather than from JSON text.
fn run_value(t: &Transformer, record: &Value) -> (Vec<(usize, Row<'static>)>, RecordReport) {
    let parsed = t.read(record).expect("reading a Value cannot fail");
    common::owned_rows(t, &parsed)
}

/// The rows as a run makes them: the record read once, straight from the page's JSON text.
fn run_text(t: &Transformer, text: &str) -> (Vec<(usize, Row<'static>)>, RecordReport) {
    let mut input = serde_json::Deserializer::from_str(text);
    let record = t.read(&mut input).expect("the text is JSON");
    common::owned_rows(t, &record)
}

/// Text cells holding a JSON array or object, as values: the vendor's key order is kept from
/// text and sorted from a `Value`, which is the only difference the two readings may show.
fn normalised(out: Vec<(usize, Row)>) -> Vec<(usize, Vec<Result<Cell, Value>>)> {
    out.into_iter()
        .map(|(table, row)| {
            let cells = row
                .into_iter()
                .map(|cell| match &cell {
                    Cell::Str(s) if s.starts_with(['[', '{']) => serde_json::from_str::<Value>(s)
                        .map_err(|_| ())
                        .map_or(Ok(cell), Err),
                    _ => Ok(cell),
                })
                .collect();
            (table, cells)
        })
        .collect()
}

#[test]
fn the_run_and_a_value_reader_hash_keys_alike() {
    use customer_export::extract::{RecordReader, ValueReader};
    let reader = ValueReader { record_key: "id" };
    let t = transformer(v("valomnia"), &plan(Fields::All, ArrayMode::Json));
    for record in [
        json!({"id": 256}),
        json!({"id": "256"}),
        json!({"id": -1}),
        json!({"id": 1.5}),
    ] {
        let from_text = t
            .read(&mut serde_json::Deserializer::from_str(&record.to_string()))
            .unwrap()
            .key_hash();
        assert!(from_text.is_some());
        assert_eq!(from_text, reader.key_hash(&record), "{record}");
    }
    assert_eq!(t.read(&json!({"id": null})).unwrap().key_hash(), None);
}

#[test]
fn reading_the_vendors_text_equals_reading_its_value() {
    let fixtures: [(VendorRecord, &str); 5] = [
        (v("appxite"), APPXITE),
        (v("adobe_vipmp"), ADOBE),
        (v("valomnia"), VALOMNIA),
        (v("crayon"), CRAYON),
        (v("c3"), C3),
    ];
    for (vendor, text) in fixtures {
        // With escapes (owned strings) and without (borrowed from the text).
        let escaped = text.replace("Name\"", "Name\\u0022\"");
        for p in property::plans() {
            let t = transformer(vendor, &p);
            for text in [text, escaped.as_str()] {
                let (want, want_report) = run_value(&t, &parse(text));
                let (got, got_report) = run_text(&t, text);
                assert_eq!(got_report, want_report, "{} {p:?}", vendor.id);
                assert_eq!(normalised(got), normalised(want), "{} {p:?}", vendor.id);
            }
        }
    }
}

fn table_rows<'r>(out: &'r [(usize, Row<'static>)], table: usize) -> Vec<&'r Row<'static>> {
    out.iter()
        .filter(|(t, _)| *t == table)
        .map(|(_, r)| r)
        .collect()
}

fn assert_rows_fit(table: &Table, row: &Row) {
    assert_eq!(row.len(), table.schema.len(), "table {}", table.name);
    for (cell, column) in row.iter().zip(table.schema.iter()) {
        let ok = matches!(
            (cell, column.ty),
            (Cell::Null, _)
                | (Cell::Str(_), ColumnType::Utf8)
                | (Cell::Int(_), ColumnType::Int64)
                | (Cell::Float(_), ColumnType::Float64)
                | (Cell::Bool(_), ColumnType::Boolean)
                | (Cell::Timestamp(_), ColumnType::Timestamp)
                | (Cell::Date(_), ColumnType::Date)
        );
        assert!(
            ok,
            "{}.{}: {cell:?} in a {:?} column",
            table.name, column.name, column.ty
        );
    }
}

/// The cell of column `name` in table `table`.
fn cell<'r>(t: &Transformer, table: usize, row: &'r Row<'static>, name: &str) -> &'r Cell<'static> {
    let i = t.tables()[table]
        .schema
        .iter()
        .position(|c| c.name == name)
        .unwrap_or_else(|| panic!("no column {name} in {}", t.tables()[table].name));
    &row[i]
}

fn s(text: &str) -> Cell<'static> {
    Cell::Str(text.to_string().into())
}

fn names(table: &Table) -> Vec<&str> {
    table.schema.iter().map(|c| c.name.as_str()).collect()
}

fn extra(t: &Transformer, row: &Row<'static>) -> Option<Value> {
    extra_json(cell(t, 0, row, "_extra"))
}

/// An `_extra` cell's JSON.
fn extra_json(cell: &Cell) -> Option<Value> {
    match cell {
        Cell::Null => None,
        Cell::Str(text) => Some(serde_json::from_str(text).expect("_extra is JSON")),
        other => panic!("_extra holds {other:?}"),
    }
}

// ---- canonical ------------------------------------------------------------------------------

#[test]
fn canonical_columns_are_the_same_for_every_vendor() {
    let p = plan(Fields::Canonical, ArrayMode::Explode);
    let expected: Vec<(&str, ColumnType)> = CANONICAL_COLUMNS.to_vec();
    for vendor in all_vendors() {
        let t = transformer(vendor, &p);
        assert_eq!(t.tables().len(), 1);
        let got: Vec<(&str, ColumnType)> = t.tables()[0]
            .schema
            .iter()
            .map(|c| (c.name.as_str(), c.ty))
            .collect();
        assert_eq!(got, expected, "{}", vendor.id);
    }
}

#[test]
fn canonical_appxite_gives_one_row_per_tenant() {
    let t = transformer(v("appxite"), &plan(Fields::Canonical, ArrayMode::Explode));
    let (out, report) = run(&t, &parse(APPXITE));
    assert_eq!(out.len(), 2);
    let (r0, r1) = (&out[0].1, &out[1].1);
    assert_eq!(cell(&t, 0, r0, "vendor"), &s("appxite"));
    assert_eq!(
        cell(&t, 0, r0, "customer_id"),
        &s("11111111-2222-3333-4444-555555555555")
    );
    assert_eq!(cell(&t, 0, r0, "customer_name"), &s("Some Customer Name"));
    assert_eq!(cell(&t, 0, r0, "status"), &s("active"));
    assert_eq!(cell(&t, 0, r0, "status_raw"), &s("Active"));
    assert_eq!(cell(&t, 0, r0, "country"), &s("GenericCountry"));
    assert_eq!(cell(&t, 0, r0, "created_at"), &Cell::Null);
    assert_eq!(
        cell(&t, 0, r0, "reseller_id"),
        &s("22222222-3333-4444-5555-666666666666")
    );
    assert_eq!(cell(&t, 0, r0, "contact_email"), &s("primary@example.com"));
    assert_eq!(
        cell(&t, 0, r0, "source_record_id"),
        &s("11111111-2222-3333-4444-555555555555")
    );
    assert_eq!(cell(&t, 0, r0, "tenant_id"), &s("G999999999"));
    assert_eq!(
        cell(&t, 0, r0, "tenant_domain"),
        &s("genericdomain.example")
    );
    assert_eq!(cell(&t, 0, r1, "tenant_id"), &s("G999999998"));
    assert_eq!(
        cell(&t, 0, r1, "tenant_domain"),
        &s("anothergenericdomain.example")
    );
    // The `//` comment keys of the documented payload are not drift.
    assert_eq!(report, RecordReport::default());
}

#[test]
fn canonical_adobe_reads_company_profile_and_creation_date() {
    let t = transformer(
        v("adobe_vipmp"),
        &plan(Fields::Canonical, ArrayMode::Explode),
    );
    let (out, report) = run(&t, &parse(ADOBE));
    assert_eq!(out.len(), 1);
    let r = &out[0].1;
    assert_eq!(cell(&t, 0, r, "customer_id"), &s("1006500792"));
    assert_eq!(cell(&t, 0, r, "customer_name"), &s("Customer Name 1"));
    assert_eq!(cell(&t, 0, r, "status"), &s("active"));
    assert_eq!(cell(&t, 0, r, "status_raw"), &s("1000"));
    assert_eq!(
        cell(&t, 0, r, "customer_reference"),
        &s("a19143f0-b5a7-47d3-abf5-bdfd79dc9ef")
    );
    assert_eq!(cell(&t, 0, r, "reseller_id"), &s("1000396138"));
    // 2025-08-27T12:57:22Z
    assert_eq!(
        cell(&t, 0, r, "created_at"),
        &Cell::Timestamp(1_756_299_442_000_000)
    );
    assert_eq!(cell(&t, 0, r, "tenant_id"), &Cell::Null);
    assert_eq!(cell(&t, 0, r, "source_record_id"), &s("1006500792"));
    // Every key of the documented record is declared (`links.self.headers` as JSON text).
    assert_eq!(report.undeclared_fields, 0);
    assert_eq!(report.type_mismatches, 0);
}

#[test]
fn canonical_valomnia_is_keyed_by_id_and_renders_is_active_as_a_status_word() {
    let t = transformer(v("valomnia"), &plan(Fields::Canonical, ArrayMode::Explode));
    let (out, report) = run(&t, &parse(VALOMNIA));
    assert_eq!(
        out.len(),
        1,
        "no element columns: contacts are not exploded"
    );
    let r = &out[0].1;
    // `reference` is not unique in Valomnia; `id` is.
    assert_eq!(cell(&t, 0, r, "customer_id"), &s("256"));
    assert_eq!(cell(&t, 0, r, "customer_reference"), &s("NC-3"));
    assert_eq!(cell(&t, 0, r, "customer_name"), &s("Marie's Jewelry"));
    assert_eq!(cell(&t, 0, r, "status"), &s("active"));
    assert_eq!(cell(&t, 0, r, "status_raw"), &s("true"));
    assert_eq!(cell(&t, 0, r, "country"), &s("FR"));
    assert_eq!(cell(&t, 0, r, "reseller_id"), &s("entity1"));
    assert_eq!(cell(&t, 0, r, "contact_email"), &Cell::Null);
    assert_eq!(
        cell(&t, 0, r, "created_at"),
        &Cell::Timestamp(1_450_393_200_000_000)
    );
    // The numeric id becomes the text key.
    assert_eq!(cell(&t, 0, r, "source_record_id"), &s("256"));
    assert_eq!(report, RecordReport::default());

    let mut inactive = parse(VALOMNIA);
    inactive["isActive"] = json!(false);
    let (out, _) = run(&t, &inactive);
    assert_eq!(cell(&t, 0, &out[0].1, "status"), &s("inactive"));
    assert_eq!(cell(&t, 0, &out[0].1, "status_raw"), &s("false"));
}

#[test]
fn canonical_crayon_renders_numbers_as_text() {
    let t = transformer(v("crayon"), &plan(Fields::Canonical, ArrayMode::Explode));
    let (out, report) = run(&t, &parse(CRAYON));
    let r = &out[0].1;
    assert_eq!(cell(&t, 0, r, "customer_id"), &s("32"));
    assert_eq!(cell(&t, 0, r, "customer_name"), &s("My Customer AB"));
    assert_eq!(cell(&t, 0, r, "reseller_id"), &s("4703"));
    assert_eq!(
        cell(&t, 0, r, "tenant_id"),
        &s("y73ce2e6-d573-4fbe-966c-c5155015cce5")
    );
    assert_eq!(cell(&t, 0, r, "tenant_domain"), &s("mycustomer"));
    // The documented list entry carries no EntityStatus: not a guess, `unknown`.
    assert_eq!(cell(&t, 0, r, "status"), &s("unknown"));
    assert_eq!(cell(&t, 0, r, "status_raw"), &Cell::Null);
    assert_eq!(cell(&t, 0, r, "source_record_id"), &s("32"));
    assert_eq!(report, RecordReport::default());

    // Crayon's SDK: EntityStatus None = 0, Removed = 1; anything else is not documented.
    for (raw, word) in [
        (json!(0), "active"),
        (json!(1), "deleted"),
        (json!("Removed"), "deleted"),
        (json!(2), "unknown"),
    ] {
        let mut record = parse(CRAYON);
        record["EntityStatus"] = raw.clone();
        let (out, _) = run(&t, &record);
        assert_eq!(cell(&t, 0, &out[0].1, "status"), &s(word), "{raw}");
    }
}

#[test]
fn canonical_c3_has_a_constant_status() {
    let t = transformer(v("c3"), &plan(Fields::Canonical, ArrayMode::Explode));
    let (out, report) = run(&t, &parse(C3));
    let r = &out[0].1;
    assert_eq!(
        cell(&t, 0, r, "customer_id"),
        &s("9582D9F2-1234-5678-AB56-DADED948C1C4")
    );
    assert_eq!(cell(&t, 0, r, "customer_name"), &s("City of Urbandale"));
    assert_eq!(cell(&t, 0, r, "status"), &s("active"));
    assert_eq!(cell(&t, 0, r, "status_raw"), &s("Active"));
    assert_eq!(cell(&t, 0, r, "country"), &s("US"));
    assert_eq!(
        cell(&t, 0, r, "tenant_domain"),
        &s("contoso.onmicrosoft.com")
    );
    assert_eq!(cell(&t, 0, r, "contact_email"), &s("johndoe@contoso.com"));
    assert_eq!(report, RecordReport::default());
}

// ---- explode --------------------------------------------------------------------------------

#[test]
fn a_customer_without_tenants_still_gives_one_row() {
    let t = transformer(v("appxite"), &plan(Fields::Canonical, ArrayMode::Explode));
    for tenants in [Some(json!([])), Some(Value::Null), None] {
        let mut record = parse(APPXITE);
        match &tenants {
            Some(v) => record["customerTenants"] = v.clone(),
            None => {
                record.as_object_mut().unwrap().remove("customerTenants");
            }
        }
        let (out, report) = run(&t, &record);
        assert_eq!(out.len(), 1, "{tenants:?}");
        assert_eq!(cell(&t, 0, &out[0].1, "tenant_id"), &Cell::Null);
        assert_eq!(
            cell(&t, 0, &out[0].1, "customer_name"),
            &s("Some Customer Name")
        );
        assert_eq!(report, RecordReport::default());
    }
}

#[test]
fn all_fields_explode_tenants_with_element_columns_and_index() {
    let t = transformer(v("appxite"), &plan(Fields::All, ArrayMode::Explode));
    assert_eq!(t.exploded_array(), Some("tenants"));
    let cols = names(&t.tables()[0]);
    let fields = v("appxite").record.fields.len();
    assert_eq!(cols[0], "customerId");
    assert_eq!(
        cols[fields - 1],
        "customerServiceDeskContact_serviceDeskContactPhone"
    );
    assert_eq!(
        &cols[fields..],
        [
            "tenants_index",
            "tenants_vendorId",
            "tenants_vendorName",
            "tenants_DomainName",
            "tenants_InternalId",
            "tenants_ExternalId",
            "custom_properties",
            "industries",
            "_extra",
        ]
    );

    let (out, report) = run(&t, &parse(APPXITE));
    assert_eq!(out.len(), 2);
    for (n, (_, r)) in out.iter().enumerate() {
        assert_eq!(cell(&t, 0, r, "tenants_index"), &Cell::Int(n as i64));
        assert_eq!(cell(&t, 0, r, "industries"), &s(r#"["SomeIndustry"]"#));
        assert_eq!(cell(&t, 0, r, "_extra"), &Cell::Null);
        assert_eq!(
            cell(&t, 0, r, "customerBillingAddress_billingAddressCountryCode"),
            &s("BE")
        );
    }
    assert_eq!(
        cell(&t, 0, &out[1].1, "tenants_ExternalId"),
        &s("G999999998")
    );
    assert_eq!(report, RecordReport::default());
}

#[test]
fn all_fields_without_an_element_leave_the_index_null() {
    let t = transformer(v("valomnia"), &plan(Fields::All, ArrayMode::Explode));
    assert_eq!(t.exploded_array(), Some("contacts"));
    let (out, _) = run(&t, &parse(VALOMNIA));
    assert_eq!(out.len(), 1);
    let r = &out[0].1;
    assert_eq!(cell(&t, 0, r, "contacts_index"), &Cell::Null);
    assert_eq!(cell(&t, 0, r, "contacts_email"), &Cell::Null);
    assert_eq!(cell(&t, 0, r, "payment_types"), &s("[]"));
    assert_eq!(cell(&t, 0, r, "id"), &Cell::Int(256));
    assert_eq!(cell(&t, 0, r, "customerCategory_name"), &s("Home"));
    assert_eq!(cell(&t, 0, r, "creditLimit"), &Cell::Float(5000.0));
    assert_eq!(cell(&t, 0, r, "isActive"), &Cell::Bool(true));
    assert_eq!(cell(&t, 0, r, "parentCustomer_id"), &Cell::Null);
}

#[test]
fn a_named_explode_the_vendor_lacks_falls_back_to_its_default() {
    let mut p = plan(Fields::All, ArrayMode::Explode);
    p.explode = Some("contacts".into());
    assert_eq!(
        transformer(v("appxite"), &p).exploded_array(),
        Some("tenants")
    );
    assert_eq!(
        transformer(v("valomnia"), &p).exploded_array(),
        Some("contacts")
    );
    p.explode = Some("industries".into());
    let t = transformer(v("appxite"), &p);
    assert_eq!(t.exploded_array(), Some("industries"));
    let (out, _) = run(&t, &parse(APPXITE));
    assert_eq!(out.len(), 1);
    assert_eq!(cell(&t, 0, &out[0].1, "industries"), &s("SomeIndustry"));
    assert_eq!(cell(&t, 0, &out[0].1, "industries_index"), &Cell::Int(0));
    assert!(matches!(cell(&t, 0, &out[0].1, "tenants"), Cell::Str(j) if j.starts_with('[')));
}

// ---- json -----------------------------------------------------------------------------------

#[test]
fn json_mode_keeps_each_array_as_one_text_column() {
    let t = transformer(v("appxite"), &plan(Fields::All, ArrayMode::Json));
    let cols = names(&t.tables()[0]);
    assert_eq!(
        &cols[cols.len() - 4..],
        ["tenants", "custom_properties", "industries", "_extra"]
    );
    let (out, _) = run(&t, &parse(APPXITE));
    assert_eq!(out.len(), 1);
    let tenants: Value = match cell(&t, 0, &out[0].1, "tenants") {
        Cell::Str(text) => serde_json::from_str(text).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(tenants, parse(APPXITE)["customerTenants"]);

    let mut record = parse(APPXITE);
    record
        .as_object_mut()
        .unwrap()
        .remove("customerCustomProperties");
    let (out, _) = run(&t, &record);
    assert_eq!(cell(&t, 0, &out[0].1, "custom_properties"), &Cell::Null);
}

#[test]
fn canonical_json_mode_reads_the_first_tenant() {
    let t = transformer(v("appxite"), &plan(Fields::Canonical, ArrayMode::Json));
    assert_eq!(t.tables()[0].schema.len(), CANONICAL_COLUMNS.len());
    let (out, _) = run(&t, &parse(APPXITE));
    assert_eq!(out.len(), 1);
    assert_eq!(cell(&t, 0, &out[0].1, "tenant_id"), &s("G999999999"));
}

// ---- tables ---------------------------------------------------------------------------------

#[test]
fn tables_mode_writes_one_child_table_per_array() {
    let t = transformer(v("appxite"), &plan(Fields::All, ArrayMode::Tables));
    let tables: Vec<&str> = t.tables().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        tables,
        ["customers", "tenants", "custom_properties", "industries"]
    );
    let customers = names(&t.tables()[0]);
    assert_eq!(customers.len(), v("appxite").record.fields.len() + 1);
    assert_eq!(customers.last(), Some(&"_extra"));
    assert_eq!(
        names(&t.tables()[1]),
        [
            "vendor",
            "customer_key",
            "index",
            "vendorId",
            "vendorName",
            "DomainName",
            "InternalId",
            "ExternalId",
            "_extra"
        ]
    );
    assert_eq!(
        names(&t.tables()[3]),
        ["vendor", "customer_key", "index", "value", "_extra"]
    );

    let (out, report) = run(&t, &parse(APPXITE));
    assert_eq!(report, RecordReport::default());
    assert_eq!(table_rows(&out, 0).len(), 1);
    let tenants = table_rows(&out, 1);
    assert_eq!(tenants.len(), 2);
    let key = s("11111111-2222-3333-4444-555555555555");
    assert_eq!(
        tenants[1][..4],
        [
            s("appxite"),
            key.clone(),
            Cell::Int(1),
            s("77777777-8888-9999-aaaa-bbbbbbbbbbb1")
        ]
    );
    let props = table_rows(&out, 2);
    assert_eq!(
        *props[0],
        vec![
            s("appxite"),
            key.clone(),
            Cell::Int(0),
            s("Tax Zone"),
            s("EU_Belgium"),
            Cell::Null
        ]
    );
    assert_eq!(
        *table_rows(&out, 3)[0],
        vec![
            s("appxite"),
            key,
            Cell::Int(0),
            s("SomeIndustry"),
            Cell::Null
        ]
    );

    // An element's undeclared key and a value that does not fit its column: kept in the child
    // table's `_extra`, counted.
    let mut record = parse(APPXITE);
    record["customerTenants"][0]["newKey"] = json!({"a": 1});
    record["customerTenants"][0]["DomainName"] = json!(["not", "text"]);
    record["customerIndustries"][0] = json!({"not": "a string"});
    let (out, report) = run(&t, &record);
    let tenant = &table_rows(&out, 1)[0];
    let extra = tenant.last().unwrap();
    assert_eq!(extra_json(extra), Some(json!({"newKey": {"a": 1}})));
    // Text takes any JSON as its compact text: no mismatch there.
    assert_eq!(tenant[5], s(r#"["not","text"]"#));
    let industry = &table_rows(&out, 3)[0];
    assert_eq!(industry[3], s(r#"{"not":"a string"}"#));
    // `newKey`, and the key of the object where an industry (text) was expected.
    assert_eq!(report.undeclared_fields, 2);
}

#[test]
fn a_child_tables_extra_keeps_values_that_do_not_fit() {
    let t = transformer(v("valomnia"), &plan(Fields::All, ArrayMode::Tables));
    let contacts = t
        .tables()
        .iter()
        .position(|t| t.name == "contacts")
        .unwrap();
    let mut record = parse(VALOMNIA);
    record["contacts"] = json!([{"id": "seven", "firstName": "A", "isMain": "maybe"}]);
    let (out, report) = run(&t, &record);
    let row = &table_rows(&out, contacts)[0];
    assert_eq!(cell(&t, contacts, row, "id"), &Cell::Null);
    assert_eq!(cell(&t, contacts, row, "isMain"), &Cell::Null);
    assert_eq!(
        extra_json(row.last().unwrap()),
        Some(json!({"id": "seven", "isMain": "maybe"}))
    );
    assert_eq!(report.type_mismatches, 2);
}

#[test]
fn tables_mode_for_a_vendor_without_arrays_is_customers_only() {
    let t = transformer(v("crayon"), &plan(Fields::Canonical, ArrayMode::Tables));
    assert_eq!(t.tables().len(), 1);
    let (out, _) = run(&t, &parse(CRAYON));
    assert_eq!(out.len(), 1);
}

// ---- mapping --------------------------------------------------------------------------------

#[test]
fn a_mapping_gives_exactly_its_columns_and_null_for_missing_paths() {
    let fields = mapping(&[
        ("name", "companyProfile.companyName"),
        ("domain", "tenants.DomainName"),
        ("org", "Organization.Id"),
        ("customer", "customer_name"),
        ("created", "created_at"),
        ("who", "vendor"),
        ("key", "source_record_id"),
        ("tenant_list", "customerTenants"),
    ]);
    let p = plan(fields, ArrayMode::Explode);
    let adobe = transformer(v("adobe_vipmp"), &p);
    let app = transformer(v("appxite"), &p);
    // Same columns and types for both vendors: one file across vendors works.
    assert_eq!(adobe.tables()[0].schema, app.tables()[0].schema);
    let types: Vec<ColumnType> = adobe.tables()[0].schema.iter().map(|c| c.ty).collect();
    use ColumnType::*;
    // `Organization.Id` is Crayon's Int64; `created_at` is the canonical Timestamp.
    assert_eq!(
        types,
        [Utf8, Utf8, Int64, Utf8, Timestamp, Utf8, Utf8, Utf8]
    );

    let (out, _) = run(&adobe, &parse(ADOBE));
    assert_eq!(
        out[0].1,
        vec![
            s("Customer Name 1"),
            Cell::Null,
            Cell::Null,
            s("Customer Name 1"),
            Cell::Timestamp(1_756_299_442_000_000),
            s("adobe_vipmp"),
            s("1006500792"),
            Cell::Null,
        ]
    );

    let (out, _) = run(&app, &parse(APPXITE));
    assert_eq!(out.len(), 2, "appxite explodes its tenants by default");
    assert_eq!(
        cell(&app, 0, &out[1].1, "domain"),
        &s("anothergenericdomain.example")
    );
    assert_eq!(
        cell(&app, 0, &out[1].1, "customer"),
        &s("Some Customer Name")
    );
    assert!(
        matches!(cell(&app, 0, &out[0].1, "tenant_list"), Cell::Str(j) if j.contains("G999999998"))
    );
}

#[test]
fn a_mapping_path_typed_differently_by_two_vendors_is_text() {
    // A vendor that sends `id` as text, beside Valomnia's Int64 `id`.
    static OTHER_RECORD: RecordSpec = RecordSpec {
        key: "id",
        fields: &[record::text("id")],
        arrays: &[],
        default_explode: None,
        canonical: Canonical {
            customer_id: record::From::Field("id"),
            customer_reference: record::From::Lacking("-"),
            customer_name: record::From::Lacking("-"),
            status: record::From::Lacking("-"),
            status_codes: &[],
            country: record::From::Lacking("-"),
            created_at: record::From::Lacking("-"),
            reseller_id: record::From::Lacking("-"),
            tenant_id: record::From::Lacking("-"),
            tenant_domain: record::From::Lacking("-"),
            contact_email: record::From::Lacking("-"),
        },
    };
    let other = VendorRecord {
        id: "other",
        record: &OTHER_RECORD,
    };
    let p = plan(
        mapping(&[("id", "id"), ("ref", "reference")]),
        ArrayMode::Json,
    );
    let alone = Transformer::new(v("valomnia"), &p, &[v("valomnia")]);
    assert_eq!(alone.tables()[0].schema[0].ty, ColumnType::Int64);
    let mixed = Transformer::new(v("valomnia"), &p, &[v("valomnia"), other]);
    assert_eq!(mixed.tables()[0].schema[0].ty, ColumnType::Utf8);
    let (out, _) = run(&mixed, &parse(VALOMNIA));
    assert_eq!(out[0].1, vec![s("256"), s("NC-3")]);
}

// ---- types, drift, keys ---------------------------------------------------------------------

#[test]
fn lossless_values_are_coerced_and_the_rest_counted_and_kept() {
    let t = transformer(v("valomnia"), &plan(Fields::All, ArrayMode::Json));
    let mut record = parse(VALOMNIA);
    record["creditLimit"] = json!("5000"); // text number → Float64
    record["dueDateConfigNumber"] = json!("3"); // text number → Int64
    record["isActive"] = json!("true"); // text boolean → Boolean
    record["dateCreated"] = json!("2025-01-01"); // date → midnight UTC
    record["latitude"] = json!(""); // empty: Null, not a mismatch
    record["maxChequePeriod"] = json!("thirty"); // mismatch
    record["customerCategory"]["id"] = json!({"v": 2}); // mismatch, nested
    let (out, report) = run(&t, &record);
    let r = &out[0].1;
    assert_eq!(cell(&t, 0, r, "creditLimit"), &Cell::Float(5000.0));
    assert_eq!(cell(&t, 0, r, "dueDateConfigNumber"), &Cell::Int(3));
    assert_eq!(cell(&t, 0, r, "isActive"), &Cell::Bool(true));
    assert_eq!(
        cell(&t, 0, r, "dateCreated"),
        &Cell::Timestamp(1_735_689_600_000_000)
    );
    assert_eq!(cell(&t, 0, r, "latitude"), &Cell::Null);
    assert_eq!(cell(&t, 0, r, "maxChequePeriod"), &Cell::Null);
    assert_eq!(cell(&t, 0, r, "customerCategory_id"), &Cell::Null);
    assert_eq!(report.type_mismatches, 2);
    assert_eq!(report.undeclared_fields, 0);
    assert_eq!(
        extra(&t, r),
        Some(json!({"maxChequePeriod": "thirty", "customerCategory_id": {"v": 2}}))
    );
}

#[test]
fn empty_text_and_null_stay_different() {
    let t = transformer(v("c3"), &plan(Fields::All, ArrayMode::Explode));
    let (out, report) = run(&t, &parse(C3));
    let r = &out[0].1;
    assert_eq!(cell(&t, 0, r, "CustomerBillingReferenceId"), &s(""));
    assert_eq!(cell(&t, 0, r, "Line2"), &Cell::Null);
    assert_eq!(cell(&t, 0, r, "_extra"), &Cell::Null);
    assert_eq!(report, RecordReport::default());
}

#[test]
fn undeclared_keys_are_kept_in_extra_and_counted() {
    let t = transformer(v("appxite"), &plan(Fields::All, ArrayMode::Explode));
    let mut record = parse(APPXITE);
    record["customerWebsite"] = json!("https://example.com");
    record["customerPrimaryAddress"]["primaryAddressLine3"] = json!("Floor 2");
    record["customerTenants"][1]["tenantRegion"] = json!("EU");
    let (out, report) = run(&t, &record);
    assert_eq!(report.undeclared_fields, 3);
    assert_eq!(report.type_mismatches, 0);
    let record_level = json!({
        "customerWebsite": "https://example.com",
        "customerPrimaryAddress.primaryAddressLine3": "Floor 2",
    });
    assert_eq!(extra(&t, &out[0].1), Some(record_level.clone()));
    let mut second = record_level;
    second["customerTenants[].tenantRegion"] = json!("EU");
    assert_eq!(extra(&t, &out[1].1), Some(second));

    let adobe = transformer(v("adobe_vipmp"), &plan(Fields::All, ArrayMode::Explode));
    let (out, _) = run(&adobe, &parse(ADOBE));
    assert_eq!(extra(&adobe, &out[0].1), None);
    assert_eq!(cell(&adobe, 0, &out[0].1, "links_self_headers"), &s("[]"));
    assert_eq!(
        cell(&adobe, 0, &out[0].1, "links_self_uri"),
        &s("/v3/customers/1006500792")
    );
}

#[test]
fn drift_two_objects_deep_is_named_by_its_whole_path() {
    let t = transformer(v("adobe_vipmp"), &plan(Fields::All, ArrayMode::Explode));
    let mut record = parse(ADOBE);
    record["links"]["self"]["rel"] = json!("self");
    let (out, report) = run(&t, &record);
    assert_eq!(report.undeclared_fields, 1);
    assert_eq!(
        extra(&t, &out[0].1),
        Some(json!({"links.self.rel": "self"}))
    );

    let mut record = parse(ADOBE);
    record["links"]["self"] = json!("/v3/customers/1006500792");
    let (out, report) = run(&t, &record);
    assert_eq!(report.type_mismatches, 1);
    assert_eq!(cell(&t, 0, &out[0].1, "links_self_uri"), &Cell::Null);
    assert_eq!(
        extra(&t, &out[0].1),
        Some(json!({"links.self": "/v3/customers/1006500792"}))
    );
}

#[test]
fn a_scalar_where_an_object_was_declared_is_kept() {
    let t = transformer(v("crayon"), &plan(Fields::All, ArrayMode::Explode));
    let mut record = parse(CRAYON);
    record["Organization"] = json!("My company AB");
    let (out, report) = run(&t, &record);
    assert_eq!(report.type_mismatches, 1);
    assert_eq!(cell(&t, 0, &out[0].1, "Organization_Id"), &Cell::Null);
    assert_eq!(
        extra(&t, &out[0].1),
        Some(json!({"Organization": "My company AB"}))
    );
}

#[test]
fn the_schema_does_not_depend_on_the_data() {
    let p = plan(Fields::All, ArrayMode::Explode);
    let first = transformer(v("appxite"), &p);
    let second = transformer(v("appxite"), &p);
    assert_eq!(first.tables(), second.tables());
    let before = first.tables().to_vec();
    let full = parse(APPXITE);
    let sparse = json!({"customerId": "x", "surprise": {"deep": [1, 2]}});
    let (a, _) = run(&first, &full);
    let (b, _) = run(&first, &sparse);
    assert_eq!(first.tables(), &before[..]);
    assert_eq!(a[0].1.len(), b[0].1.len());
}

#[test]
fn keys_are_text_for_de_duplication() {
    let p = plan(Fields::Canonical, ArrayMode::Explode);
    let key = |t: &Transformer, record: &Value| t.read(record).ok()?.key().map(|k| k.into_owned());
    let t = transformer(v("crayon"), &p);
    assert_eq!(key(&t, &parse(CRAYON)).as_deref(), Some("32"));
    assert_eq!(key(&t, &json!({"Id": null})), None);
    assert_eq!(key(&t, &json!({"Name": "no id"})), None);
    assert_eq!(key(&t, &json!({"Id": ""})), None);
    let valomnia = transformer(v("valomnia"), &p);
    assert_eq!(key(&valomnia, &parse(VALOMNIA)).as_deref(), Some("256"));
}

#[test]
fn a_record_that_is_not_an_object_gives_one_counted_row() {
    for vendor in all_vendors() {
        let t = transformer(vendor, &plan(Fields::All, ArrayMode::Tables));
        let (out, report) = run(&t, &json!([1, 2]));
        assert_eq!(out.len(), 1);
        assert_eq!(report.type_mismatches, 1);
        assert_eq!(extra(&t, &out[0].1), Some(json!({"_record": [1, 2]})));
    }
}

// ---- property: any JSON, rows fit their schema ----------------------------------------------

mod property {
    use proptest::prelude::*;
    use serde_json::{Map, Number, Value};

    use super::*;

    /// Keys the vendors use, so that generated records hit declared paths, plus free ones.
    const KEYS: &[&str] = &[
        "customerId",
        "customerTenants",
        "DomainName",
        "ExternalId",
        "customerIndustries",
        "customerPrimaryContact",
        "primaryContactEmail",
        "companyProfile",
        "companyName",
        "creationDate",
        "links",
        "self",
        "Id",
        "Organization",
        "Tenant",
        "ResellerMarkup",
        "id",
        "contacts",
        "paymentTypes",
        "dateCreated",
        "isActive",
        "creditLimit",
        "email",
        "CustomerID",
        "TenantId",
        "Name",
        "// Addresses",
        "status",
        "x",
    ];

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => proptest::sample::select(KEYS).prop_map(str::to_string),
            1 => "[a-z/. ]{0,6}",
        ]
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
            proptest::sample::select(
                &[
                    "",
                    " ",
                    "123",
                    "-1.5",
                    "true",
                    "False",
                    "2025-01-01",
                    "2025-08-27T12:57:22Z",
                    "NaN",
                    "1e400",
                    "9223372036854775808",
                ][..]
            )
            .prop_map(Value::from),
            ".{0,8}".prop_map(Value::String),
        ]
    }

    fn json() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec((key(), inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    fn record() -> impl Strategy<Value = Value> {
        prop_oneof![
            9 => proptest::collection::vec((key(), json()), 0..12)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            1 => json(),
        ]
    }

    pub(super) fn plans() -> Vec<TransformPlan> {
        let mut plans = Vec::new();
        let fields = [
            Fields::Canonical,
            Fields::All,
            mapping(&[
                ("a", "tenants.DomainName"),
                ("b", "companyProfile.companyName"),
                ("c", "creditLimit"),
                ("d", "created_at"),
                ("e", "status"),
                ("f", "paymentTypes"),
                ("g", "nowhere"),
            ]),
        ];
        for f in fields {
            for arrays in [ArrayMode::Explode, ArrayMode::Json, ArrayMode::Tables] {
                plans.push(plan(f.clone(), arrays));
            }
        }
        plans
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_record_gives_rows_that_fit_their_schema(record in record()) {
            for p in plans() {
                for vendor in all_vendors() {
                    let t = Transformer::new(vendor, &p, &all_vendors());
                    let schemas: Vec<Table> = t.tables().to_vec();
                    let mut out = Vec::new();
                    common::rows_of(&t, &record, &mut out);
                    prop_assert!(out.iter().any(|(table, _)| *table == 0), "always a customers row");
                    for (table, row) in &out {
                        prop_assert!(*table < schemas.len());
                        assert_rows_fit(&schemas[*table], row);
                    }
                    prop_assert_eq!(t.tables(), &schemas[..]);
                    // The one-pass reader over JSON text gives exactly what it gives over the value.
                    let want = run_value(&t, &record);
                    for text in [record.to_string(), serde_json::to_string_pretty(&record).unwrap()] {
                        prop_assert_eq!(&run_text(&t, &text), &want, "{}", text);
                    }
                }
            }
        }
    }
}

/// Throughput, for `cargo test --release --test transform_rows -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, meaningful in release builds only"]
fn throughput() {
    let records: Vec<(VendorRecord, &str)> = vec![
        (v("appxite"), APPXITE),
        (v("valomnia"), VALOMNIA),
        (v("adobe_vipmp"), ADOBE),
    ];
    for fields in [Fields::Canonical, Fields::All] {
        for (vendor, text) in &records {
            let t = transformer(*vendor, &plan(fields.clone(), ArrayMode::Explode));
            // The production path: each record read from its page's text, then emitted.
            let text = parse(text).to_string();
            let n = 200_000;
            let start = std::time::Instant::now();
            for _ in 0..n {
                let mut input = serde_json::Deserializer::from_str(&text);
                let parsed = t.read(&mut input).expect("JSON");
                std::hint::black_box(t.emit(&parsed, &mut |table, row| {
                    std::hint::black_box((table, row));
                }));
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{:<12} {:<9} {:>10.0} records/s",
                vendor.id,
                format!("{fields:?}"),
                n as f64 / secs
            );
        }
    }
}

// ---- open paths (issue 12) ------------------------------------------------------------------

fn typed(pairs: &[(&str, &str, Option<FieldType>)]) -> Fields {
    Fields::Mapping(
        pairs
            .iter()
            .map(|(c, p, ty)| Mapping {
                ty: *ty,
                ..Mapping::new(c, p)
            })
            .collect(),
    )
}

#[test]
fn a_mapping_reads_undeclared_paths_whole_objects_and_list_positions() {
    let p = plan(
        typed(&[
            ("profile", "companyProfile", Some(FieldType::Json)),
            ("name", "companyProfile.companyName", None),
            ("first", "companyProfile.contacts.0.email", None),
            ("second", "companyProfile.contacts.1.email", None),
            ("header", "links.self.headers.0.name", None),
            ("score", "accountHealth.score", Some(FieldType::Int)),
            ("seen", "accountHealth.seen", Some(FieldType::Date)),
            ("quoted", "status", Some(FieldType::Json)),
        ]),
        ArrayMode::Json,
    );
    let t = transformer(v("adobe_vipmp"), &p);
    let mut record = parse(ADOBE);
    record["companyProfile"]["contacts"] =
        json!([{"email": "a@x.example"}, {"email": "b@x.example"}]);
    record["links"]["self"]["headers"] = json!([{"name": "X-Trace"}]);
    record["accountHealth"] = json!({"score": 87, "seen": "2026-06-30"});
    let (out, report) = run(&t, &record);
    let r = &out[0].1;
    let profile: Value = match cell(&t, 0, r, "profile") {
        Cell::Str(text) => serde_json::from_str(text).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(profile, record["companyProfile"]);
    // Reading the object whole still fills the declared fields inside it.
    assert_eq!(cell(&t, 0, r, "name"), &s("Customer Name 1"));
    assert_eq!(cell(&t, 0, r, "first"), &s("a@x.example"));
    assert_eq!(cell(&t, 0, r, "second"), &s("b@x.example"));
    assert_eq!(cell(&t, 0, r, "header"), &s("X-Trace"));
    assert_eq!(cell(&t, 0, r, "score"), &Cell::Int(87));
    assert_eq!(cell(&t, 0, r, "seen"), &Cell::Date(20_634));
    assert_eq!(cell(&t, 0, r, "quoted"), &s("\"1000\""));
    // Paths the mapping reads are not drift.
    assert_eq!(report, RecordReport::default());
    // The schema follows the types asked for, and the declared type where none is.
    let types: Vec<ColumnType> = t.tables()[0].schema.iter().map(|c| c.ty).collect();
    assert_eq!(
        types,
        [
            ColumnType::Utf8,
            ColumnType::Utf8,
            ColumnType::Utf8,
            ColumnType::Utf8,
            ColumnType::Utf8,
            ColumnType::Int64,
            ColumnType::Date,
            ColumnType::Utf8
        ]
    );
}

#[test]
fn promoted_paths_are_columns_and_later_newcomers_stay_in_extra() {
    let mut p = plan(Fields::All, ArrayMode::Json);
    p.undeclared = customer_export::transform::Undeclared::Columns;
    let promoted = [Promoted {
        path: "accountHealth.score".into(),
        ty: ColumnType::Int64,
    }];
    let t = Transformer::with_promoted(v("c3"), &p, &all_vendors(), &promoted);
    let mut record = parse(C3);
    record["accountHealth"] = json!({"score": 5, "since": "2026"});
    record["newcomer"] = json!(true);
    let (out, report) = run(&t, &record);
    let r = &out[0].1;
    assert_eq!(cell(&t, 0, r, "accountHealth_score"), &Cell::Int(5));
    assert_eq!(
        extra(&t, r),
        Some(json!({"accountHealth.since": "2026", "newcomer": true}))
    );
    assert_eq!(report.undeclared_fields, 2);
}

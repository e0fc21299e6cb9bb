//! The files are the product: a whole pipeline runs in-process against the embedded sandbox and
//! every output is read back — Parquet with the arrow reader (types asserted), CSV with the csv
//! crate (the hard values asserted), NDJSON line by line, XLSX from its sheets' XML — and
//! compared with the sandbox's truth.

#[path = "common/xlsx.rs"]
mod xlsx;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow_array::{Array, RecordBatch, StringArray};
use arrow_schema::{DataType, TimeUnit};
use customer_export::load::RunStatus;
use customer_export::load::local::{JOURNAL_FILE, LOCK_FILE};
use customer_export::model::record::CANONICAL_COLUMNS;
use customer_export::pipeline::{self, EnvMode, Plan};
use customer_export::run::{RunOptions, run_pipeline};
use customer_export::sandbox::{SandboxConfig, expected_records};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;
use sha2::Digest;

fn plan_from(text: &str) -> Plan {
    let lookup = |_: &str| None;
    match pipeline::parse(text, Path::new("t.yaml"), false, EnvMode::Strict, &lookup) {
        Ok((plan, _)) => plan,
        Err(d) => panic!("{d:#?}"),
    }
}

fn demo_plan() -> Plan {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/demo.yaml"))
        .unwrap();
    plan_from(&text)
}

async fn run_into(plan: Plan, root: &Path) -> customer_export::run::RunReport {
    let options = RunOptions {
        output_root: customer_export::load::Location::Local(root.to_path_buf()),
        ..Default::default()
    };
    run_pipeline(plan, &options)
        .await
        .expect("the run succeeds")
}

fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

fn strings(batches: &[RecordBatch], column: &str) -> Vec<Option<String>> {
    batches
        .iter()
        .flat_map(|b| {
            let col = b
                .column_by_name(column)
                .unwrap_or_else(|| panic!("no column {column}"))
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .clone();
            (0..col.len())
                .map(move |i| (!col.is_null(i)).then(|| col.value(i).to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn only_file(root: &Path, vendor: &str, name: &str) -> PathBuf {
    let dir = root.join("output/demo").join(vendor);
    let date = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    date.join(name)
}

/// The rows the demo's canonical explode must give per vendor, in order: (customer_id, tenant_id).
/// The records the demo's source for `vendor` receives from the default sandbox.
fn demo_records(vendor: &str) -> Vec<Value> {
    let pairs: &[(&str, &str)] = match vendor {
        "crayon" => &[("organizationId", "4703")],
        "adobe_vipmp" => &[("order-by", "asc")],
        "appxite" => &[("includeTenants", "true"), ("includeContacts", "true")],
        _ => &[],
    };
    let filters: Vec<(String, String)> = (pairs.iter())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    expected_records(vendor, &SandboxConfig::default(), &filters).unwrap()
}

fn truth() -> BTreeMap<&'static str, Vec<(String, Option<String>)>> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = BTreeMap::new();
    let simple = |vendor, key: &str, tenant: Option<&str>| {
        demo_records(vendor)
            .iter()
            .map(|r| {
                (
                    text(&r[key]),
                    tenant.and_then(|t| r[t].as_str().map(str::to_string)),
                )
            })
            .collect::<Vec<_>>()
    };
    out.insert("c3", simple("c3", "CustomerID", Some("TenantId")));
    out.insert(
        "crayon",
        simple("crayon", "Id", Some("PublisherCustomerId")),
    );
    out.insert("valomnia", simple("valomnia", "id", None));
    out.insert("adobe_vipmp", simple("adobe_vipmp", "customerId", None));
    let appxite = demo_records("appxite");
    let mut rows = Vec::new();
    for r in &appxite {
        let id = text(&r["customerId"]);
        match r["customerTenants"].as_array() {
            Some(tenants) if !tenants.is_empty() => {
                for t in tenants {
                    rows.push((id.clone(), t["ExternalId"].as_str().map(str::to_string)));
                }
            }
            _ => rows.push((id, None)),
        }
    }
    out.insert("appxite", rows);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_writes_every_format_that_reads_back_as_the_sandbox_truth() {
    let root = tempfile::tempdir().unwrap();
    let report = run_into(demo_plan(), root.path()).await;
    let truth = truth();
    assert_eq!(report.manifest.status, RunStatus::Succeeded);

    let mut all_rows = 0;
    for (vendor, rows) in &truth {
        // Parquet: declared types, the exact customers and tenants in page order.
        let batches = read_parquet(&only_file(root.path(), vendor, "customers.parquet"));
        let schema = batches[0].schema();
        assert_eq!(
            schema.field_with_name("created_at").unwrap().data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(
            schema.field_with_name("customer_id").unwrap().data_type(),
            &DataType::Utf8
        );
        let ids = strings(&batches, "customer_id");
        let tenants = strings(&batches, "tenant_id");
        let got: Vec<(String, Option<String>)> =
            ids.into_iter().map(Option::unwrap).zip(tenants).collect();
        let want: Vec<(String, Option<String>)> = rows
            .iter()
            .map(|(id, t)| {
                (
                    id.clone(),
                    t.clone().filter(|t| !t.is_empty()).or(t.clone()),
                )
            })
            .collect();
        assert_eq!(got.len(), want.len(), "{vendor}: row count");
        assert_eq!(
            got.iter().map(|g| &g.0).collect::<Vec<_>>(),
            want.iter().map(|w| &w.0).collect::<Vec<_>>(),
            "{vendor}: customer ids"
        );
        if *vendor == "appxite" || *vendor == "crayon" {
            assert_eq!(got, want, "{vendor}: tenants");
        }
        all_rows += got.len();

        // NDJSON: one object per line with the canonical keys.
        let ndjson =
            std::fs::read_to_string(only_file(root.path(), vendor, "customers.ndjson")).unwrap();
        let lines: Vec<Value> = ndjson
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), rows.len(), "{vendor}: ndjson lines");
        assert_eq!(lines[0]["vendor"], Value::String(vendor.to_string()));
        assert_eq!(lines[0].as_object().unwrap().len(), CANONICAL_COLUMNS.len());
    }

    // CSV across vendors: one header, every row, the hard values survive and formulas are defused.
    let csv_dir = root.path().join("output/demo");
    let csv_path = std::fs::read_dir(&csv_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("all-vendors.csv").exists())
        .unwrap()
        .join("all-vendors.csv");
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "vendor",
            "customer_id",
            "customer_name",
            "status",
            "country",
            "created_at",
            "reseller_id",
            "tenant_id",
            "tenant_domain",
            "contact_email",
            "source_record_id",
            "status_raw",
            "customer_reference"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), all_rows);
    let names: Vec<&str> = records.iter().map(|r| &r[2]).collect();
    assert!(
        names.iter().any(|n| n.contains('\n')),
        "an embedded newline survives"
    );
    assert!(names.iter().any(|n| n.contains(',')), "a comma survives");
    assert!(names.iter().any(|n| n.contains('"')), "a quote survives");
    assert!(names.iter().any(|n| !n.is_ascii()), "non-ASCII survives");
    assert!(
        names.iter().any(|n| n.starts_with("'=")),
        "a formula is neutralised"
    );
    for record in &records {
        for cell in record.iter() {
            assert!(
                !cell.starts_with(['=', '@']),
                "a formula reached the spreadsheet: {cell:?}"
            );
        }
    }

    // XLSX across vendors: the CSV's rows, its text verbatim (no `'`: a text cell is never a
    // formula), timestamps as dates shown in UTC.
    let book = xlsx::Book::read(&csv_path.with_extension("xlsx"));
    assert_eq!(book.sheets.len(), 1);
    let sheet = &book.sheets[0];
    assert_eq!(sheet.name, "customers");
    assert!(sheet.header_frozen());
    assert_eq!(sheet.autofilter(), Some(format!("A1:M{}", all_rows + 1)));
    let grid = sheet.grid();
    assert_eq!(grid.len(), all_rows + 1);
    let header: Vec<&str> = grid[0]
        .iter()
        .map(|c| c.as_ref().unwrap().value.as_str())
        .collect();
    assert_eq!(header, reader.headers().unwrap().iter().collect::<Vec<_>>());
    for (record, row) in records.iter().zip(&grid[1..]) {
        for (col, csv_text) in record.iter().enumerate() {
            let cell = row.get(col).cloned().flatten();
            assert!(cell.as_ref().is_none_or(|c| !c.formula), "{cell:?}");
            if header[col] == "created_at" {
                let cell = cell.filter(|_| !csv_text.is_empty());
                let format = cell.and_then(|c| c.style).map(|s| book.number_format(s));
                let want =
                    (!csv_text.is_empty()).then(|| "yyyy-mm-dd hh:mm:ss \"UTC\"".to_string());
                assert_eq!(format, want, "{csv_text}");
                continue;
            }
            let text = cell.map(|c| c.value).unwrap_or_default();
            assert!(
                *csv_text == text || *csv_text == format!("'{text}"),
                "{csv_text:?} in the CSV, {text:?} in the sheet"
            );
        }
    }

    // The manifest describes what is on disk.
    let manifest_path = report.manifest_path.unwrap();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    assert_eq!(manifest["sources"].as_array().unwrap().len(), 5);
    for source in manifest["sources"].as_array().unwrap() {
        // The vendor specs declare every field the documentation-faithful sandbox sends but its
        // drift: two fields (`accountHealth`, `loyaltyTier`) on its drifted records.
        let vendor = source["vendor"].as_str().unwrap();
        let drifted = demo_records(vendor)
            .iter()
            .filter(|r| r.get("loyaltyTier").is_some())
            .count() as u64;
        assert!(drifted > 0, "{vendor}: the default sandbox drifts");
        assert_eq!(source["undeclared_fields"], 2 * drifted, "{source}");
        assert_eq!(source["type_mismatches"], 0, "{source}");
    }
    for output in manifest["outputs"].as_array().unwrap() {
        // Paths are relative to the manifest's folder.
        let path = manifest_path
            .parent()
            .unwrap()
            .join(output["path"].as_str().unwrap());
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(output["bytes"].as_u64().unwrap(), bytes.len() as u64);
        // Only a spreadsheet cuts cells, and says how many it cut (none here).
        let truncated = output.get("truncated_cells");
        match output["format"].as_str().unwrap() {
            "xlsx" => assert_eq!(truncated, Some(&Value::from(0)), "{output}"),
            _ => assert_eq!(truncated, None, "{output}"),
        }
        assert_eq!(
            output["sha256"].as_str().unwrap(),
            hex(&sha2::Sha256::digest(&bytes))
        );
    }
    assert!(no_temp_files(root.path()));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn no_temp_files(root: &Path) -> bool {
    walk(root)
        .iter()
        .all(|p| !p.to_string_lossy().ends_with(".cetmp"))
}

/// Every file under `dir` but the output root's lock and journal, which every run rewrites.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if entry.file_name() != LOCK_FILE && entry.file_name() != JOURNAL_FILE {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_over_the_same_data_write_identical_files() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    run_into(demo_plan(), a.path()).await;
    run_into(demo_plan(), b.path()).await;
    let files_a = walk(a.path());
    assert!(files_a.len() >= 11);
    for file in files_a.iter().filter(|f| !f.ends_with("manifest.json")) {
        let twin = b.path().join(file.strip_prefix(a.path()).unwrap());
        assert_eq!(
            std::fs::read(file).unwrap(),
            std::fs::read(&twin).unwrap(),
            "{file:?}"
        );
    }
}

const ALL_FIELDS: &str = r#"
name: lake
sandbox: true
sources:
  - vendor: valomnia
  - vendor: appxite
    referer: https://test.local
    filters:
      includeTenants: true
      includeCustomProperties: true
      includeIndustries: true
transform:
  fields: all
  arrays: ARRAYS
outputs:
  - format: parquet
    path: lake/{vendor}/{table}.parquet
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_all_keeps_declared_types_and_arrays_as_json() {
    let root = tempfile::tempdir().unwrap();
    run_into(
        plan_from(&ALL_FIELDS.replace("ARRAYS", "json")),
        root.path(),
    )
    .await;
    let batches = read_parquet(&root.path().join("lake/valomnia/customers.parquet"));
    let schema = batches[0].schema();
    let ty = |c: &str| schema.field_with_name(c).unwrap().data_type().clone();
    assert_eq!(ty("id"), DataType::Int64);
    assert_eq!(ty("isActive"), DataType::Boolean);
    assert_eq!(ty("creditLimit"), DataType::Float64);
    assert_eq!(ty("customerCategory_name"), DataType::Utf8);
    assert_eq!(
        ty("dateCreated"),
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    assert_eq!(ty("contacts"), DataType::Utf8);
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 1000);
    // Arrays as JSON text: each parses back to the list the API sent.
    let contacts = strings(&batches, "contacts");
    let truth = expected_records("valomnia", &SandboxConfig::default(), &[]).unwrap();
    for (cell, record) in contacts.iter().zip(&truth) {
        let parsed: Value = serde_json::from_str(cell.as_deref().unwrap()).unwrap();
        assert_eq!(parsed, record["contacts"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrays_as_tables_write_one_child_file_per_array() {
    let root = tempfile::tempdir().unwrap();
    run_into(
        plan_from(&ALL_FIELDS.replace("ARRAYS", "tables")),
        root.path(),
    )
    .await;
    let truth = expected_records(
        "appxite",
        &SandboxConfig::default(),
        &[("includeTenants".into(), "true".into())],
    )
    .unwrap();
    let tenants: usize = truth
        .iter()
        .map(|r| r["customerTenants"].as_array().map_or(0, Vec::len))
        .sum();
    let count = |name: &str| -> usize {
        read_parquet(&root.path().join(format!("lake/appxite/{name}.parquet")))
            .iter()
            .map(|b| b.num_rows())
            .sum()
    };
    assert_eq!(count("customers"), truth.len());
    assert_eq!(count("tenants"), tenants);
    let batches = read_parquet(&root.path().join("lake/appxite/tenants.parquet"));
    let schema = batches[0].schema();
    assert_eq!(schema.field(0).name(), "vendor");
    assert_eq!(schema.field(1).name(), "customer_key");
    assert_eq!(schema.field(2).data_type(), &DataType::Int64);
    assert!(root.path().join("lake/valomnia/contacts.parquet").exists());
    assert!(root.path().join("lake/appxite/industries.parquet").exists());
}

/// `arrays: tables` as spreadsheets: one file per table, as for the other formats, each sheet
/// named after its table and holding the manifest's rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrays_as_tables_write_one_spreadsheet_per_table_named_after_it() {
    let root = tempfile::tempdir().unwrap();
    let text = ALL_FIELDS.replace("ARRAYS", "tables").replace(
        "format: parquet\n    path: lake/{vendor}/{table}.parquet",
        "format: xlsx\n    path: sheets/{vendor}/{table}.xlsx",
    );
    let report = run_into(plan_from(&text), root.path()).await;
    let mut tables = Vec::new();
    for output in &report.manifest.outputs {
        let book = xlsx::Book::read(&output.path);
        let table = output.path.file_stem().unwrap().to_string_lossy();
        assert_eq!(book.sheets.len(), 1, "{table}");
        assert_eq!(book.sheets[0].name, table);
        assert_eq!(book.data_rows() as u64, output.rows, "{table}");
        let header = &book.sheets[0].grid()[0];
        let names: Vec<&str> = header
            .iter()
            .map(|c| c.as_ref().unwrap().value.as_str())
            .collect();
        let schema: Vec<&str> = output.schema.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, schema, "{table}");
        tables.push(output.path.strip_prefix(root.path()).unwrap().to_path_buf());
    }
    for table in [
        "sheets/appxite/customers.xlsx",
        "sheets/appxite/tenants.xlsx",
        "sheets/valomnia/contacts.xlsx",
    ] {
        assert!(
            tables.contains(&PathBuf::from(table)),
            "{table} in {tables:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_source_leaves_the_previous_files_byte_identical() {
    let root = tempfile::tempdir().unwrap();
    run_into(demo_plan(), root.path()).await;
    let before: Vec<(PathBuf, Vec<u8>)> = walk(root.path())
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();

    // The same outputs, but the last source points at a port where nothing listens.
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/pipelines/demo.yaml"))
        .unwrap();
    let failing = text.replace(
        "  - vendor: adobe_vipmp\n",
        "  - vendor: adobe_vipmp\n    max_attempts: 1\n",
    );
    let mut plan_failing = plan_from(&failing);
    plan_failing.sandbox = false;
    let sandbox = customer_export::run::sandboxed::start_for(&mut plan_failing)
        .await
        .unwrap();
    let adobe = plan_failing.sources.last_mut().unwrap();
    adobe.base_url = Some(url::Url::parse("http://127.0.0.1:9/adobe").unwrap());
    let options = RunOptions {
        output_root: customer_export::load::Location::Local(root.path().to_path_buf()),
        ..Default::default()
    };
    let err = run_pipeline(plan_failing, &options).await.unwrap_err();
    sandbox.shutdown().await;
    assert!(err.to_string().contains("adobe_vipmp"), "{err}");

    for (path, bytes) in &before {
        assert_eq!(&std::fs::read(path).unwrap(), bytes, "{path:?} changed");
    }
    assert_eq!(
        walk(root.path()).len(),
        before.len(),
        "no new file appeared"
    );
    assert!(no_temp_files(root.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_ndjson_keeps_each_record_as_the_vendor_sent_it() {
    let root = tempfile::tempdir().unwrap();
    let text = r#"
name: raw
sandbox: true
sources:
  - vendor: adobe_vipmp
    filters:
      order-by: asc
outputs:
  - format: ndjson
    path: raw/{vendor}.ndjson
    ndjson:
      nested: true
"#;
    run_into(plan_from(text), root.path()).await;
    let lines: Vec<Value> = std::fs::read_to_string(root.path().join("raw/adobe_vipmp.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let truth = expected_records(
        "adobe_vipmp",
        &SandboxConfig::default(),
        &[("order-by".into(), "asc".into())],
    )
    .unwrap();
    assert_eq!(lines, truth);
}

/// One extraction, three transforms: a sheet with a per-vendor mapping, a `fields: all` Parquet
/// file per vendor, and one file per table — the tables of the three numbered one after another.
const PER_OUTPUT: &str = r#"
name: reconcile
sandbox: true
sources:
  - vendor: crayon
    filters:
      organizationId: 4703
  - vendor: adobe_vipmp
    reseller_id: "1000396138"
transform:
  fields:
    id: {crayon: Id, adobe_vipmp: customerId}
    name: {crayon: Name, adobe_vipmp: companyProfile.companyName}
    vendor: vendor
outputs:
  - format: csv
    path: sheet/all-vendors.csv
  - format: parquet
    path: lake/{vendor}/customers.parquet
    transform:
      fields: all
      arrays: json
  - format: parquet
    path: tables/{vendor}-{table}.parquet
    transform:
      fields: all
      arrays: tables
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_output_may_carry_its_own_transform_and_a_mapping_a_path_per_vendor() {
    let root = tempfile::tempdir().unwrap();
    let plan = plan_from(PER_OUTPUT);
    assert_eq!(plan.transforms.len(), 3);
    run_into(plan, root.path()).await;

    // As the spreadsheet-safe CSV writes text: a cell that would start a formula gets a `'`.
    let text = |v: &Value| match v {
        Value::String(s) if s.starts_with(['=', '+', '-', '@']) => format!("'{s}"),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let crayon = demo_records("crayon");
    let adobe = demo_records("adobe_vipmp");
    let mut want = vec![vec!["id".to_string(), "name".into(), "vendor".into()]];
    want.extend((crayon.iter()).map(|r| vec![text(&r["Id"]), text(&r["Name"]), "crayon".into()]));
    want.extend(adobe.iter().map(|r| {
        let name = text(&r["companyProfile"]["companyName"]);
        vec![text(&r["customerId"]), name, "adobe_vipmp".into()]
    }));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(root.path().join("sheet/all-vendors.csv"))
        .unwrap();
    let sheet: Vec<Vec<String>> = (reader.records())
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(sheet.len(), want.len());
    for (got, want) in sheet.iter().zip(&want) {
        assert_eq!(got, want);
    }

    let rows = |path: &str| -> usize {
        read_parquet(&root.path().join(path))
            .iter()
            .map(|b| b.num_rows())
            .sum()
    };
    let all = read_parquet(&root.path().join("lake/crayon/customers.parquet"));
    assert!(all[0].schema().field_with_name("Name").is_ok());
    assert!(all[0].schema().field_with_name("_extra").is_ok());
    assert_eq!(rows("lake/crayon/customers.parquet"), crayon.len());
    assert_eq!(rows("lake/adobe_vipmp/customers.parquet"), adobe.len());
    assert_eq!(rows("tables/adobe_vipmp-customers.parquet"), adobe.len());
    let contacts: usize = (adobe.iter())
        .map(|r| {
            r["companyProfile"]["contacts"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .sum();
    assert!(contacts > 0, "the sandbox's Adobe customers have contacts");
    assert_eq!(rows("tables/adobe_vipmp-contacts.parquet"), contacts);
}

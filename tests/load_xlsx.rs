//! The XLSX loader end to end: typed cells from the schema, text that stays text (leading zeros,
//! long digits, `=…`), the header's layout, Excel's limits, read back from the file's XML.

#[path = "common/xlsx.rs"]
mod xlsx;

use std::sync::Arc;

use customer_export::load::{Format, OutputSummary, Writer, XlsxOptions};
use customer_export::model::row::{Cell, Column, ColumnType, Row, Schema};
use xlsx::{Book, XCell};

/// 2025-08-27T12:57:22Z in microseconds.
const T0: i64 = 1_756_299_442_000_000;
/// Its Excel serial number: 2025-08-27 is day 45896, 12:57:22 is 46,642 s into it.
const T0_SERIAL: f64 = 45_896.0 + 46_642.0 / 86_400.0;

fn schema() -> Schema {
    Arc::from(vec![
        Column::new("registration", ColumnType::Utf8),
        Column::new("name", ColumnType::Utf8),
        Column::new("count", ColumnType::Int64),
        Column::new("score", ColumnType::Float64),
        Column::new("active", ColumnType::Boolean),
        Column::new("created_at", ColumnType::Timestamp),
        Column::new("coterm", ColumnType::Date),
    ])
}

fn text(s: &str) -> Cell<'static> {
    Cell::Str(s.to_string().into())
}

fn row(registration: &str, name: &str, count: Cell<'static>) -> Row<'static> {
    vec![
        text(registration),
        text(name),
        count,
        Cell::Float(1.25),
        Cell::Bool(true),
        Cell::Timestamp(T0),
        Cell::Date(20_089),
    ]
}

fn write(path: &std::path::Path, format: &Format, schema: Schema, rows: &[Row]) -> OutputSummary {
    let mut writer = Writer::create(path, format, schema).unwrap();
    for row in rows {
        writer.write_row(row).unwrap();
    }
    writer.finish().unwrap().publish().unwrap()
}

fn xlsx() -> Format {
    Format::Xlsx(XlsxOptions::default())
}

/// The cell at `reference` of the first sheet.
fn cell(book: &Book, reference: &str) -> XCell {
    book.sheets[0]
        .cell(reference)
        .unwrap_or_else(|| panic!("no cell {reference}"))
}

#[test]
fn cells_take_the_schema_types_and_text_is_never_a_formula() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.xlsx");
    let rows = vec![
        row("015763969", "Société Générale 株式会社", Cell::Int(42)),
        row(
            "06000",
            "line1\nline2\r\nline3",
            Cell::Int(999_999_999_999_999),
        ),
        row(
            "+100003",
            "=HYPERLINK(\"http://x\")",
            Cell::Int(12_345_678_901_234_567),
        ),
        row("@acme", "-5", Cell::Int(-3)),
        vec![
            Cell::Null,
            text(""),
            Cell::Null,
            Cell::Float(f64::NAN),
            Cell::Bool(false),
            Cell::Timestamp(T0 + 500_000),
            Cell::Null,
        ],
    ];
    let summary = write(&path, &xlsx(), schema(), &rows);
    assert_eq!(summary.rows, 5);
    assert_eq!(summary.format, "xlsx");
    assert_eq!(summary.truncated_cells, Some(0));
    let book = Book::read(&path);
    assert_eq!(book.sheets.len(), 1);
    assert_eq!(book.sheets[0].name, "customers");

    // Text is text, verbatim: leading zeros, a leading `+`, `=`, `@`, `-`, unicode, line breaks.
    for (reference, want) in [
        ("A2", "015763969"),
        ("A3", "06000"),
        ("A4", "+100003"),
        ("A5", "@acme"),
        ("B2", "Société Générale 株式会社"),
        ("B3", "line1\nline2\r\nline3"),
        ("B4", "=HYPERLINK(\"http://x\")"),
        ("B5", "-5"),
    ] {
        let got = cell(&book, reference);
        assert_eq!(got.kind.as_deref(), Some("inlineStr"), "{got:?}");
        assert_eq!(got.value, want);
    }
    // Integers are numbers while Excel keeps every digit (15), text beyond.
    assert_eq!(
        (cell(&book, "C2").kind, cell(&book, "C2").value),
        (None, "42".into())
    );
    assert_eq!(cell(&book, "C3").value, "999999999999999");
    assert_eq!(cell(&book, "C3").kind, None);
    let long = cell(&book, "C4");
    assert_eq!(long.kind.as_deref(), Some("inlineStr"));
    assert_eq!(long.value, "12345678901234567");
    assert_eq!(cell(&book, "D2").value, "1.25");
    let active = cell(&book, "E2");
    assert_eq!(
        (active.kind.as_deref(), active.value.as_str()),
        (Some("b"), "1")
    );
    assert_eq!(cell(&book, "E6").value, "0");

    // Timestamps and dates are Excel serial numbers shown as dates, the timestamps as UTC.
    let created = cell(&book, "F2");
    assert_eq!(created.kind, None);
    let serial: f64 = created.value.parse().unwrap();
    assert!((serial - T0_SERIAL).abs() < 1e-9, "{serial}");
    let half: f64 = cell(&book, "F6").value.parse().unwrap();
    assert!((half - T0_SERIAL - 0.5 / 86_400.0).abs() < 1e-9, "{half}");
    let format = book.number_format(created.style.unwrap());
    assert_eq!(format, "yyyy-mm-dd hh:mm:ss \"UTC\"");
    let coterm = cell(&book, "G2");
    assert_eq!(coterm.value, "45658"); // 2025-01-01
    assert_eq!(book.number_format(coterm.style.unwrap()), "yyyy-mm-dd");

    // Null, the empty string and NaN are empty cells.
    for reference in ["A6", "B6", "C6", "D6", "G6"] {
        assert!(book.sheets[0].cell(reference).is_none(), "{reference}");
    }
    let cells = book.sheets[0].cells();
    assert!(cells.iter().all(|c| !c.formula), "a formula in {cells:?}");
    assert!(!book.sheets[0].xml.contains("<f>"));
}

#[test]
fn the_header_is_bold_and_frozen_with_an_autofilter_and_widths_to_fit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.xlsx");
    let long_name = "x".repeat(500);
    let rows = vec![
        row("015763969", "Acme", Cell::Int(1)),
        row("1", &long_name, Cell::Int(2)),
    ];
    write(&path, &xlsx(), schema(), &rows);
    let book = Book::read(&path);
    let sheet = &book.sheets[0];
    let header: Vec<String> = (sheet.cells().into_iter())
        .filter(|c| c.reference.ends_with('1') && c.reference.len() == 2)
        .map(|c| {
            assert!(book.is_bold(c.style.unwrap()), "{c:?}");
            c.value
        })
        .collect();
    assert_eq!(
        header,
        [
            "registration",
            "name",
            "count",
            "score",
            "active",
            "created_at",
            "coterm"
        ]
    );
    assert!(sheet.header_frozen(), "{}", sheet.xml);
    assert_eq!(sheet.autofilter().as_deref(), Some("A1:G3"));
    // The header and its filter button, the widest value, or the cap.
    let registration = sheet.column_width(1).unwrap();
    assert!((14.0..20.0).contains(&registration), "{registration}");
    let name = sheet.column_width(2).unwrap();
    assert!((55.0..=65.0).contains(&name), "capped: {name}");
    let created = sheet.column_width(6).unwrap();
    assert!(created >= 23.0, "a whole timestamp: {created}");
}

#[test]
fn text_past_excels_cell_limit_is_cut_at_a_character_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.xlsx");
    let schema: Schema = Arc::from(vec![
        Column::new("id", ColumnType::Utf8),
        Column::new("notes", ColumnType::Utf8),
    ]);
    // 40,000 two-byte characters; then exactly the limit, which is kept whole.
    let long = "é".repeat(40_000);
    let limit = "a".repeat(32_767);
    let rows = vec![
        vec![text("1"), text(&long)],
        vec![text("2"), text(&limit)],
        vec![text(&long), text(&long)],
    ];
    let summary = write(&path, &xlsx(), schema, &rows);
    assert_eq!(summary.truncated_cells, Some(3));
    assert_eq!(summary.rows, 3);
    let book = Book::read(&path);
    let cut = cell(&book, "B2").value;
    assert_eq!(cut.chars().count(), 32_767);
    assert!(long.starts_with(&cut));
    assert_eq!(cell(&book, "B3").value, limit);
    assert_eq!(cell(&book, "A4").value.chars().count(), 32_767);
}

#[test]
fn the_sheet_is_named_after_the_table_within_excels_rules() {
    let dir = tempfile::tempdir().unwrap();
    for (table, want) in [
        ("customers_tenants", "customers_tenants"),
        ("a/b:c?", "a_b_c_"),
        (
            "companyProfile_contacts_phoneNumbers_extensions",
            "companyProfile_contacts_phoneNu",
        ),
    ] {
        let path = dir.path().join(format!("{want}.xlsx"));
        let format = xlsx().for_table(table);
        write(&path, &format, schema(), &[row("1", "a", Cell::Int(1))]);
        assert_eq!(Book::read(&path).sheets[0].name, want);
    }
}

#[test]
fn a_table_wider_than_a_worksheet_is_refused_when_the_file_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let wide: Schema = (0..16_385)
        .map(|i| Column::new(format!("c{i}"), ColumnType::Utf8))
        .collect();
    let err = Writer::create(&dir.path().join("wide.xlsx"), &xlsx(), wide).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("16385 columns") && message.contains("16384"),
        "{message}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Excel's real row limit: 1,048,575 data rows under the header fill the first sheet, the next
/// row starts `customers (2)` with its own header, frozen, and autofilter. A narrow table (one
/// integer column), so the million rows take under a minute in a debug build; the split's logic
/// is also tested on small sheets in src/load/xlsx.rs.
#[test]
fn past_excels_row_limit_rows_continue_on_a_new_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("million.xlsx");
    let schema: Schema = Arc::from(vec![Column::new("n", ColumnType::Int64)]);
    let total: i64 = 1_048_575 + 2;
    let mut writer = Writer::create(&path, &xlsx(), schema).unwrap();
    for n in 0..total {
        writer.write_row(&[Cell::Int(n)]).unwrap();
    }
    let summary = writer.finish().unwrap().publish().unwrap();
    assert_eq!(summary.rows, total as u64);
    let book = Book::read(&path);
    let names: Vec<&str> = book.sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["customers", "customers (2)"]);
    assert_eq!(book.sheets[0].rows(), 1_048_576);
    assert_eq!(book.sheets[0].autofilter().as_deref(), Some("A1:A1048576"));
    let second = &book.sheets[1];
    assert_eq!(second.rows(), 3);
    assert!(second.header_frozen());
    assert_eq!(second.autofilter().as_deref(), Some("A1:A3"));
    assert_eq!(second.cell("A1").unwrap().value, "n");
    assert_eq!(second.cell("A2").unwrap().value, "1048575");
    assert_eq!(book.data_rows(), total as usize);
}

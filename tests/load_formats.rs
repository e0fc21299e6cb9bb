//! The loaders, end to end: each format written with hard values and read back with an
//! independent reader; atomic publication; summaries that match the files.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use customer_export::load::local::{JOURNAL_FILE, LocalRoot};
use customer_export::load::{
    CsvOptions, Finished, Format, LoadError, Manifest, NdjsonOptions, OutputSummary,
    ParquetOptions, PublishError, RootOptions, RunStatus, SourceStatus, SourceSummary, Writer,
    XlsxOptions, write_manifest,
};
use customer_export::model::row::{Cell, Column, ColumnType, Row, Schema};
use customer_export::model::{PackedRows, RowForWriters};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use sha2::{Digest, Sha256};

/// 2025-08-27T12:57:22Z in microseconds.
const T0: i64 = 1_756_299_442_000_000;

fn schema() -> Schema {
    Arc::from(vec![
        Column::new("name", ColumnType::Utf8),
        Column::new("count", ColumnType::Int64),
        Column::new("score", ColumnType::Float64),
        Column::new("active", ColumnType::Boolean),
        Column::new("seen_at", ColumnType::Timestamp),
    ])
}

/// The hard text values, and how a spreadsheet-safe CSV must show each (None = Null).
fn hard_names() -> Vec<(Option<&'static str>, Option<&'static str>)> {
    vec![
        (
            Some("Société Générale 株式会社"),
            Some("Société Générale 株式会社"),
        ),
        (Some("Acme, Inc."), Some("Acme, Inc.")),
        (Some("He said \"hi\""), Some("He said \"hi\"")),
        (Some("line1\nline2\r\nline3"), Some("line1\nline2\r\nline3")),
        (Some("=HYPERLINK(\"x\")"), Some("'=HYPERLINK(\"x\")")),
        (Some("+31 20"), Some("'+31 20")),
        (Some("-5"), Some("-5")),
        (Some("@acme"), Some("'@acme")),
        (Some("\tleading tab"), Some("'\tleading tab")),
        (Some(""), Some("")),
        (None, None),
    ]
}

fn hard_rows() -> Vec<Row<'static>> {
    hard_names()
        .into_iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let i64i = i as i64;
            vec![
                name.map_or(Cell::Null, |s| Cell::Str(s.to_string().into())),
                if i % 4 == 3 {
                    Cell::Null
                } else {
                    Cell::Int(i64i * 1000 - 3)
                },
                if i % 5 == 4 {
                    Cell::Null
                } else {
                    Cell::Float(i as f64 + 0.25)
                },
                if i % 3 == 2 {
                    Cell::Null
                } else {
                    Cell::Bool(i % 2 == 0)
                },
                match i % 3 {
                    0 => Cell::Timestamp(T0 + i64i * 1_000_000),
                    1 => Cell::Timestamp(T0 + 123_400),
                    _ => Cell::Null,
                },
            ]
        })
        .collect()
}

fn write_all(path: &Path, format: &Format, rows: &[Row]) -> OutputSummary {
    let mut w = Writer::create(path, format, schema()).unwrap();
    for row in rows {
        w.write_row(row).unwrap();
    }
    w.finish().unwrap().publish().unwrap()
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn assert_summary(summary: &OutputSummary, path: &Path, format: &str, rows: u64) {
    let bytes = fs::read(path).unwrap();
    assert_eq!(summary.path, path);
    assert_eq!(summary.format, format);
    assert_eq!(summary.rows, rows);
    assert_eq!(summary.bytes, bytes.len() as u64);
    let hex: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(summary.sha256, hex);
    assert_eq!(summary.schema, schema().to_vec());
}

// ---------------------------------------------------------------- CSV

fn read_csv(bytes: &[u8], delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_reader(bytes);
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let records = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, records)
}

#[test]
fn csv_round_trips_hard_values_spreadsheet_safe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dirs/customers.csv");
    let rows = hard_rows();
    let summary = write_all(&path, &Format::Csv(CsvOptions::default()), &rows);
    assert_summary(&summary, &path, "csv", rows.len() as u64);

    let bytes = fs::read(&path).unwrap();
    assert!(
        !bytes.starts_with("\u{feff}".as_bytes()),
        "no BOM by default"
    );
    let (header, records) = read_csv(&bytes, b',');
    assert_eq!(header, ["name", "count", "score", "active", "seen_at"]);
    assert_eq!(records.len(), rows.len());
    for (i, (record, (_, expected))) in records.iter().zip(hard_names()).enumerate() {
        assert_eq!(record[0], expected.unwrap_or(""), "row {i}");
    }
    // Numbers, booleans and timestamps as rendered, never prefixed; Null is an empty field.
    assert_eq!(
        records[0][1..],
        ["-3", "0.25", "true", "2025-08-27T12:57:22Z"]
    );
    assert_eq!(
        records[1][1..],
        ["997", "1.25", "false", "2025-08-27T12:57:22.123400Z"]
    );
    assert_eq!(records[2][1..], ["1997", "2.25", "", ""]);
    assert_eq!(records[3][1], "");
    assert_eq!(records[4][2], "");
    // Records end with CRLF (RFC 4180).
    assert!(bytes.ends_with(b"\r\n"));
}

#[test]
fn csv_unsafe_mode_keeps_text_as_is_and_bom_and_delimiter_apply() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raw.csv");
    let rows = hard_rows();
    let options = CsvOptions {
        spreadsheet_safe: false,
        bom: true,
        delimiter: b';',
    };
    let summary = write_all(&path, &Format::Csv(options), &rows);
    assert_summary(&summary, &path, "csv", rows.len() as u64);

    let bytes = fs::read(&path).unwrap();
    let body = bytes
        .strip_prefix("\u{feff}".as_bytes())
        .expect("file starts with a UTF-8 BOM");
    let (header, records) = read_csv(body, b';');
    assert_eq!(header[0], "name");
    assert_eq!(records.len(), rows.len());
    for (record, (input, _)) in records.iter().zip(hard_names()) {
        assert_eq!(record[0], input.unwrap_or(""));
    }
}

// ---------------------------------------------------------------- NDJSON

#[test]
fn ndjson_round_trips_with_keys_in_schema_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.ndjson");
    let rows = hard_rows();
    let summary = write_all(&path, &Format::Ndjson(NdjsonOptions::default()), &rows);
    assert_summary(&summary, &path, "ndjson", rows.len() as u64);

    let text = fs::read_to_string(&path).unwrap();
    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    assert_eq!(lines.len(), rows.len(), "one line per row, no raw newlines");
    for (i, (line, (name, _))) in lines.iter().zip(hard_names()).enumerate() {
        // Keys in schema order, checked on the text itself (a parsed Map would sort them).
        let positions: Vec<usize> = [
            "\"name\":",
            "\"count\":",
            "\"score\":",
            "\"active\":",
            "\"seen_at\":",
        ]
        .iter()
        .map(|k| {
            line.find(k)
                .unwrap_or_else(|| panic!("{k} missing in {line}"))
        })
        .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "order in {line}");

        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let obj = v.as_object().unwrap();
        assert_eq!(obj.len(), 5);
        match name {
            Some(s) => assert_eq!(obj["name"], s, "row {i}"),
            None => assert!(obj["name"].is_null()),
        }
    }
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(
        first,
        serde_json::json!({"name": "Société Générale 株式会社", "count": -3, "score": 0.25,
            "active": true, "seen_at": "2025-08-27T12:57:22Z"})
    );
    let second: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(second["seen_at"], "2025-08-27T12:57:22.123400Z");
    let third: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    assert!(third["active"].is_null() && third["seen_at"].is_null());
    assert!(third["count"].is_i64());
    // Empty string and Null stay distinct.
    let empty: serde_json::Value = serde_json::from_str(lines[9]).unwrap();
    assert_eq!(empty["name"], "");
}

#[test]
fn ndjson_takes_raw_objects_other_formats_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.ndjson");
    let mut w = Writer::create(&path, &Format::Ndjson(NdjsonOptions::default()), schema()).unwrap();
    let record = serde_json::json!({"id": 1, "tenants": [{"domain": "a\nb"}]});
    w.write_json(&record).unwrap();
    let err = w.write_json(&serde_json::json!([1, 2])).unwrap_err();
    assert!(matches!(err, LoadError::JsonNotObject { .. }), "{err}");
    let summary = w.finish().unwrap().publish().unwrap();
    assert_eq!(summary.rows, 1);
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 1);
    let back: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(back, record);

    let csv_path = dir.path().join("nested.csv");
    let mut w = Writer::create(&csv_path, &Format::Csv(CsvOptions::default()), schema()).unwrap();
    let err = w.write_json(&record).unwrap_err();
    assert!(matches!(err, LoadError::JsonNotSupported { .. }), "{err}");
    assert!(err.to_string().contains("nested.csv"), "{err}");
}

// ---------------------------------------------------------------- Parquet

fn read_parquet(
    path: &Path,
) -> (
    arrow_schema::SchemaRef,
    Vec<RecordBatch>,
    parquet::file::metadata::ParquetMetaData,
) {
    let file = fs::File::open(path).unwrap();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let metadata = builder.metadata().as_ref().clone();
    let schema = builder.schema().clone();
    let reader = builder.build().unwrap();
    let batches = reader.collect::<Result<Vec<_>, _>>().unwrap();
    (schema, batches, metadata)
}

#[test]
fn parquet_round_trips_types_values_and_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.parquet");
    let rows = hard_rows();
    let options = ParquetOptions {
        row_group_rows: 3,
        batch_rows: 2,
        zstd_level: 3,
    };
    let summary = write_all(&path, &Format::Parquet(options), &rows);
    assert_summary(&summary, &path, "parquet", rows.len() as u64);

    let (arrow, batches, metadata) = read_parquet(&path);
    let types: Vec<DataType> = arrow
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    assert_eq!(
        types,
        [
            DataType::Utf8,
            DataType::Int64,
            DataType::Float64,
            DataType::Boolean,
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        ]
    );
    assert!(arrow.fields().iter().all(|f| f.is_nullable()));
    let names: Vec<&str> = arrow.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["name", "count", "score", "active", "seen_at"]);

    let meta = metadata.file_metadata();
    assert_eq!(meta.num_rows(), rows.len() as i64);
    assert!(meta.created_by().unwrap().starts_with("customer-export"));
    assert_eq!(metadata.num_row_groups(), rows.len().div_ceil(3));
    for rg in metadata.row_groups() {
        assert!(rg.num_rows() <= 3);
        for col in rg.columns() {
            assert!(
                matches!(col.compression(), Compression::ZSTD(_)),
                "{:?}",
                col.compression()
            );
        }
    }

    // Values, row by row, across all batches.
    let mut got: Vec<Row> = Vec::new();
    for batch in &batches {
        let name = batch.column(0).as_string::<i32>();
        let count = batch.column(1).as_primitive::<Int64Type>();
        let score = batch.column(2).as_primitive::<Float64Type>();
        let active = batch.column(3).as_boolean();
        let seen = batch.column(4).as_primitive::<TimestampMicrosecondType>();
        for i in 0..batch.num_rows() {
            got.push(vec![
                if name.is_null(i) {
                    Cell::Null
                } else {
                    Cell::Str(name.value(i).into())
                },
                if count.is_null(i) {
                    Cell::Null
                } else {
                    Cell::Int(count.value(i))
                },
                if score.is_null(i) {
                    Cell::Null
                } else {
                    Cell::Float(score.value(i))
                },
                if active.is_null(i) {
                    Cell::Null
                } else {
                    Cell::Bool(active.value(i))
                },
                if seen.is_null(i) {
                    Cell::Null
                } else {
                    Cell::Timestamp(seen.value(i))
                },
            ]);
        }
    }
    assert_eq!(got, rows);
}

#[test]
fn parquet_many_rows_span_bounded_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.parquet");
    let options = ParquetOptions {
        row_group_rows: 4096,
        batch_rows: 1000,
        zstd_level: 1,
    };
    let mut w = Writer::create(&path, &Format::Parquet(options), schema()).unwrap();
    let n = 20_000u64;
    for i in 0..n {
        let row = vec![
            Cell::Str(format!("customer {i}").into()),
            Cell::Int(i as i64),
            Cell::Float(i as f64 / 3.0),
            Cell::Bool(i % 2 == 0),
            Cell::Timestamp(T0 + i as i64),
        ];
        w.write_row(&row).unwrap();
    }
    let summary = w.finish().unwrap().publish().unwrap();
    assert_summary(&summary, &path, "parquet", n);
    let (_, batches, metadata) = read_parquet(&path);
    assert_eq!(batches.iter().map(|b| b.num_rows() as u64).sum::<u64>(), n);
    assert_eq!(metadata.num_row_groups(), 5);
    assert!(metadata.row_groups().iter().all(|rg| rg.num_rows() <= 4096));
}

/// Rows whose text fills the encoders' memory budget long before `row_group_rows`: their row
/// groups close on memory, encoded on several threads, and still at the same rows every time.
#[test]
fn parquet_wide_rows_close_row_groups_on_memory_alike_every_run() {
    const ROWS: u64 = 30_000;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str| {
        let path = dir.path().join(name);
        let options = ParquetOptions {
            row_group_rows: 1_000_000,
            batch_rows: 1000,
            zstd_level: 1,
        };
        let mut w = Writer::create(&path, &Format::Parquet(options), schema()).unwrap();
        for i in 0..ROWS {
            // ~700 bytes of text that neither repeats nor compresses much, as a JSON list.
            let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let noise: String = (0..40 + i % 5)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    format!("{x:016x}")
                })
                .collect();
            let text = format!("customer {i} {noise}");
            let row = vec![
                Cell::Str(text.into()),
                Cell::Int(i as i64),
                Cell::Float(i as f64 / 3.0),
                Cell::Bool(i % 2 == 0),
                Cell::Timestamp(T0 + i as i64),
            ];
            w.write_row(&row).unwrap();
        }
        w.finish().unwrap().publish().unwrap();
        path
    };
    let (first, second) = (write("first.parquet"), write("second.parquet"));
    let (_, batches, metadata) = read_parquet(&first);
    assert_eq!(
        batches.iter().map(|b| b.num_rows() as u64).sum::<u64>(),
        ROWS
    );
    let groups: Vec<i64> = (metadata.row_groups().iter())
        .map(|g| g.num_rows())
        .collect();
    assert!(groups.len() >= 2, "closed on memory: {groups:?}");
    let names = batches.last().unwrap().column(0).as_string::<i32>();
    assert!(names.value(names.len() - 1).starts_with("customer 29999 "));
    assert_eq!(fs::read(&first).unwrap(), fs::read(&second).unwrap());
}

/// Whether a column chunk is dictionary-encoded.
fn dictionary_encoded(column: &parquet::file::metadata::ColumnChunkMetaData) -> bool {
    column.dictionary_page_offset().is_some()
}

#[test]
fn parquet_dictionary_encodes_only_the_columns_whose_values_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repeats.parquet");
    let options = ParquetOptions {
        row_group_rows: 10_000,
        batch_rows: 1000,
        zstd_level: 1,
    };
    let mut w = Writer::create(&path, &Format::Parquet(options), schema()).unwrap();
    // name: unique; count: 3 values; score: unique; seen_at: 4 values, a few nulls.
    let n = 3000u64;
    for i in 0..n {
        let row = vec![
            Cell::Str(format!("customer {i}").into()),
            Cell::Int((i % 3) as i64),
            Cell::Float(i as f64 / 7.0),
            Cell::Bool(i % 2 == 0),
            if i % 10 == 0 {
                Cell::Null
            } else {
                Cell::Timestamp(T0 + (i % 4) as i64)
            },
        ];
        w.write_row(&row).unwrap();
    }
    w.finish().unwrap().publish().unwrap();
    let (_, batches, metadata) = read_parquet(&path);
    assert_eq!(batches.iter().map(|b| b.num_rows() as u64).sum::<u64>(), n);
    let group = metadata.row_group(0);
    let encoded: Vec<(String, bool)> = group
        .columns()
        .iter()
        .map(|c| (c.column_path().string(), dictionary_encoded(c)))
        .filter(|(name, _)| name != "active")
        .collect();
    let expected = [
        ("name", false),
        ("count", true),
        ("score", false),
        ("seen_at", true),
    ]
    .map(|(name, dictionary)| (name.to_string(), dictionary));
    assert_eq!(encoded, expected);
    // The values are the same either way: spot checks on the last batch.
    let last = batches.last().unwrap();
    let names = last.column(0).as_string::<i32>();
    assert_eq!(names.value(names.len() - 1), format!("customer {}", n - 1));
}

#[test]
fn parquet_with_zero_rows_is_readable_with_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.parquet");
    let summary = write_all(&path, &Format::Parquet(ParquetOptions::default()), &[]);
    assert_summary(&summary, &path, "parquet", 0);
    let (arrow, batches, metadata) = read_parquet(&path);
    assert_eq!(arrow.fields().len(), 5);
    assert_eq!(
        arrow.field(4).data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
    assert_eq!(metadata.file_metadata().num_rows(), 0);
}

#[test]
fn parquet_rejects_bad_options_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    for options in [
        ParquetOptions {
            row_group_rows: 0,
            ..Default::default()
        },
        ParquetOptions {
            batch_rows: 0,
            ..Default::default()
        },
        ParquetOptions {
            zstd_level: 99,
            ..Default::default()
        },
    ] {
        let err = Writer::create(
            &dir.path().join("x.parquet"),
            &Format::Parquet(options),
            schema(),
        )
        .unwrap_err();
        assert!(matches!(err, LoadError::InvalidOption { .. }), "{err}");
    }
    assert!(dir_names(dir.path()).is_empty());
}

// ---------------------------------------------------------------- type checks

fn all_formats() -> Vec<Format> {
    vec![
        Format::Csv(CsvOptions::default()),
        Format::Ndjson(NdjsonOptions::default()),
        Format::Parquet(ParquetOptions::default()),
        Format::Xlsx(XlsxOptions::default()),
    ]
}

#[test]
fn mismatched_cell_names_the_column_and_the_writer_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    for format in all_formats() {
        let path = dir.path().join(format!("typed.{}", format.extension()));
        let mut w = Writer::create(&path, &format, schema()).unwrap();
        let bad = vec![
            Cell::Str("ok".into()),
            Cell::Str("12".into()),
            Cell::Null,
            Cell::Null,
            Cell::Null,
        ];
        let err = w.write_row(&bad).unwrap_err();
        assert!(matches!(err, LoadError::TypeMismatch { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("`count`") && msg.contains("typed."), "{msg}");
        assert!(
            msg.contains("declared int64 but a row holds a string"),
            "{msg}"
        );

        // The same row packed, as a run hands it over (Parquet checks it from its packed types).
        let mut packed = PackedRows::default();
        packed.push(0, &bad);
        let (_, row) = packed.rows().next().unwrap();
        let mut scratch = Vec::new();
        let err = (w.write_packed(&mut RowForWriters::new(row, &mut scratch))).unwrap_err();
        assert_eq!(err.to_string(), msg);

        let short = vec![Cell::Null];
        assert!(matches!(
            w.write_row(&short),
            Err(LoadError::RowLength { .. })
        ));

        // The bad rows left nothing behind: the next good row writes a clean file.
        w.write_row(&hard_rows()[0]).unwrap();
        let summary = w.finish().unwrap().publish().unwrap();
        assert_eq!(summary.rows, 1);
        assert_summary(&summary, &path, format.name(), 1);
    }
    // The Parquet file reads back with exactly one row.
    let (_, batches, _) = read_parquet(&dir.path().join("typed.parquet"));
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
}

#[test]
fn out_of_range_timestamp_is_an_error_for_text_formats() {
    let dir = tempfile::tempdir().unwrap();
    // XLSX writes a timestamp Excel cannot show as its RFC 3339 text, so it is a text format here.
    let text_formats = all_formats()
        .into_iter()
        .filter(|f| !matches!(f, Format::Parquet(_)));
    for format in text_formats {
        let path = dir.path().join(format!("ts.{}", format.extension()));
        let mut w = Writer::create(&path, &format, schema()).unwrap();
        let row = vec![
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Timestamp(i64::MAX),
        ];
        let err = w.write_row(&row).unwrap_err();
        assert!(err.to_string().contains("`seen_at`"), "{err}");
    }
}

// ---------------------------------------------------------------- atomicity

#[test]
fn nothing_is_visible_before_publish_and_publish_replaces() {
    let dir = tempfile::tempdir().unwrap();
    for format in all_formats() {
        let path = dir.path().join(format!("atomic.{}", format.extension()));
        let mut w = Writer::create(&path, &format, schema()).unwrap();
        for row in hard_rows() {
            w.write_row(&row).unwrap();
        }
        assert!(!path.exists(), "nothing at the final path while writing");
        let finished = w.finish().unwrap();
        assert!(!path.exists(), "nothing at the final path before publish");

        let temp = finished.temp_path().to_path_buf();
        assert_eq!(
            temp.parent(),
            path.parent(),
            "temp file beside the final path"
        );
        let temp_name = temp.file_name().unwrap().to_string_lossy().into_owned();
        let prefix = format!(".atomic.{}.", format.extension());
        assert!(
            temp_name.starts_with(&prefix) && temp_name.ends_with(".cetmp"),
            "{temp_name}"
        );
        assert!(temp.exists());

        fs::write(&path, b"previous night").unwrap();
        let summary = finished.publish().unwrap();
        assert!(!temp.exists());
        assert_summary(&summary, &path, format.name(), hard_rows().len() as u64);
    }
    assert_eq!(
        dir_names(dir.path()),
        [
            "atomic.csv",
            "atomic.ndjson",
            "atomic.parquet",
            "atomic.xlsx"
        ]
    );
}

#[test]
fn dropping_a_writer_or_a_finished_file_leaves_the_previous_file() {
    let dir = tempfile::tempdir().unwrap();
    for format in all_formats() {
        let path = dir.path().join(format!("kept.{}", format.extension()));
        let previous = format!("previous night's {}", format.name()).into_bytes();
        fs::write(&path, &previous).unwrap();

        // Dropped mid-write.
        let mut w = Writer::create(&path, &format, schema()).unwrap();
        w.write_row(&hard_rows()[0]).unwrap();
        drop(w);
        assert_eq!(fs::read(&path).unwrap(), previous);

        // Finished but never published.
        let mut w = Writer::create(&path, &format, schema()).unwrap();
        w.write_row(&hard_rows()[0]).unwrap();
        let finished = w.finish().unwrap();
        let temp = finished.temp_path().to_path_buf();
        drop(finished);
        assert!(!temp.exists());
        assert_eq!(fs::read(&path).unwrap(), previous);
    }
    assert_eq!(
        dir_names(dir.path()),
        ["kept.csv", "kept.ndjson", "kept.parquet", "kept.xlsx"]
    );
}

/// Two finished files under `root` at `a/x.csv` and `b/y.csv`, with yesterday's versions in place.
fn two_files(root: &LocalRoot, old: &[u8]) -> Vec<Finished> {
    let mut files = Vec::new();
    for rel in ["a/x.csv", "b/y.csv"] {
        let path = root.dir().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, old).unwrap();
        let mut w = root
            .create(&path, &Format::Csv(CsvOptions::default()), schema())
            .unwrap();
        w.write_row(&hard_rows()[0]).unwrap();
        files.push(w.finish().unwrap());
    }
    files
}

/// Issue 11, item 1: a publication that fails half-way puts every previous file back, and says
/// so truthfully; one that succeeds leaves no backup behind.
#[test]
fn a_publish_that_fails_half_way_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = LocalRoot::hold(dir.path(), "run-1", "test", &RootOptions::default()).unwrap();
    let files = two_files(&root, b"yesterday");
    // Moving yesterday's `b/y.csv` aside fails: a folder already holds its backup's name.
    let blocker = root.dir().join("b/.y.csv.run-1.cebak");
    fs::create_dir_all(blocker.join("inside")).unwrap();
    let err = root.commit(files).unwrap_err();
    assert!(matches!(err, PublishError::NothingPublished(_)), "{err}");
    assert!(err.to_string().contains("nothing was published"), "{err}");
    for rel in ["a/x.csv", "b/y.csv"] {
        assert_eq!(
            fs::read(root.dir().join(rel)).unwrap(),
            b"yesterday",
            "{rel}"
        );
    }
    fs::remove_dir_all(&blocker).unwrap();
    let files = two_files(&root, b"yesterday");
    let published = root.commit(files).unwrap();
    assert_eq!(published.len(), 2);
    for rel in ["a/x.csv", "b/y.csv"] {
        assert_ne!(
            fs::read(root.dir().join(rel)).unwrap(),
            b"yesterday",
            "{rel}"
        );
    }
    assert_eq!(dir_names(&root.dir().join("a")), ["x.csv"]);
    assert_eq!(dir_names(&root.dir().join("b")), ["y.csv"]);
}

/// Issue 11, item 2: one run per output root; the second is told who holds it.
#[test]
fn two_runs_cannot_hold_one_root() {
    let dir = tempfile::tempdir().unwrap();
    let first = LocalRoot::hold(dir.path(), "run-1", "nightly", &RootOptions::default()).unwrap();
    let err = LocalRoot::hold(dir.path(), "run-2", "other", &RootOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LoadError::Locked { .. }), "{text}");
    assert!(
        text.contains("run run-1 of nightly") && text.contains("--wait-lock"),
        "{text}"
    );
    assert!(
        text.contains(&format!("pid {}", std::process::id())),
        "{text}"
    );
    drop(first);
    LocalRoot::hold(dir.path(), "run-2", "other", &RootOptions::default()).unwrap();
}

/// Issue 11, items 2 and 9: what a killed run left — temporary files, a publication half done —
/// is undone by the next run from the journal; nothing else is touched, however it is named.
#[test]
fn a_killed_runs_journal_is_undone_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("out/other-team")).unwrap();
    let temp = root.join("out/.x.csv.dead.aB3.cetmp");
    let backup = root.join("out/.y.csv.dead.cebak");
    fs::write(&temp, b"half").unwrap();
    fs::write(root.join("out/y.csv"), b"new, never committed").unwrap();
    fs::write(&backup, b"yesterday").unwrap();
    fs::write(root.join("out/z.csv"), b"new, no previous file").unwrap();
    // Not ours, or not in the journal: kept.
    fs::write(root.join("out/other-team/.their-upload.cetmp"), b"theirs").unwrap();
    fs::write(root.join("out/.x.cetmp"), b"an output so named").unwrap();
    let line = |v: serde_json::Value| format!("{v}\n");
    let journal = [
        line(serde_json::json!({"event": "temp", "path": temp})),
        line(serde_json::json!({"event": "begin"})),
        line(
            serde_json::json!({"event": "aside", "path": root.join("out/y.csv"), "backup": backup}),
        ),
        line(serde_json::json!({"event": "placed", "path": root.join("out/y.csv")})),
        line(serde_json::json!({"event": "aside", "path": root.join("out/z.csv"), "backup": null})),
        line(serde_json::json!({"event": "placed", "path": root.join("out/z.csv")})),
        "{\"event\": \"pla".to_string(),
    ]
    .concat();
    fs::write(root.join(JOURNAL_FILE), journal).unwrap();

    let _root = LocalRoot::hold(root, "run-2", "nightly", &RootOptions::default()).unwrap();
    assert_eq!(fs::read(root.join("out/y.csv")).unwrap(), b"yesterday");
    assert!(
        !root.join("out/z.csv").exists(),
        "a new file of an undone publication"
    );
    assert!(!temp.exists() && !backup.exists());
    assert_eq!(
        fs::read(root.join("out/other-team/.their-upload.cetmp")).unwrap(),
        b"theirs"
    );
    assert_eq!(
        fs::read(root.join("out/.x.cetmp")).unwrap(),
        b"an output so named"
    );
    assert_eq!(fs::read(root.join(JOURNAL_FILE)).unwrap(), b"");
}

/// Issue 11, item 6: a symbolic link to a folder under the root is refused (it could lead
/// anywhere), unless the operator allows it; the root itself may be a link.
#[cfg(unix)]
#[test]
fn a_symlinked_folder_under_the_root_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    fs::create_dir_all(real.join("out")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), real.join("out/link")).unwrap();
    std::os::unix::fs::symlink(&real, dir.path().join("root-link")).unwrap();
    let csv = Format::Csv(CsvOptions::default());

    let root = LocalRoot::hold(
        &dir.path().join("root-link"),
        "r",
        "t",
        &RootOptions::default(),
    )
    .unwrap();
    assert_eq!(
        root.dir(),
        fs::canonicalize(&real).unwrap(),
        "the root's own link is resolved"
    );
    let through = root.dir().join("out/link/x.csv");
    let err = root.create(&through, &csv, schema()).unwrap_err();
    assert!(matches!(err, LoadError::SymlinkUnderRoot { .. }), "{err}");
    assert!(err.to_string().contains("--follow-symlinks"), "{err}");
    let err = root
        .create(Path::new("/tmp/x.csv"), &csv, schema())
        .unwrap_err();
    assert!(matches!(err, LoadError::OutsideRoot { .. }), "{err}");
    assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    drop(root);

    let options = RootOptions {
        follow_symlinks: true,
        ..RootOptions::default()
    };
    let root = LocalRoot::hold(&real, "r", "t", &options).unwrap();
    root.create(&through, &csv, schema()).unwrap();
}

#[cfg(unix)]
#[test]
fn read_only_directory_is_an_error_not_a_panic() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    fs::create_dir(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores permissions; then there is nothing to assert.
    let probe = ro.join("probe");
    let enforced = fs::write(&probe, b"").is_err();
    let _ = fs::remove_file(&probe);

    if enforced {
        for format in all_formats() {
            let path = ro.join(format!("out.{}", format.extension()));
            let err = Writer::create(&path, &format, schema()).unwrap_err();
            assert!(matches!(err, LoadError::Create { .. }), "{err}");
            let msg = err.to_string();
            assert!(msg.contains(&path.display().to_string()), "{msg}");
            assert!(msg.contains("--output-dir"), "{msg}");
        }
        let nested: PathBuf = ro.join("sub/out.csv");
        let err =
            Writer::create(&nested, &Format::Csv(CsvOptions::default()), schema()).unwrap_err();
        assert!(matches!(err, LoadError::CreateDir { .. }), "{err}");
    } else {
        eprintln!("permissions are not enforced (running as root?); skipping the assertions");
    }
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
}

/// An error path that holds even for root: the would-be parent directory is a file.
#[test]
fn parent_that_is_a_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("blocker");
    fs::write(&blocker, b"a file").unwrap();
    for format in all_formats() {
        let path = blocker.join(format!("out.{}", format.extension()));
        let err = Writer::create(&path, &format, schema()).unwrap_err();
        assert!(matches!(err, LoadError::CreateDir { .. }), "{err}");
        assert!(err.to_string().contains("blocker"), "{err}");
    }
    // Publishing onto a directory fails cleanly and removes the temporary file.
    let target = dir.path().join("taken");
    fs::create_dir(target.join("child").parent().unwrap()).unwrap();
    fs::write(target.join("child"), b"x").unwrap();
    let mut w = Writer::create(&target, &Format::Csv(CsvOptions::default()), schema()).unwrap();
    w.write_row(&hard_rows()[0]).unwrap();
    let err = w.finish().unwrap().publish().unwrap_err();
    assert!(matches!(err, LoadError::Publish { .. }), "{err}");
    assert_eq!(dir_names(dir.path()), ["blocker", "taken"]);
}

// ---------------------------------------------------------------- manifest

#[test]
fn manifest_is_pretty_json_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("customers.csv");
    let output = write_all(&out, &Format::Csv(CsvOptions::default()), &hard_rows());
    let manifest = Manifest {
        pipeline: "nightly".into(),
        run_id: "01J".into(),
        started_at: "2025-08-27T12:57:22Z".into(),
        finished_at: "2025-08-27T12:58:00Z".into(),
        status: RunStatus::Succeeded,
        sources: vec![SourceSummary {
            name: "crayon".into(),
            vendor: "crayon".into(),
            pages: 3,
            records: 11,
            api_total: Some(11),
            seconds: 1.5,
            status: SourceStatus::Succeeded,
            ..Default::default()
        }],
        outputs: vec![output.clone()],
        errors: vec![],
    };
    let path = dir.path().join("manifest.json");
    fs::write(&path, b"old").unwrap();
    let summary = write_manifest(&path, &manifest).unwrap();
    assert_eq!(summary.bytes, fs::metadata(&path).unwrap().len());

    let text = fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("\n  \"pipeline\": \"nightly\""),
        "pretty: {text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["status"], "succeeded");
    assert_eq!(v["sources"][0]["api_total"], 11);
    assert!(v["sources"][0]["error"].is_null());
    assert_eq!(v["outputs"][0]["rows"], 11);
    assert_eq!(v["outputs"][0]["sha256"], output.sha256);
    assert_eq!(v["outputs"][0]["schema"][4]["type"], "timestamp");
    assert_eq!(dir_names(dir.path()), ["customers.csv", "manifest.json"]);
}

/// Issue 11, item 11: float columns are written with the column order Arrow C++ readers know
/// (TYPE_DEFINED_ORDER), so pyarrow sees their min/max and can skip row groups; their statistics
/// are the true minimum and maximum.
#[test]
fn float_statistics_are_readable_by_arrow_cpp() {
    use parquet::basic::{ColumnOrder, SortOrder};
    use parquet::file::statistics::Statistics;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("floats.parquet");
    let rows = hard_rows();
    write_all(&path, &Format::Parquet(ParquetOptions::default()), &rows);
    let (_, _, metadata) = read_parquet(&path);
    let meta = metadata.file_metadata();
    let score = 2;
    assert_eq!(
        meta.column_order(score),
        ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::SIGNED)
    );
    let floats: Vec<f64> = rows
        .iter()
        .filter_map(|r| match r[score] {
            Cell::Float(f) => Some(f),
            _ => None,
        })
        .collect();
    let min = floats.iter().copied().fold(f64::INFINITY, f64::min);
    let max = floats.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match metadata.row_group(0).column(score).statistics() {
        Some(Statistics::Double(s)) => {
            assert_eq!((s.min_opt(), s.max_opt()), (Some(&min), Some(&max)));
        }
        other => panic!("no double statistics: {other:?}"),
    }
    // The other columns keep their own orders.
    assert_eq!(
        meta.column_order(1),
        ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::SIGNED)
    );
    assert_eq!(
        meta.column_order(0),
        ColumnOrder::TYPE_DEFINED_ORDER(SortOrder::UNSIGNED)
    );
}

// ---------------------------------------------------------------- dates

#[test]
fn dates_are_iso_text_in_csv_and_ndjson_and_date32_in_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let schema: Schema = Arc::from(vec![Column::new("coterm", ColumnType::Date)]);
    // 2025-01-01, 1969-12-31, null.
    let rows = [Cell::Date(20_089), Cell::Date(-1), Cell::Null];
    let formats = [
        ("d.csv", Format::Csv(CsvOptions::default())),
        ("d.ndjson", Format::Ndjson(NdjsonOptions::default())),
        ("d.parquet", Format::Parquet(ParquetOptions::default())),
    ];
    for (name, format) in &formats {
        let mut w = Writer::create(&dir.path().join(name), format, schema.clone()).unwrap();
        for cell in &rows {
            w.write_row(std::slice::from_ref(cell)).unwrap();
        }
        w.finish().unwrap().publish().unwrap();
    }
    let csv = fs::read_to_string(dir.path().join("d.csv")).unwrap();
    // A row of one empty field is quoted, or it would be an empty line.
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        ["coterm", "2025-01-01", "1969-12-31", "\"\""]
    );
    let ndjson = fs::read_to_string(dir.path().join("d.ndjson")).unwrap();
    assert_eq!(
        ndjson.lines().collect::<Vec<_>>(),
        [
            r#"{"coterm":"2025-01-01"}"#,
            r#"{"coterm":"1969-12-31"}"#,
            r#"{"coterm":null}"#
        ]
    );
    let (arrow, batches, _) = read_parquet(&dir.path().join("d.parquet"));
    assert_eq!(arrow.field(0).data_type(), &DataType::Date32);
    let days = batches[0]
        .column(0)
        .as_primitive::<arrow_array::types::Date32Type>();
    assert_eq!(days.value(0), 20_089);
    assert_eq!(days.value(1), -1);
    assert!(days.is_null(2));

    // A date no ISO 8601 year can show is an error naming the column, not a wrong text.
    let path = dir.path().join("far.csv");
    let format = Format::Csv(CsvOptions::default());
    let mut w = Writer::create(&path, &format, schema).unwrap();
    let err = w.write_row(&[Cell::Date(i32::MAX)]).unwrap_err();
    assert!(matches!(err, LoadError::DateOutOfRange { .. }), "{err}");
    assert!(err.to_string().contains("`coterm`"), "{err}");
}

//! The `outputs:` list: checked against the transform and the loaders' options, into
//! [`OutputPlan`]s.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::check::Checker;
use super::paths::{Planner, manifest_path};
use super::plan::{OutputPlan, Plan};
use super::raw::{Block, RawCsv, RawNdjson, RawOutput, RawParquet, RawStorage, Value};
use super::template::PathTemplate;
use crate::load::store::{Location, StoreOptions, StoreUrl};
use crate::load::{self, Format};
use crate::transform::{self, ArrayMode, Fields};
use serde_saphyr::Spanned;

/// The formats an output may take.
const FORMATS: &str = "parquet, csv, ndjson, xlsx";

impl Checker<'_> {
    pub(super) fn output(
        &mut self,
        spanned: &Spanned<RawOutput>,
        transform: &transform::Options,
        source_count: usize,
    ) -> Option<OutputPlan> {
        let raw = &spanned.value;
        self.unknown_output_keys(raw);
        let format_value = raw.format.as_ref();
        let path_value = raw.path.as_ref();
        let misspelt = |key| Checker::misspelt(&raw.unknown, RawOutput::KEYS, key);
        if format_value.is_none() && !misspelt("format") {
            self.error(
                spanned,
                format!("outputs: `format` is missing; allowed: {FORMATS}"),
            );
        }
        if path_value.is_none() && !misspelt("path") {
            self.error(spanned, "outputs: `path` is missing; where the files go, e.g. output/{pipeline}/{vendor}/{run_date}/customers.parquet");
        }
        let (format_value, path_value) = (format_value?, path_value?);
        let format_text = self.text(format_value, "format")?;
        let path_text = self.text(path_value, "path")?;
        let (store, path_text) = match split_store(&path_text) {
            Ok(split) => split,
            Err(message) => {
                self.error(path_value, format!("path: {message}"));
                return None;
            }
        };
        let path = match PathTemplate::parse(&path_text) {
            Ok(p) => Some(p),
            Err(message) => {
                self.error(path_value, format!("path: {message}"));
                None
            }
        };
        let format = match format_text.as_str() {
            "csv" => Format::Csv(self.csv(raw.csv.as_ref().map(|o| &o.value))),
            "ndjson" => Format::Ndjson(load::NdjsonOptions {
                nested: (raw.ndjson.as_ref())
                    .and_then(|o| o.value.nested.as_ref())
                    .and_then(|v| self.boolean(v, "ndjson.nested"))
                    .unwrap_or(false),
            }),
            "parquet" => Format::Parquet(self.parquet(raw.parquet.as_ref().map(|o| &o.value))),
            // No options: the sheet is named after each file's table when the run opens it.
            "xlsx" => Format::Xlsx(load::XlsxOptions::default()),
            other => {
                let formats: Vec<&str> = FORMATS.split(", ").collect();
                let message = format!(
                    "format: {other:?} is not allowed{}; allowed: {FORMATS}",
                    crate::model::suggest::hint(other, &formats)
                );
                self.error(format_value, message);
                return None;
            }
        };
        self.stray_options(raw, format_value, &format);
        let path = path?;
        if !path.uses("vendor") && source_count > 1 && transform.fields == Fields::All {
            self.error(
                path_value,
                "path: without {vendor} one file holds every vendor, which needs the same columns for all: use `fields: canonical` or a mapping, or add {vendor} to the path",
            );
        }
        if transform.arrays == ArrayMode::Tables && !path.uses("table") {
            self.error(
                path_value,
                "path: `arrays: tables` writes one file per table; add {table} to the path",
            );
        }
        Some(OutputPlan {
            format,
            transform: 0, // the caller's numbering
            path,
            store,
        })
    }

    /// A run publishes its files together, into one root: every output names the same bucket,
    /// or none does.
    pub(super) fn one_root(&mut self, outputs: &[OutputPlan], raw: &[Spanned<RawOutput>]) {
        if outputs.len() != raw.len() {
            return; // an output was refused already
        }
        let Some(first) = outputs.first() else {
            return;
        };
        let place = |o: &OutputPlan| match &o.store {
            Some(url) => url.bucket_url.clone(),
            None => "the output directory (--output-dir, or the current one)".into(),
        };
        for (output, raw) in outputs.iter().zip(raw).skip(1) {
            if output.store != first.store {
                let message = format!(
                    "path: this output goes to {} but output 1 to {}; a run publishes its files together into one place, so write every path under one bucket, or all of them relative and choose the place with --output-dir",
                    place(output),
                    place(first)
                );
                self.error_at(path_location(raw), message);
            }
        }
    }

    /// `storage:`: the object store's settings.
    pub(super) fn storage(&mut self, raw: Option<&Spanned<RawStorage>>) -> StoreOptions {
        let Some(raw) = raw else {
            return StoreOptions::default();
        };
        let storage = &raw.value;
        self.unknown_keys(Some("storage"), &storage.unknown, RawStorage::KEYS);
        let text = |c: &mut Self, v: &Option<super::raw::Value>, key| {
            v.as_ref().and_then(|v| c.text(v, key))
        };
        let flag = |c: &mut Self, v: &Option<super::raw::Value>, key| {
            v.as_ref().and_then(|v| c.boolean(v, key))
        };
        let options = StoreOptions {
            region: text(self, &storage.region, "storage.region"),
            endpoint: text(self, &storage.endpoint, "storage.endpoint"),
            path_style: flag(self, &storage.path_style, "storage.path_style"),
            allow_http: flag(self, &storage.allow_http, "storage.allow_http"),
        };
        if let Err(message) = crate::load::store::check_options(&options) {
            let at = match message.starts_with("allow_http") {
                true => storage.allow_http.as_ref(),
                false => storage.endpoint.as_ref(),
            };
            match at {
                Some(value) => self.error(value, format!("storage.{message}")),
                None => self.error(raw, format!("storage.{message}")),
            }
        }
        options
    }

    fn csv(&mut self, raw: Option<&RawCsv>) -> load::CsvOptions {
        let defaults = load::CsvOptions::default();
        let Some(raw) = raw else {
            return defaults;
        };
        let mut flag = |value: &Option<super::raw::Value>, key: &str, default: bool| {
            value
                .as_ref()
                .and_then(|v| self.boolean(v, key))
                .unwrap_or(default)
        };
        let spreadsheet_safe = flag(
            &raw.spreadsheet_safe,
            "csv.spreadsheet_safe",
            defaults.spreadsheet_safe,
        );
        let bom = flag(&raw.bom, "csv.bom", defaults.bom);
        let delimiter = match &raw.delimiter {
            None => defaults.delimiter,
            Some(v) => match self.text(v, "csv.delimiter") {
                Some(t) if t.len() == 1 && t.is_ascii() => t.as_bytes()[0],
                Some(t) => {
                    let message =
                        format!("csv.delimiter: expected one ASCII character, found {t:?}");
                    self.error(v, message);
                    defaults.delimiter
                }
                None => defaults.delimiter,
            },
        };
        load::CsvOptions {
            spreadsheet_safe,
            bom,
            delimiter,
        }
    }

    fn parquet(&mut self, raw: Option<&RawParquet>) -> load::ParquetOptions {
        let defaults = load::ParquetOptions::default();
        let Some(raw) = raw else {
            return defaults;
        };
        let row_group_rows = (raw.row_group_rows.as_ref())
            .and_then(|v| self.integer(v, "parquet.row_group_rows", 1_000, 10_000_000))
            .map_or(defaults.row_group_rows, |n| n as usize);
        let zstd_level = (raw.zstd_level.as_ref())
            .and_then(|v| self.integer(v, "parquet.zstd_level", 1, 22))
            .map_or(defaults.zstd_level, |n| n as i32);
        load::ParquetOptions {
            row_group_rows,
            zstd_level,
            ..defaults
        }
    }

    /// Two outputs writing one file (the second would silently take the first's place, or both
    /// would interleave their rows), and an output where the run writes its `manifest.json`, are
    /// errors at the later output's `path`. Paths are planned as a run today would plan them.
    pub(super) fn output_paths(&mut self, plan: &Plan, raw: &[Spanned<RawOutput>]) {
        let run_date = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
        let run_id = uuid::Uuid::now_v7().to_string();
        let root = Path::new("");
        let planner = Planner {
            plan,
            root,
            run_id: &run_id,
            run_date: &run_date,
        };
        let mut owner: HashMap<PathBuf, usize> = HashMap::new();
        let mut clashes: BTreeSet<(usize, usize)> = BTreeSet::new();
        let mut files = Vec::new();
        for (source, transforms) in plan.sources.iter().zip(plan.transformers()) {
            for file in planner.files(source, &transforms) {
                let first = *owner.entry(file.path.clone()).or_insert(file.index);
                if first != file.index && clashes.insert((first, file.index)) {
                    self.error_at(
                        path_location(&raw[file.index]),
                        format!(
                            "path: {} is also where output {} writes; give each output its own path",
                            file.path.display(),
                            first + 1
                        ),
                    );
                }
                files.push((file.index, file.path));
            }
        }
        let manifest = manifest_path(files.iter().map(|(_, p)| p.as_path()), root);
        for (index, _) in files.iter().filter(|(_, path)| *path == manifest) {
            if clashes.insert((*index, *index)) {
                self.error_at(
                    path_location(&raw[*index]),
                    format!(
                        "path: {} is where the run writes its manifest.json; choose another file name",
                        manifest.display()
                    ),
                );
            }
        }
    }

    /// Keys an output, or its format's options, do not have.
    fn unknown_output_keys(&mut self, raw: &RawOutput) {
        self.unknown_keys(Some("outputs"), &raw.unknown, RawOutput::KEYS);
        if let Some(o) = &raw.csv {
            self.unknown_keys(Some("csv"), &o.value.unknown, RawCsv::KEYS);
        }
        if let Some(o) = &raw.ndjson {
            self.unknown_keys(Some("ndjson"), &o.value.unknown, RawNdjson::KEYS);
        }
        if let Some(o) = &raw.parquet {
            self.unknown_keys(Some("parquet"), &o.value.unknown, RawParquet::KEYS);
        }
    }

    /// Options of one format given on an output of another.
    fn stray_options(&mut self, raw: &RawOutput, format_value: &Value, format: &Format) {
        let given = [
            ("csv", raw.csv.is_some()),
            ("ndjson", raw.ndjson.is_some()),
            ("parquet", raw.parquet.is_some()),
        ];
        for (name, given) in given {
            if given && name != format.name() {
                self.error(
                    format_value,
                    format!(
                        "`{name}:` options given for a {} output; remove them or change the format",
                        format.name()
                    ),
                );
            }
        }
    }
}

/// Where an output's `path` stands (the output's own place if it has none).
fn path_location(raw: &Spanned<RawOutput>) -> &serde_saphyr::Location {
    raw.value
        .path
        .as_ref()
        .map_or(&raw.referenced, |p| &p.referenced)
}

/// Splits `s3://bucket/rest` into the bucket and the path under it; a path without a scheme is
/// relative to the run's output root.
fn split_store(text: &str) -> Result<(Option<StoreUrl>, String), String> {
    let Some((scheme, rest)) = text.split_once("://") else {
        return Ok((None, text.to_string()));
    };
    if scheme == "file" {
        return Err(format!(
            "{text:?}: write a local path relative, and choose its folder with --output-dir (which takes file:// URLs)"
        ));
    }
    let (bucket, path) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.contains(['{', '}']) {
        return Err(format!(
            "{text:?}: the bucket or container is written out; placeholders go in the path after it"
        ));
    }
    match Location::parse(&format!("{scheme}://{bucket}"))? {
        Location::Store(url) if !path.is_empty() => Ok((Some(url), path.to_string())),
        Location::Store(_) => Err(format!("{text:?} names a bucket but no file in it")),
        Location::Local(_) => Err(format!("{text:?} is not an object storage URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_paths_may_name_their_bucket() {
        let (store, path) = split_store("s3://lake/raw/{vendor}.parquet").unwrap();
        assert_eq!(store.unwrap().bucket_url, "s3://lake");
        assert_eq!(path, "raw/{vendor}.parquet");
        let (store, path) = split_store("out/{vendor}.csv").unwrap();
        assert_eq!((store, path.as_str()), (None, "out/{vendor}.csv"));
        assert!(
            split_store("s3://{vendor}/x.csv")
                .unwrap_err()
                .contains("placeholders go in the path")
        );
        assert!(split_store("s3://lake").unwrap_err().contains("no file"));
        assert!(
            split_store("file:///tmp/x.csv")
                .unwrap_err()
                .contains("--output-dir")
        );
        assert!(
            split_store("ftp://h/x.csv")
                .unwrap_err()
                .contains("allowed: s3://")
        );
    }
}

//! What a run tells afterwards: each source's summary, the manifest, the table a person reads,
//! the events a scheduler parses, and the dry run's account of what would happen.

use tracing::info;

use crate::console;
use crate::extract::SourceCounts;
use crate::load::{Location, Manifest, OutputSummary, RunStatus, SourceStatus, SourceSummary};
use crate::pipeline::paths::Planner;
use crate::pipeline::{Plan, SourcePlan};
use crate::transform::Transforms;

/// A source's summary from its counters; the transform's findings are added by the caller.
pub fn source_summary(
    source: &SourcePlan,
    counts: &SourceCounts,
    error: Option<String>,
) -> SourceSummary {
    SourceSummary {
        name: source.name.clone(),
        vendor: source.vendor.id().to_string(),
        pages: counts.pages,
        records: counts.records,
        duplicates_dropped: counts.duplicates,
        api_total: counts.api_total,
        retries: counts.retries,
        rate_limited: counts.rate_limited,
        seconds: (counts.seconds * 1000.0).round() / 1000.0,
        status: if error.is_some() {
            SourceStatus::Failed
        } else {
            SourceStatus::Succeeded
        },
        error,
        ..Default::default()
    }
}

/// The manifest of a run that started at `started` and ends now.
pub fn manifest(
    plan: &Plan,
    run_id: &str,
    started: jiff::Timestamp,
    status: RunStatus,
    sources: Vec<SourceSummary>,
    outputs: Vec<OutputSummary>,
    errors: Vec<String>,
) -> Manifest {
    Manifest {
        pipeline: plan.name.clone(),
        run_id: run_id.to_string(),
        started_at: started.to_string(),
        finished_at: jiff::Timestamp::now().to_string(),
        status,
        sources,
        outputs,
        errors,
    }
}

/// The summary as structured events, for schedulers.
pub fn log_events(m: &Manifest) {
    for s in &m.sources {
        info!(event = "source_summary", source = %s.name, vendor = %s.vendor, pages = s.pages, records = s.records, api_total = s.api_total, duplicates = s.duplicates_dropped, retries = s.retries, rate_limited = s.rate_limited, seconds = s.seconds, status = %s.status, "Source summary.");
    }
    for o in &m.outputs {
        info!(event = "output_published", path = %o.path.display(), rows = o.rows, bytes = o.bytes, sha256 = %o.sha256, truncated_cells = o.truncated_cells, "Output published.");
    }
}

/// The last event of a run, what a scheduler parses: its status, id, counts, manifest and time;
/// in JSON, after an event per source and per output.
pub fn log_finished(
    pipeline: &str,
    run_id: &str,
    started: jiff::Timestamp,
    result: &Result<super::RunReport, super::RunError>,
) {
    let elapsed_s = (jiff::Timestamp::now() - started)
        .total(jiff::Unit::Second)
        .unwrap_or_default();
    let elapsed_s = (elapsed_s * 1000.0).round() / 1000.0;
    match result {
        Ok(report) => {
            let m = &report.manifest;
            if super::logging::is_json() {
                log_events(m);
            }
            let status = match m.status {
                RunStatus::Succeeded => "succeeded",
                RunStatus::Partial => "partial",
                RunStatus::DryRun => "dry-run",
            };
            let records: u64 = m.sources.iter().map(|s| s.records).sum();
            let failed = m
                .sources
                .iter()
                .filter(|s| s.status == SourceStatus::Failed)
                .count();
            info!(
                event = "run_finished",
                pipeline,
                run_id,
                status,
                sources = m.sources.len(),
                failed_sources = failed,
                records,
                outputs = m.outputs.len(),
                manifest = report.manifest_location.as_deref(),
                elapsed_s,
                "Run finished."
            );
        }
        Err(e) => {
            let error = crate::model::secret::redact(&e.to_string()).into_owned();
            tracing::error!(
                event = "run_finished",
                pipeline,
                run_id,
                status = "failed",
                error,
                elapsed_s,
                "Run finished."
            );
        }
    }
}

/// The summary as a table, for people.
pub fn summary_table(m: &Manifest, root: &Location) -> String {
    let mut out = format!(
        "\n{:<14} {:>7} {:>9} {:>9} {:>6} {:>8} {:>5} {:>8}  {}\n",
        "source", "pages", "records", "total", "dups", "retries", "429s", "seconds", "status"
    );
    for s in &m.sources {
        out.push_str(&format!(
            "{:<14} {:>7} {:>9} {:>9} {:>6} {:>8} {:>5} {:>8.2}  {}\n",
            s.name,
            s.pages,
            s.records,
            s.api_total.map_or("-".into(), |t| t.to_string()),
            s.duplicates_dropped,
            s.retries,
            s.rate_limited,
            s.seconds,
            s.status
        ));
    }
    for s in &m.sources {
        if s.type_mismatches > 0 {
            out.push_str(&format!(
                "{}: {} value(s) did not fit their column's type (null there; kept in _extra where it is written)\n",
                s.name, s.type_mismatches
            ));
        }
        if s.undeclared_fields > 0 {
            out.push_str(&format!(
                "{}: {} field(s) beyond the vendor's declaration (schema drift; `customer-export inspect` lists them)\n",
                s.name, s.undeclared_fields
            ));
        }
        if !s.empty_columns.is_empty() {
            out.push_str(&format!(
                "{}: no record filled {}: all null\n",
                s.name,
                s.empty_columns
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    out.push('\n');
    for o in &m.outputs {
        let truncated = match o.truncated_cells {
            Some(cut @ 1..) => {
                format!("; {cut} cell(s) cut to a spreadsheet cell's 32,767 characters")
            }
            _ => String::new(),
        };
        out.push_str(&format!(
            "wrote {} ({} rows, {} bytes{truncated})\n",
            root.display_path(&o.path),
            o.rows,
            o.bytes
        ));
    }
    out
}

/// What a run would fetch and write, on stdout.
pub fn print_dry_run(planner: &Planner<'_>, transformers: &[Transforms], root: &Location) {
    let plan = planner.plan;
    console::out(format!(
        "pipeline {:?} ({}) — dry run, nothing is fetched or written",
        plan.name,
        plan.file.display()
    ));
    if plan.sandbox {
        console::out("  sources would run against the embedded sandbox");
    }
    if let Location::Store(url) = root {
        console::out(format!(
            "  outputs go to object storage at {url} (credentials from the environment), staged under {}/ and published together",
            url.join(crate::load::store::root::STATE_DIR)
        ));
    }
    for (s, transformer) in plan.sources.iter().zip(transformers) {
        let base = match (&s.base_url, plan.sandbox) {
            (Some(url), false) => crate::extract::session::redacted(url),
            _ => "(the embedded sandbox)".to_string(),
        };
        let paging = match s.page_size {
            0 => "one response".to_string(),
            n => format!("page_size {n}"),
        };
        let rate = (s.limits.rate_limit).map_or("unlimited".to_string(), |r| r.to_string());
        console::out(format!(
            "  source {} ({}): {base}, {paging}, rate {rate}, concurrency {}",
            s.name,
            s.vendor.id(),
            s.limits.concurrency
        ));
        if !s.filters.is_empty() {
            let filters: Vec<String> = s.filters.iter().map(|(k, v)| format!("{k}={v}")).collect();
            console::out(format!("    filters: {}", filters.join(", ")));
        }
        for array in transformer.exploded_arrays() {
            console::out(format!(
                "    rows: one per element of `{array}` (one when it is empty)"
            ));
        }
        if plan.promotes_undeclared() {
            console::out(
                "    columns: the declared ones, and the undeclared scalar paths of the first page (read once more before paging)",
            );
        }
        for file in planner.files(s, transformer) {
            console::out(format!(
                "    → {} {}",
                file.output.format.name(),
                root.display_path(&file.path)
            ));
        }
    }
}

/// Where `validate` says a pipeline's files go: the store (or the output directory) and every
/// final path a run today would write, `{run_id}` shown as `RUN_ID`.
pub fn print_destinations(plan: &Plan) {
    let location = plan.output_location();
    match &location {
        Some(store) => console::out(format!(
            "  outputs go to object storage at {store} (credentials from the environment), published together with manifest.json last"
        )),
        None => console::out("  outputs go under --output-dir (default: the current directory)"),
    }
    let location = location.unwrap_or_default();
    let root = location.planning_dir();
    let run_date = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let planner = Planner {
        plan,
        root: &root,
        run_id: "RUN_ID",
        run_date: &run_date,
    };
    for (source, transforms) in plan.sources.iter().zip(plan.transformers()) {
        for file in planner.files(source, &transforms) {
            console::out(format!(
                "    {} → {} {}",
                source.name,
                file.output.format.name(),
                location.display_path(&file.path)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn output(name: &str, format: &'static str, truncated_cells: Option<u64>) -> OutputSummary {
        OutputSummary {
            path: PathBuf::from(name),
            format,
            rows: 2,
            bytes: 10,
            sha256: String::new(),
            schema: Vec::new(),
            truncated_cells,
        }
    }

    #[test]
    fn the_table_tells_which_spreadsheet_had_cells_cut() {
        let manifest = Manifest {
            pipeline: "p".into(),
            run_id: "r".into(),
            started_at: String::new(),
            finished_at: String::new(),
            status: RunStatus::Succeeded,
            sources: Vec::new(),
            outputs: vec![
                output("cut.xlsx", "xlsx", Some(3)),
                output("whole.xlsx", "xlsx", Some(0)),
                output("a.csv", "csv", None),
            ],
            errors: Vec::new(),
        };
        let table = summary_table(&manifest, &Location::Local(PathBuf::from(".")));
        let lines: Vec<&str> = table.lines().filter(|l| l.starts_with("wrote")).collect();
        assert_eq!(
            lines,
            [
                "wrote cut.xlsx (2 rows, 10 bytes; 3 cell(s) cut to a spreadsheet cell's 32,767 characters)",
                "wrote whole.xlsx (2 rows, 10 bytes)",
                "wrote a.csv (2 rows, 10 bytes)",
            ]
        );
    }
}

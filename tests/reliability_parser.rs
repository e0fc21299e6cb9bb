//! Bad pipeline files: property tests over the pipeline parser — YAML-ish documents built from the
//! real keys with hostile values, mutations of the shipped pipelines, and random bytes. The parser
//! must answer `Ok` or diagnostics, never panic; a plan it accepts can never write outside the
//! output root, whatever the pipeline name or the values substituted into its paths.
//! (The `cargo fuzz` target in `fuzz/` drives the same entry point for millions of runs.)

use std::path::{Component, Path};

use customer_export::pipeline::{self, EnvMode, PathValues, Plan};
use proptest::prelude::*;

/// `${VAR}`: URLs and ids where the name says so, some names unset.
fn env(name: &str) -> Option<String> {
    if name.contains("URL") {
        Some("https://login.example/token".into())
    } else if name.contains("ORG") {
        Some("4703".into())
    } else {
        (!name.len().is_multiple_of(5)).then(|| format!("v-{name}"))
    }
}

fn parse(text: &str) -> Option<Plan> {
    let lookup = env;
    match pipeline::parse(
        text,
        Path::new("fuzz.yaml"),
        false,
        EnvMode::Strict,
        &lookup,
    ) {
        Ok((plan, _)) => Some(plan),
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty(), "an error without a diagnostic");
            for d in &diagnostics {
                assert!(d.line >= 1 && d.column >= 1, "{d:?}");
                assert!(!d.message.is_empty());
            }
            None
        }
    }
}

/// Every output of `plan`, rendered with `values`, stays under the root.
fn assert_contained(plan: &Plan, hostile: &str) {
    let root = Path::new("/srv/exports/root");
    for output in &plan.outputs {
        for source in &plan.sources {
            let values = PathValues {
                pipeline: &plan.name,
                vendor: source.vendor.id(),
                table: hostile,
                run_date: hostile,
                run_id: hostile,
                format: output.format.name(),
            };
            let path = output.path.render(root, &values);
            assert!(
                path.starts_with(root),
                "{} escapes the root",
                path.display()
            );
            assert!(
                path.components()
                    .all(|c| !matches!(c, Component::ParentDir)),
                "{} has ..",
                path.display()
            );
            assert_ne!(path, root);
        }
    }
}

const KEYS: &[&str] = &[
    "name",
    "sandbox",
    "on_error",
    "sources",
    "vendor",
    "base_url",
    "auth",
    "client_id",
    "client_secret",
    "token",
    "token_url",
    "filters",
    "organizationId",
    "page_size",
    "rate_limit",
    "concurrency",
    "max_attempts",
    "timeout_secs",
    "max_body_mb",
    "allow_insecure_http",
    "reseller_id",
    "organization_id",
    "transform",
    "fields",
    "arrays",
    "explode",
    "outputs",
    "format",
    "path",
    "csv",
    "parquet",
    "ndjson",
    "nested",
    "row_group_rows",
    "zstd_level",
    "delimiter",
];

const SCALARS: &[&str] = &[
    "c3",
    "crayon",
    "valomnia",
    "appxite",
    "adobe_vipmp",
    "csv",
    "parquet",
    "ndjson",
    "canonical",
    "all",
    "explode",
    "json",
    "tables",
    "skip",
    "fail",
    "true",
    "~",
    "0",
    "-1",
    "18446744073709551616",
    "1e309",
    ".nan",
    "10/s",
    "0/s",
    "5/min",
    "1/0s",
    "${SECRET}",
    "${A}",
    "${}",
    "$$",
    "{vendor}/{run_date}/x.csv",
    "../../etc/passwd",
    "/etc/passwd",
    "{pipeline}/../{vendor}.csv",
    "out/{table}/{run_id}.parquet",
    "{nope}",
    "{",
    "}",
    "http://example.com",
    "http://127.0.0.1:1/x",
    "https://[::1]/",
    "\"quoted\"",
    "'single'",
    "[]",
    "{}",
    "[a, b]",
    "{a: 1}",
    "&anchor x",
    "*anchor",
    "!!binary aGk=",
    "|\n  block",
    "\"\\u0000\"",
    "😀",
];

/// A YAML-ish node: scalars, mappings of known keys, sequences, at random indentation.
fn node() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        proptest::sample::select(SCALARS).prop_map(str::to_string),
        "[ -~]{0,12}",
        any::<i64>().prop_map(|n| n.to_string()),
    ];
    scalar.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec((proptest::sample::select(KEYS), inner.clone()), 0..6)
                .prop_map(|pairs| {
                    pairs
                        .into_iter()
                        .map(|(k, v)| format!("\n{k}: {}", indent(&v)))
                        .collect::<String>()
                }),
            proptest::collection::vec(inner, 0..4).prop_map(|items| {
                items
                    .into_iter()
                    .map(|v| format!("\n- {}", indent(&v)))
                    .collect::<String>()
            }),
        ]
    })
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n  ")
}

fn shipped() -> Vec<String> {
    ["pipelines/demo.yaml", "pipelines/nightly-example.yaml"]
        .iter()
        .map(|p| std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(p)).unwrap())
        .collect()
}

/// A byte-level edit of a text: delete, insert or replace a run at a position.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    Replace(usize, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..20).prop_map(|(at, n)| Edit::Delete(at, n)),
        (
            any::<usize>(),
            prop_oneof![
                proptest::sample::select(SCALARS).prop_map(str::to_string),
                "[\\PC\n\t:{}\\[\\]$&*!|>'\"#-]{1,8}",
            ]
        )
            .prop_map(|(at, s)| Edit::Insert(at, s)),
        (any::<usize>(), any::<char>()).prop_map(|(at, c)| Edit::Replace(at, c)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let len = chars.len().max(1);
        match e {
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(chars.len());
                if at < end {
                    chars.drain(at..end);
                }
            }
            Edit::Insert(at, s) => {
                let at = at % (chars.len() + 1);
                chars.splice(at..at, s.chars());
            }
            Edit::Replace(at, c) => {
                if !chars.is_empty() {
                    let at = at % chars.len();
                    chars[at] = *c;
                }
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn yaml_ish_documents_never_panic(doc in node(), hostile in "[\\PC/.\\\\]{0,16}") {
        if let Some(plan) = parse(&doc) {
            assert_contained(&plan, &hostile);
        }
    }

    #[test]
    fn mutated_shipped_pipelines_never_panic(
        which in 0usize..2,
        edits in proptest::collection::vec(edit(), 1..6),
        hostile in "[\\PC/.\\\\]{0,16}",
    ) {
        let text = apply(&shipped()[which], &edits);
        if let Some(plan) = parse(&text) {
            assert_contained(&plan, &hostile);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn hostile_names_and_values_stay_under_the_root(
        name in "[\\PC/.\\\\~]{1,24}",
        path in proptest::sample::select(vec![
            "{pipeline}/{vendor}/{run_date}/x.csv",
            "{pipeline}{vendor}{table}.csv",
            "a/{run_id}/{table}/{format}.{format}",
            "{pipeline}",
        ]),
        hostile in "[\\PC/.\\\\]{0,24}",
    ) {
        let text = format!(
            "name: {}\nsources:\n  - vendor: valomnia\n    base_url: https://x.example\n    auth:\n      token: t\noutputs:\n  - format: csv\n    path: \"{path}\"\n",
            serde_json::to_string(&name).unwrap(),
        );
        if let Some(plan) = parse(&text) {
            assert_contained(&plan, &hostile);
        }
    }
}

#[test]
fn the_shipped_pipelines_parse() {
    // Sanity for the mutation test: the unmutated files are valid (with the sandbox, as shipped).
    for text in shipped() {
        let lookup = |name: &str| env(name).or_else(|| Some("x".into()));
        let (plan, _) = pipeline::parse(&text, Path::new("p.yaml"), true, EnvMode::Strict, &lookup)
            .unwrap_or_else(|d| panic!("{d:?}"));
        assert_contained(&plan, "../..");
    }
}

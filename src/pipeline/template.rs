//! Output path templates: `output/{pipeline}/{vendor}/{run_date}/customers.parquet`.
//!
//! A template is checked when the pipeline is validated: only known placeholders, relative, and no
//! `..`. Values substituted at run time are sanitised to one safe path segment, so neither the
//! template nor the data (a vendor name, a table name) can write outside the output root.

use std::path::{Component, Path, PathBuf};

/// The placeholders a path may use.
pub const PLACEHOLDERS: [&str; 6] = [
    "pipeline", "vendor", "table", "run_date", "run_id", "format",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Placeholder(&'static str),
}

/// A parsed, validated path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    source: String,
    parts: Vec<Part>,
}

/// The values for one rendering.
#[derive(Debug, Clone, Default)]
pub struct PathValues<'a> {
    pub pipeline: &'a str,
    pub vendor: &'a str,
    pub table: &'a str,
    pub run_date: &'a str,
    pub run_id: &'a str,
    pub format: &'a str,
}

impl PathTemplate {
    pub fn parse(source: &str) -> Result<PathTemplate, String> {
        if source.trim().is_empty() {
            return Err("the path is empty".into());
        }
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find(['{', '}']) {
            if rest[open..].starts_with('}') {
                return Err(format!("unmatched `}}` in {source:?}"));
            }
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in {source:?}"))?;
            let name = &rest[open + 1..open + close];
            let placeholder = PLACEHOLDERS.iter().find(|p| **p == name).ok_or_else(|| {
                let meant = crate::model::suggest::did_you_mean(name, &PLACEHOLDERS);
                format!(
                    "unknown placeholder `{{{name}}}`{}; allowed: {}",
                    meant.map_or(String::new(), |p| format!(" (did you mean `{{{p}}}`?)")),
                    PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                )
            })?;
            parts.push(Part::Placeholder(placeholder));
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        let path = Path::new(source);
        if path.is_absolute() || source.starts_with('/') || source.starts_with('\\') {
            return Err(format!(
                "{source:?} is absolute; write a path relative to the output root and choose the root with --output-dir"
            ));
        }
        if path.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(format!(
                "{source:?} contains `..`; outputs stay under the output root"
            ));
        }
        Ok(PathTemplate {
            source: source.to_string(),
            parts,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn uses(&self, placeholder: &str) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Placeholder(name) if *name == placeholder))
    }

    /// The path for these values, under `root`. Every substituted value is one sanitised segment.
    pub fn render(&self, root: &Path, values: &PathValues) -> PathBuf {
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => text.push_str(t),
                Part::Placeholder(name) => text.push_str(&sanitise(match *name {
                    "pipeline" => values.pipeline,
                    "vendor" => values.vendor,
                    "table" => values.table,
                    "run_date" => values.run_date,
                    "run_id" => values.run_id,
                    _ => values.format,
                })),
            }
        }
        root.join(text)
    }
}

/// One safe path segment: letters, digits, `-`, `_` and `.` kept, anything else `_`; never `.`/`..`.
pub fn sanitise(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') {
        "_".repeat(cleaned.len().max(1))
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values<'a>(vendor: &'a str) -> PathValues<'a> {
        PathValues {
            pipeline: "nightly",
            vendor,
            table: "customers",
            run_date: "2026-11-23",
            run_id: "01",
            format: "csv",
        }
    }

    #[test]
    fn renders_placeholders() {
        let t = PathTemplate::parse("out/{pipeline}/{vendor}/{run_date}/c.{format}").unwrap();
        assert_eq!(
            t.render(Path::new("/r"), &values("crayon")),
            PathBuf::from("/r/out/nightly/crayon/2026-11-23/c.csv")
        );
        assert!(t.uses("vendor") && !t.uses("table"));
    }

    #[test]
    fn rejects_unknown_placeholders_and_escapes() {
        assert!(
            PathTemplate::parse("out/{vendr}.csv")
                .unwrap_err()
                .contains("{vendor}")
        );
        assert!(PathTemplate::parse("out/{vendor.csv").is_err());
        assert!(PathTemplate::parse("out/}x").is_err());
        assert!(PathTemplate::parse("../x.csv").is_err());
        assert!(PathTemplate::parse("out/../../x.csv").is_err());
        assert!(PathTemplate::parse("/etc/x.csv").is_err());
        assert!(PathTemplate::parse("").is_err());
    }

    #[test]
    fn data_cannot_climb_out() {
        let t = PathTemplate::parse("{vendor}/x.csv").unwrap();
        for hostile in ["..", "../..", "/etc", "a/../../b", "."] {
            let p = t.render(Path::new("/root"), &values(hostile));
            assert!(p.starts_with("/root"), "{p:?}");
            assert!(
                !p.components().any(|c| matches!(c, Component::ParentDir)),
                "{p:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in ".{0,40}") {
            let _ = PathTemplate::parse(&text);
        }

        #[test]
        fn rendered_paths_stay_under_the_root(template in "[a-z{}/._]{1,30}", value in ".{0,20}") {
            if let Ok(t) = PathTemplate::parse(&template) {
                let v = PathValues { pipeline: &value, vendor: &value, table: &value, run_date: &value, run_id: &value, format: &value };
                let p = t.render(Path::new("/root"), &v);
                prop_assert!(p.starts_with("/root"));
                prop_assert!(!p.components().any(|c| matches!(c, Component::ParentDir)));
            }
        }
    }
}

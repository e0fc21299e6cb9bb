//! The `transform:` block: which columns come out (`fields`), what becomes of arrays, how
//! columns are named and what happens to undeclared paths — checked against the sources' vendors
//! into [`transform::Options`].

use serde_saphyr::{Location, Spanned};

use super::check::Checker;
use super::plan::SourcePlan;
use super::raw::{Node, RawFields, RawPipeline, Value};
use crate::transform::{
    self, ArrayMode, FIELD_TYPES, FieldType, Fields, Mapping, Naming, Undeclared,
};

impl Checker<'_> {
    pub(super) fn transform(
        &mut self,
        raw: &RawPipeline,
        sources: &[SourcePlan],
    ) -> transform::Options {
        let Some(t) = &raw.transform else {
            return transform::Options::default();
        };
        let fields = match &t.fields {
            None => Fields::Canonical,
            Some(spanned) => match &spanned.value {
                RawFields::Named(n) if n == "canonical" => Fields::Canonical,
                RawFields::Named(n) if n == "all" => Fields::All,
                RawFields::Named(n) => {
                    self.error(
                        spanned,
                        format!("transform.fields: {n:?} is not allowed; allowed: canonical, all, or a mapping {{column: path}}"),
                    );
                    Fields::Canonical
                }
                RawFields::Mapping(columns) => Fields::Mapping(self.mapping(columns, sources)),
            },
        };
        let defaults = transform::Options::default();
        let arrays = self
            .choice(
                t.arrays.as_ref(),
                "transform.arrays",
                &[
                    ("explode", ArrayMode::Explode),
                    ("json", ArrayMode::Json),
                    ("tables", ArrayMode::Tables),
                ],
            )
            .unwrap_or(defaults.arrays);
        let naming = self
            .choice(
                t.naming.as_ref(),
                "transform.naming",
                &[
                    ("source", Naming::Source),
                    ("snake_case", Naming::SnakeCase),
                ],
            )
            .unwrap_or(defaults.naming);
        let undeclared = self
            .choice(
                t.undeclared.as_ref(),
                "transform.undeclared",
                &[
                    ("extra", Undeclared::Extra),
                    ("columns", Undeclared::Columns),
                ],
            )
            .unwrap_or(defaults.undeclared);
        if let Some(v) = &t.undeclared
            && undeclared == Undeclared::Columns
            && fields != Fields::All
        {
            self.error(
                v,
                "transform.undeclared: `columns` adds the undeclared paths to `fields: all`; with a mapping, name the paths you want instead",
            );
        }
        let explode = t.explode.as_ref().and_then(|v| self.explode(v, sources));
        transform::Options {
            fields,
            arrays,
            explode,
            naming,
            undeclared,
        }
    }

    /// One of a few words; `None` when the key is not given or its value is not one of them.
    fn choice<T: Copy>(
        &mut self,
        value: Option<&Value>,
        key: &str,
        allowed: &[(&str, T)],
    ) -> Option<T> {
        let value = value?;
        let text = self.text(value, key)?;
        if let Some((_, choice)) = allowed.iter().find(|(word, _)| *word == text) {
            return Some(*choice);
        }
        let words: Vec<&str> = allowed.iter().map(|(word, _)| *word).collect();
        let message = format!(
            "{key}: {text:?} is not allowed{}; allowed: {}",
            crate::model::suggest::hint(&text, &words),
            words.join(", ")
        );
        self.error(value, message);
        None
    }

    fn explode(&mut self, v: &Value, sources: &[SourcePlan]) -> Option<String> {
        let name = self.text(v, "transform.explode")?;
        let known: Vec<&str> = sources
            .iter()
            .flat_map(|s| s.vendor.spec().record.arrays.iter().map(|a| a.name))
            .collect();
        if known.contains(&name.as_str()) {
            return Some(name);
        }
        let known = if known.is_empty() {
            "none".into()
        } else {
            known.join(", ")
        };
        let message =
            format!("transform.explode: no source has an array {name:?}; arrays here: {known}");
        self.error(v, message);
        None
    }

    /// `fields: {column: path | {path, type}}`: any path is accepted; one no source declares is
    /// a warning (the field may exist in production, and `inspect` shows what a source sends).
    fn mapping(
        &mut self,
        columns: &[(Spanned<String>, Spanned<Node>)],
        sources: &[SourcePlan],
    ) -> Vec<Mapping> {
        let mut out: Vec<Mapping> = Vec::new();
        for (column, node) in columns {
            let key = format!("transform.fields.{}", column.value);
            let Some((path, ty)) = self.mapped(node, &key) else {
                continue;
            };
            if out.iter().any(|m| m.column == column.value) {
                let message = format!(
                    "transform.fields: column `{}` is mapped twice",
                    column.value
                );
                self.error(column, message);
                continue;
            }
            let (path_text, at) = path;
            if path_text.is_empty() || path_text.split('.').any(str::is_empty) {
                self.error_at(
                    &at,
                    format!("{key}: {path_text:?} is not a path; write the keys joined by dots, e.g. companyProfile.address.country"),
                );
                continue;
            }
            self.undeclared_by(&key, &path_text, &at, sources);
            out.push(Mapping {
                column: column.value.clone(),
                path: path_text,
                ty,
            });
        }
        out
    }

    /// A mapped path some sources' vendors do not declare is a warning naming them: across
    /// vendors, one vendor's field name is usually not another's, and their rows would be empty
    /// in that column without a word.
    fn undeclared_by(&mut self, key: &str, path: &str, at: &Location, sources: &[SourcePlan]) {
        let mut lacking: Vec<&str> = Vec::new();
        let mut declaring: Vec<&str> = Vec::new();
        for source in sources {
            let id = source.vendor.id();
            let known = transform::is_known_path(path, std::iter::once(source.vendor.record()));
            let list = if known { &mut declaring } else { &mut lacking };
            if !list.contains(&id) {
                list.push(id);
            }
        }
        let message = match (lacking.is_empty(), declaring.is_empty()) {
            (true, _) => return,
            (false, true) => format!(
                "{key}: no source ({}) declares `{path}`; it is read where a record has it, and the column stays empty where none does (`customer-export inspect` shows what a source sends)",
                lacking.join(", "),
            ),
            (false, false) => format!(
                "{key}: {} declares `{path}` but {lacking} does not: {lacking} rows get an empty `{column}` unless their records carry the path (`customer-export inspect` shows what a source sends; a canonical column or another path may be what you want)",
                declaring.join(", "),
                lacking = lacking.join(", "),
                column = key.trim_start_matches("transform.fields."),
            ),
        };
        self.warning_at(at, message);
    }

    /// The path (with where it is written) and type of one mapped column.
    #[allow(clippy::type_complexity)]
    fn mapped(
        &mut self,
        node: &Spanned<Node>,
        key: &str,
    ) -> Option<((String, serde_saphyr::Location), Option<FieldType>)> {
        let pairs = match &node.value {
            Node::Scalar(_) => {
                let value = self.scalar(node, key)?;
                let path = self.text(&value, key)?;
                return Some(((path, value.referenced), None));
            }
            Node::Map(pairs) => pairs,
            other => {
                self.error(
                    node,
                    format!(
                        "{key}: expected a path or {{path: …, type: …}}, found {}",
                        other.describe()
                    ),
                );
                return None;
            }
        };
        let mut path = None;
        let mut ty = None;
        let mut ok = true;
        for (name, value) in &pairs.0 {
            match name.value.as_str() {
                "path" => {
                    path = self
                        .text(value, &format!("{key}.path"))
                        .map(|p| (p, value.referenced))
                }
                "type" => {
                    let text = self.text(value, &format!("{key}.type"))?;
                    ty = FieldType::named(&text);
                    if ty.is_none() {
                        let names: Vec<&str> = FIELD_TYPES.iter().map(|(n, _)| *n).collect();
                        self.error(
                            value,
                            format!(
                                "{key}.type: {text:?} is not a type; allowed: {}",
                                names.join(", ")
                            ),
                        );
                        ok = false;
                    }
                }
                other => {
                    self.error(
                        name,
                        format!("{key}: unknown key `{other}`; allowed: path, type"),
                    );
                    ok = false;
                }
            }
        }
        if path.is_none() {
            self.error(node, format!("{key}: `path` is required"));
        }
        Some((path.filter(|_| ok)?, ty))
    }
}

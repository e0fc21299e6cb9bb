//! The `transform:` blocks: which columns come out (`fields`), what becomes of arrays, how
//! columns are named and what happens to undeclared paths — checked against the sources' vendors
//! into [`transform::Options`]. The pipeline's block is every output's default; an output's own
//! block replaces the keys it gives.

use serde_saphyr::{Location, Spanned};

use super::check::Checker;
use super::plan::SourcePlan;
use super::raw::{Block, Node, RawFields, RawTransform, Value};
use crate::transform::{
    self, ArrayMode, FIELD_TYPES, FieldType, Fields, Mapping, Naming, Undeclared,
};

impl Checker<'_> {
    /// The transform of an output: each key from its own `transform:` (`output`) when it gives
    /// it, else from the pipeline's.
    pub(super) fn transform(
        &mut self,
        pipeline: Option<&RawTransform>,
        output: Option<&RawTransform>,
        sources: &[SourcePlan],
    ) -> transform::Options {
        if pipeline.is_none() && output.is_none() {
            return transform::Options::default();
        }
        for t in [pipeline, output].into_iter().flatten() {
            self.unknown_keys(Some("transform"), &t.unknown, RawTransform::KEYS);
        }
        let t = Layered { pipeline, output };
        let fields = match t.get(|t| t.fields.as_ref()) {
            None => Fields::Canonical,
            Some(spanned) => match &spanned.value {
                RawFields::Named(n) if n == "canonical" => Fields::Canonical,
                RawFields::Named(n) if n == "all" => Fields::All,
                RawFields::Named(n) => {
                    let hint = crate::model::suggest::hint(n, &["canonical", "all"]);
                    self.error(
                        spanned,
                        format!("transform.fields: {n:?} is not allowed{hint}; allowed: canonical, all, or a mapping {{column: path}}"),
                    );
                    Fields::Canonical
                }
                RawFields::Mapping(columns) => Fields::Mapping(self.mapping(columns, sources)),
            },
        };
        let defaults = transform::Options::default();
        let arrays = self
            .choice(
                t.get(|t| t.arrays.as_ref()),
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
                t.get(|t| t.naming.as_ref()),
                "transform.naming",
                &[
                    ("source", Naming::Source),
                    ("snake_case", Naming::SnakeCase),
                ],
            )
            .unwrap_or(defaults.naming);
        let undeclared = self
            .choice(
                t.get(|t| t.undeclared.as_ref()),
                "transform.undeclared",
                &[
                    ("extra", Undeclared::Extra),
                    ("columns", Undeclared::Columns),
                ],
            )
            .unwrap_or(defaults.undeclared);
        if let Some(v) = t.get(|t| t.undeclared.as_ref())
            && undeclared == Undeclared::Columns
            && fields != Fields::All
        {
            self.error(
                v,
                "transform.undeclared: `columns` adds the undeclared paths to `fields: all`; with a mapping, name the paths you want instead",
            );
        }
        let explode = (t.get(|t| t.explode.as_ref())).and_then(|v| self.explode(v, sources));
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

    /// `fields: {column: path | {path, type} | {vendor: path, …}}`: any path is accepted; one a
    /// source's vendor does not declare is a warning (the field may exist in production, and
    /// `inspect` shows what a source sends), as is a source left without a path.
    fn mapping(
        &mut self,
        columns: &[(Spanned<String>, Spanned<Node>)],
        sources: &[SourcePlan],
    ) -> Vec<Mapping> {
        let mut out: Vec<Mapping> = Vec::new();
        for (column, node) in columns {
            let key = format!("transform.fields.{}", column.value);
            let Some(mapped) = self.mapped(node, &key) else {
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
            self.check_mapped_paths(&key, &mapped, node, sources);
            out.push(Mapping {
                column: column.value.clone(),
                path: mapped.path.map(|(path, _)| path),
                by_vendor: (mapped.by_vendor.into_iter())
                    .map(|(vendor, path, _)| (vendor, path))
                    .collect(),
                ty: mapped.ty,
            });
        }
        out
    }

    /// Warns, per source, about a mapped column it has no path for, or a path its vendor does
    /// not declare.
    fn check_mapped_paths(
        &mut self,
        key: &str,
        mapped: &Mapped,
        node: &Spanned<Node>,
        sources: &[SourcePlan],
    ) {
        let for_vendor = |vendor: &str| {
            (mapped.by_vendor.iter())
                .find(|(v, _, _)| v == vendor)
                .map(|(_, path, at)| (path, at))
                .or(mapped.path.as_ref().map(|(path, at)| (path, at)))
        };
        let unmapped: Vec<&str> = sources
            .iter()
            .map(|s| s.vendor.id())
            .filter(|v| for_vendor(v).is_none())
            .collect();
        if !unmapped.is_empty() {
            let message = format!(
                "{key}: no path for {vendors}: their rows leave `{column}` empty; add `{first}: <path>`, or `path: <path>` for every vendor not named",
                vendors = unmapped.join(", "),
                column = key.trim_start_matches("transform.fields."),
                first = unmapped[0],
            );
            self.warning_at(&node.referenced, message);
        }
        // Each path against the sources that read it.
        let mut paths: Vec<(&String, &Location)> = Vec::new();
        for source in sources {
            if let Some(found) = for_vendor(source.vendor.id())
                && !paths.contains(&found)
            {
                paths.push(found);
            }
        }
        for (path, at) in paths {
            let readers: Vec<&SourcePlan> = (sources.iter())
                .filter(|s| for_vendor(s.vendor.id()).is_some_and(|(p, _)| p == path))
                .collect();
            self.undeclared_by(key, path, at, &readers);
        }
    }

    /// A mapped path some sources' vendors do not declare is a warning naming them: across
    /// vendors, one vendor's field name is usually not another's, and their rows would be empty
    /// in that column without a word.
    fn undeclared_by(&mut self, key: &str, path: &str, at: &Location, sources: &[&SourcePlan]) {
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

    /// The paths (with where each is written) and type of one mapped column.
    fn mapped(&mut self, node: &Spanned<Node>, key: &str) -> Option<Mapped> {
        let pairs = match &node.value {
            Node::Scalar(_) => {
                let value = self.scalar(node, key)?;
                let path = self.path(&value, key)?;
                return Some(Mapped {
                    path: Some((path, value.referenced)),
                    by_vendor: Vec::new(),
                    ty: None,
                });
            }
            Node::Map(pairs) => pairs,
            other => {
                self.error(
                    node,
                    format!(
                        "{key}: expected a path, {{path: …, type: …}} or {{vendor: path, …}}, found {}",
                        other.describe()
                    ),
                );
                return None;
            }
        };
        // Every vendor the file names, so that a source that failed its own checks does not
        // make its vendor's paths errors too.
        let mut vendors: Vec<&str> = Vec::new();
        for vendor in &self.named_vendors {
            if !vendors.contains(vendor) {
                vendors.push(vendor);
            }
        }
        let mut mapped = Mapped {
            path: None,
            by_vendor: Vec::new(),
            ty: None,
        };
        let mut ok = true;
        for (name, value) in &pairs.0 {
            ok &= self.mapped_key(&mut mapped, name, value, key, &vendors);
        }
        if mapped.path.is_none() && mapped.by_vendor.is_empty() && ok {
            self.error(
                node,
                format!(
                    "{key}: give a `path`, or a path per vendor ({})",
                    vendors.join(", ")
                ),
            );
            return None;
        }
        ok.then_some(mapped)
    }

    /// One key of a mapped column's mapping into `mapped`; false when it is wrong.
    fn mapped_key(
        &mut self,
        mapped: &mut Mapped,
        name: &Spanned<String>,
        value: &Value,
        key: &str,
        vendors: &[&str],
    ) -> bool {
        match name.value.as_str() {
            "path" => {
                let path = self.path(value, &format!("{key}.path"));
                let ok = path.is_some();
                mapped.path = path.map(|p| (p, value.referenced));
                ok
            }
            "type" => {
                mapped.ty = self.field_type(value, key);
                mapped.ty.is_some()
            }
            vendor if vendors.contains(&vendor) => {
                let Some(path) = self.path(value, &format!("{key}.{vendor}")) else {
                    return false;
                };
                mapped
                    .by_vendor
                    .push((vendor.to_string(), path, value.referenced));
                true
            }
            other => {
                let mut allowed = vec!["path", "type"];
                allowed.extend(vendors.iter().copied());
                let message = format!(
                    "{key}: unknown key `{other}`{}; allowed: path, type, or the vendor of a source ({})",
                    crate::model::suggest::hint(other, &allowed),
                    vendors.join(", ")
                );
                self.error(name, message);
                false
            }
        }
    }

    /// A mapped path: dotted keys, none empty.
    fn path(&mut self, value: &Value, key: &str) -> Option<String> {
        let path = self.text(value, key)?;
        if path.is_empty() || path.split('.').any(str::is_empty) {
            self.error(
                value,
                format!("{key}: {path:?} is not a path; write the keys joined by dots, e.g. companyProfile.address.country"),
            );
            return None;
        }
        Some(path)
    }

    /// `type:` of a mapped column.
    fn field_type(&mut self, value: &Value, key: &str) -> Option<FieldType> {
        let text = self.text(value, &format!("{key}.type"))?;
        let ty = FieldType::named(&text);
        if ty.is_none() {
            let names: Vec<&str> = FIELD_TYPES.iter().map(|(n, _)| *n).collect();
            let message = format!(
                "{key}.type: {text:?} is not a type{}; allowed: {}",
                crate::model::suggest::hint(&text, &names),
                names.join(", ")
            );
            self.error(value, message);
        }
        ty
    }
}

/// An output's `transform:` over the pipeline's.
struct Layered<'a> {
    pipeline: Option<&'a RawTransform>,
    output: Option<&'a RawTransform>,
}

impl<'a> Layered<'a> {
    /// The output's value for a key, else the pipeline's.
    fn get<T>(&self, key: impl Fn(&'a RawTransform) -> Option<&'a T>) -> Option<&'a T> {
        (self.output.and_then(&key)).or_else(|| self.pipeline.and_then(&key))
    }
}

/// One mapped column as written: a path for every vendor, paths per vendor, a type.
struct Mapped {
    path: Option<(String, Location)>,
    by_vendor: Vec<(String, String, Location)>,
    ty: Option<FieldType>,
}

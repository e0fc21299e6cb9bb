//! What a source's records really hold, summed up path by path: the JSON types seen, how many
//! records carry a value, an example, and whether the vendor declares the path. `inspect` prints
//! it; `undeclared: columns` promotes the undeclared scalar paths of a first page from it.
//!
//! Paths are written as the vendor's JSON has them: `companyProfile.address.country`; the
//! elements of a list add `[]` (`companyProfile.contacts[].email`). A declared field is a value:
//! its insides are not walked (a declared list of headers stays one value).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::column_name;
use super::columns::Promoted;
use super::options::Naming;
use crate::model::ColumnType;
use crate::model::record::RecordSpec;
use crate::model::secret::redact;

/// The JSON types a path held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum JsonType {
    Null,
    Bool,
    Int,
    Float,
    String,
    Object,
    Array,
}

impl JsonType {
    fn of(value: &Value) -> JsonType {
        match value {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Bool,
            Value::Number(n) if n.is_i64() || n.is_u64() => JsonType::Int,
            Value::Number(_) => JsonType::Float,
            Value::String(_) => JsonType::String,
            Value::Object(_) => JsonType::Object,
            Value::Array(_) => JsonType::Array,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Bool => "bool",
            JsonType::Int => "int",
            JsonType::Float => "float",
            JsonType::String => "string",
            JsonType::Object => "object",
            JsonType::Array => "list",
        }
    }
}

/// What the vendor's declaration says of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declaration {
    Declared,
    /// Seen, not declared: schema drift.
    Undeclared,
    /// Declared, never seen in the records observed.
    Absent,
}

/// One path's observations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathStats {
    /// The JSON types seen (`null` included).
    pub types: BTreeSet<JsonType>,
    /// Records in which the path held something other than `null`.
    pub filled: u64,
    /// The first value seen other than `null`, shortened, secrets and e-mail addresses masked.
    pub example: Option<String>,
}

/// The paths of the records observed, in path order.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub records: u64,
    paths: BTreeMap<String, PathStats>,
    /// The paths the vendor declares, in the notation above: fields, arrays, element fields.
    declared: BTreeSet<String>,
    /// The declared arrays among them.
    arrays: BTreeSet<String>,
}

/// One line of the field tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation<'a> {
    pub path: &'a str,
    pub stats: Option<&'a PathStats>,
    pub declaration: Declaration,
}

impl Observed {
    /// Observations for a vendor declaring `record`.
    pub fn new(record: &RecordSpec) -> Observed {
        let mut declared: BTreeSet<String> = BTreeSet::new();
        declared.insert(record.key.to_string());
        declared.extend(record.fields.iter().map(|f| f.path.to_string()));
        let arrays: BTreeSet<String> = record.arrays.iter().map(|a| a.path.to_string()).collect();
        declared.extend(arrays.iter().cloned());
        for a in record.arrays {
            declared.extend(a.fields.iter().map(|f| format!("{}[].{}", a.path, f.path)));
        }
        Observed {
            records: 0,
            paths: BTreeMap::new(),
            declared,
            arrays,
        }
    }

    /// Adds one record.
    pub fn add(&mut self, record: &Value) {
        self.records += 1;
        let mut filled = BTreeSet::new();
        if let Value::Object(object) = record {
            let mut prefix = String::new();
            self.walk(object, &mut prefix, &mut filled);
        }
        for path in filled {
            if let Some(stats) = self.paths.get_mut(&path) {
                stats.filled += 1;
            }
        }
    }

    fn walk(
        &mut self,
        object: &serde_json::Map<String, Value>,
        prefix: &mut String,
        filled: &mut BTreeSet<String>,
    ) {
        for (key, value) in object {
            // AppXite's documented payloads carry comment keys such as `"// Addresses": ""`.
            if key.starts_with("//") {
                continue;
            }
            let len = prefix.len();
            if len > 0 {
                prefix.push('.');
            }
            prefix.push_str(key);
            self.value(value, prefix, filled);
            prefix.truncate(len);
        }
    }

    /// Counts `value` at `path`: its type, an example, and (in `filled`) that this record has it.
    fn seen(&mut self, value: &Value, path: &str, filled: &mut BTreeSet<String>) {
        let stats = self.paths.entry(path.to_string()).or_default();
        stats.types.insert(JsonType::of(value));
        if !value.is_null() {
            if stats.example.is_none() {
                stats.example = Some(example(value));
            }
            filled.insert(path.to_string());
        }
    }

    fn value(&mut self, value: &Value, path: &mut String, filled: &mut BTreeSet<String>) {
        self.seen(value, path, filled);
        // A declared field is one value (a list of headers declared as text included); a
        // declared array's elements and anything undeclared are walked.
        let field = self.declared.contains(path.as_str()) && !self.arrays.contains(path.as_str());
        match value {
            Value::Object(inner) if !field => self.walk(inner, path, filled),
            Value::Array(items) if !field => {
                let len = path.len();
                path.push_str("[]");
                for item in items {
                    match item {
                        Value::Object(inner) => self.walk(inner, path, filled),
                        other => self.seen(other, path, filled),
                    }
                }
                path.truncate(len);
            }
            _ => {}
        }
    }

    /// Every path seen or declared, in path order, with what the declaration says of it.
    pub fn tree(&self) -> Vec<Observation<'_>> {
        let mut all: BTreeSet<&str> = self.paths.keys().map(String::as_str).collect();
        all.extend(self.declared.iter().map(String::as_str));
        all.into_iter()
            .map(|path| {
                let stats = self.paths.get(path);
                let declaration = match (self.declares(path), stats) {
                    (true, Some(_)) => Declaration::Declared,
                    (true, None) => Declaration::Absent,
                    (false, _) => Declaration::Undeclared,
                };
                Observation {
                    path,
                    stats,
                    declaration,
                }
            })
            .collect()
    }

    /// Whether the vendor declares `path`, or it lies inside a declared field's value.
    fn declares(&self, path: &str) -> bool {
        let list = path.strip_suffix("[]").unwrap_or(path);
        if self.declared.contains(path) || self.arrays.contains(list) {
            return true;
        }
        // Inside a declared object: its parents are declared only through their children.
        self.declared.iter().any(|d| {
            d.len() > path.len() && d.starts_with(path) && d.as_bytes()[path.len()] == b'.'
        })
    }

    /// The undeclared paths that held only scalars (and at least one value), outside any list,
    /// typed by what they held: the columns `undeclared: columns` adds.
    pub fn promotable(&self) -> Vec<Promoted> {
        self.tree()
            .into_iter()
            .filter(|o| o.declaration == Declaration::Undeclared && !o.path.contains("[]"))
            .filter_map(|o| {
                let stats = o.stats?;
                let ty = scalar_type(&stats.types)?;
                (stats.filled > 0).then(|| Promoted {
                    path: o.path.to_string(),
                    ty,
                })
            })
            .collect()
    }

    /// A `fields:` mapping of every path seen that holds a value: scalars as typed columns (a
    /// list's first element standing for the list), a list of scalars as one JSON column. Column
    /// names are snake_case; the type is named where the declaration does not give it.
    pub fn mapping(&self) -> Vec<(String, String, Option<&'static str>)> {
        let mut out: Vec<(String, String, Option<&'static str>)> = Vec::new();
        for o in self.tree() {
            let Some(stats) = o.stats else { continue };
            if o.path.ends_with("[]") {
                continue;
            }
            let in_list = o.path.contains("[]");
            let named = match scalar_type(&stats.types) {
                Some(ColumnType::Utf8) => None,
                Some(_) if o.declaration == Declaration::Declared && !in_list => None,
                Some(ty) => Some(type_name(ty)),
                // A list whose elements are not objects: one JSON column.
                None if stats.types.contains(&JsonType::Array)
                    && !self
                        .paths
                        .keys()
                        .any(|p| p.starts_with(&format!("{}[].", o.path))) =>
                {
                    Some("json")
                }
                None => continue,
            };
            let path = o.path.replace("[]", ".0");
            let base = column_name(&path, Naming::SnakeCase);
            let mut column = base.clone();
            let mut n = 1;
            while out.iter().any(|(c, _, _)| *c == column) {
                n += 1;
                column = format!("{base}_{n}");
            }
            out.push((column, path, named));
        }
        out
    }
}

/// The column type for values of these JSON types, when they are all scalars and at least one is
/// not null: integers stay integers, integers and floats are floats, mixed kinds are text.
fn scalar_type(types: &BTreeSet<JsonType>) -> Option<ColumnType> {
    let kinds: Vec<JsonType> = types
        .iter()
        .copied()
        .filter(|t| *t != JsonType::Null)
        .collect();
    if kinds
        .iter()
        .any(|t| matches!(t, JsonType::Object | JsonType::Array))
    {
        return None;
    }
    Some(match kinds.as_slice() {
        [] => return None,
        [JsonType::Bool] => ColumnType::Boolean,
        [JsonType::Int] => ColumnType::Int64,
        [JsonType::Int, JsonType::Float] | [JsonType::Float] => ColumnType::Float64,
        _ => ColumnType::Utf8,
    })
}

fn type_name(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Utf8 => "string",
        ColumnType::Int64 => "int",
        ColumnType::Float64 => "float",
        ColumnType::Boolean => "bool",
        ColumnType::Timestamp => "timestamp",
        ColumnType::Date => "date",
    }
}

/// The most an example shows of a value.
const EXAMPLE_CHARS: usize = 40;

/// A value as an example: compact JSON, an e-mail address masked (`j…@example.com`), any secret
/// the run knows redacted, control characters escaped, at most [`EXAMPLE_CHARS`] characters.
fn example(value: &Value) -> String {
    let text = match value {
        Value::String(s) => Value::String(mask_email(s)).to_string(),
        Value::Object(_) => "{…}".to_string(),
        Value::Array(items) => format!("[{} item(s)]", items.len()),
        other => other.to_string(),
    };
    let text = redact(&text).into_owned();
    let mut shown: String = text
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .take(EXAMPLE_CHARS)
        .collect();
    if text.chars().count() > EXAMPLE_CHARS {
        shown.push('…');
    }
    shown
}

/// `jane.doe@example.com` → `j…@example.com`; anything else as it is.
fn mask_email(s: &str) -> String {
    match s.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace) =>
        {
            let first: String = local.chars().take(1).collect();
            format!("{first}…@{domain}")
        }
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn adobe() -> &'static RecordSpec {
        crate::vendors::find("adobe_vipmp")
            .expect("a built-in vendor")
            .record()
            .record
    }

    #[test]
    fn the_tree_tells_declared_undeclared_and_absent_paths_apart() {
        let mut observed = Observed::new(adobe());
        observed.add(&json!({
            "customerId": "1",
            "companyProfile": {"companyName": "A", "contacts": [{"email": "jane.doe@example.com"}]},
            "links": {"self": {"headers": [{"k": "v"}]}},
            "accountHealth": {"score": 87},
        }));
        observed.add(&json!({"customerId": "2", "accountHealth": {"score": null}}));
        let tree = observed.tree();
        let line = |path: &str| {
            tree.iter()
                .find(|o| o.path == path)
                .unwrap_or_else(|| panic!("{path} in {tree:#?}"))
                .clone()
        };
        assert_eq!(line("customerId").declaration, Declaration::Declared);
        assert_eq!(line("customerId").stats.unwrap().filled, 2);
        let score = line("accountHealth.score");
        assert_eq!(score.declaration, Declaration::Undeclared);
        assert_eq!(score.stats.unwrap().filled, 1);
        assert_eq!(
            score.stats.unwrap().types,
            BTreeSet::from([JsonType::Null, JsonType::Int])
        );
        let email = line("companyProfile.contacts[].email");
        assert_eq!(email.declaration, Declaration::Declared);
        assert_eq!(
            email.stats.unwrap().example.as_deref(),
            Some("\"j…@example.com\"")
        );
        // A declared field holding a list is one value: its insides are not drift.
        assert!(
            tree.iter()
                .all(|o| !o.path.starts_with("links.self.headers[]"))
        );
        assert_eq!(line("cotermDate").declaration, Declaration::Absent);
        assert_eq!(
            observed.promotable(),
            [Promoted {
                path: "accountHealth.score".into(),
                ty: ColumnType::Int64
            }]
        );
    }

    #[test]
    fn examples_are_short_masked_and_escaped() {
        assert_eq!(example(&json!("a\nb")), "\"a\\nb\"");
        assert_eq!(
            example(&json!("x".repeat(60))).chars().count(),
            EXAMPLE_CHARS + 1
        );
        assert_eq!(mask_email("not an @ address"), "not an @ address");
    }
}

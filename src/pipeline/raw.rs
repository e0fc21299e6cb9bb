//! The pipeline file as written: serde structs that mirror the YAML, with the location of every
//! value kept for later validation. Nothing here is checked beyond the YAML's shape; `plan.rs`
//! turns it into a validated [`super::Plan`].
//!
//! A source is read as a list of keys and [`Node`]s rather than a struct: which keys it may have
//! depends on its vendor, which the file may name after them. The plan checks every key against
//! the keys every source has and the vendor's own tables, and names the allowed ones.
//!
//! Scalars are read as [`Scalar`] (their text plus what kind of YAML scalar they were) rather than
//! as `u32` or `bool`, so that `${VAR}` works for every value and a wrong type is reported together
//! with the other errors instead of stopping the parse.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

use crate::vendors::declared::RawDefinition;

/// A scalar value and where it stands in the file.
pub type Value = Spanned<Scalar>;

/// A mapping with fixed keys — the pipeline, its `transform:`, an output, a format's options —
/// read so that one wrong key does not stop the parse: a key it does not have is kept in
/// `unknown` with its location, and every key is optional, so the plan reports unknown and
/// missing keys together with every other problem in the file (serde's `deny_unknown_fields` and
/// required fields would stop at the first).
pub trait Block: Default {
    /// What the block is, for "expected …" messages.
    const WHAT: &'static str;
    /// Its keys, in the order messages list them.
    const KEYS: &'static [&'static str];
    /// Reads the value of `key` if the block has that key; false if it does not.
    fn read_key<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error>;
    fn unknown_keys(&mut self) -> &mut Vec<Spanned<String>>;
}

struct BlockVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Block> Visitor<'de> for BlockVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::WHAT)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut block = T::default();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            if !block.read_key(&key.value, &mut map)? {
                map.next_value::<de::IgnoredAny>()?;
                block.unknown_keys().push(key);
            }
        }
        Ok(block)
    }
}

/// Declares a [`Block`]: a struct of optional keys (a `null` value is an absent key) and where its
/// unknown keys stand.
macro_rules! block {
    ($(#[$meta:meta])* $name:ident, $what:literal {
        $($(#[$field_meta:meta])* $key:ident: $ty:ty,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Default)]
        pub struct $name {
            $($(#[$field_meta])* pub $key: Option<$ty>,)*
            /// Keys the file gives that the block does not have.
            pub unknown: Vec<Spanned<String>>,
        }

        impl Block for $name {
            const WHAT: &'static str = $what;
            const KEYS: &'static [&'static str] = &[$(stringify!($key)),*];

            fn read_key<'de, A: MapAccess<'de>>(
                &mut self,
                key: &str,
                map: &mut A,
            ) -> Result<bool, A::Error> {
                match key {
                    $(stringify!($key) => self.$key = map.next_value()?,)*
                    _ => return Ok(false),
                }
                Ok(true)
            }

            fn unknown_keys(&mut self) -> &mut Vec<Spanned<String>> {
                &mut self.unknown
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_map(BlockVisitor::<$name>(std::marker::PhantomData))
            }
        }
    };
}

block!(RawPipeline, "a pipeline: a mapping with name, sources and outputs" {
    name: Value,
    /// `true`, or the sandbox's data: `{customers: N, seed: S, faults: R}`.
    sandbox: Spanned<Node>,
    on_error: Value,
    /// How many sources run at once (default: all).
    sources_at_once: Value,
    sources: Spanned<Vec<Spanned<RawSource>>>,
    transform: RawTransform,
    outputs: Spanned<Vec<Spanned<RawOutput>>>,
    /// Settings of the object store the outputs go to.
    storage: Spanned<RawStorage>,
});

block!(RawStorage, "storage settings: a mapping" {
    region: Value,
    endpoint: Value,
    path_style: Value,
    allow_http: Value,
});

/// One source: its keys in file order, each with its value.
#[derive(Debug, Default)]
pub struct RawSource(pub Vec<(Spanned<String>, Spanned<Node>)>);

/// A value of a source key: one scalar, a list of scalars, or a mapping of names to scalars —
/// or, under `definition:`, a whole vendor definition.
#[derive(Debug)]
pub enum Node {
    Scalar(Scalar),
    List(Vec<Value>),
    Map(Pairs),
    Definition(Box<RawDefinition>),
}

impl Node {
    /// What the node is, for "expected …, found …" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Node::Scalar(_) => "a single value",
            Node::List(_) => "a list",
            Node::Map(_) => "a mapping",
            Node::Definition(_) => "a vendor definition",
        }
    }
}

block!(RawTransform, "a transform: a mapping of fields, arrays, explode, naming, undeclared" {
    fields: Spanned<RawFields>,
    arrays: Value,
    explode: Value,
    naming: Value,
    undeclared: Value,
});

/// `fields: canonical | all | {column: path | {path: …, type: …}}`.
#[derive(Debug)]
pub enum RawFields {
    Named(String),
    /// Each column with its path, or a mapping of `path` and `type`.
    Mapping(Vec<(Spanned<String>, Spanned<Node>)>),
}

block!(RawOutput, "an output: a mapping with format and path" {
    format: Value,
    path: Value,
    /// This output's own transform keys, over the pipeline's.
    transform: RawTransform,
    csv: Spanned<RawCsv>,
    ndjson: Spanned<RawNdjson>,
    parquet: Spanned<RawParquet>,
});

block!(RawCsv, "CSV options: a mapping" {
    spreadsheet_safe: Value,
    bom: Value,
    delimiter: Value,
});

block!(RawNdjson, "NDJSON options: a mapping" {
    nested: Value,
});

block!(RawParquet, "Parquet options: a mapping" {
    row_group_rows: Value,
    zstd_level: Value,
});

/// A YAML scalar: its text and whether it was written as a string.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub kind: ScalarKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    String,
    Integer,
    Float,
    Boolean,
}

impl ScalarKind {
    pub fn describe(self) -> &'static str {
        match self {
            ScalarKind::String => "text",
            ScalarKind::Integer => "a whole number",
            ScalarKind::Float => "a number",
            ScalarKind::Boolean => "a boolean",
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a single value (text, number or true/false)")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(scalar(v.to_string(), ScalarKind::Boolean))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(scalar(v.to_string(), ScalarKind::Integer))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(scalar(v.to_string(), ScalarKind::Integer))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(scalar(v.to_string(), ScalarKind::Float))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(scalar(v.to_string(), ScalarKind::String))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(scalar(v, ScalarKind::String))
    }
}

fn scalar(text: String, kind: ScalarKind) -> Scalar {
    Scalar { text, kind }
}

/// A mapping of names to scalars, in file order, each key with its location.
#[derive(Debug, Default)]
pub struct Pairs(pub Vec<(Spanned<String>, Value)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PairsVisitor)
    }
}

struct PairsVisitor;

impl<'de> Visitor<'de> for PairsVisitor {
    type Value = Pairs;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping of names to single values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
        let mut pairs = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let value = map.next_value::<Value>()?;
            pairs.push((key, value));
        }
        Ok(Pairs(pairs))
    }
}

impl<'de> Deserialize<'de> for RawFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = RawFields;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`canonical`, `all`, or a mapping {column: path}")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawFields, E> {
                Ok(RawFields::Named(v.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFields, A::Error> {
                let mut columns = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    columns.push((key, map.next_value::<Spanned<Node>>()?));
                }
                Ok(RawFields::Mapping(columns))
            }
        }
        deserializer.deserialize_any(FieldsVisitor)
    }
}

impl<'de> Deserialize<'de> for RawSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SourceVisitor;
        impl<'de> Visitor<'de> for SourceVisitor {
            type Value = RawSource;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a source: a mapping with `vendor:` and its settings")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawSource, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    let value = if key.value == "definition" {
                        let d = map.next_value::<Spanned<DefinitionNode>>()?;
                        Spanned::new(d.value.0, d.referenced, d.defined)
                    } else {
                        map.next_value::<Spanned<Node>>()?
                    };
                    keys.push((key, value));
                }
                Ok(RawSource(keys))
            }
        }
        deserializer.deserialize_map(SourceVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value, a list of values, or a mapping of names to values")
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
                ScalarVisitor.visit_bool(v).map(Node::Scalar)
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
                ScalarVisitor.visit_i64(v).map(Node::Scalar)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
                ScalarVisitor.visit_u64(v).map(Node::Scalar)
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
                ScalarVisitor.visit_f64(v).map(Node::Scalar)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
                ScalarVisitor.visit_str(v).map(Node::Scalar)
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
                ScalarVisitor.visit_string(v).map(Node::Scalar)
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Value>()? {
                    items.push(item);
                }
                Ok(Node::List(items))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Node, A::Error> {
                PairsVisitor.visit_map(map).map(Node::Map)
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// The value of `definition:`: a file's path, or the definition itself.
struct DefinitionNode(Node);

impl<'de> Deserialize<'de> for DefinitionNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DefinitionVisitor;
        impl<'de> Visitor<'de> for DefinitionVisitor {
            type Value = DefinitionNode;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a definition file's path, or a vendor definition")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<DefinitionNode, E> {
                ScalarVisitor
                    .visit_str(v)
                    .map(|s| DefinitionNode(Node::Scalar(s)))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DefinitionNode, A::Error> {
                let raw = RawDefinition::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(DefinitionNode(Node::Definition(Box::new(raw))))
            }
        }
        deserializer.deserialize_any(DefinitionVisitor)
    }
}

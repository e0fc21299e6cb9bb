//! Record keys as de-duplication compares them: a 64-bit hash, never the key's text.

use std::hash::{DefaultHasher, Hash, Hasher};

/// A record key as de-duplication hashes it: text, or a number hashed without a detour through
/// text (a vendor's key has one JSON type).
pub enum KeyRef<'a> {
    Text(&'a str),
    Number(&'a serde_json::Number),
}

/// The 64-bit hash de-duplication remembers for a key.
pub fn key_hash(key: KeyRef<'_>) -> u64 {
    let mut hasher = DefaultHasher::new();
    match key {
        KeyRef::Text(s) => s.hash(&mut hasher),
        KeyRef::Number(n) => match n.as_i64() {
            Some(i) => i.hash(&mut hasher),
            None => n.as_f64().map(f64::to_bits).hash(&mut hasher),
        },
    }
    hasher.finish()
}

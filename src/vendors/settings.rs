//! A source's vendor-specific values, checked against the vendor's [`super::spec::Key`] tables:
//! `reseller_id`, `organization_ids`, `auth.client_secret` … by the name the pipeline file gives
//! them (auth keys prefixed `auth.`), each in the kind its key declares.

use url::Url;

use super::spec::KeyKind;
use crate::model::Secret;

/// One value, in the kind its key declares.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Secret(Secret),
    Url(Url),
    List(Vec<String>),
}

impl Value {
    /// A value of `kind` from text (a list from one item); `None` when the text is not that kind.
    pub fn parse(kind: KeyKind, text: String) -> Option<Value> {
        Some(match kind {
            KeyKind::Text => Value::Text(text),
            KeyKind::Secret => Value::Secret(Secret::new(text)),
            KeyKind::Url => Value::Url(Url::parse(text.trim()).ok()?),
            KeyKind::List => Value::List(vec![text]),
        })
    }
}

/// The values of one source, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings(Vec<(String, Value)>);

impl Settings {
    /// Sets `key`, replacing an earlier value.
    pub fn set(&mut self, key: impl Into<String>, value: Value) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, old)) => *old = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Every key given, in file order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn text(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn secret(&self, key: &str) -> Option<&Secret> {
        match self.get(key)? {
            Value::Secret(s) => Some(s),
            _ => None,
        }
    }

    pub fn url(&self, key: &str) -> Option<&Url> {
        match self.get(key)? {
            Value::Url(u) => Some(u),
            _ => None,
        }
    }

    pub fn list(&self, key: &str) -> &[String] {
        match self.get(key) {
            Some(Value::List(items)) => items,
            _ => &[],
        }
    }

    /// A text a connector cannot do without; the message names the key.
    pub fn required_text(&self, key: &str) -> Result<&str, String> {
        self.text(key).ok_or_else(|| missing(key))
    }

    /// A secret a connector cannot do without; the message names the key.
    pub fn required_secret(&self, key: &str) -> Result<&Secret, String> {
        self.secret(key).ok_or_else(|| missing(key))
    }
}

fn missing(key: &str) -> String {
    format!("`{key}` is not set")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_in_their_declared_kind() {
        let mut s = Settings::default();
        s.set("reseller_id", Value::Text("7".into()));
        s.set("auth.client_secret", Value::Secret(Secret::new("hunter2")));
        s.set("reseller_id", Value::Text("8".into()));
        assert_eq!(s.text("reseller_id"), Some("8"));
        assert_eq!(s.keys().count(), 2);
        assert_eq!(
            s.secret("auth.client_secret").map(Secret::expose),
            Some("hunter2")
        );
        assert_eq!(s.text("auth.client_secret"), None, "a secret is not text");
        assert!(s.list("organization_ids").is_empty());
        assert!(s.required_text("nope").unwrap_err().contains("nope"));
        assert!(
            !format!("{s:?}").contains("hunter2"),
            "secrets print as ***"
        );
        assert!(Value::parse(KeyKind::Url, "not a url".into()).is_none());
    }
}

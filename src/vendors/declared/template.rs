//! Texts with placeholders, as definitions write them: `/v3/resellers/{reseller_id}/customers`,
//! `{auth.client_id}`, and in headers `{uuid}` (a fresh id per request). A placeholder names a
//! source setting or an `auth:` key the definition declares; `check.rs` makes sure it does.

use crate::vendors::Settings;
use crate::vendors::settings::Value;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    /// A source key (`reseller_id`, `auth.client_id`).
    Key(String),
    /// A new UUID v4 each time it is rendered.
    Uuid,
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Part>);

impl Template {
    /// Parses `text`; `{{` and `}}` are literal braces. The error says what is wrong.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                    let name = name.trim();
                    if name.is_empty()
                        || !name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                    {
                        return Err(format!(
                            "`{{{name}}}` is not a placeholder; write {{setting}} or {{auth.key}}, and {{{{ for a brace"
                        ));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(match name {
                        "uuid" => Part::Uuid,
                        key => Part::Key(key.to_string()),
                    });
                }
                '}' => return Err("a `}` without its `{`; write }} for a brace".into()),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template(parts))
    }

    /// The keys it names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Part::Key(k) => Some(k.as_str()),
            _ => None,
        })
    }

    pub fn has_uuid(&self) -> bool {
        self.0.contains(&Part::Uuid)
    }

    /// The text with each key's value; `None` when a key has none.
    pub fn render(&self, settings: &Settings) -> Option<String> {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Uuid => out.push_str(&uuid::Uuid::new_v4().to_string()),
                Part::Key(key) => out.push_str(&match settings.get(key)? {
                    Value::Text(t) => t.clone(),
                    Value::Secret(s) => s.expose().to_string(),
                    Value::Url(u) => u.to_string(),
                    Value::List(items) => items.join(","),
                }),
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_and_filled() {
        let t = Template::parse("/v3/resellers/{reseller_id}/customers?x={{y}}").unwrap();
        assert_eq!(t.keys().collect::<Vec<_>>(), ["reseller_id"]);
        let mut s = Settings::default();
        assert_eq!(t.render(&s), None);
        s.set("reseller_id", Value::Text("7".into()));
        assert_eq!(t.render(&s).unwrap(), "/v3/resellers/7/customers?x={y}");
        assert!(Template::parse("{uuid}").unwrap().has_uuid());
        assert!(Template::parse("{a b}").is_err());
        assert!(Template::parse("a}").is_err());
    }
}

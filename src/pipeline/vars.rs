//! `${VAR}` in pipeline values, read from the environment.
//!
//! Substitution happens on parsed scalar values, never on the file's text, so a variable's value
//! cannot change the YAML's structure and an error can point at the value that used it.
//! `$$` writes a literal `$`.

/// Whether `text` refers to any variable (`$$` is a literal `$`, not a reference).
pub fn uses_variables(text: &str) -> bool {
    let used = std::cell::Cell::new(false);
    let _ = substitute(text, &|_| {
        used.set(true);
        Some(String::new())
    });
    used.get()
}

/// Replaces every `${NAME}` in `text` using `lookup`. On failure, the message names the variable
/// (never a value).
pub fn substitute(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    if !text.contains('$') {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let close = body
                .find('}')
                .ok_or_else(|| format!("unclosed `${{` in {text:?}; write ${{NAME}}"))?;
            let name = &body[..close];
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || name.starts_with(|c: char| c.is_ascii_digit())
            {
                return Err(format!(
                    "`${{{name}}}` is not a variable name; use letters, digits and _"
                ));
            }
            match lookup(name) {
                Some(value) => out.push_str(&value),
                None => missing.push(name.to_string()),
            }
            rest = &body[close + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    match missing.as_slice() {
        [] => Ok(out),
        [one] => Err(format!(
            "environment variable {one} is not set; export it or remove ${{{one}}}"
        )),
        many => Err(format!(
            "environment variables {} are not set; export them",
            many.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "SET").then(|| "value".to_string())
    }

    #[test]
    fn substitutes_and_reports_missing_names() {
        assert_eq!(substitute("a-${SET}-b", &env).unwrap(), "a-value-b");
        assert_eq!(substitute("cost $$5", &env).unwrap(), "cost $5");
        assert_eq!(substitute("plain $x", &env).unwrap(), "plain $x");
        let err = substitute("${MISSING}", &env).unwrap_err();
        assert!(err.contains("MISSING") && !err.contains("value"), "{err}");
        assert!(substitute("${A B}", &env).is_err());
        assert!(substitute("${OPEN", &env).is_err());
    }
}

//! "Did you mean": the allowed word closest to a misspelt one, when one is close enough to be
//! what was meant.

/// The candidate `word` most likely meant: one it begins or that begins it (`adobe` →
/// `adobe_vipmp`), else the nearest by edits (a transposition counts one: `page_sise` →
/// `page_size`) within a third of the word's length. None when nothing is that close.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    if lower.len() >= 3
        && let Some(prefixed) = candidates.iter().find(|c| {
            let c = c.to_ascii_lowercase();
            c != lower && (c.starts_with(&lower) || lower.starts_with(&c))
        })
    {
        return Some(prefixed);
    }
    let limit = (lower.chars().count() / 3).max(1);
    candidates
        .iter()
        .filter(|c| **c != word)
        .map(|c| {
            let folded = c.to_ascii_lowercase();
            (strsim::damerau_levenshtein(&lower, &folded), *c)
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// ` (did you mean `x`?)` for a message, or nothing.
pub fn hint(word: &str, candidates: &[&str]) -> String {
    did_you_mean(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_what_was_meant_and_nothing_else() {
        let keys = ["page_size", "rate_limit", "concurrency", "base_url"];
        assert_eq!(did_you_mean("page_sise", &keys), Some("page_size"));
        assert_eq!(did_you_mean("pagesize", &keys), Some("page_size"));
        assert_eq!(did_you_mean("rate_limt", &keys), Some("rate_limit"));
        assert_eq!(did_you_mean("colour", &keys), None);
        assert_eq!(did_you_mean("page_size", &keys), None);
        let vendors = ["c3", "crayon", "valomnia", "appxite", "adobe_vipmp"];
        assert_eq!(did_you_mean("adobe", &vendors), Some("adobe_vipmp"));
        assert_eq!(did_you_mean("Crayon", &vendors), Some("crayon"));
        assert_eq!(did_you_mean("valomia", &vendors), Some("valomnia"));
        assert_eq!(did_you_mean("c4", &vendors), Some("c3"));
        assert_eq!(did_you_mean("xyz", &vendors), None);
        assert_eq!(
            hint("parquett", &["parquet", "csv"]),
            " (did you mean `parquet`?)"
        );
    }
}

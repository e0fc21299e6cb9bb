//! "Did you mean": the allowed word closest to a misspelt one, when one is close enough to be
//! what was meant.

/// The candidate `word` most likely meant: one it begins or that begins it (`adobe` →
/// `adobe_vipmp`; of several, the nearest in length), else the nearest by edits (a transposition counts one: `page_sise` →
/// `page_size`) within a third of the word's length. None when nothing is that close.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    if lower.len() >= 3 {
        let folded = |c: &&&str| c.to_ascii_lowercase();
        // A word cut short (`adobe`), else one run on (`sources_x`); of several, the nearest in
        // length: `source` means `sources` more than `sources_at_once`.
        let begun = |c: &&&str| folded(c) != lower && folded(c).starts_with(&lower);
        let run_on = |c: &&&str| folded(c) != lower && lower.starts_with(&folded(c));
        let nearest = |c: &&&str| c.len().abs_diff(lower.len());
        let found = (candidates.iter().filter(begun).min_by_key(nearest))
            .or_else(|| candidates.iter().filter(run_on).min_by_key(nearest));
        if let Some(found) = found {
            return Some(found);
        }
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
        let top = ["sources_at_once", "sources", "storage"];
        assert_eq!(did_you_mean("source", &top), Some("sources"));
        assert_eq!(did_you_mean("sources_at", &top), Some("sources_at_once"));
        assert_eq!(
            hint("parquett", &["parquet", "csv"]),
            " (did you mean `parquet`?)"
        );
    }
}

//! YAML syntax errors, said in the pipeline author's terms: the parser's "while parsing a block
//! collection, did not find expected '-' indicator" becomes what is wrong with the line and how to
//! write it (indentation, a missing `- `, a tab, an unclosed `{` or quote). Messages not
//! recognised here pass through as the parser wrote them.

/// The message for a parser error `message` at `line` (1-based) of `text`, if it is one of the
/// syntax errors explained here.
pub fn explain(message: &str, text: &str, line: u64) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let at = |n: u64| {
        lines
            .get((n as usize).wrapping_sub(1))
            .copied()
            .unwrap_or("")
    };
    let here = at(line);
    if leading(here).contains('\t') || message.contains("found a tab") {
        return Some(
            "a tab in the indentation: YAML indents with spaces only; replace the tab with spaces"
                .into(),
        );
    }
    if message.contains("did not find expected '-' indicator") {
        return Some(block_collection(&lines, line));
    }
    if message.contains("while parsing a flow mapping") {
        return Some("a `{ … }` mapping is not closed, or its items are not separated by `,`: check the braces before here (a `${VAR}` inside `{ … }` must be quoted)".into());
    }
    if message.contains("while parsing a flow sequence") {
        return Some("a `[ … ]` list is not closed, or its items are not separated by `,`: check the brackets before here".into());
    }
    if message.contains("unclosed quote") || message.contains("found unexpected end of stream") {
        return Some("a quoted value is not closed: add its closing quote".into());
    }
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest).trim();
        return Some(format!("`{key}` is given twice in this mapping; keep one"));
    }
    if message.contains("simple key expected ':'")
        || message.contains("could not find expected ':'")
    {
        return Some("expected `key: value`: a key needs a `:` and a space after it".into());
    }
    if let Some(c) = message.strip_prefix("unexpected character: ") {
        let c = c.trim_matches(|c| c == '`' || c == '\'');
        return Some(format!(
            "a value cannot start with `{c}` in YAML: quote it, e.g. \"{c}…\""
        ));
    }
    if message.contains("mapping values are not allowed") {
        return Some("a `:` followed by a space inside a value: quote the value, or put the nested keys on lines of their own".into());
    }
    None
}

/// "did not find expected '-' indicator": a line that is neither a key of the item above (wrong
/// indentation) nor a new item (`-` missing, or `-` without its space).
fn block_collection(lines: &[&str], line: u64) -> String {
    let here = lines
        .get((line as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("");
    let trimmed = here.trim_start();
    if trimmed.starts_with('-') && !trimmed.starts_with("- ") && trimmed != "-" {
        return format!(
            "a list item needs a space after `-`: write `- {}`",
            &trimmed[1..]
        );
    }
    let indent = here.len() - trimmed.len();
    // The list item this line would belong to: the nearest line above starting with `- `.
    let item = lines[..(line as usize).saturating_sub(1).min(lines.len())]
        .iter()
        .enumerate()
        .rev()
        .find(|(_, l)| l.trim_start().starts_with("- "));
    match item {
        Some((n, item)) => {
            let dash = item.len() - item.trim_start().len();
            format!(
                "wrong indentation: this line is indented {indent} space(s), but the keys of the list item on line {} are indented {}; indent it by {} to continue that item, or start a new item with `- `",
                n + 1,
                dash + 2,
                dash + 2
            )
        }
        None => format!(
            "wrong indentation: this line (indented {indent} space(s)) does not line up with the keys above it"
        ),
    }
}

/// The whitespace a line starts with.
fn leading(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_indented_off_its_list_item_says_where_it_belongs() {
        let text = "sources:\n  - vendor: crayon\n   page_size: 10\n";
        assert_eq!(
            explain(
                "while parsing a block collection, did not find expected '-' indicator",
                text,
                3
            )
            .unwrap(),
            "wrong indentation: this line is indented 3 space(s), but the keys of the list item on line 2 are indented 4; indent it by 4 to continue that item, or start a new item with `- `"
        );
    }

    #[test]
    fn a_dash_without_its_space_and_a_tab_are_named() {
        let text = "outputs:\n  - format: csv\n  -format: csv\n";
        assert_eq!(
            explain("did not find expected '-' indicator", text, 3).unwrap(),
            "a list item needs a space after `-`: write `- format: csv`"
        );
        let text = "sources:\n\t- vendor: c3\n";
        assert!(
            explain("anything", text, 2)
                .unwrap()
                .starts_with("a tab in the indentation")
        );
    }

    #[test]
    fn an_unknown_message_is_left_to_the_caller() {
        assert_eq!(explain("invalid type: sequence", "name: [x]\n", 1), None);
    }
}

//! Which embedding pages may send files: `?origin=<origin>[,<origin>…]` (see `embed`).
//! Plain string logic, tested natively.

/// The allow-list from the `origin` parameter's value: comma-separated, trimmed, empty
/// items dropped. `?origin=` with nothing in it allows no one.
pub fn parse_list(param: &str) -> Vec<String> {
    param
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether a message whose `event.origin` is `origin` may open files: any origin without
/// a list, else an exact, case-sensitive match (browsers give origins in lower case with
/// no trailing slash, e.g. `https://example.com:8443`). An opaque origin is the string
/// `null`; it matches only a literal `null` in the list, because every sandboxed or
/// `file://` page has that same origin.
pub fn allowed(list: Option<&[String]>, origin: &str) -> bool {
    list.is_none_or(|list| list.iter().any(|o| o == origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_matches_only() {
        let list = parse_list(" https://a.example , http://b.example:8080,,");
        assert_eq!(list, ["https://a.example", "http://b.example:8080"]);
        let l = Some(&list[..]);
        assert!(allowed(l, "https://a.example"));
        assert!(allowed(l, "http://b.example:8080"));
        for no in [
            "https://a.example/",
            "http://a.example",
            "https://a.example:443",
            "https://evil.a.example",
            "https://a.example.evil",
            "http://b.example",
            "null",
            "",
        ] {
            assert!(!allowed(l, no), "{no}");
        }
    }

    #[test]
    fn null_only_when_listed_and_no_list_allows_the_parent() {
        let list = parse_list("null");
        assert!(allowed(Some(&list), "null"));
        assert!(!allowed(Some(&list), "https://a.example"));
        assert!(allowed(None, "null"));
        assert!(allowed(None, "https://anything.example"));
        assert!(!allowed(Some(&parse_list("")), "https://a.example"));
    }
}

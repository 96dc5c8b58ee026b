//! String helpers that stand in for standard ones costing kilobytes of wasm. The standard `str` search
//! with a `&str` pattern (`find`, `split_once`, `replace`, and `contains` with a `char`, which falls back
//! to it) is a two-way searcher, and `join` is specialised for every separator length; the core only
//! looks for a few bytes in short text and joins a handful of items. Measured, on the shipped .wasm
//! gzipped: the standard `find` and `join` in their place cost 0.2 kB (0.9 kB raw) while other calls
//! still linked the searcher, and its last two callers 1.5 kB more; `debug_quoted` saves 0.4 kB.

/// The byte offset of the first `needle` in `haystack`, as `haystack.find(needle)` gives it.
pub(crate) fn find(haystack: &str, needle: &str) -> Option<usize> {
    let (haystack, needle) = (haystack.as_bytes(), needle.as_bytes());
    (0..=haystack.len().checked_sub(needle.len())?).find(|&at| haystack[at..].starts_with(needle))
}

/// `items` with `separator` between them, as `items.join(separator)` gives it.
pub(crate) fn join<S: AsRef<str>>(items: &[S], separator: &str) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(item.as_ref());
    }
    out
}

/// `text` as `{:?}` shows it, in double quotes with Rust escapes, built from the `char` escapes that
/// other messages use already: `str`'s `Debug` adds its own kilobyte of wasm.
pub(crate) fn debug_quoted(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            // The one character that `char` escapes and `str` does not.
            '\'' => out.push(c),
            _ => out.extend(c.escape_debug()),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_as_str_find_does() {
        let haystacks = [
            "",
            "a",
            "abc",
            "aab",
            "-->-->",
            "x://y://",
            "ü, ü, ",
            "录音, a",
        ];
        let needles = [
            "", "a", "b", "ab", "abc", "abcd", "-->", "://", ", ", "ü", "音",
        ];
        for haystack in haystacks {
            for needle in needles {
                assert_eq!(
                    find(haystack, needle),
                    haystack.find(needle),
                    "{haystack:?} {needle:?}"
                );
            }
        }
    }

    #[test]
    fn joins_as_slice_join_does() {
        let lists: [&[&str]; 4] = [&[], &[""], &["a"], &["a", "", "bc"]];
        for items in lists {
            for separator in ["", ",", ", ", ";"] {
                assert_eq!(join(items, separator), items.join(separator));
            }
        }
    }

    #[test]
    fn debug_quoted_matches_str_debug() {
        let texts = [
            "",
            "cn-hangzhou",
            "a b",
            "it's",
            "say \"hi\"",
            "back\\slash",
            "tab\tnew\nline\r",
            "\0\u{1}\u{7f}",
            "\u{80}\u{a0}\u{ad}",
            "e\u{301}",
            "\u{301}e",
            "\u{200b}\u{200d}\u{feff}",
            "中文/ü",
            "\u{fffd}\u{e000}\u{10ffff}",
            "👍🏽",
            "\u{1f1fa}\u{1f1f8}",
            "a\u{85}b\u{2028}c",
        ];
        for text in texts {
            assert_eq!(debug_quoted(text), format!("{text:?}"));
        }
        // Every character of the Basic Multilingual Plane and the first supplementary one, alone and after
        // a letter (where `str` escapes grapheme extenders just as `char` does).
        for c in (0..0x2_0000).filter_map(char::from_u32) {
            for text in [c.to_string(), format!("a{c}")] {
                assert_eq!(
                    debug_quoted(&text),
                    format!("{text:?}"),
                    "U+{:04X}",
                    u32::from(c)
                );
            }
        }
    }
}

//! The percent-encodings OSS uses: V4 canonical URIs and queries, and object URLs.
//!
//! Encoding is written out here rather than taken from `percent_encoding`, whose lookup table and
//! `Display` plumbing cost more wasm than these few lines; that crate only decodes (for the emulator).

/// RFC 3986 unreserved characters, which stay as they are in every encoding here.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

/// `text` with every byte that `keep` rejects written as `%XX` (upper-case hex).
fn encode(text: &str, keep: impl Fn(u8) -> bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

/// Percent-encodes `text` for a V4 canonical query item (only `A-Z a-z 0-9 - . _ ~` stay).
pub fn uri_encode(text: &str) -> String {
    encode(text, is_unreserved)
}

/// Percent-encodes a path for the V4 canonical URI (`/` stays).
pub fn uri_encode_path(path: &str) -> String {
    encode(path, |b| is_unreserved(b) || b == b'/')
}

/// Percent-encodes an object key for a request URL the way ali-oss does (`encodeURIComponent`, `/` kept).
pub fn url_encode_key(key: &str) -> String {
    encode(key, |b| is_unreserved(b) || b"/!'()*".contains(&b))
}

/// Decodes `%XX` escapes (and, when `plus_is_space`, `+` as a space, as in form-encoded queries).
/// Invalid UTF-8 after decoding is replaced, never a panic.
pub fn percent_decode(text: &str, plus_is_space: bool) -> String {
    if plus_is_space && text.as_bytes().contains(&b'+') {
        let spaced = text.replace('+', " ");
        return percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned();
    }
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_differ_where_oss_and_ali_oss_differ() {
        assert_eq!(uri_encode("a b+c/~*"), "a%20b%2Bc%2F~%2A");
        assert_eq!(
            uri_encode_path("/bucket/1234+-/123/1.txt"),
            "/bucket/1234%2B-/123/1.txt"
        );
        assert_eq!(url_encode_key("dir/a b+c(1)*.txt"), "dir/a%20b%2Bc(1)*.txt");
        assert_eq!(url_encode_key("中文/ü"), "%E4%B8%AD%E6%96%87/%C3%BC");
    }

    #[test]
    fn encodings_match_percent_encoding_sets() {
        use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
        const STRICT: &AsciiSet = &NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        const STRICT_PATH: &AsciiSet = &STRICT.remove(b'/');
        const URL_PATH: &AsciiSet = &STRICT_PATH
            .remove(b'!')
            .remove(b'\'')
            .remove(b'(')
            .remove(b')')
            .remove(b'*');
        let mut texts: Vec<String> = (0..=0x7f_u8).map(|b| char::from(b).to_string()).collect();
        texts.extend(
            [
                "",
                "中文/ü a+b",
                "\u{7f}\u{80}\u{ff}\u{10ffff}",
                "录音/a b+(1).webm",
            ]
            .map(String::from),
        );
        for text in &texts {
            assert_eq!(
                uri_encode(text),
                utf8_percent_encode(text, STRICT).to_string()
            );
            assert_eq!(
                uri_encode_path(text),
                utf8_percent_encode(text, STRICT_PATH).to_string()
            );
            assert_eq!(
                url_encode_key(text),
                utf8_percent_encode(text, URL_PATH).to_string()
            );
        }
    }

    #[test]
    fn decoding_round_trips_and_never_panics() {
        for s in ["a b+c", "中文/ü", "%", "100%"] {
            assert_eq!(percent_decode(&uri_encode(s), false), s);
        }
        assert_eq!(percent_decode("a+b%2B", true), "a b+");
        assert_eq!(percent_decode("%ff%zz", false), "\u{fffd}%zz");
    }
}

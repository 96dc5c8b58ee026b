//! Keeping secrets out of what is shown: security tokens, signatures and credential ids in URLs, error
//! messages and the hex dumps OSS echoes back.

use crate::headers::X_OSS_SECURITY_TOKEN;
use crate::strings;

/// The text shown in place of a redacted value.
pub const REDACTED: &str = "<redacted>";

/// Presigning parameters whose values are secret or name the credential: signatures, tokens, key ids.
const SECRET_QUERY_PARAMS: [&str; 6] = [
    "OSSAccessKeyId",
    "Signature",
    "security-token",
    "x-oss-credential",
    X_OSS_SECURITY_TOKEN,
    "x-oss-signature",
];

/// `text` (a URL, or a message that quotes one) with the value of every secret presigning parameter
/// (`Signature`, `OSSAccessKeyId`, `security-token`, `x-oss-signature`, `x-oss-credential`,
/// `x-oss-security-token`) replaced by [`REDACTED`], so that no signature, credential or token is shown;
/// the date and expiry stay readable. A parameter counts when it follows `?` or `&`; names compare case-insensitively, also when
/// the `=` is percent-encoded.
pub fn redact_query_auth(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'?' && b[i] != b'&' {
            i += 1;
            continue;
        }
        let name_start = i + 1;
        let value_start = SECRET_QUERY_PARAMS.iter().find_map(|name| {
            let rest = lower[name_start..].strip_prefix(&name.to_ascii_lowercase())?;
            if rest.starts_with('=') {
                Some(name_start + name.len() + 1)
            } else if rest.starts_with("%3d") {
                Some(name_start + name.len() + 3)
            } else {
                None
            }
        });
        let Some(start) = value_start else {
            i += 1;
            continue;
        };
        let mut end = start;
        while end < b.len()
            && !matches!(b[end], b'&' | b'#' | b'"' | b'\'' | b'<' | b'>')
            && !b[end].is_ascii_whitespace()
        {
            end += 1;
        }
        out.push_str(&text[copied..start]);
        if end > start {
            out.push_str(REDACTED);
        }
        copied = end;
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Replaces the values of security tokens and presigned signatures in `text` with `<redacted>`.
///
/// Covers the forms OSS echoes back in `StringToSign`, `CanonicalRequest` and messages:
/// `x-oss-security-token:<token>` header lines, `security-token=<token>` and
/// `x-oss-security-token=<token>` query pairs, `Signature=` / `x-oss-signature=` query pairs,
/// percent-encoded separators and JSON-style quoting, all matched case-insensitively; and the same
/// inside hex dumps such as `StringToSignBytes`, which are decoded, redacted and re-encoded.
pub(crate) fn redact(text: &str) -> String {
    redact_hex_dumps(&redact_query_auth(&redact_text(text)))
}

fn redact_text(text: &str) -> String {
    const KEYS: [&str; 2] = ["security-token", "signature"];
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = 0;
    while at < bytes.len() {
        let Some((key_start, key)) = KEYS
            .iter()
            .filter_map(|k| strings::find(&lower[at..], k).map(|i| (at + i, *k)))
            .min_by_key(|(i, _)| *i)
        else {
            break;
        };
        let after_key = key_start + key.len();
        match secret_value_span(&lower, after_key) {
            Some((start, end)) if end > start => {
                out.push_str(&text[copied..start]);
                out.push_str(REDACTED);
                copied = end;
                at = end;
            }
            _ => at = after_key,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Where the value after a key at `from` lies, if a `:` or `=` separator follows the key.
fn secret_value_span(lower: &str, from: usize) -> Option<(usize, usize)> {
    let b = lower.as_bytes();
    let mut i = from;
    let skip_spaces = |mut i: usize| {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        i
    };
    if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
        i += 1;
    }
    i = skip_spaces(i);
    if i < b.len() && (b[i] == b':' || b[i] == b'=') {
        i += 1;
    } else if lower[i..].starts_with("%3d") || lower[i..].starts_with("%3a") {
        i += 3;
    } else {
        return None;
    }
    i = skip_spaces(i);
    if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
        i += 1;
    }
    let start = i;
    while i < b.len() && !is_value_end(b[i]) {
        i += 1;
    }
    Some((start, i))
}

fn is_value_end(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(
            b,
            b'&' | b'"' | b'\'' | b'<' | b'>' | b',' | b';' | b')' | b'}' | b']'
        )
}

/// Redacts secrets inside hex dumps such as `StringToSignBytes` (`50 4F 53 54 0A ...`): each run of
/// two-digit hex words is decoded, redacted as text, and re-encoded when it held a secret.
fn redact_hex_dumps(text: &str) -> String {
    let b = text.as_bytes();
    let is_pair_at = |i: usize| {
        i + 2 <= b.len()
            && b[i].is_ascii_hexdigit()
            && b[i + 1].is_ascii_hexdigit()
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && (i + 2 == b.len() || !b[i + 2].is_ascii_alphanumeric())
    };
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if !is_pair_at(i) {
            i += 1;
            continue;
        }
        // A run: pairs separated by ASCII whitespace.
        let start = i;
        let mut end;
        let mut bytes = Vec::new();
        loop {
            bytes.push(hex_value(b[i]) << 4 | hex_value(b[i + 1]));
            end = i + 2;
            let mut j = end;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if j > end && is_pair_at(j) {
                i = j;
            } else {
                break;
            }
        }
        let decoded = String::from_utf8_lossy(&bytes);
        let redacted = redact_text(&decoded);
        if redacted != decoded {
            out.push_str(&text[copied..start]);
            let hex: Vec<String> = redacted.bytes().map(|x| format!("{x:02X}")).collect();
            out.push_str(&strings::join(&hex, " "));
            copied = end;
        }
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> String {
        text.bytes()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn tokens_and_signatures_are_redacted_in_every_form_and_nothing_else() {
        let cases = [
            (
                "x-oss-security-token:abc\nnext",
                "x-oss-security-token:<redacted>\nnext",
            ),
            (
                "/b/k?security-token=abc%2B&x=1",
                "/b/k?security-token=<redacted>&x=1",
            ),
            (
                "?Signature=a%2Bb&Expires=1&OSSAccessKeyId=id",
                "?Signature=<redacted>&Expires=1&OSSAccessKeyId=<redacted>",
            ),
            ("&x-oss-signature=0a1b2c", "&x-oss-signature=<redacted>"),
            (
                "{\"SecurityToken\":1,\"x-oss-security-token\": \"abc\"}",
                "{\"SecurityToken\":1,\"x-oss-security-token\": \"<redacted>\"}",
            ),
            (
                "u?security-token%3Dabc&y",
                "u?security-token%3D<redacted>&y",
            ),
            (
                "Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=ff00",
                "Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=<redacted>",
            ),
            (
                "The request signature we calculated does not match the signature you provided.",
                "The request signature we calculated does not match the signature you provided.",
            ),
            (
                "x-oss-signature-version=OSS4-HMAC-SHA256",
                "x-oss-signature-version=OSS4-HMAC-SHA256",
            ),
            ("security-token=", "security-token="),
            ("SecurityTokenExpired", "SecurityTokenExpired"),
            (
                "héllo security-token=ün&x",
                "héllo security-token=<redacted>&x",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "{input}");
            assert_eq!(redact(want), want, "idempotent: {want}");
        }
        let dump = format!("<B>{} 0A 41</B> 4 4F", hex("x-oss-security-token:abc"));
        assert_eq!(
            redact(&dump),
            format!(
                "<B>{} 0A 41</B> 4 4F",
                hex("x-oss-security-token:<redacted>")
            )
        );
        let harmless = "EC 00 26 ff 0A";
        assert_eq!(redact(harmless), harmless);
    }
}

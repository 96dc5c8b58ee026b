//! OSS signature V4 (`OSS4-HMAC-SHA256`): canonical request, dated regional scope and derived signing key.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::encode::{uri_encode, uri_encode_path};
use crate::headers::X_OSS_CONTENT_SHA256;
use crate::http::Request;
use crate::sort::sort_small;
use crate::strings::join;

/// The algorithm name that opens the string to sign, the `Authorization` header and presigned URLs.
pub const ALGORITHM: &str = "OSS4-HMAC-SHA256";

/// The hashed-payload value sent in `x-oss-content-sha256` when the body is not hashed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The last element of every V4 scope.
const TERMINATOR: &str = "aliyun_v4_request";

/// Whether a lower-cased header name is always signed: `content-type`, `content-md5` and every `x-oss-*`.
fn is_default_signed(lower_name: &str) -> bool {
    lower_name == "content-type" || lower_name == "content-md5" || lower_name.starts_with("x-oss-")
}

/// The additional headers to sign: `requested` lower-cased, de-duplicated and sorted, without the
/// default-signed ones, and only those present in `req` (a missing header is dropped, as the v2 SDKs do).
pub fn effective_additional_headers(req: &Request, requested: &[String]) -> Vec<String> {
    let mut names: Vec<String> = requested
        .iter()
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty() && !is_default_signed(name) && req.headers.contains(name))
        .collect();
    sort_small(&mut names, |a, b| a < b);
    names.dedup();
    names
}

/// The canonical URI: `/bucket/key` strictly percent-encoded with `/` kept, whatever the host style.
///
/// A bucket without a key gives `/bucket/`, neither gives `/`.
fn canonical_uri(req: &Request) -> String {
    let mut path = String::from("/");
    if let Some(bucket) = &req.bucket {
        path.push_str(bucket);
        path.push('/');
    }
    if let Some(key) = &req.key {
        path.push_str(key);
    }
    uri_encode_path(&path)
}

/// The canonical query: every pair except `x-oss-signature`, both sides strictly percent-encoded,
/// sorted by encoded name then value, `k` alone when the value is empty.
fn canonical_query(req: &Request) -> String {
    let mut items: Vec<(String, String)> = req
        .query
        .iter()
        .filter(|(k, _)| k != "x-oss-signature")
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    sort_small(&mut items, |a, b| a < b);
    let mut out = String::new();
    for (k, v) in items {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&k);
        if !v.is_empty() {
            out.push('=');
            out.push_str(&v);
        }
    }
    out
}

/// The canonical headers: default-signed ones plus `additional`, lower-cased, sorted, each
/// `name:value\n` with trimmed values (several values of one name joined with `,`).
fn canonical_headers(req: &Request, additional: &[String]) -> String {
    super::canonical_headers(req, |name| {
        is_default_signed(name) || additional.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// The V4 canonical request for `req` as it stands (after the signer added its headers or query):
/// `METHOD\nURI\nQUERY\nHEADERS\nADDITIONAL\nPAYLOAD`, where HEADERS already ends in `\n`.
///
/// `additional_headers` is used as given (lower-case names, sorted), so a verifier can pass the list it
/// read from the request; a signer passes [`effective_additional_headers`]. The hashed payload is the
/// `x-oss-content-sha256` header, else `UNSIGNED-PAYLOAD`.
pub fn canonical_request(req: &Request, additional_headers: &[String]) -> String {
    let payload = req
        .headers
        .get(X_OSS_CONTENT_SHA256)
        .filter(|v| !v.is_empty())
        .unwrap_or(UNSIGNED_PAYLOAD);
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.as_str(),
        canonical_uri(req),
        canonical_query(req),
        canonical_headers(req, additional_headers),
        join(additional_headers, ";"),
        payload
    )
}

/// The credential scope: `<yyyymmdd>/<region>/<product>/aliyun_v4_request`.
pub fn scope(date_stamp: &str, region: &str, product: &str) -> String {
    format!("{date_stamp}/{region}/{product}/{TERMINATOR}")
}

/// The string to sign: `OSS4-HMAC-SHA256\n<iso datetime>\n<scope>\n<hex sha256(canonical request)>`.
pub fn string_to_sign(iso_datetime: &str, scope: &str, canonical_request: &str) -> String {
    let hash = Sha256::digest(canonical_request.as_bytes());
    format!("{ALGORITHM}\n{iso_datetime}\n{scope}\n{}", hex(&hash))
}

/// The signing key: HMAC-SHA256 chained over date, region, product and `aliyun_v4_request`, starting
/// from `aliyun_v4` + secret.
pub fn signing_key(secret: &str, date_stamp: &str, region: &str, product: &str) -> [u8; 32] {
    let mut key = hmac_sha256(
        format!("aliyun_v4{secret}").as_bytes(),
        date_stamp.as_bytes(),
    );
    for part in [region, product, TERMINATOR] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    key
}

/// The signature: lower-case hex of HMAC-SHA256(signing key, string to sign).
pub fn signature(key: &[u8; 32], string_to_sign: &str) -> String {
    hex(&hmac_sha256(key, string_to_sign.as_bytes()))
}

/// The `Authorization` header value:
/// `OSS4-HMAC-SHA256 Credential=<ak>/<scope>[,AdditionalHeaders=a;b],Signature=<hex>`.
pub fn authorization(
    access_key_id: &str,
    scope: &str,
    additional_headers: &[String],
    signature: &str,
) -> String {
    let mut out = format!("{ALGORITHM} Credential={access_key_id}/{scope}");
    if !additional_headers.is_empty() {
        out.push_str(",AdditionalHeaders=");
        out.push_str(&join(additional_headers, ";"));
    }
    out.push_str(",Signature=");
    out.push_str(signature);
    out
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn names(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn an_append_canonical_request_encodes_the_key_and_signs_only_oss_headers() {
        let mut req = Request::new(Method::Post, Some("bucket"), Some("录音/a b+(1).webm"));
        req.query = vec![
            ("position".into(), "0".into()),
            ("append".into(), String::new()),
        ];
        req.headers.set("Content-Type", "video/webm");
        req.headers.set("x-oss-date", "20231216T162057Z");
        req.headers.set("Content-Length", "3");
        assert_eq!(
            canonical_request(&req, &[]),
            "POST\n/bucket/%E5%BD%95%E9%9F%B3/a%20b%2B%281%29.webm\nappend&position=0\n\
             content-type:video/webm\nx-oss-date:20231216T162057Z\n\n\nUNSIGNED-PAYLOAD"
        );
    }

    #[test]
    fn the_canonical_uri_is_the_bucket_or_the_root() {
        let mut req = Request::new(Method::Get, Some("b"), None);
        assert_eq!(canonical_uri(&req), "/b/");
        req.bucket = None;
        assert_eq!(canonical_uri(&req), "/");
    }

    #[test]
    fn canonical_query_skips_only_the_signature() {
        let mut req = Request::new(Method::Get, Some("b"), Some("k"));
        req.query = vec![
            ("x-oss-signature".into(), "abc".into()),
            ("x-oss-expires".into(), "60".into()),
            ("a b".into(), "c/d".into()),
        ];
        assert_eq!(canonical_query(&req), "a%20b=c%2Fd&x-oss-expires=60");
    }

    #[test]
    fn additional_headers_are_normalised() {
        let mut req = Request::new(Method::Put, Some("b"), Some("k"));
        req.headers.set("Host", "b.example.com");
        req.headers.set("ZAbc", "v");
        req.headers.set("x-oss-meta-a", "v");
        let got = effective_additional_headers(
            &req,
            &names(&[
                "zabc",
                "HOST",
                "ZAbc",
                "x-oss-meta-a",
                "Content-Type",
                "missing",
            ]),
        );
        assert_eq!(got, names(&["host", "zabc"]));
    }

    #[test]
    fn payload_hash_comes_from_the_header() {
        let mut req = Request::new(Method::Put, Some("b"), Some("k"));
        req.headers.set("x-oss-content-sha256", "abcd");
        assert!(canonical_request(&req, &[]).ends_with("\n\nabcd"));
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // RFC 4231 test case 2.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_v4_authorization_header_lists_credential_headers_and_signature() {
        assert_eq!(
            authorization("ak", "d/r/oss/aliyun_v4_request", &names(&["a", "b"]), "ff"),
            "OSS4-HMAC-SHA256 Credential=ak/d/r/oss/aliyun_v4_request,AdditionalHeaders=a;b,Signature=ff"
        );
    }
}

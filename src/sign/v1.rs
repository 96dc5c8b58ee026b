//! OSS signature V1: the HMAC-SHA1 string to sign over method, content headers, date, `x-oss-*` headers and resource.

use crate::headers::{CONTENT_MD5, CONTENT_TYPE};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use crate::http::Request;
use crate::sort::sort_small;

/// Query parameters that OSS signs as sub-resources in V1.
///
/// The union of the Go v2 SDK's fixed list (`oss/signer/v1.go`) and the Go v1 SDK's `signKeyList`, which
/// holds the operation-specific names (such as `resourceGroup`) that Go v2 passes per call. The server is
/// the union's audience: the emulator verifies with the same list the client signs with.
const SIGNED_SUBRESOURCES: &[&str] = &[
    "acl",
    "append",
    "asyncFetch",
    "bucketInfo",
    "callback",
    "callback-var",
    "cloudboxes",
    "cname",
    "comp",
    "continuation-token",
    "cors",
    "delete",
    "encryption",
    "endTime",
    "img",
    "inventory",
    "inventoryId",
    "lifecycle",
    "live",
    "location",
    "logging",
    "metaQuery",
    "objectMeta",
    "partNumber",
    "policy",
    "position",
    "qos",
    "qosInfo",
    "referer",
    "regionList",
    "replication",
    "replicationLocation",
    "replicationProgress",
    "requestPayment",
    "resourceGroup",
    "responseHeader",
    "restore",
    "rtc",
    "security-token",
    "sequential",
    "startTime",
    "stat",
    "status",
    "style",
    "styleName",
    "symlink",
    "tagging",
    "transferAcceleration",
    "udf",
    "udfApplication",
    "udfApplicationLog",
    "udfId",
    "udfImage",
    "udfImageDesc",
    "udfName",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "vod",
    "website",
    "withHashContext",
    "worm",
    "wormExtend",
    "wormId",
];

/// Whether query parameter `name` is part of the V1 canonicalized resource.
///
/// True for the fixed sub-resource list (`append`, `position`, `acl`, `uploadId`, `security-token`,
/// `versionId`, ...), for every `x-oss-*` parameter and for every `response-*` override. Names are
/// case-sensitive, as on the server.
pub fn is_signed_subresource(name: &str) -> bool {
    name.starts_with("x-oss-")
        || name.starts_with("response-")
        || SIGNED_SUBRESOURCES.contains(&name)
}

/// The V1 canonicalized resource: `/bucket/key` with the raw (not percent-encoded) key, then `?` and the
/// signed sub-resources sorted by name, each `k` or `k=v` with the decoded value.
///
/// A bucket without a key gives `/bucket/`, neither gives `/`. A repeated parameter is signed once, with
/// its first value. A value such as `0` is never dropped (`?append&position=0`).
pub fn canonicalized_resource(
    bucket: Option<&str>,
    key: Option<&str>,
    query: &[(String, String)],
) -> String {
    let mut resource = String::from("/");
    if let Some(bucket) = bucket {
        resource.push_str(bucket);
        resource.push('/');
    }
    if let Some(key) = key {
        resource.push_str(key);
    }
    let mut signed: Vec<(&str, &str)> = Vec::new();
    for (k, v) in query {
        if is_signed_subresource(k) && !signed.iter().any(|(seen, _)| seen == k) {
            signed.push((k, v));
        }
    }
    sort_small(&mut signed, |a, b| a.0 < b.0);
    for (i, (k, v)) in signed.iter().enumerate() {
        resource.push(if i == 0 { '?' } else { '&' });
        resource.push_str(k);
        if !v.is_empty() {
            resource.push('=');
            resource.push_str(v);
        }
    }
    resource
}

/// The canonicalized OSS headers: every `x-oss-*` header, lower-cased and sorted, as `name:value\n`.
///
/// Values are trimmed; several values of one name are joined with `,`.
fn canonicalized_oss_headers(req: &Request) -> String {
    super::canonical_headers(req, |name| name.starts_with("x-oss-"))
}

/// The V1 string to sign for `req`:
/// `VERB\nContent-MD5\nContent-Type\n<date slot>\n<x-oss-* headers><resource>`.
///
/// `date_slot` is the `x-oss-date` value for header signatures (browsers cannot set `Date`) and the
/// `Expires` unix seconds for presigned URLs.
pub fn string_to_sign(req: &Request, date_slot: &str) -> String {
    let mut out = String::new();
    out.push_str(req.method.as_str());
    out.push('\n');
    out.push_str(req.headers.get(CONTENT_MD5).unwrap_or(""));
    out.push('\n');
    out.push_str(req.headers.get(CONTENT_TYPE).unwrap_or(""));
    out.push('\n');
    out.push_str(date_slot);
    out.push('\n');
    out.push_str(&canonicalized_oss_headers(req));
    out.push_str(&canonicalized_resource(
        req.bucket.as_deref(),
        req.key.as_deref(),
        &req.query,
    ));
    out
}

/// The V1 signature: base64 of HMAC-SHA1 keyed by the AccessKey secret.
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64(&mac.finalize().into_bytes())
}

/// Standard base64 with padding. Written out because the base64 crate's encoder checks its own output
/// as UTF-8 and carries that error's `Debug` into the wasm: measured, the crate's `STANDARD.encode` made
/// the shipped .wasm 1.4 kB larger gzipped (4.4 kB raw), although its decoder is linked anyway.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let bits = chunk
            .iter()
            .enumerate()
            .fold(0u32, |bits, (i, &b)| bits | u32::from(b) << (16 - 8 * i));
        // A chunk of n bytes fills n + 1 of its four characters; `=` pads the rest.
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(ALPHABET[(bits >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

/// The V1 `Authorization` header value: `OSS <access key id>:<signature>`.
pub fn authorization(access_key_id: &str, signature: &str) -> String {
    format!("OSS {access_key_id}:{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn append_resource_keeps_position_zero() {
        let query = pairs(&[("append", ""), ("position", "0")]);
        assert_eq!(
            canonicalized_resource(Some("bucket"), Some("key"), &query),
            "/bucket/key?append&position=0"
        );
        // Order on the wire does not matter; the resource is sorted.
        let query = pairs(&[("position", "0"), ("append", "")]);
        assert_eq!(
            canonicalized_resource(Some("bucket"), Some("dir/a.webm"), &query),
            "/bucket/dir/a.webm?append&position=0"
        );
    }

    #[test]
    fn resource_uses_the_raw_key() {
        let query = pairs(&[("append", ""), ("position", "12")]);
        assert_eq!(
            canonicalized_resource(Some("b"), Some("录音/ü a+b%20.webm"), &query),
            "/b/录音/ü a+b%20.webm?append&position=12"
        );
    }

    #[test]
    fn resource_shapes_without_key_or_bucket() {
        assert_eq!(canonicalized_resource(Some("b"), None, &[]), "/b/");
        assert_eq!(canonicalized_resource(None, None, &[]), "/");
    }

    #[test]
    fn only_signed_subresources_are_kept_once_each() {
        let query = pairs(&[
            ("max-keys", "10"),
            ("x-oss-process", "image/resize,w_100"),
            ("response-content-type", "text/plain"),
            ("versionId", "v1"),
            ("versionId", "v2"),
            ("Append", ""),
        ]);
        assert_eq!(
            canonicalized_resource(Some("b"), Some("k"), &query),
            "/b/k?response-content-type=text/plain&versionId=v1&x-oss-process=image/resize,w_100"
        );
        assert!(is_signed_subresource("security-token"));
        assert!(is_signed_subresource("resourceGroup"));
        assert!(!is_signed_subresource("Expires"));
        assert!(!is_signed_subresource("OSSAccessKeyId"));
        assert!(!is_signed_subresource("Signature"));
    }

    #[test]
    fn string_to_sign_for_an_append() {
        let mut req = Request::new(Method::Post, Some("bucket"), Some("rec/a.webm"));
        req.query = pairs(&[("append", ""), ("position", "0")]);
        req.headers.set("Content-Type", "video/webm");
        req.headers
            .set("X-OSS-Date", "Sat, 16 Dec 2023 16:20:57 GMT");
        req.headers.set("x-oss-meta-a", "  spaced  ");
        assert_eq!(
            string_to_sign(&req, "Sat, 16 Dec 2023 16:20:57 GMT"),
            "POST\n\nvideo/webm\nSat, 16 Dec 2023 16:20:57 GMT\n\
             x-oss-date:Sat, 16 Dec 2023 16:20:57 GMT\nx-oss-meta-a:spaced\n\
             /bucket/rec/a.webm?append&position=0"
        );
    }

    #[test]
    fn signature_is_base64_hmac_sha1() {
        // RFC 2202 test case 2.
        assert_eq!(
            signature("Jefe", "what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
        assert_eq!(authorization("ak", "sig="), "OSS ak:sig=");
    }

    #[test]
    fn base64_matches_the_base64_crate() {
        use base64::Engine as _;
        let bytes: Vec<u8> = (0..=255).rev().collect();
        for len in 0..=bytes.len() {
            let input = &bytes[..len];
            assert_eq!(
                base64(input),
                base64::engine::general_purpose::STANDARD.encode(input),
                "{len}"
            );
        }
    }
}

//! Request signing for OSS: V1 (HMAC-SHA1) and V4 (OSS4-HMAC-SHA256), in headers or presigned queries.

/// Which OSS signature algorithm to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigningVersion {
    /// `OSS ak:signature` with HMAC-SHA1.
    V1,
    /// `OSS4-HMAC-SHA256` with a dated, regional scope.
    V4,
}

/// Everything besides the request, the credentials and the time that a signature depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningConfig {
    /// The algorithm.
    pub version: SigningVersion,
    /// The bare region id for the V4 scope (`cn-hangzhou`, or the CloudBox id); unused by V1.
    pub region: String,
    /// The V4 scope product: `oss`, or `oss-cloudbox` for CloudBox.
    pub product: String,
    /// Extra header names to include in a V4 signature (`AdditionalHeaders`).
    pub additional_headers: Vec<String>,
}

pub mod v1;
pub mod v4;

use crate::credentials::Credentials;
use crate::error::Error;
use crate::request::Request;
use crate::strings::join;
use crate::time::SigningTime;

/// The longest lifetime of a V4 presigned URL that OSS accepts: seven days, in seconds.
pub const V4_MAX_EXPIRES_SECONDS: u64 = 604_800;

/// Query parameters a V1 presigned URL carries; replaced on every presign.
const V1_QUERY_AUTH: [&str; 4] = ["OSSAccessKeyId", "Expires", "Signature", "security-token"];

/// Query parameters a V4 presigned URL carries; replaced on every presign.
const V4_QUERY_AUTH: [&str; 7] = [
    "x-oss-additional-headers",
    "x-oss-credential",
    "x-oss-date",
    "x-oss-expires",
    "x-oss-security-token",
    "x-oss-signature",
    "x-oss-signature-version",
];

/// Signs `req` in its headers for `time`.
///
/// Sets `x-oss-date` (V1: RFC 1123, used as the date slot because browsers cannot set `Date`; V4: ISO
/// 8601 basic), for V4 `x-oss-content-sha256: UNSIGNED-PAYLOAD` unless the caller set it,
/// `x-oss-security-token` for STS credentials, then `Authorization`. Earlier values of these headers
/// are replaced, so a retried request is simply signed again with a fresh time and fresh credentials.
///
/// # Errors
/// `InvalidArgument` naming `region` (or `product`) when V4 has no usable scope; `req` is then left
/// untouched.
pub fn sign_request(
    req: &mut Request,
    creds: &Credentials,
    time: SigningTime,
    cfg: &SigningConfig,
) -> Result<(), Error> {
    match cfg.version {
        SigningVersion::V1 => {
            let date = time.http_date();
            set_auth_headers(req, creds, "x-oss-date", &date);
            let string_to_sign = v1::string_to_sign(req, &date);
            let signature = v1::signature(creds.access_key_secret(), &string_to_sign);
            req.headers.set(
                "Authorization",
                v1::authorization(creds.access_key_id(), &signature),
            );
        }
        SigningVersion::V4 => {
            let (region, product) = v4_scope_parts(cfg)?;
            let datetime = time.iso8601_basic();
            let date_stamp = time.date_stamp();
            set_auth_headers(req, creds, "x-oss-date", &datetime);
            req.headers
                .set_default("x-oss-content-sha256", v4::UNSIGNED_PAYLOAD);
            let additional = v4::effective_additional_headers(req, &cfg.additional_headers);
            let scope = v4::scope(&date_stamp, region, product);
            let string_to_sign =
                v4::string_to_sign(&datetime, &scope, &v4::canonical_request(req, &additional));
            let key = v4::signing_key(creds.access_key_secret(), &date_stamp, region, product);
            let signature = v4::signature(&key, &string_to_sign);
            req.headers.set(
                "Authorization",
                v4::authorization(creds.access_key_id(), &scope, &additional, &signature),
            );
        }
    }
    Ok(())
}

/// Signs `req` in its query (a presigned URL) valid for `expires_seconds` after `time`.
///
/// V1 adds `security-token` for STS credentials (signed as a sub-resource), then `Expires` (unix
/// seconds of `time + expires_seconds`, also the date slot), `OSSAccessKeyId` and `Signature`; the
/// headers `Content-Type`, `Content-MD5` and `x-oss-*` are signed and must be sent as they are.
/// V4 adds, in sorted order, `x-oss-additional-headers` (when any), `x-oss-credential`, `x-oss-date`,
/// `x-oss-expires`, `x-oss-security-token` (STS) and `x-oss-signature-version`, then `x-oss-signature`.
/// Earlier values of these parameters are replaced. Headers are not changed.
///
/// # Errors
/// `InvalidArgument` naming `expires` when V4 is asked for more than [`V4_MAX_EXPIRES_SECONDS`] or the
/// V1 expiry is not representable, and naming `region` (or `product`) when V4 has no usable scope;
/// `req` is then left untouched.
pub fn presign_request(
    req: &mut Request,
    creds: &Credentials,
    time: SigningTime,
    expires_seconds: u64,
    cfg: &SigningConfig,
) -> Result<(), Error> {
    match cfg.version {
        SigningVersion::V1 => {
            let expires_at = i64::try_from(expires_seconds)
                .ok()
                .and_then(|secs| time.unix_seconds().checked_add(secs))
                .ok_or_else(|| {
                    Error::invalid(
                        "expires",
                        format!("{expires_seconds} seconds is too far in the future"),
                    )
                })?;
            req.query
                .retain(|(k, _)| !V1_QUERY_AUTH.contains(&k.as_str()));
            if let Some(token) = creds.security_token() {
                push(req, "security-token", token);
            }
            let date = expires_at.to_string();
            let string_to_sign = v1::string_to_sign(req, &date);
            let signature = v1::signature(creds.access_key_secret(), &string_to_sign);
            push(req, "Expires", &date);
            push(req, "OSSAccessKeyId", creds.access_key_id());
            push(req, "Signature", &signature);
        }
        SigningVersion::V4 => {
            if expires_seconds > V4_MAX_EXPIRES_SECONDS {
                return Err(Error::invalid(
                    "expires",
                    format!(
                        "{expires_seconds} seconds is longer than a V4 presigned URL may last; at most \
                         {V4_MAX_EXPIRES_SECONDS} seconds (7 days) is accepted"
                    ),
                ));
            }
            let (region, product) = v4_scope_parts(cfg)?;
            let datetime = time.iso8601_basic();
            let date_stamp = time.date_stamp();
            let scope = v4::scope(&date_stamp, region, product);
            req.query
                .retain(|(k, _)| !V4_QUERY_AUTH.contains(&k.as_str()));
            let additional = v4::effective_additional_headers(req, &cfg.additional_headers);
            // Pushed in sorted order so that the URL reads like the canonical query.
            if !additional.is_empty() {
                push(req, "x-oss-additional-headers", &join(&additional, ";"));
            }
            push(
                req,
                "x-oss-credential",
                &format!("{}/{scope}", creds.access_key_id()),
            );
            push(req, "x-oss-date", &datetime);
            push(req, "x-oss-expires", &expires_seconds.to_string());
            if let Some(token) = creds.security_token() {
                push(req, "x-oss-security-token", token);
            }
            push(req, "x-oss-signature-version", v4::ALGORITHM);
            let string_to_sign =
                v4::string_to_sign(&datetime, &scope, &v4::canonical_request(req, &additional));
            let key = v4::signing_key(creds.access_key_secret(), &date_stamp, region, product);
            push(
                req,
                "x-oss-signature",
                &v4::signature(&key, &string_to_sign),
            );
        }
    }
    Ok(())
}

/// Replaces the date, token and `Authorization` headers of an earlier signature.
/// The headers `include` selects (given lower-cased names), lower-cased and sorted, each `name:value\n` with
/// trimmed values; several values of one name are joined with `,`. V1 and V4 differ only in the selection.
fn canonical_headers(req: &Request, include: impl Fn(&str) -> bool) -> String {
    let mut headers: Vec<(String, Vec<&str>)> = Vec::new();
    for (name, value) in req.headers.iter() {
        let name = name.to_ascii_lowercase();
        if !include(&name) {
            continue;
        }
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value.trim()),
            None => headers.push((name, vec![value.trim()])),
        }
    }
    sort_small(&mut headers, |a, b| a.0 < b.0);
    let mut out = String::new();
    for (name, values) in headers {
        out.push_str(&name);
        out.push(':');
        out.push_str(&join(&values, ","));
        out.push('\n');
    }
    out
}

/// Sorts the few headers or query items a signature covers. An insertion sort: on tens of items it is as
/// fast as the standard sorts and a fraction of their size in wasm.
fn sort_small<T>(items: &mut [T], less: impl Fn(&T, &T) -> bool) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && less(&items[j], &items[j - 1]) {
            items.swap(j, j - 1);
            j -= 1;
        }
    }
}

fn set_auth_headers(req: &mut Request, creds: &Credentials, date_header: &str, date: &str) {
    req.headers.remove("Authorization");
    req.headers.set(date_header, date);
    match creds.security_token() {
        Some(token) => req.headers.set("x-oss-security-token", token),
        // A token left from earlier STS credentials would be signed and rejected.
        None => {
            req.headers.remove("x-oss-security-token");
        }
    }
}

fn push(req: &mut Request, name: &str, value: &str) {
    req.query.push((name.to_owned(), value.to_owned()));
}

/// The region and product of the V4 scope, checked; an `oss-` prefix on the region is dropped as
/// ali-oss does (`oss-cn-hangzhou` signs as `cn-hangzhou`) and an empty product means `oss`.
fn v4_scope_parts(cfg: &SigningConfig) -> Result<(&str, &str), Error> {
    let region = cfg.region.trim();
    let region = region.strip_prefix("oss-").unwrap_or(region);
    if region.is_empty() {
        return Err(Error::invalid(
            "region",
            "V4 signing needs the bucket's region id, such as cn-hangzhou; set region, or sign with V1 \
             (authorizationV4: false)",
        ));
    }
    if !is_scope_part(region) {
        return Err(Error::invalid(
            "region",
            format!(
                "{} is not a region id; pass one such as cn-hangzhou",
                debug_quoted(region)
            ),
        ));
    }
    let product = match cfg.product.trim() {
        "" => "oss",
        p => p,
    };
    if !is_scope_part(product) {
        return Err(Error::invalid(
            "product",
            format!(
                "{} is not a V4 scope product; pass oss, or oss-cloudbox for CloudBox",
                debug_quoted(product)
            ),
        ));
    }
    Ok((region, product))
}

/// `text` as `{:?}` shows it, in double quotes with Rust escapes, built from the `char` escapes that
/// other messages use already: `str`'s `Debug` adds its own kilobyte of wasm.
fn debug_quoted(text: &str) -> String {
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

/// Whether `text` can sit between the `/` of a scope: printable ASCII without `/` or spaces.
fn is_scope_part(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_graphic() && b != b'/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Method;

    const SECRET: &str = "very-secret-sk";
    const TOKEN: &str = "sts-token-value";

    fn creds(token: Option<&str>) -> Credentials {
        Credentials::new("ak", SECRET, token).unwrap()
    }

    fn config(version: SigningVersion) -> SigningConfig {
        SigningConfig {
            version,
            region: "cn-hangzhou".into(),
            product: "oss".into(),
            additional_headers: Vec::new(),
        }
    }

    fn append_request() -> Request {
        let mut req = Request::new(Method::Post, Some("bucket"), Some("rec/a.webm"));
        req.query = vec![
            ("append".into(), String::new()),
            ("position".into(), "0".into()),
        ];
        req.headers.set("Content-Type", "video/webm");
        req
    }

    const T0: SigningTime = SigningTime::from_unix_seconds(1_702_743_657);

    #[test]
    fn v1_append_signs_position_zero() {
        let mut req = append_request();
        sign_request(&mut req, &creds(None), T0, &config(SigningVersion::V1)).unwrap();
        let date = "Sat, 16 Dec 2023 16:20:57 GMT";
        assert_eq!(req.headers.get("x-oss-date"), Some(date));
        let expected = format!(
            "POST\n\nvideo/webm\n{date}\nx-oss-date:{date}\n/bucket/rec/a.webm?append&position=0"
        );
        assert_eq!(v1::string_to_sign(&req, date), expected);
        assert_eq!(
            req.headers.get("authorization").unwrap(),
            format!("OSS ak:{}", v1::signature(SECRET, &expected))
        );
    }

    #[test]
    fn v1_resource_keeps_raw_non_ascii_key() {
        let mut req = append_request();
        req.key = Some("录音/ü.webm".into());
        sign_request(&mut req, &creds(None), T0, &config(SigningVersion::V1)).unwrap();
        assert!(v1::string_to_sign(&req, "d").ends_with("\n/bucket/录音/ü.webm?append&position=0"));
    }

    #[test]
    fn resigning_replaces_every_auth_header() {
        for version in [SigningVersion::V1, SigningVersion::V4] {
            let cfg = config(version);
            let mut req = append_request();
            sign_request(&mut req, &creds(Some(TOKEN)), T0, &cfg).unwrap();
            let first = req.headers.get("authorization").unwrap().to_owned();

            let later = T0.plus_seconds(90);
            sign_request(&mut req, &creds(None), later, &cfg).unwrap();
            let mut fresh = append_request();
            sign_request(&mut fresh, &creds(None), later, &cfg).unwrap();
            // Same headers and values as a first signature; only their order may differ.
            let sorted = |r: &Request| {
                let mut h: Vec<(String, String)> = r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
                    .collect();
                h.sort();
                h
            };
            assert_eq!(sorted(&req), sorted(&fresh), "{version:?}");
            assert_eq!(req.query, fresh.query);
            assert_ne!(req.headers.get("authorization"), Some(first.as_str()));
            assert!(!req.headers.contains("x-oss-security-token"));
            let auths = req
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                .count();
            assert_eq!(auths, 1);
        }
    }

    #[test]
    fn sts_token_goes_into_signed_headers() {
        let mut req = append_request();
        sign_request(
            &mut req,
            &creds(Some(TOKEN)),
            T0,
            &config(SigningVersion::V1),
        )
        .unwrap();
        assert_eq!(req.headers.get("x-oss-security-token"), Some(TOKEN));
        assert!(v1::string_to_sign(&req, "d").contains("\nx-oss-security-token:sts-token-value\n"));

        let mut req = append_request();
        sign_request(
            &mut req,
            &creds(Some(TOKEN)),
            T0,
            &config(SigningVersion::V4),
        )
        .unwrap();
        assert_eq!(req.headers.get("x-oss-security-token"), Some(TOKEN));
        assert_eq!(
            req.headers.get("x-oss-content-sha256"),
            Some("UNSIGNED-PAYLOAD")
        );
        assert_eq!(req.headers.get("x-oss-date"), Some("20231216T162057Z"));
        assert!(
            v4::canonical_request(&req, &[]).contains("\nx-oss-security-token:sts-token-value\n")
        );
    }

    #[test]
    fn v1_presign_append_with_token() {
        let mut req = append_request();
        presign_request(
            &mut req,
            &creds(Some(TOKEN)),
            T0,
            600,
            &config(SigningVersion::V1),
        )
        .unwrap();
        let expires = (T0.unix_seconds() + 600).to_string();
        assert_eq!(req.query_value("Expires"), Some(expires.as_str()));
        assert_eq!(req.query_value("OSSAccessKeyId"), Some("ak"));
        assert_eq!(req.query_value("security-token"), Some(TOKEN));
        let string_to_sign = v1::string_to_sign(&req, &expires);
        assert!(string_to_sign
            .ends_with("\n/bucket/rec/a.webm?append&position=0&security-token=sts-token-value"));
        assert_eq!(
            req.query_value("Signature").unwrap(),
            v1::signature(SECRET, &string_to_sign)
        );
        assert!(!req.headers.contains("authorization") && !req.headers.contains("x-oss-date"));

        // Presigning again replaces the parameters instead of repeating them.
        presign_request(&mut req, &creds(None), T0, 60, &config(SigningVersion::V1)).unwrap();
        assert_eq!(req.query.len(), 5, "{:?}", req.query);
        assert_eq!(req.query_value("security-token"), None);
    }

    #[test]
    fn v4_presign_with_token_and_replacement() {
        let cfg = config(SigningVersion::V4);
        let mut req = append_request();
        presign_request(&mut req, &creds(Some(TOKEN)), T0, 3600, &cfg).unwrap();
        assert_eq!(req.query_value("x-oss-security-token"), Some(TOKEN));
        assert_eq!(req.query_value("x-oss-expires"), Some("3600"));
        assert_eq!(
            req.query_value("x-oss-credential"),
            Some("ak/20231216/cn-hangzhou/oss/aliyun_v4_request")
        );
        let canonical = v4::canonical_request(&req, &[]);
        assert!(canonical.contains("&x-oss-security-token=sts-token-value&"));
        assert!(!canonical.contains("x-oss-signature="));
        let before = req.query.len();
        presign_request(
            &mut req,
            &creds(Some(TOKEN)),
            T0.plus_seconds(5),
            3600,
            &cfg,
        )
        .unwrap();
        assert_eq!(req.query.len(), before);
        assert_eq!(req.query_value("x-oss-date"), Some("20231216T162102Z"));
    }

    #[test]
    fn v4_needs_a_region() {
        let mut cfg = config(SigningVersion::V4);
        cfg.region = "  ".into();
        let mut req = append_request();
        let untouched = req.clone();
        for result in [
            sign_request(&mut req, &creds(None), T0, &cfg),
            presign_request(&mut req, &creds(None), T0, 60, &cfg),
        ] {
            let err = result.unwrap_err();
            assert_eq!(err.code(), "InvalidArgument");
            assert!(
                matches!(&err, Error::InvalidArgument { what, .. } if what == "region"),
                "{err}"
            );
        }
        assert_eq!(req, untouched);
        cfg.region = "cn/hangzhou".into();
        assert!(sign_request(&mut req, &creds(None), T0, &cfg).is_err());
        // V1 has no scope, so it needs no region.
        cfg.version = SigningVersion::V1;
        assert!(sign_request(&mut req, &creds(None), T0, &cfg).is_ok());
    }

    #[test]
    fn v4_region_prefix_and_default_product() {
        let mut cfg = config(SigningVersion::V4);
        cfg.region = "oss-cn-hangzhou".into();
        cfg.product = String::new();
        let mut a = append_request();
        sign_request(&mut a, &creds(None), T0, &cfg).unwrap();
        let mut b = append_request();
        sign_request(&mut b, &creds(None), T0, &config(SigningVersion::V4)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn v4_presign_expiry_is_bounded() {
        let cfg = config(SigningVersion::V4);
        let mut req = append_request();
        presign_request(&mut req, &creds(None), T0, V4_MAX_EXPIRES_SECONDS, &cfg).unwrap();
        let mut req = append_request();
        let err = presign_request(&mut req, &creds(None), T0, V4_MAX_EXPIRES_SECONDS + 1, &cfg)
            .unwrap_err();
        assert!(matches!(&err, Error::InvalidArgument { what, .. } if what == "expires"));
        assert!(err.to_string().contains("604800"), "{err}");
        let err = presign_request(&mut req, &creds(None), T0, u64::MAX, &cfg).unwrap_err();
        assert!(err.to_string().contains("604800"), "{err}");
        assert_eq!(req, append_request());
        // V1 has no such bound, only representability.
        let v1 = config(SigningVersion::V1);
        assert!(
            presign_request(&mut req, &creds(None), T0, V4_MAX_EXPIRES_SECONDS * 4, &v1).is_ok()
        );
        assert!(presign_request(&mut req, &creds(None), T0, u64::MAX, &v1).is_err());
    }

    #[test]
    fn sort_small_orders_as_the_std_sort() {
        // Every arrangement of up to six items drawn from three values, duplicates included.
        for len in 0..=6u32 {
            for code in 0..3u32.pow(len) {
                let items: Vec<u32> = (0..len).map(|i| code / 3u32.pow(i) % 3).collect();
                let mut mine = items.clone();
                sort_small(&mut mine, |a, b| a < b);
                let mut std = items;
                std.sort();
                assert_eq!(mine, std);
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

    #[test]
    fn nothing_shows_the_secret() {
        let mut shown = Vec::new();
        for version in [SigningVersion::V1, SigningVersion::V4] {
            let cfg = config(version);
            let c = creds(Some(TOKEN));
            let mut req = append_request();
            sign_request(&mut req, &c, T0, &cfg).unwrap();
            shown.push(format!("{req:?} {c:?} {cfg:?}"));
            let mut bad = cfg.clone();
            bad.region = String::new();
            if let Err(e) = sign_request(&mut req, &c, T0, &bad) {
                shown.push(format!("{e} {e:?}"));
            }
            if let Err(e) = presign_request(&mut req, &c, T0, u64::MAX, &cfg) {
                shown.push(format!("{e} {e:?}"));
            }
        }
        assert_eq!(shown.len(), 5);
        for text in shown {
            assert!(!text.contains(SECRET), "{text}");
        }
    }
}

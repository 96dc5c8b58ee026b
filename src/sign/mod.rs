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
use crate::headers::{AUTHORIZATION, X_OSS_CONTENT_SHA256, X_OSS_DATE, X_OSS_SECURITY_TOKEN};
use crate::http::Request;
pub use crate::redact::{redact_query_auth, REDACTED};
use crate::sort::sort_small;
use crate::strings::{debug_quoted, join};
use crate::time::SigningTime;

/// The longest lifetime of a V4 presigned URL that OSS accepts: seven days, in seconds.
pub const V4_MAX_EXPIRES_SECONDS: u64 = 604_800;

/// Query parameters a V1 presigned URL carries; replaced on every presign.
const V1_QUERY_AUTH: [&str; 4] = ["OSSAccessKeyId", "Expires", "Signature", "security-token"];

/// Query parameters a V4 presigned URL carries; replaced on every presign.
const V4_QUERY_AUTH: [&str; 7] = [
    "x-oss-additional-headers",
    "x-oss-credential",
    X_OSS_DATE,
    "x-oss-expires",
    X_OSS_SECURITY_TOKEN,
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
            set_auth_headers(req, creds, X_OSS_DATE, &date);
            let string_to_sign = v1::string_to_sign(req, &date);
            let signature = v1::signature(creds.access_key_secret(), &string_to_sign);
            req.headers.set(
                AUTHORIZATION,
                v1::authorization(creds.access_key_id(), &signature),
            );
        }
        SigningVersion::V4 => {
            let (region, product) = v4_scope_parts(cfg)?;
            let datetime = time.iso8601_basic();
            let date_stamp = time.date_stamp();
            set_auth_headers(req, creds, X_OSS_DATE, &datetime);
            req.headers
                .set_default(X_OSS_CONTENT_SHA256, v4::UNSIGNED_PAYLOAD);
            let additional = v4::effective_additional_headers(req, &cfg.additional_headers);
            let scope = v4::scope(&date_stamp, region, product);
            let string_to_sign =
                v4::string_to_sign(&datetime, &scope, &v4::canonical_request(req, &additional));
            let key = v4::signing_key(creds.access_key_secret(), &date_stamp, region, product);
            let signature = v4::signature(&key, &string_to_sign);
            req.headers.set(
                AUTHORIZATION,
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
            push(req, X_OSS_DATE, &datetime);
            push(req, "x-oss-expires", &expires_seconds.to_string());
            if let Some(token) = creds.security_token() {
                push(req, X_OSS_SECURITY_TOKEN, token);
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

/// How long a query-signed request's URL is valid, in seconds, from the (server-corrected) signing time.
///
/// OSS checks the expiry when the request arrives, not when its body ends, so this needs to cover only the
/// time from signing to sending; a clock that is off by more is corrected from the 403 and the request re-signed.
pub const QUERY_SIGN_EXPIRES_SECONDS: u64 = 60;

/// The `querySign` client option: whether requests that need no header are signed in their query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QuerySign {
    /// In browsers and workers (where it saves a CORS preflight per request), not in Node.
    #[default]
    Auto,
    /// Everywhere.
    Always,
    /// Never: every request is signed in its headers.
    Never,
}

/// The `querySign` option as JS gave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuerySignInput<'a> {
    /// Absent, `undefined` or `null`.
    Absent,
    /// `true` or `false`.
    Flag(bool),
    /// A string.
    Text(&'a str),
    /// Anything else.
    Other,
}

impl QuerySign {
    /// The option as given: `'auto'`, `true` or `false` (absent means `'auto'`).
    ///
    /// # Errors
    /// `InvalidArgument` naming `querySign` and what it accepts; `shown` describes the value given.
    pub fn from_option(given: QuerySignInput<'_>, shown: &str) -> Result<Self, Error> {
        match given {
            QuerySignInput::Flag(true) => Ok(Self::Always),
            QuerySignInput::Flag(false) => Ok(Self::Never),
            QuerySignInput::Absent | QuerySignInput::Text("auto") => Ok(Self::Auto),
            QuerySignInput::Text(_) | QuerySignInput::Other => Err(Error::invalid(
                "querySign",
                format!("{shown} is not accepted; pass 'auto' (query-signed appends in browsers only), true or false"),
            )),
        }
    }
}

/// Where a request carries its signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignaturePlace {
    /// `Authorization`, `x-oss-date` and the token in headers ([`sign_request`]).
    Headers,
    /// A presigned query with a short expiry ([`presign_request`], [`QUERY_SIGN_EXPIRES_SECONDS`]).
    Query,
}

/// Where `req` (unsigned, as built) carries its signature.
///
/// In the query only for an append (`POST ?append`) that has no header at all, when `mode` asks for it
/// (`Auto`: only `in_browser`). Such a request is a CORS simple request as long as its body carries no
/// Content-Type, so a browser sends it without a preflight. Anything with a header (a creating append's
/// Content-Type and other creation attributes, Content-MD5, the caller's headers) stays header-signed:
/// a browser preflights it anyway, and OSS would have to accept the header unsigned otherwise.
pub fn signature_place(mode: QuerySign, in_browser: bool, req: &Request) -> SignaturePlace {
    let wanted = match mode {
        QuerySign::Always => true,
        QuerySign::Auto => in_browser,
        QuerySign::Never => false,
    };
    let is_append =
        req.method == crate::http::Method::Post && req.query.iter().any(|(k, _)| k == "append");
    if wanted && is_append && req.headers.is_empty() {
        SignaturePlace::Query
    } else {
        SignaturePlace::Headers
    }
}

/// Signs `req` for `place`: in its headers, or in its query valid for [`QUERY_SIGN_EXPIRES_SECONDS`].
///
/// # Errors
/// As [`sign_request`] and [`presign_request`].
pub fn sign_for(
    place: SignaturePlace,
    req: &mut Request,
    creds: &Credentials,
    time: SigningTime,
    cfg: &SigningConfig,
) -> Result<(), Error> {
    match place {
        SignaturePlace::Headers => sign_request(req, creds, time, cfg),
        SignaturePlace::Query => presign_request(req, creds, time, QUERY_SIGN_EXPIRES_SECONDS, cfg),
    }
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

fn set_auth_headers(req: &mut Request, creds: &Credentials, date_header: &str, date: &str) {
    req.headers.remove(AUTHORIZATION);
    req.headers.set(date_header, date);
    match creds.security_token() {
        Some(token) => req.headers.set(X_OSS_SECURITY_TOKEN, token),
        // A token left from earlier STS credentials would be signed and rejected.
        None => {
            req.headers.remove(X_OSS_SECURITY_TOKEN);
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

/// Whether `text` can sit between the `/` of a scope: printable ASCII without `/` or spaces.
fn is_scope_part(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_graphic() && b != b'/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

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
    fn headerless_appends_are_query_signed_as_the_option_and_runtime_allow() {
        use QuerySign::{Always, Auto, Never};
        use SignaturePlace::{Headers, Query};
        let continuing = || {
            let mut req = append_request();
            req.query[1].1 = "1024".into();
            req.headers = crate::http::Headers::new();
            req
        };
        let with_header = |name: &str, value: &str| {
            let mut req = continuing();
            req.headers.set(name, value);
            req
        };
        let mut head = continuing();
        head.method = Method::Head;
        head.query.clear();
        let mut seal = continuing();
        seal.query = vec![
            ("seal".into(), String::new()),
            ("position".into(), "9".into()),
        ];
        let mut put = continuing();
        put.method = Method::Put;
        put.query.clear();
        let cases: Vec<(&str, QuerySign, bool, Request, SignaturePlace)> = vec![
            (
                "auto, browser: a headerless append",
                Auto,
                true,
                continuing(),
                Query,
            ),
            ("auto, Node: headers", Auto, false, continuing(), Headers),
            (
                "always, Node: a headerless append",
                Always,
                false,
                continuing(),
                Query,
            ),
            ("always, browser", Always, true, continuing(), Query),
            ("never, browser", Never, true, continuing(), Headers),
            ("never, Node", Never, false, continuing(), Headers),
            (
                "a creating append carries its Content-Type",
                Always,
                true,
                append_request(),
                Headers,
            ),
            (
                "Content-MD5",
                Always,
                true,
                with_header("Content-MD5", "1B2M2Y8AsgTpgAmY2PhCfg=="),
                Headers,
            ),
            (
                "a caller's x-oss header",
                Always,
                true,
                with_header("x-oss-meta-a", "b"),
                Headers,
            ),
            (
                "a caller's plain header",
                Always,
                true,
                with_header("Cache-Control", "no-cache"),
                Headers,
            ),
            ("HEAD is not an append", Always, true, head, Headers),
            ("seal is not an append", Always, true, seal, Headers),
            ("PUT is not an append", Always, true, put, Headers),
        ];
        for (what, mode, browser, req, want) in cases {
            assert_eq!(signature_place(mode, browser, &req), want, "{what}");
        }
    }

    #[test]
    fn query_sign_accepts_auto_true_or_false_and_names_anything_else() {
        let ok = |given| QuerySign::from_option(given, "x").unwrap();
        assert_eq!(ok(QuerySignInput::Absent), QuerySign::Auto);
        assert_eq!(ok(QuerySignInput::Text("auto")), QuerySign::Auto);
        assert_eq!(ok(QuerySignInput::Flag(true)), QuerySign::Always);
        assert_eq!(ok(QuerySignInput::Flag(false)), QuerySign::Never);
        let bad = ["Auto", "yes", "", "true"]
            .map(QuerySignInput::Text)
            .into_iter()
            .chain([QuerySignInput::Other]);
        for given in bad {
            let err = QuerySign::from_option(given, "\"bad\"").unwrap_err();
            assert!(matches!(&err, Error::InvalidArgument { what, .. } if what == "querySign"));
            assert!(
                err.to_string().contains("'auto'") && err.to_string().contains("\"bad\""),
                "{err}"
            );
        }
    }

    #[test]
    fn query_signed_appends_carry_no_header_and_expire_soon() {
        for version in [SigningVersion::V1, SigningVersion::V4] {
            let cfg = config(version);
            let mut req = append_request();
            req.headers = crate::http::Headers::new();
            sign_for(
                SignaturePlace::Query,
                &mut req,
                &creds(Some(TOKEN)),
                T0,
                &cfg,
            )
            .unwrap();
            assert!(req.headers.is_empty(), "{version:?}: {:?}", req.headers);
            match version {
                SigningVersion::V1 => {
                    let expires = (T0.unix_seconds() + 60).to_string();
                    assert_eq!(req.query_value("Expires"), Some(expires.as_str()));
                    assert_eq!(req.query_value("security-token"), Some(TOKEN));
                    assert!(req.query_value("Signature").is_some());
                }
                SigningVersion::V4 => {
                    assert_eq!(req.query_value("x-oss-expires"), Some("60"));
                    assert_eq!(req.query_value("x-oss-security-token"), Some(TOKEN));
                    assert!(req.query_value("x-oss-signature").is_some());
                }
            }
            let mut headers = append_request();
            sign_for(
                SignaturePlace::Headers,
                &mut headers,
                &creds(None),
                T0,
                &cfg,
            )
            .unwrap();
            assert!(headers.headers.contains("authorization"));
            assert_eq!(headers.query.len(), 2);
        }
    }

    #[test]
    fn redact_query_auth_hides_every_presign_value() {
        let cases = [
            (
                "http://h/b/k?append&position=5&OSSAccessKeyId=ak&Expires=17&Signature=a%2Bb%3D&security-token=tok",
                "http://h/b/k?append&position=5&OSSAccessKeyId=<redacted>&Expires=17&Signature=<redacted>&security-token=<redacted>",
            ),
            (
                "https://b.h/k?append&position=0&x-oss-credential=ak%2F20231216%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&x-oss-date=20231216T162057Z&x-oss-expires=60&x-oss-security-token=tok&x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-signature=ab12#frag",
                "https://b.h/k?append&position=0&x-oss-credential=<redacted>&x-oss-date=20231216T162057Z&x-oss-expires=60&x-oss-security-token=<redacted>&x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-signature=<redacted>#frag",
            ),
            (
                "failed POST http://h/k?signature=s1 and ?X-OSS-SIGNATURE%3Ds2 'x?Signature=s3'",
                "failed POST http://h/k?signature=<redacted> and ?X-OSS-SIGNATURE%3D<redacted> 'x?Signature=<redacted>'",
            ),
            // Untouched: no presign parameter, a name that only starts like one, an empty value, plain words.
            ("http://h/k?append&position=0", "http://h/k?append&position=0"),
            ("http://h/k?Signatures=x&my-signature=y", "http://h/k?Signatures=x&my-signature=y"),
            ("http://h/k?Signature=&a=b", "http://h/k?Signature=&a=b"),
            ("the Signature we calculated", "the Signature we calculated"),
            ("", ""),
            ("?", "?"),
            ("&Signature=", "&Signature="),
            ("x&security-token=ü1", "x&security-token=<redacted>"),
            ("x&Expires=1", "x&Expires=1"),
        ];
        for (text, want) in cases {
            assert_eq!(redact_query_auth(text), want, "{text}");
        }
        // Whatever a presign produces is hidden whole.
        for version in [SigningVersion::V1, SigningVersion::V4] {
            let mut req = append_request();
            presign_request(&mut req, &creds(Some(TOKEN)), T0, 60, &config(version)).unwrap();
            let mut url = String::from("http://h/bucket/rec/a.webm");
            for (i, (k, v)) in req.query.iter().enumerate() {
                url.push(if i == 0 { '?' } else { '&' });
                url.push_str(&crate::encode::uri_encode(k));
                if !v.is_empty() {
                    url.push('=');
                    url.push_str(&crate::encode::uri_encode(v));
                }
            }
            let shown = redact_query_auth(&url);
            let signature = req
                .query_value("Signature")
                .or(req.query_value("x-oss-signature"))
                .unwrap();
            for secret in [TOKEN, "ak", signature] {
                assert!(
                    !shown.contains(&format!("={}", crate::encode::uri_encode(secret))),
                    "{shown}"
                );
            }
            assert!(shown.contains("?append&position=0&"), "{shown}");
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

//! Request authentication as OSS does it: V1 and V4, in headers or presigned queries, with STS tokens and clock skew.

// Each signature is recomputed from the request as received with the core's signers and compared in
// constant time. Failures carry what OSS returns (`StringToSign`, `CanonicalRequest`, `ServerTime`, ...).

use oss_append::sign::{v1, v4};
use oss_append::{Request, SigningTime};

use crate::config::AuthMode;
use crate::errors::OssError;
use crate::state::Credential;

/// How far the request time may be from the server's, in seconds (15 minutes).
pub const MAX_SKEW_SECONDS: i64 = 900;

/// The signature scheme a request used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: OSS ak:sig`.
    V1Header,
    /// `?OSSAccessKeyId=&Expires=&Signature=`.
    V1Query,
    /// `Authorization: OSS4-HMAC-SHA256 ...`.
    V4Header,
    /// `?x-oss-signature-version=OSS4-HMAC-SHA256&...`.
    V4Query,
}

impl Scheme {
    /// A short name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1Header => "v1",
            Self::V1Query => "v1-presigned",
            Self::V4Header => "v4",
            Self::V4Query => "v4-presigned",
        }
    }
}

/// Who signed a request that passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The access key id.
    pub access_key_id: String,
    /// How it was signed.
    pub scheme: Scheme,
}

/// What verification needs besides the request.
#[derive(Debug)]
pub struct AuthContext<'a> {
    /// Accepted credentials.
    pub credentials: &'a [Credential],
    /// The server's now, unix milliseconds.
    pub now_ms: i64,
    /// The region V4 scopes must name.
    pub region: &'a str,
    /// Accepted versions.
    pub mode: AuthMode,
}

impl AuthContext<'_> {
    fn now(&self) -> i64 {
        self.now_ms.div_euclid(1000)
    }

    fn server_time(&self) -> String {
        SigningTime::from_unix_millis(self.now_ms).iso8601_extended()
    }
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    // Keep the optimiser from short-circuiting the loop.
    std::hint::black_box(diff) == 0
}

fn invalid_authorization() -> OssError {
    OssError::new(400, "InvalidArgument", "Authorization header is invalid.").ec("0002-00000001")
}

/// Checks `req`'s signature.
///
/// # Errors
/// The OSS error to answer with: AccessDenied (anonymous, expired URL, missing date),
/// InvalidAccessKeyId, SecurityTokenExpired, InvalidSecurityToken, RequestTimeTooSkewed,
/// SignatureDoesNotMatch, InvalidArgument (malformed Authorization or presign parameters).
pub fn verify(req: &Request, ctx: &AuthContext<'_>) -> Result<Verified, OssError> {
    if let Some(header) = req.headers.get("authorization") {
        let header = header.trim();
        if let Some(rest) = header.strip_prefix(v4::ALGORITHM) {
            if !rest.starts_with(' ') {
                return Err(invalid_authorization());
            }
            require(ctx.mode.allows_v4(), "V4")?;
            return verify_v4_header(req, rest.trim(), ctx);
        }
        if let Some(rest) = header.strip_prefix("OSS ") {
            require(ctx.mode.allows_v1(), "V1")?;
            return verify_v1_header(req, rest.trim(), ctx);
        }
        return Err(invalid_authorization());
    }
    let has = |name: &str| req.query.iter().any(|(k, _)| k == name);
    if has("x-oss-signature-version") || has("x-oss-credential") || has("x-oss-signature") {
        require(ctx.mode.allows_v4(), "V4")?;
        return verify_v4_query(req, ctx);
    }
    if has("OSSAccessKeyId") || has("Signature") {
        require(ctx.mode.allows_v1(), "V1")?;
        return verify_v1_query(req, ctx);
    }
    Err(OssError::access_denied(
        "You have no right to access this object because of bucket acl.",
        "0003-00000001",
    ))
}

fn require(allowed: bool, version: &str) -> Result<(), OssError> {
    if allowed {
        Ok(())
    } else {
        Err(OssError::access_denied(
            format!(
                "{version} signatures are not accepted by this endpoint (emulator --auth setting)."
            ),
            "0002-00000030",
        ))
    }
}

/// Finds the credential of `ak` and checks the STS token the request carries.
fn credential<'a>(
    ctx: &'a AuthContext<'_>,
    ak: &str,
    token: Option<&str>,
) -> Result<&'a Credential, OssError> {
    let cred = ctx
        .credentials
        .iter()
        .find(|c| constant_time_eq(c.access_key_id.as_bytes(), ak.as_bytes()))
        .ok_or_else(|| {
            OssError::new(
                403,
                "InvalidAccessKeyId",
                "The OSS Access Key Id you provided does not exist in our records.",
            )
            .detail("OSSAccessKeyId", ak)
            .ec("0002-00000005")
        })?;
    let invalid_token = || {
        OssError::new(
            403,
            "InvalidSecurityToken",
            "The security token you provided is invalid.",
        )
        .ec("0002-00000112")
    };
    match (&cred.sts_token, token) {
        (None, None) => Ok(cred),
        (None, Some(_)) | (Some(_), None) => Err(invalid_token()),
        (Some(expected), Some(given)) => {
            if !constant_time_eq(expected.as_bytes(), given.as_bytes()) {
                return Err(invalid_token());
            }
            if cred.expired || cred.expires_at.is_some_and(|t| ctx.now() >= t) {
                return Err(OssError::new(
                    403,
                    "SecurityTokenExpired",
                    "The security token you provided has expired.",
                )
                .ec("0002-00000113"));
            }
            Ok(cred)
        }
    }
}

fn skew_check(ctx: &AuthContext<'_>, request_time: i64, raw: &str) -> Result<(), OssError> {
    if (ctx.now() - request_time).abs() > MAX_SKEW_SECONDS {
        let mut e = OssError::new(
            403,
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
        )
        .detail("RequestTime", raw)
        .detail("MaxAllowedSkewMilliseconds", "900000")
        .ec("0002-00000504");
        e = e.detail("ServerTime", ctx.server_time());
        return Err(e);
    }
    Ok(())
}

fn expired_url(ctx: &AuthContext<'_>, expires: i64) -> OssError {
    let e = OssError::access_denied("Request has expired.", "0002-00000069").detail(
        "Expires",
        SigningTime::from_unix_seconds(expires).iso8601_extended(),
    );
    e.detail("ServerTime", ctx.server_time())
}

fn string_to_sign_bytes(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        out.push_str(&format!("{b:02X} "));
    }
    out
}

fn v1_mismatch(ak: &str, provided: &str, string_to_sign: &str, ec: &'static str) -> OssError {
    OssError::new(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
    .detail("OSSAccessKeyId", ak)
    .detail("SignatureProvided", provided)
    .detail("StringToSign", string_to_sign)
    .detail("StringToSignBytes", string_to_sign_bytes(string_to_sign))
    .ec(ec)
}

fn verify_v1_header(
    req: &Request,
    credential_part: &str,
    ctx: &AuthContext<'_>,
) -> Result<Verified, OssError> {
    let (ak, provided) = credential_part
        .split_once(':')
        .filter(|(ak, sig)| !ak.is_empty() && !sig.is_empty() && !sig.contains(char::is_whitespace))
        .ok_or_else(invalid_authorization)?;
    let cred = credential(ctx, ak, req.headers.get("x-oss-security-token"))?;
    // Browsers cannot set Date, so clients sign x-oss-date; it also decides the request time.
    let oss_date = req.headers.get("x-oss-date");
    let date = req.headers.get("date");
    let Some(raw) = oss_date.or(date) else {
        return Err(OssError::access_denied(
            "OSS authentication requires a valid Date.",
            "0002-00000009",
        ));
    };
    let when = SigningTime::parse_http_date(raw).ok_or_else(|| {
        OssError::access_denied("OSS authentication requires a valid Date.", "0002-00000009")
    })?;
    skew_check(ctx, when.unix_seconds(), raw)?;
    let mut candidates = vec![raw];
    if let (Some(_), Some(d)) = (oss_date, date) {
        candidates.push(d);
    }
    let mut first = None;
    for slot in candidates {
        let sts = v1::string_to_sign(req, slot);
        let expected = v1::signature(&cred.access_key_secret, &sts);
        if constant_time_eq(expected.as_bytes(), provided.as_bytes()) {
            return Ok(Verified {
                access_key_id: ak.to_owned(),
                scheme: Scheme::V1Header,
            });
        }
        first.get_or_insert(sts);
    }
    Err(v1_mismatch(
        ak,
        provided,
        &first.unwrap_or_default(),
        "0002-00000040",
    ))
}

fn verify_v1_query(req: &Request, ctx: &AuthContext<'_>) -> Result<Verified, OssError> {
    let missing = |name: &str| {
        OssError::access_denied(
            format!("The presigned URL lacks the {name} parameter."),
            "0002-00000061",
        )
    };
    let ak = req
        .query_value("OSSAccessKeyId")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing("OSSAccessKeyId"))?;
    let provided = req
        .query_value("Signature")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing("Signature"))?;
    let expires_raw = req
        .query_value("Expires")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing("Expires"))?;
    let expires: i64 = expires_raw.parse().map_err(|_| {
        OssError::access_denied("Invalid argument for Expires.", "0002-00000062")
            .detail("Expires", expires_raw)
    })?;
    let cred = credential(ctx, ak, req.query_value("security-token"))?;
    if ctx.now() > expires {
        return Err(expired_url(ctx, expires));
    }
    let sts = v1::string_to_sign(req, expires_raw);
    let expected = v1::signature(&cred.access_key_secret, &sts);
    if constant_time_eq(expected.as_bytes(), provided.as_bytes()) {
        Ok(Verified {
            access_key_id: ak.to_owned(),
            scheme: Scheme::V1Query,
        })
    } else {
        Err(v1_mismatch(ak, provided, &sts, "0002-00000065"))
    }
}

/// The parts of a V4 credential `ak/date/region/product/aliyun_v4_request`.
struct Scope<'a> {
    ak: &'a str,
    date: &'a str,
    region: &'a str,
    product: &'a str,
}

fn parse_credential(text: &str) -> Option<Scope<'_>> {
    let mut parts = text.rsplitn(5, '/');
    let terminator = parts.next()?;
    let product = parts.next()?;
    let region = parts.next()?;
    let date = parts.next()?;
    let ak = parts.next()?;
    (terminator == "aliyun_v4_request" && !ak.is_empty() && date.len() == 8).then_some(Scope {
        ak,
        date,
        region,
        product,
    })
}

fn v4_invalid(message: &str) -> OssError {
    OssError::new(400, "InvalidArgument", message).ec("0002-00000220")
}

/// Checks the scope against the request time and the server's region, then the signature.
fn check_v4(
    req: &Request,
    ctx: &AuthContext<'_>,
    scope: &Scope<'_>,
    iso_date: &str,
    additional: &[String],
    provided: &str,
    scheme: Scheme,
) -> Result<Verified, OssError> {
    let cred_token = match scheme {
        Scheme::V4Query => req.query_value("x-oss-security-token"),
        _ => req.headers.get("x-oss-security-token"),
    };
    let cred = credential(ctx, scope.ak, cred_token)?;
    if !iso_date.starts_with(scope.date) {
        return Err(v4_invalid("Invalid signing date in Authorization header."));
    }
    if scope.region != ctx.region {
        return Err(v4_invalid(
            "Invalid signing region in Authorization header.",
        ));
    }
    if scope.product != "oss" {
        return Err(v4_invalid(
            "Invalid signing product in Authorization header.",
        ));
    }
    let scope_text = v4::scope(scope.date, scope.region, scope.product);
    let canonical = v4::canonical_request(req, additional);
    let sts = v4::string_to_sign(iso_date, &scope_text, &canonical);
    let key = v4::signing_key(
        &cred.access_key_secret,
        scope.date,
        scope.region,
        scope.product,
    );
    let expected = v4::signature(&key, &sts);
    if constant_time_eq(expected.as_bytes(), provided.as_bytes()) {
        return Ok(Verified {
            access_key_id: scope.ak.to_owned(),
            scheme,
        });
    }
    Err(OssError::new(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
    .detail("OSSAccessKeyId", scope.ak)
    .detail("SignatureProvided", provided)
    .detail("StringToSign", sts)
    .detail("CanonicalRequest", canonical)
    .ec(if scheme == Scheme::V4Query {
        "0002-00000201"
    } else {
        "0002-00000228"
    }))
}

fn additional_list(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .split(';')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn verify_v4_header(
    req: &Request,
    params: &str,
    ctx: &AuthContext<'_>,
) -> Result<Verified, OssError> {
    let (mut credential_text, mut additional, mut signature) = (None, None, None);
    for part in params.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or_else(invalid_authorization)?;
        match k.trim() {
            "Credential" => credential_text = Some(v.trim()),
            "AdditionalHeaders" => additional = Some(v.trim()),
            "Signature" => signature = Some(v.trim()),
            _ => return Err(invalid_authorization()),
        }
    }
    let scope = credential_text
        .and_then(parse_credential)
        .ok_or_else(invalid_authorization)?;
    let provided = signature
        .filter(|s| !s.is_empty())
        .ok_or_else(invalid_authorization)?;
    let raw_date = req.headers.get("x-oss-date").ok_or_else(|| {
        OssError::access_denied(
            "V4 signatures require the x-oss-date header.",
            "0002-00000009",
        )
    })?;
    let when = SigningTime::parse_iso8601_basic(raw_date.trim()).ok_or_else(|| {
        OssError::access_denied(
            "The x-oss-date header is not in ISO 8601 basic format (yyyymmddThhmmssZ).",
            "0002-00000009",
        )
    })?;
    // The token is checked before the time, so that an expired token is reported as such.
    credential(ctx, scope.ak, req.headers.get("x-oss-security-token"))?;
    skew_check(ctx, when.unix_seconds(), raw_date)?;
    let additional = additional_list(additional.unwrap_or(""));
    check_v4(
        req,
        ctx,
        &scope,
        raw_date.trim(),
        &additional,
        provided,
        Scheme::V4Header,
    )
}

fn verify_v4_query(req: &Request, ctx: &AuthContext<'_>) -> Result<Verified, OssError> {
    let get = |name: &str| {
        req.query_value(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| v4_invalid(&format!("The presigned URL lacks the {name} parameter.")))
    };
    let version = get("x-oss-signature-version")?;
    if version != v4::ALGORITHM {
        return Err(v4_invalid("Unsupported x-oss-signature-version."));
    }
    let scope = parse_credential(get("x-oss-credential")?)
        .ok_or_else(|| v4_invalid("Invalid x-oss-credential."))?;
    let raw_date = get("x-oss-date")?;
    let when = SigningTime::parse_iso8601_basic(raw_date)
        .ok_or_else(|| v4_invalid("Invalid x-oss-date."))?;
    let expires: i64 = get("x-oss-expires")?
        .parse()
        .ok()
        .filter(|e| (1..=604_800).contains(e))
        .ok_or_else(|| v4_invalid("x-oss-expires must be an integer from 1 to 604800."))?;
    let provided = get("x-oss-signature")?;
    credential(ctx, scope.ak, req.query_value("x-oss-security-token"))?;
    if when.unix_seconds() - ctx.now() > MAX_SKEW_SECONDS {
        skew_check(ctx, when.unix_seconds(), raw_date)?;
    }
    if ctx.now() > when.unix_seconds() + expires {
        return Err(expired_url(ctx, when.unix_seconds() + expires));
    }
    let additional = additional_list(req.query_value("x-oss-additional-headers").unwrap_or(""));
    check_v4(
        req,
        ctx,
        &scope,
        raw_date,
        &additional,
        provided,
        Scheme::V4Query,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use oss_append::sign::{presign_request, sign_request, SigningConfig, SigningVersion};
    use oss_append::{Credentials, Method};

    const NOW_MS: i64 = 1_700_000_000_000;

    fn creds(token: Option<&str>) -> Vec<Credential> {
        vec![Credential {
            access_key_id: "ak".into(),
            access_key_secret: "sk".into(),
            sts_token: token.map(str::to_owned),
            expired: false,
            expires_at: None,
        }]
    }

    fn ctx(c: &[Credential]) -> AuthContext<'_> {
        AuthContext {
            credentials: c,
            now_ms: NOW_MS,
            region: "cn-hangzhou",
            mode: AuthMode::Any,
        }
    }

    fn append_request() -> Request {
        let mut r = Request::new(Method::Post, Some("bucket"), Some("dir/a b+c.txt"));
        r.query.push(("append".into(), String::new()));
        r.query.push(("position".into(), "0".into()));
        r.headers.set("Content-Type", "video/webm");
        r.headers.set("Host", "bucket.localhost");
        r
    }

    fn config(version: SigningVersion) -> SigningConfig {
        SigningConfig {
            version,
            region: "cn-hangzhou".into(),
            product: "oss".into(),
            additional_headers: vec!["host".into()],
        }
    }

    fn signed(version: SigningVersion, token: Option<&str>, at_ms: i64) -> Request {
        let mut r = append_request();
        let c = Credentials::new("ak", "sk", token).unwrap();
        sign_request(
            &mut r,
            &c,
            SigningTime::from_unix_millis(at_ms),
            &config(version),
        )
        .unwrap();
        r
    }

    #[test]
    fn header_signatures_verify_and_tampering_fails() {
        let c = creds(None);
        for (v, scheme) in [
            (SigningVersion::V1, Scheme::V1Header),
            (SigningVersion::V4, Scheme::V4Header),
        ] {
            let r = signed(v, None, NOW_MS);
            assert_eq!(verify(&r, &ctx(&c)).unwrap().scheme, scheme);
            let mut bad = r.clone();
            bad.query[1].1 = "1".into();
            let e = verify(&bad, &ctx(&c)).unwrap_err();
            assert_eq!(e.code, "SignatureDoesNotMatch");
            let field = if v == SigningVersion::V1 {
                "StringToSign"
            } else {
                "CanonicalRequest"
            };
            assert!(e
                .details
                .iter()
                .any(|(k, v)| k == field && v.contains("position=1")));
        }
    }

    #[test]
    fn presigned_urls_verify_and_expire() {
        let c = creds(Some("tok"));
        let cr = Credentials::new("ak", "sk", Some("tok")).unwrap();
        for v in [SigningVersion::V1, SigningVersion::V4] {
            let mut r = append_request();
            presign_request(
                &mut r,
                &cr,
                SigningTime::from_unix_millis(NOW_MS),
                60,
                &config(v),
            )
            .unwrap();
            verify(&r, &ctx(&c)).unwrap();
            let mut later = ctx(&c);
            later.now_ms += 61_000;
            let e = verify(&r, &later).unwrap_err();
            assert_eq!((e.code.as_str(), e.status), ("AccessDenied", 403));
            assert!(e.server_time().is_some());
        }
    }

    #[test]
    fn skewed_clocks_wrong_or_expired_tokens_and_unknown_keys_are_refused() {
        let c = creds(Some("tok"));
        let r = signed(SigningVersion::V4, Some("tok"), NOW_MS - 16 * 60 * 1000);
        let e = verify(&r, &ctx(&c)).unwrap_err();
        assert_eq!(e.code, "RequestTimeTooSkewed");
        assert!(e.server_time().unwrap().starts_with("2023-11-14T"));
        let r = signed(SigningVersion::V1, Some("other"), NOW_MS);
        assert_eq!(
            verify(&r, &ctx(&c)).unwrap_err().code,
            "InvalidSecurityToken"
        );
        let mut expired = creds(Some("tok"));
        expired[0].expired = true;
        let r = signed(SigningVersion::V1, Some("tok"), NOW_MS);
        assert_eq!(
            verify(&r, &ctx(&expired)).unwrap_err().code,
            "SecurityTokenExpired"
        );
        let none = creds(None);
        let mut r = signed(SigningVersion::V4, None, NOW_MS);
        let auth = r
            .headers
            .get("authorization")
            .unwrap()
            .replace("ak/", "zz/");
        r.headers.set("Authorization", auth);
        assert_eq!(
            verify(&r, &ctx(&none)).unwrap_err().code,
            "InvalidAccessKeyId"
        );
    }

    #[test]
    fn malformed_anonymous_and_mismatched_signatures_are_refused() {
        let c = creds(None);
        for bad in [
            "OSS",
            "OSS ak",
            "OSS :sig",
            "Bearer x",
            "OSS4-HMAC-SHA256",
            "OSS4-HMAC-SHA256 Credential=ak/20231114/cn-hangzhou/oss",
            "OSS4-HMAC-SHA256 Signature=abc",
            "OSS4-HMAC-SHA256 Credential=ak/20231114/cn-hangzhou/oss/aliyun_v4_request,Junk",
        ] {
            let mut r = append_request();
            r.headers.set("Authorization", bad);
            r.headers.set("x-oss-date", "20231114T221320Z");
            let e = verify(&r, &ctx(&c)).unwrap_err();
            assert_eq!(e.status, 400, "{bad}: {e:?}");
        }
        let e = verify(&append_request(), &ctx(&c)).unwrap_err();
        assert_eq!((e.code.as_str(), e.status), ("AccessDenied", 403));
        let mut v1_only = ctx(&c);
        v1_only.mode = AuthMode::V1;
        let r = signed(SigningVersion::V4, None, NOW_MS);
        assert_eq!(verify(&r, &v1_only).unwrap_err().code, "AccessDenied");
        let mut wrong_region = ctx(&c);
        wrong_region.region = "cn-shanghai";
        assert_eq!(verify(&r, &wrong_region).unwrap_err().status, 400);
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}

//! Reading OSS responses: error bodies into [`ServiceError`], success headers into typed results.

use std::fmt;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use crate::crc64::parse_decimal;
use crate::error::{Error, ServiceError};
use crate::headers::{
    CONTENT_LENGTH, CONTENT_TYPE, DATE, ETAG, LAST_MODIFIED, X_OSS_DELETE_MARKER, X_OSS_EC,
    X_OSS_ERR, X_OSS_HASH_CRC64ECMA, X_OSS_META_PREFIX, X_OSS_NEXT_APPEND_POSITION,
    X_OSS_OBJECT_TYPE, X_OSS_REQUEST_ID, X_OSS_SEALED_TIME, X_OSS_VERSION_ID,
};
use crate::http::Headers;
use crate::redact::redact;
use crate::strings;
use crate::time::SigningTime;
use crate::xml::{self, FlatDocument};

/// The headers a successful append must expose, in the order error messages name them.
pub(crate) const APPEND_REQUIRED_HEADERS: [&str; 4] = [
    X_OSS_NEXT_APPEND_POSITION,
    X_OSS_HASH_CRC64ECMA,
    X_OSS_REQUEST_ID,
    ETAG,
];

/// The most of a response body the client reads when it only parses it (an `<Error>` document, a few hundred
/// bytes from OSS) or ignores it: a hostile or broken server cannot make it buffer more. Only a successful
/// GET's body, which is the caller's data, is read whole.
pub(crate) const MAX_PARSED_BODY_BYTES: u32 = 64 * 1024;

/// How much of an unreadable body an error message quotes.
const SNIPPET_CHARS: usize = 200;

/// Base64 for `x-oss-err`, accepting it with or without padding.
const ERR_HEADER_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Turns a non-2xx response into a [`ServiceError`]; never fails and never panics.
///
/// The XML body is read first; an empty body (HEAD) falls back to the base64 XML in `x-oss-err`
/// (also tried when the body is unreadable); with neither, the error is synthesized as ali-oss does
/// (404 `NoSuchKey`, 412 `PreconditionFailed`, otherwise an empty code). A body that is not an OSS
/// `<Error>` document gives an empty code and a message quoting at most 200 characters of it.
/// Headers fill what the body lacks: `x-oss-request-id`, `x-oss-ec`, the `Date` of a
/// `RequestTimeTooSkewed`, and `x-oss-next-append-position` / `x-oss-hash-crc64ecma` always.
/// Security tokens and presigned signatures are redacted from every text field.
pub(crate) fn parse_service_error(status: u16, headers: &Headers, body: &[u8]) -> ServiceError {
    let mut error = ServiceError {
        status,
        ..ServiceError::default()
    };
    let from_header = || headers.get(X_OSS_ERR).and_then(decode_err_header);
    if body.iter().all(u8::is_ascii_whitespace) {
        match from_header() {
            Some(doc) => fill_from_document(&mut error, doc),
            None => synthesize(&mut error),
        }
    } else {
        match parse_error_document(body) {
            Ok(doc) => fill_from_document(&mut error, doc),
            Err(reason) => match from_header() {
                Some(doc) => fill_from_document(&mut error, doc),
                None => error.message = unreadable_body_message(&reason, body),
            },
        }
    }
    if error.message.is_empty() {
        error.message = format!("Unknown error, status: {status}");
    }
    if error.request_id.is_none() {
        error.request_id = header_text(headers, X_OSS_REQUEST_ID).map(|v| redact(&v));
    }
    if error.ec.is_none() {
        error.ec = header_text(headers, X_OSS_EC).map(|v| redact(&v));
    }
    if error.server_time.is_none()
        && (error.code == "RequestTimeTooSkewed" || is_expired_url(&error))
    {
        error.server_time = header_text(headers, DATE);
    }
    error.next_append_position = headers
        .get(X_OSS_NEXT_APPEND_POSITION)
        .and_then(parse_decimal);
    error.crc64 = headers.get(X_OSS_HASH_CRC64ECMA).and_then(parse_decimal);
    error
}

/// Reads the status of an answer to HEAD, GET, PUT, DELETE or a seal: any 2xx succeeded; any other
/// status is the service error it carries (`body` is read only then).
///
/// # Errors
/// The service error.
pub(crate) fn check_call_answer(
    status: u16,
    headers: &Headers,
    body: impl FnOnce() -> Vec<u8>,
) -> Result<(), Error> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(parse_service_error(status, headers, &body()).into())
    }
}

/// The server's clock from a `RequestTimeTooSkewed` error: `<ServerTime>` (ISO 8601) or the
/// `Date` header (RFC 1123) that [`parse_service_error`] fell back to.
pub(crate) fn server_time(error: &ServiceError) -> Option<SigningTime> {
    let text = error.server_time.as_deref()?;
    SigningTime::parse_iso8601_extended(text).or_else(|| SigningTime::parse_http_date(text))
}

/// Whether OSS refused a presigned request because its URL had expired (403 AccessDenied, "Request has
/// expired", with its `<ServerTime>`). For a URL signed moments ago that means the local clock is behind
/// the server's: like `RequestTimeTooSkewed`, a rejection that a re-signing with the server's time fixes.
pub(crate) fn is_expired_url(error: &ServiceError) -> bool {
    error.status == 403
        && error.code == "AccessDenied"
        && (error.ec.as_deref() == Some(EXPIRED_URL_EC)
            || strings::find(&error.message.to_ascii_lowercase(), "request has expired").is_some())
}

/// The EC OSS gives an expired presigned URL.
const EXPIRED_URL_EC: &str = "0002-00000069";

fn parse_error_document(body: &[u8]) -> Result<FlatDocument, String> {
    let doc = xml::parse_flat(body).map_err(|e| e.to_string())?;
    if doc.root.eq_ignore_ascii_case("Error") {
        Ok(doc)
    } else {
        Err(format!(
            "the root element is <{}>, not <Error>",
            clip(&doc.root, 40)
        ))
    }
}

fn decode_err_header(value: &str) -> Option<FlatDocument> {
    let compact: String = value.split_ascii_whitespace().collect();
    let bytes = ERR_HEADER_BASE64.decode(compact).ok()?;
    parse_error_document(&bytes).ok()
}

fn fill_from_document(error: &mut ServiceError, doc: FlatDocument) {
    // The first occurrence of a known field wins; OSS never repeats them.
    for (name, value) in doc.children {
        let trimmed = || {
            let v = redact(value.trim());
            (!v.is_empty()).then_some(v)
        };
        match name.as_str() {
            "Code" if error.code.is_empty() => error.code = trimmed().unwrap_or_default(),
            "Message" if error.message.is_empty() => error.message = trimmed().unwrap_or_default(),
            "RequestId" if error.request_id.is_none() => error.request_id = trimmed(),
            "HostId" if error.host_id.is_none() => error.host_id = trimmed(),
            "EC" if error.ec.is_none() => error.ec = trimmed(),
            "ServerTime" if error.server_time.is_none() => error.server_time = trimmed(),
            "Code" | "Message" | "RequestId" | "HostId" | "EC" | "ServerTime" => {}
            _ => {
                let value = redact(&value);
                error.details.push((name, value));
            }
        }
    }
}

fn synthesize(error: &mut ServiceError) {
    let (code, message) = match error.status {
        404 => ("NoSuchKey", "Object not exists".to_owned()),
        412 => ("PreconditionFailed", "Pre condition failed".to_owned()),
        // A bodiless error (HEAD) keeps its reason in x-oss-err, which a browser reads only when exposed.
        s => ("", format!("Unknown error, status: {s} (the reason is in the x-oss-err header; a browser can read it only when the bucket's CORS rule exposes x-oss-err)")),
    };
    error.code = code.to_owned();
    error.message = message;
}

fn unreadable_body_message(reason: &str, body: &[u8]) -> String {
    // Look at a bounded prefix only: the body may be large and is never quoted whole.
    let window = &body[..body.len().min(SNIPPET_CHARS * 4)];
    let text = String::from_utf8_lossy(window);
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect();
    let collapsed = strings::join(&words, " ");
    let snippet = clip(&redact(&collapsed), SNIPPET_CHARS);
    // The transport stops reading at the cap, so a body of exactly that size was longer.
    let size = if body.len() >= MAX_PARSED_BODY_BYTES as usize {
        format!("its first {} bytes, the most read", body.len())
    } else {
        format!("{} bytes", body.len())
    };
    format!(
        "the error response body ({size}) could not be read as an OSS error ({}); it begins: {}",
        clip(&redact(reason), 160),
        snippet
    )
}

/// At most `max` characters of `s`, marked with `…` when cut.
fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_owned(),
    }
}

/// A header's trimmed value, `None` when absent or blank.
fn header_text(headers: &Headers, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A decimal header: absent → `None`; present but not a u64 → [`Error::InvalidResponse`].
fn header_u64(
    status: u16,
    headers: &Headers,
    name: &str,
    request_id: &Option<String>,
) -> Result<Option<u64>, Error> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => parse_decimal(v)
            .map(Some)
            .ok_or_else(|| Error::InvalidResponse {
                status,
                reason: format!(
                    "header {name} is '{}', not an unsigned 64-bit decimal",
                    clip(v, 40)
                ),
                request_id: request_id.clone(),
            }),
    }
}

fn require_success(status: u16, request_id: &Option<String>, what: &str) -> Result<(), Error> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(Error::InvalidResponse {
            status,
            reason: format!("{what} expects a 2xx status; read errors with parse_service_error"),
            request_id: request_id.clone(),
        })
    }
}

/// A successful AppendObject: the headers the next append and the CRC check depend on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AppendResponse {
    /// HTTP status (200).
    pub status: u16,
    /// `x-oss-next-append-position`: the object length now, where the next append starts.
    pub next_position: u64,
    /// `x-oss-hash-crc64ecma`: the CRC-64 of the whole object.
    pub crc64: u64,
    /// `x-oss-request-id`.
    pub request_id: String,
    /// `ETag`, as sent (quoted).
    pub etag: String,
    /// `x-oss-version-id` on versioned buckets.
    pub version_id: Option<String>,
}

impl AppendResponse {
    /// Reads any answer to an AppendObject: a 200 through [`from_headers`](Self::from_headers), every
    /// other status as the service error it carries (`body` is read only then).
    ///
    /// # Errors
    /// The service error, or what [`from_headers`](Self::from_headers) finds wrong with a 200.
    pub(crate) fn from_answer(
        status: u16,
        headers: &Headers,
        body: impl FnOnce() -> Vec<u8>,
    ) -> Result<Self, Error> {
        if status == 200 {
            Self::from_headers(status, headers)
        } else {
            Err(parse_service_error(status, headers, &body()).into())
        }
    }

    /// Reads a 2xx append response.
    ///
    /// Every header in [`APPEND_REQUIRED_HEADERS`] must be readable: the ones that are not are named in
    /// [`Error::MissingExposedHeader`] (in a browser, the bucket's CORS rule hides them). A number
    /// that does not parse is [`Error::InvalidResponse`].
    pub(crate) fn from_headers(status: u16, headers: &Headers) -> Result<Self, Error> {
        let request_id = header_text(headers, X_OSS_REQUEST_ID);
        require_success(status, &request_id, "an append response")?;
        let missing: Vec<String> = APPEND_REQUIRED_HEADERS
            .iter()
            .filter(|name| !headers.contains(name))
            .map(|name| (*name).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(Error::MissingExposedHeader { missing, status });
        }
        let number = |name: &str| {
            header_u64(status, headers, name, &request_id)?.ok_or_else(|| {
                Error::MissingExposedHeader {
                    missing: vec![name.to_owned()],
                    status,
                }
            })
        };
        Ok(Self {
            status,
            next_position: number(X_OSS_NEXT_APPEND_POSITION)?,
            crc64: number(X_OSS_HASH_CRC64ECMA)?,
            request_id: request_id.unwrap_or_default(),
            etag: header_text(headers, ETAG).unwrap_or_default(),
            version_id: header_text(headers, X_OSS_VERSION_ID),
        })
    }
}

/// `x-oss-object-type`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ObjectType {
    /// Written by PutObject (or a PutObject over an appendable object).
    Normal,
    /// Written by AppendObject; can be appended to.
    Appendable,
    /// Assembled by CompleteMultipartUpload.
    Multipart,
    /// A symbolic link.
    Symlink,
    /// A type this crate does not know, as sent.
    Other(String),
}

impl ObjectType {
    /// Parses the header value, case-insensitively.
    pub(crate) fn parse(value: &str) -> Self {
        let value = value.trim();
        [
            Self::Normal,
            Self::Appendable,
            Self::Multipart,
            Self::Symlink,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(value))
        .unwrap_or_else(|| Self::Other(value.to_owned()))
    }

    /// The name OSS uses.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Normal => "Normal",
            Self::Appendable => "Appendable",
            Self::Multipart => "Multipart",
            Self::Symlink => "Symlink",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A successful HeadObject. Fields are `None` when the header is absent (or hidden by CORS).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct HeadResponse {
    /// HTTP status (200).
    pub status: u16,
    /// `x-oss-object-type`.
    pub object_type: Option<ObjectType>,
    /// `Content-Length`: the object size.
    pub content_length: Option<u64>,
    /// `x-oss-next-append-position` (appendable objects).
    pub next_append_position: Option<u64>,
    /// `x-oss-hash-crc64ecma`.
    pub crc64: Option<u64>,
    /// `ETag`, as sent (quoted).
    pub etag: Option<String>,
    /// `Last-Modified`, as sent (RFC 1123).
    pub last_modified: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// User metadata: each `x-oss-meta-<key>` as (`<key>` lower-cased, value), in header order.
    pub meta: Vec<(String, String)>,
    /// `x-oss-request-id`.
    pub request_id: Option<String>,
    /// `x-oss-version-id`.
    pub version_id: Option<String>,
    /// `x-oss-sealed-time`: when SealAppendObject ended the object, if it did.
    pub sealed_time: Option<String>,
}

impl HeadResponse {
    /// Reads a 2xx HEAD response; only a malformed number is an error ([`Error::InvalidResponse`]).
    pub(crate) fn from_headers(status: u16, headers: &Headers) -> Result<Self, Error> {
        let request_id = header_text(headers, X_OSS_REQUEST_ID);
        require_success(status, &request_id, "a HEAD response")?;
        let number = |name: &str| header_u64(status, headers, name, &request_id);
        let meta = headers
            .iter()
            .filter_map(|(k, v)| {
                let key = k
                    .get(..11)
                    .filter(|p| p.eq_ignore_ascii_case(X_OSS_META_PREFIX))?;
                Some((k[key.len()..].to_ascii_lowercase(), v.to_owned()))
            })
            .collect();
        Ok(Self {
            status,
            object_type: header_text(headers, X_OSS_OBJECT_TYPE).map(|v| ObjectType::parse(&v)),
            content_length: number(CONTENT_LENGTH)?,
            next_append_position: number(X_OSS_NEXT_APPEND_POSITION)?,
            crc64: number(X_OSS_HASH_CRC64ECMA)?,
            etag: header_text(headers, ETAG),
            last_modified: header_text(headers, LAST_MODIFIED),
            content_type: header_text(headers, CONTENT_TYPE),
            meta,
            request_id,
            version_id: header_text(headers, X_OSS_VERSION_ID),
            sealed_time: header_text(headers, X_OSS_SEALED_TIME),
        })
    }

    /// Where a next append to this object continues, when the answer said it: the length
    /// (`x-oss-next-append-position`, which only an appendable object has) and the whole-object CRC-64.
    pub(crate) fn append_continuation(&self) -> Option<(u64, u64)> {
        Some((self.next_append_position?, self.crc64?))
    }

    /// The object's length and whole-object CRC-64, as resuming or reconciling an append needs them.
    ///
    /// The length is `x-oss-next-append-position`, else `Content-Length`. When either value cannot be
    /// read the error is [`Error::MissingExposedHeader`] naming the headers to expose. The object
    /// type is not checked here.
    pub(crate) fn length_and_crc(&self) -> Result<(u64, u64), Error> {
        let length = self.next_append_position.or(self.content_length);
        let mut missing = Vec::new();
        if length.is_none() {
            missing.push(X_OSS_NEXT_APPEND_POSITION.to_owned());
        }
        if self.crc64.is_none() {
            missing.push(X_OSS_HASH_CRC64ECMA.to_owned());
        }
        match (length, self.crc64) {
            (Some(length), Some(crc)) => Ok((length, crc)),
            _ => Err(Error::MissingExposedHeader {
                missing,
                status: self.status,
            }),
        }
    }
}

/// A successful PutObject, DeleteObject or SealAppendObject: whatever of these headers was sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct WriteResponse {
    /// HTTP status (200, or 204 for a delete).
    pub status: u16,
    /// `x-oss-request-id`.
    pub request_id: Option<String>,
    /// `ETag`, as sent (quoted).
    pub etag: Option<String>,
    /// `x-oss-hash-crc64ecma`.
    pub crc64: Option<u64>,
    /// `x-oss-next-append-position` (SealAppendObject).
    pub next_append_position: Option<u64>,
    /// `x-oss-version-id`.
    pub version_id: Option<String>,
    /// `x-oss-delete-marker: true` (a delete on a versioned bucket).
    pub delete_marker: bool,
    /// `x-oss-sealed-time` (SealAppendObject).
    pub sealed_time: Option<String>,
}

impl WriteResponse {
    /// Checks the object's CRC-64 that OSS reports against the `expected` CRC of the `length` bytes
    /// written; a response without the header is not checked.
    ///
    /// # Errors
    /// [`Error::CrcMismatch`] naming both values.
    pub(crate) fn verify_crc64(&self, expected: u64, length: u64) -> Result<(), Error> {
        match self.crc64 {
            Some(server) if server != expected => Err(Error::CrcMismatch {
                position: 0,
                next_position: length,
                local: expected,
                server,
                request_id: self.request_id.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Reads a 2xx write response; only a malformed number is an error ([`Error::InvalidResponse`]).
    pub(crate) fn from_headers(status: u16, headers: &Headers) -> Result<Self, Error> {
        let request_id = header_text(headers, X_OSS_REQUEST_ID);
        require_success(status, &request_id, "a write response")?;
        let number = |name: &str| header_u64(status, headers, name, &request_id);
        Ok(Self {
            status,
            crc64: number(X_OSS_HASH_CRC64ECMA)?,
            next_append_position: number(X_OSS_NEXT_APPEND_POSITION)?,
            etag: header_text(headers, ETAG),
            version_id: header_text(headers, X_OSS_VERSION_ID),
            delete_marker: headers
                .get(X_OSS_DELETE_MARKER)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            sealed_time: header_text(headers, X_OSS_SEALED_TIME),
            request_id,
        })
    }
}

#[cfg(test)]
mod write_tests {
    use super::*;

    #[test]
    fn a_put_is_verified_against_the_crc_oss_reports() {
        let h: Headers = [("x-oss-hash-crc64ecma", "42"), ("x-oss-request-id", "R")]
            .into_iter()
            .collect();
        let written = WriteResponse::from_headers(200, &h).unwrap();
        assert_eq!(written.verify_crc64(42, 3), Ok(()));
        let e = written.verify_crc64(41, 3).unwrap_err();
        assert_eq!((e.code(), e.request_id()), ("CrcMismatch", Some("R")));
        assert!(e.to_string().contains("3 bytes"), "{e}");
        let hidden = WriteResponse::from_headers(200, &Headers::new()).unwrap();
        assert_eq!(hidden.verify_crc64(41, 3), Ok(()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::error_document;

    const TOKEN: &str = "CAIS6AF1q6Ft5B2yfSjIr5DfLu7biatEgfaNSF7UsnEHT8NKmP3shDz2IH5PfXdsBuEYsfQynmBQ6/oZlq95RJ9YTEqc/R6rdiMRo22beIPkl5Gfz95t0e+IewW6Dxr8w7WhAYHQR8=";

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        pairs.iter().copied().collect()
    }

    fn hex(text: &str) -> String {
        text.bytes()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Fails when any recognisable part of the token (or its hex dump) shows anywhere in `e`.
    fn assert_no_token(e: &ServiceError) {
        let all = format!("{e:?} {e} {}", Error::from(e.clone()));
        for secret in [&TOKEN[..12], &TOKEN[40..52], &hex(&TOKEN[..6])] {
            assert!(!all.contains(secret), "{secret} leaked: {all}");
        }
    }

    const POSITION_BODY: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<Error>
  <Code>PositionNotEqualToLength</Code>
  <Message>Position is not equal to file length</Message>
  <RequestId>5C3D9175B6FC201293AD4890</RequestId>
  <HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <EC>0026-00000016</EC>
  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0026-00000016</RecommendDoc>
</Error>
";

    #[test]
    fn position_not_equal_to_length_carries_the_length() {
        let h = headers(&[
            ("Content-Type", "application/xml"),
            ("x-oss-request-id", "5C3D9175B6FC201293AD4890"),
            ("x-oss-ec", "0026-00000016"),
            ("x-oss-next-append-position", "1717"),
        ]);
        let e = parse_service_error(409, &h, POSITION_BODY.as_bytes());
        assert_eq!(
            e,
            ServiceError {
                status: 409,
                code: "PositionNotEqualToLength".into(),
                message: "Position is not equal to file length".into(),
                request_id: Some("5C3D9175B6FC201293AD4890".into()),
                host_id: Some("examplebucket.oss-cn-hangzhou.aliyuncs.com".into()),
                ec: Some("0026-00000016".into()),
                server_time: None,
                next_append_position: Some(1717),
                crc64: None,
                details: vec![(
                    "RecommendDoc".into(),
                    "https://api.aliyun.com/troubleshoot?q=0026-00000016".into()
                )],
            }
        );
        assert_eq!(Error::from(e).name(), "PositionNotEqualToLengthError");
    }

    #[test]
    fn an_object_not_appendable_error_keeps_its_code_ec_and_request_id() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<Error>
  <Code>ObjectNotAppendable</Code>
  <Message>The object is not appendable</Message>
  <RequestId>5C3D8F2BB6FC2012931D7E1A</RequestId>
  <HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <EC>0026-00000017</EC>
  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0026-00000017</RecommendDoc>
</Error>
";
        let h = headers(&[
            ("x-oss-request-id", "5C3D8F2BB6FC2012931D7E1A"),
            ("x-oss-hash-crc64ecma", "18020588380933092773"),
        ]);
        let e = parse_service_error(409, &h, body.as_bytes());
        assert_eq!(e.code, "ObjectNotAppendable");
        assert_eq!(e.ec.as_deref(), Some("0026-00000017"));
        assert_eq!(e.next_append_position, None);
        assert_eq!(e.crc64, Some(18_020_588_380_933_092_773));
        assert_eq!(e.request_id.as_deref(), Some("5C3D8F2BB6FC2012931D7E1A"));
    }

    #[test]
    fn expired_presigned_url_is_recognised_with_its_server_time() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<Error>
  <Code>AccessDenied</Code>
  <Message>Request has expired.</Message>
  <RequestId>63A04C8AB7F1D93532DD6F2E</RequestId>
  <HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <Expires>2022-12-19T11:04:34.000Z</Expires>
  <ServerTime>2022-12-19T11:34:34.000Z</ServerTime>
  <EC>0002-00000069</EC>
</Error>
";
        let date = ("Date", "Mon, 19 Dec 2022 11:34:35 GMT");
        let e = parse_service_error(403, &headers(&[date]), body.as_bytes());
        assert!(is_expired_url(&e));
        assert_eq!(
            server_time(&e),
            SigningTime::parse_iso8601_extended("2022-12-19T11:34:34Z")
        );
        let without = body.replace("  <ServerTime>2022-12-19T11:34:34.000Z</ServerTime>\n", "");
        let e = parse_service_error(403, &headers(&[date]), without.as_bytes());
        assert_eq!(server_time(&e), SigningTime::parse_http_date(date.1));
        // Another AccessDenied is not a clock problem.
        let other = body
            .replace(
                "Request has expired.",
                "You have no right to access this object.",
            )
            .replace("0002-00000069", "0003-00000001");
        let e = parse_service_error(403, &headers(&[date]), other.as_bytes());
        assert!(!is_expired_url(&e));
        assert_eq!(e.server_time.as_deref(), Some("2022-12-19T11:34:34.000Z"));
    }

    #[test]
    fn request_time_too_skewed_server_time_from_body_or_date() {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<Error>
  <Code>RequestTimeTooSkewed</Code>
  <Message>The difference between the request time and the current time is too large.</Message>
  <RequestId>63A04C8AB7F1D93532DD6F2E</RequestId>
  <HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>
  <RequestTime>2020-12-20T08:48:18.000Z</RequestTime>
  <ServerTime>2022-12-19T11:34:34.000Z</ServerTime>
  <EC>0002-00000504</EC>
  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0002-00000504</RecommendDoc>
</Error>
";
        let date = ("Date", "Mon, 19 Dec 2022 11:34:35 GMT");
        let e = parse_service_error(403, &headers(&[date]), body.as_bytes());
        assert_eq!(e.server_time.as_deref(), Some("2022-12-19T11:34:34.000Z"));
        assert_eq!(
            server_time(&e),
            SigningTime::parse_iso8601_extended("2022-12-19T11:34:34Z")
        );
        let names: Vec<&str> = e.details.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            ["MaxAllowedSkewMilliseconds", "RequestTime", "RecommendDoc"]
        );
        assert_eq!(e.detail("MaxAllowedSkewMilliseconds"), Some("900000"));

        let without = body.replace("  <ServerTime>2022-12-19T11:34:34.000Z</ServerTime>\n", "");
        let e = parse_service_error(403, &headers(&[date]), without.as_bytes());
        assert_eq!(e.server_time.as_deref(), Some(date.1));
        assert_eq!(server_time(&e), SigningTime::parse_http_date(date.1));

        // Only a skew error takes the Date header as the server's clock.
        let e = parse_service_error(409, &headers(&[date]), POSITION_BODY.as_bytes());
        assert_eq!(
            (e.server_time, server_time(&ServiceError::default())),
            (None, None)
        );
    }

    fn signature_v1_body() -> String {
        let to_sign = format!(
            "POST\n\napplication/octet-stream\n\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n\
             x-oss-security-token:{TOKEN}\n/examplebucket/rec/a.webm?append&position=0"
        );
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<Error>
  <Code>SignatureDoesNotMatch</Code>
  <Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message>
  <RequestId>5FBDED044506783032388E99</RequestId>
  <HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <OSSAccessKeyId>STS.NSjeTodte64fJxeVqRCLfw8Gf</OSSAccessKeyId>
  <SignatureProvided>GJAVqk7/D9rKSw2I7ebrhGHabRs=</SignatureProvided>
  <StringToSign>{}</StringToSign>
  <StringToSignBytes>{} </StringToSignBytes>
  <EC>0002-00000040</EC>
  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0002-00000040</RecommendDoc>
</Error>
",
            xml::escape(&to_sign),
            hex(&to_sign)
        )
    }

    #[test]
    fn signature_does_not_match_v1_redacts_the_token_in_text_and_hex() {
        let e = parse_service_error(403, &Headers::new(), signature_v1_body().as_bytes());
        assert_eq!(e.code, "SignatureDoesNotMatch");
        assert_eq!(
            e.detail("OSSAccessKeyId"),
            Some("STS.NSjeTodte64fJxeVqRCLfw8Gf")
        );
        assert_eq!(
            e.detail("SignatureProvided"),
            Some("GJAVqk7/D9rKSw2I7ebrhGHabRs=")
        );
        let redacted =
            "POST\n\napplication/octet-stream\n\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n\
             x-oss-security-token:<redacted>\n/examplebucket/rec/a.webm?append&position=0";
        assert_eq!(e.detail("StringToSign"), Some(redacted));
        // OSS ends the dump with a space; only the bytes of the token change.
        let dump = format!("{} ", hex(redacted));
        assert_eq!(e.detail("StringToSignBytes"), Some(dump.as_str()));
        assert_no_token(&e);
    }

    #[test]
    fn signature_does_not_match_v4_and_presigned_queries_are_redacted() {
        let canonical = format!(
            "POST\n/examplebucket/rec/a.webm\nappend=&position=0\n\
             content-type:application/octet-stream\nhost:examplebucket.oss-cn-hangzhou.aliyuncs.com\n\
             x-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20231216T162057Z\n\
             X-OSS-Security-Token: {TOKEN}\n\nUNSIGNED-PAYLOAD"
        );
        let presigned =
            format!(
            "GET\n/examplebucket/a.webm\nx-oss-additional-headers=host&x-oss-security-token={}&\
             x-oss-signature-version=OSS4-HMAC-SHA256\n\nUNSIGNED-PAYLOAD",
            TOKEN.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
        );
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<Error>
  <Code>SignatureDoesNotMatch</Code>
  <Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message>
  <RequestId>657DD1E9E1B7A63933A1B4F0</RequestId>
  <HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <OSSAccessKeyId>STS.NSjeTodte64fJxeVqRCLfw8Gf</OSSAccessKeyId>
  <SignatureProvided>e6e6c1d6b8e1c3d2a0f6a4f6c2b1e9d8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2</SignatureProvided>
  <StringToSign>OSS4-HMAC-SHA256\n20231216T162057Z\n20231216/cn-hangzhou/oss/aliyun_v4_request\n\
c46d96390bdbc2d739ac9363293ae9d710b1a5c4cd57b05b2de2bd8ae1ac5a4b</StringToSign>
  <CanonicalRequest>{}</CanonicalRequest>
  <CanonicalRequestBytes>{}</CanonicalRequestBytes>
  <Presigned>{}</Presigned>
  <EC>0002-00000040</EC>
</Error>",
            xml::escape(&canonical),
            hex(&canonical),
            xml::escape(&presigned)
        );
        let e = parse_service_error(403, &Headers::new(), body.as_bytes());
        assert_no_token(&e);
        let canonical_out = e.detail("CanonicalRequest").unwrap();
        assert!(canonical_out.contains("\nX-OSS-Security-Token: <redacted>\n\nUNSIGNED-PAYLOAD"));
        assert!(canonical_out.contains("x-oss-content-sha256:UNSIGNED-PAYLOAD"));
        assert!(e.detail("StringToSign").unwrap().ends_with("ae1ac5a4b"));
        assert_eq!(
            e.detail("Presigned"),
            Some(
                "GET\n/examplebucket/a.webm\nx-oss-additional-headers=host&x-oss-security-token=<redacted>&\
                 x-oss-signature-version=OSS4-HMAC-SHA256\n\nUNSIGNED-PAYLOAD"
            )
        );
    }

    #[test]
    fn head_errors_come_from_the_x_oss_err_header() {
        let xml =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>NoSuchKey</Code>\n  \
                   <Message>The specified key does not exist.</Message>\n  \
                   <RequestId>6551DBCF4311A7303980C49A</RequestId>\n  \
                   <HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>\n  \
                   <Key>rec/a.webm</Key>\n  <EC>0026-00000001</EC>\n</Error>\n";
        let padded = base64::engine::general_purpose::STANDARD.encode(xml);
        let unpadded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(xml);
        for encoded in [padded, unpadded] {
            let h = headers(&[
                ("x-oss-request-id", "6551DBCF4311A7303980C49A"),
                ("x-oss-ec", "0026-00000001"),
                ("x-oss-err", &encoded),
            ]);
            let e = parse_service_error(404, &h, b"");
            assert_eq!(e.code, "NoSuchKey");
            assert_eq!(e.message, "The specified key does not exist.");
            assert_eq!(
                e.host_id.as_deref(),
                Some("examplebucket.oss-cn-hangzhou.aliyuncs.com")
            );
            assert_eq!(e.details, [("Key".to_owned(), "rec/a.webm".to_owned())]);
            assert_eq!(e.ec.as_deref(), Some("0026-00000001"));
        }
        // The header also rescues a body that a proxy replaced.
        let h = headers(&[(
            "x-oss-err",
            &base64::engine::general_purpose::STANDARD.encode(xml),
        )]);
        let e = parse_service_error(404, &h, b"<html><body>gateway</body>");
        assert_eq!(e.code, "NoSuchKey");
        // An undecodable header falls back to the synthesized error.
        let h = headers(&[("x-oss-err", "%%% not base64"), ("x-oss-request-id", "R1")]);
        let e = parse_service_error(404, &h, b"");
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("NoSuchKey", "Object not exists")
        );
        assert_eq!(e.request_id.as_deref(), Some("R1"));
    }

    #[test]
    fn bodiless_errors_are_synthesized_like_ali_oss() {
        let h = headers(&[("X-Oss-Request-Id", " R2 "), ("x-oss-ec", "0003-00000001")]);
        let cases = [
            (404, "NoSuchKey", "Object not exists"),
            (412, "PreconditionFailed", "Pre condition failed"),
            (
                403,
                "",
                "Unknown error, status: 403 (the reason is in the x-oss-err header",
            ),
            (
                503,
                "",
                "Unknown error, status: 503 (the reason is in the x-oss-err header",
            ),
        ];
        for (status, code, message) in cases {
            let e = parse_service_error(status, &h, b" \r\n");
            assert_eq!((e.status, e.code.as_str()), (status, code));
            assert!(e.message.starts_with(message), "{}", e.message);
            assert_eq!(e.request_id.as_deref(), Some("R2"));
            assert_eq!(e.ec.as_deref(), Some("0003-00000001"));
        }
        assert_eq!(
            Error::from(parse_service_error(503, &Headers::new(), b"")).name(),
            "UnknownError"
        );
    }

    #[test]
    fn header_fallbacks_and_oss_doc_padding() {
        let body = "<?xml version=\"1.0\" ?>\n<Error xmlns=\"http://doc.oss-cn-hangzhou.aliyuncs.com\">\n\
                    <Code>\nAccessDenied\n</Code>\n<Message>\nQuery-string authentication requires the \
                    Signature, Expires and OSSAccessKeyId parameters\n</Message>\n<HostId>\n\
                    oss-cn-hangzhou.aliyuncs.com\n</HostId>\n</Error>";
        let h = headers(&[
            ("x-oss-request-id", "1D842BC54255AAAA"),
            ("x-oss-ec", "0002-00000228"),
            ("x-oss-next-append-position", "not a number"),
            ("x-oss-hash-crc64ecma", "0"),
        ]);
        let e = parse_service_error(403, &h, body.as_bytes());
        assert_eq!(e.code, "AccessDenied");
        assert!(
            e.message.starts_with("Query-string authentication")
                && e.message.ends_with("parameters")
        );
        assert_eq!(e.request_id.as_deref(), Some("1D842BC54255AAAA"));
        assert_eq!(e.host_id.as_deref(), Some("oss-cn-hangzhou.aliyuncs.com"));
        assert_eq!(e.ec.as_deref(), Some("0002-00000228"));
        assert_eq!((e.next_append_position, e.crc64), (None, Some(0)));

        // Body values win over headers; an empty Message gets ali-oss's fallback.
        let body =
            "<Error><Code>InternalError</Code><Message/><RequestId>B</RequestId><EC>E</EC></Error>";
        let h = headers(&[("x-oss-request-id", "H"), ("x-oss-ec", "HE")]);
        let e = parse_service_error(500, &h, body.as_bytes());
        assert_eq!(e.request_id.as_deref(), Some("B"));
        assert_eq!(e.ec.as_deref(), Some("E"));
        assert_eq!(e.message, "Unknown error, status: 500");
    }

    #[test]
    fn unreadable_bodies_are_quoted_briefly() {
        let page = format!(
            "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n\
             <p>upstream: /b/k?append&amp;position=0&amp;security-token={TOKEN}</p>{}</body></html>",
            "<p>filler</p>".repeat(1_000)
        );
        let h = headers(&[("x-oss-request-id", "R3")]);
        let e = parse_service_error(502, &h, page.as_bytes());
        assert_eq!((e.status, e.code.as_str()), (502, ""));
        assert!(
            e.message.starts_with(&format!(
            "the error response body ({} bytes) could not be read as an OSS error (the root element is <html>",
            page.len()
        )),
            "{}",
            e.message
        );
        assert!(e
            .message
            .contains("it begins: <html> <head><title>502 Bad Gateway</title></head> <body>"));
        assert!(
            e.message.contains("security-token=<redacted>"),
            "{}",
            e.message
        );
        assert!(e.message.chars().count() < 500, "{}", e.message);
        assert_eq!(e.request_id.as_deref(), Some("R3"));
        assert_no_token(&e);

        // The transport reads at most the cap: a body of that size was cut there.
        let capped = vec![b'x'; MAX_PARSED_BODY_BYTES as usize];
        let e = parse_service_error(500, &Headers::new(), &capped);
        assert!(
            e.message.starts_with(
                "the error response body (its first 65536 bytes, the most read) could not be read as an OSS error"
            ),
            "{}",
            e.message
        );
        assert!(e.message.chars().count() < 500, "{}", e.message);

        let e = parse_service_error(
            500,
            &Headers::new(),
            b"<ListBucketResult><Name>b</Name></ListBucketResult>",
        );
        assert!(
            e.message
                .contains("the root element is <ListBucketResult>, not <Error>"),
            "{}",
            e.message
        );
        let e = parse_service_error(400, &Headers::new(), b"Bad Request\xff\xfe");
        assert!(
            e.message.contains("not UTF-8") && e.message.ends_with("Bad Request\u{FFFD}\u{FFFD}"),
            "{}",
            e.message
        );
    }

    #[test]
    fn emulator_documents_round_trip() {
        let original = ServiceError {
            status: 409,
            code: "PositionNotEqualToLength".into(),
            message: "Position is not equal to file length & <more>".into(),
            request_id: Some("5C3D9175B6FC201293AD4890".into()),
            host_id: Some("examplebucket.oss-cn-hangzhou.aliyuncs.com".into()),
            ec: Some("0026-00000016".into()),
            server_time: Some("2024-01-02T03:04:05.000Z".into()),
            next_append_position: Some(42),
            crc64: Some(u64::MAX),
            details: vec![
                (
                    "RecommendDoc".into(),
                    "https://api.aliyun.com/troubleshoot?q=0026-00000016".into(),
                ),
                ("Multi".into(), "a\r\nb\tc 中".into()),
            ],
        };
        let h = headers(&[
            ("x-oss-next-append-position", "42"),
            ("x-oss-hash-crc64ecma", "18446744073709551615"),
        ]);
        let body = error_document(&original);
        assert_eq!(parse_service_error(409, &h, body.as_bytes()), original);
        let h2 = headers(&[
            (
                "x-oss-err",
                &base64::engine::general_purpose::STANDARD.encode(&body),
            ),
            ("x-oss-next-append-position", "42"),
            ("x-oss-hash-crc64ecma", "18446744073709551615"),
        ]);
        assert_eq!(parse_service_error(409, &h2, b""), original);
    }

    #[test]
    fn never_panics_and_never_leaks_on_truncated_or_random_bodies() {
        let body = signature_v1_body().into_bytes();
        let h = headers(&[("x-oss-request-id", "R")]);
        for end in 0..=body.len() {
            let e = parse_service_error(403, &h, &body[..end]);
            assert!(e.message.chars().count() < 600);
            assert_no_token(&e);
        }
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..5_000 {
            let len = (next() % 300) as usize;
            let random: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let e = parse_service_error((next() % 600) as u16, &h, &random);
            assert!(e.message.chars().count() < 600);
            let mut mutated = body.clone();
            let at = (next() % mutated.len() as u64) as usize;
            mutated[at] = next() as u8;
            let _ = parse_service_error(403, &h, &mutated);
            let header = headers(&[("x-oss-err", &String::from_utf8_lossy(&random))]);
            let _ = parse_service_error(404, &header, b"");
        }
    }

    fn append_headers() -> Vec<(&'static str, &'static str)> {
        vec![
            ("x-oss-next-append-position", "1717"),
            ("x-oss-hash-crc64ecma", "14741617095266562575"),
            ("x-oss-request-id", "5C3D9778CC1C2AEDF85BD9B7"),
            ("ETag", "\"0F7230CAA4BE94CCBDC99C5500000000\""),
        ]
    }

    #[test]
    fn answers_other_than_success_are_read_as_service_errors() {
        let body = || b"<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>".to_vec();
        let unread = || -> Vec<u8> { panic!("the body of a success is not read") };
        let appended = AppendResponse::from_answer(200, &headers(&append_headers()), unread);
        assert_eq!(appended.map(|r| r.next_position), Ok(1717));
        for status in [201, 204, 404, 500] {
            match AppendResponse::from_answer(status, &headers(&append_headers()), body) {
                Err(Error::Service(e)) => {
                    assert_eq!((e.status, e.code.as_str()), (status, "NoSuchBucket"))
                }
                other => panic!("{status}: {other:?}"),
            }
        }
        for status in [200, 204, 206] {
            assert_eq!(check_call_answer(status, &Headers::new(), unread), Ok(()));
        }
        match check_call_answer(404, &Headers::new(), Vec::new) {
            Err(Error::Service(e)) => assert_eq!((e.status, e.code.as_str()), (404, "NoSuchKey")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn append_success_reads_the_required_headers() {
        let mut pairs = append_headers();
        pairs.push(("x-oss-version-id", "null"));
        let r = AppendResponse::from_headers(200, &headers(&pairs)).unwrap();
        assert_eq!(
            r,
            AppendResponse {
                status: 200,
                next_position: 1717,
                crc64: 14_741_617_095_266_562_575,
                request_id: "5C3D9778CC1C2AEDF85BD9B7".into(),
                etag: "\"0F7230CAA4BE94CCBDC99C5500000000\"".into(),
                version_id: Some("null".into()),
            }
        );
    }

    #[test]
    fn append_success_names_exactly_the_hidden_headers() {
        let only_etag = headers(&[("etag", "\"x\"")]);
        match AppendResponse::from_headers(200, &only_etag) {
            Err(Error::MissingExposedHeader { missing, status }) => {
                assert_eq!(status, 200);
                assert_eq!(
                    missing,
                    [
                        "x-oss-next-append-position",
                        "x-oss-hash-crc64ecma",
                        "x-oss-request-id"
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        for hidden in APPEND_REQUIRED_HEADERS {
            let pairs: Vec<_> = append_headers()
                .into_iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case(hidden))
                .collect();
            let e = AppendResponse::from_headers(200, &headers(&pairs)).unwrap_err();
            assert_eq!(
                e,
                Error::MissingExposedHeader {
                    missing: vec![hidden.to_owned()],
                    status: 200
                }
            );
            assert!(e.to_string().contains(hidden));
        }
    }

    #[test]
    fn append_success_rejects_malformed_numbers_and_error_statuses() {
        for (name, bad) in [
            ("x-oss-next-append-position", "-1"),
            ("x-oss-next-append-position", ""),
            ("x-oss-hash-crc64ecma", "18446744073709551616"),
            ("x-oss-hash-crc64ecma", "0x10"),
        ] {
            let mut pairs = append_headers();
            pairs.retain(|(k, _)| *k != name);
            pairs.push((name, bad));
            match AppendResponse::from_headers(200, &headers(&pairs)) {
                Err(Error::InvalidResponse {
                    status,
                    reason,
                    request_id,
                }) => {
                    assert_eq!(status, 200);
                    assert!(reason.contains(name), "{reason}");
                    assert_eq!(request_id.as_deref(), Some("5C3D9778CC1C2AEDF85BD9B7"));
                }
                other => panic!("{name}={bad}: {other:?}"),
            }
        }
        let e = AppendResponse::from_headers(409, &headers(&append_headers())).unwrap_err();
        assert!(
            matches!(e, Error::InvalidResponse { status: 409, .. }),
            "{e:?}"
        );
    }

    #[test]
    fn a_head_of_an_appendable_object_reads_length_crc_and_meta() {
        let h = headers(&[
            ("Content-Length", "4"),
            ("Content-Type", "video/webm"),
            ("ETag", "\"0F7230CAA4BE94CCBDC99C5500000000\""),
            ("Last-Modified", "Fri, 24 Feb 2012 06:07:48 GMT"),
            ("x-oss-object-type", "Appendable"),
            ("x-oss-next-append-position", "4"),
            ("x-oss-hash-crc64ecma", "18020588380933092773"),
            ("x-oss-request-id", "5C3D9778CC1C2AEDF85BD9B7"),
            ("X-OSS-Meta-Camera", "front"),
            ("x-oss-meta-take", "3"),
            ("x-oss-metadata", "not meta"),
            ("x-oss-storage-class", "Standard"),
        ]);
        let r = HeadResponse::from_headers(200, &h).unwrap();
        assert_eq!(
            r,
            HeadResponse {
                status: 200,
                object_type: Some(ObjectType::Appendable),
                content_length: Some(4),
                next_append_position: Some(4),
                crc64: Some(18_020_588_380_933_092_773),
                etag: Some("\"0F7230CAA4BE94CCBDC99C5500000000\"".into()),
                last_modified: Some("Fri, 24 Feb 2012 06:07:48 GMT".into()),
                content_type: Some("video/webm".into()),
                meta: vec![
                    ("camera".into(), "front".into()),
                    ("take".into(), "3".into())
                ],
                request_id: Some("5C3D9778CC1C2AEDF85BD9B7".into()),
                version_id: None,
                sealed_time: None,
            }
        );
        assert_eq!(r.length_and_crc(), Ok((4, 18_020_588_380_933_092_773)));
    }

    #[test]
    fn head_object_types_and_hidden_headers() {
        for (text, want) in [
            ("Normal", ObjectType::Normal),
            ("appendable", ObjectType::Appendable),
            ("Multipart", ObjectType::Multipart),
            ("Symlink", ObjectType::Symlink),
            ("Future", ObjectType::Other("Future".into())),
        ] {
            assert_eq!(ObjectType::parse(text), want);
            assert_eq!(want.to_string().to_lowercase(), text.to_lowercase());
        }
        // CORS hides the append headers but Content-Length is always readable.
        let r = HeadResponse::from_headers(200, &headers(&[("Content-Length", "10")])).unwrap();
        assert_eq!(r.object_type, None);
        assert_eq!(
            r.length_and_crc(),
            Err(Error::MissingExposedHeader {
                missing: vec!["x-oss-hash-crc64ecma".into()],
                status: 200
            })
        );
        let r = HeadResponse::from_headers(200, &Headers::new()).unwrap();
        assert_eq!(
            r.length_and_crc(),
            Err(Error::MissingExposedHeader {
                missing: vec![
                    "x-oss-next-append-position".into(),
                    "x-oss-hash-crc64ecma".into()
                ],
                status: 200
            })
        );
        let bad = HeadResponse::from_headers(200, &headers(&[("Content-Length", "4 bytes")]));
        assert!(matches!(bad, Err(Error::InvalidResponse { .. })), "{bad:?}");
        assert!(HeadResponse::from_headers(404, &Headers::new()).is_err());
    }

    #[test]
    fn only_an_appendable_head_with_its_crc_says_where_the_next_append_continues() {
        let head =
            |pairs: &[(&str, &str)]| HeadResponse::from_headers(200, &headers(pairs)).unwrap();
        let appendable = head(&[
            ("x-oss-next-append-position", "4"),
            ("x-oss-hash-crc64ecma", "7"),
            ("Content-Length", "4"),
        ]);
        assert_eq!(appendable.append_continuation(), Some((4, 7)));
        let normal = head(&[("Content-Length", "4"), ("x-oss-hash-crc64ecma", "7")]);
        assert_eq!(normal.append_continuation(), None);
        let hidden_crc = head(&[("x-oss-next-append-position", "4")]);
        assert_eq!(hidden_crc.append_continuation(), None);
    }

    #[test]
    fn write_answers_read_sealed_time_version_and_delete_marker() {
        let sealed = headers(&[
            ("x-oss-request-id", "R"),
            ("x-oss-sealed-time", "Wed, 07 May 2025 08:00:00 GMT"),
            ("x-oss-next-append-position", "9"),
        ]);
        let r = WriteResponse::from_headers(200, &sealed).unwrap();
        assert_eq!(
            r.sealed_time.as_deref(),
            Some("Wed, 07 May 2025 08:00:00 GMT")
        );
        assert_eq!(
            (r.next_append_position, r.crc64, r.delete_marker),
            (Some(9), None, false)
        );
        let deleted = headers(&[("x-oss-delete-marker", "true"), ("x-oss-version-id", "v1")]);
        let r = WriteResponse::from_headers(204, &deleted).unwrap();
        assert!(r.delete_marker);
        assert_eq!(r.version_id.as_deref(), Some("v1"));
        let put = headers(&[("ETag", "\"E\""), ("x-oss-hash-crc64ecma", "123")]);
        let r = WriteResponse::from_headers(200, &put).unwrap();
        assert_eq!((r.etag.as_deref(), r.crc64), (Some("\"E\""), Some(123)));
        assert!(
            WriteResponse::from_headers(200, &headers(&[("x-oss-hash-crc64ecma", "x")])).is_err()
        );
    }
}

//! The object operations an append workflow needs (put, append, head, get, delete, seal, presign): their
//! unsigned requests, the checks before any byte moves, and each call's retry policy.
//!
//! Builders return plain [`Request`] data: no `Content-Length` (the transport sets it from the body), no
//! date and no `Authorization` (the signer adds them per attempt).

use crate::error::Error;
use crate::headers::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_ENCODING, CONTENT_MD5, CONTENT_TYPE, EXPIRES,
    RANGE, X_OSS_META_PREFIX, X_OSS_OBJECT_ACL, X_OSS_SERVER_SIDE_DATA_ENCRYPTION,
    X_OSS_SERVER_SIDE_ENCRYPTION, X_OSS_SERVER_SIDE_ENCRYPTION_KEY_ID, X_OSS_STORAGE_CLASS,
    X_OSS_TAGGING,
};
use crate::http::{Headers, Method, Request};
use crate::mime;
use crate::sign::{SigningConfig, SigningVersion};
use crate::validate::{
    check_append_size, check_bucket, check_header, check_header_count, check_key, check_meta,
    check_meta_size, check_mime, is_meta_header, parse_integer, preview, IntegerInput,
};

/// The Content-Type sent when neither the caller nor the key's extension gives one.
///
/// ali-oss leaves the header out then; it is always sent here because a browser `fetch` with a typed
/// `Blob` body would otherwise add the Blob's type after signing, and OSS stores octet-stream anyway.
pub(crate) const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Headers that OSS applies only when an append creates the object (position 0), besides `x-oss-meta-*`.
pub(crate) const CREATION_ONLY_HEADERS: [&str; 11] = [
    CONTENT_TYPE,
    CACHE_CONTROL,
    CONTENT_DISPOSITION,
    CONTENT_ENCODING,
    EXPIRES,
    X_OSS_OBJECT_ACL,
    X_OSS_STORAGE_CLASS,
    X_OSS_SERVER_SIDE_ENCRYPTION,
    X_OSS_SERVER_SIDE_DATA_ENCRYPTION,
    X_OSS_SERVER_SIDE_ENCRYPTION_KEY_ID,
    X_OSS_TAGGING,
];

/// `Content-MD5` of an empty body, which SealAppendObject carries.
const EMPTY_BODY_MD5: &str = "1B2M2Y8AsgTpgAmY2PhCfg==";

/// Whether header `name` is an object attribute that only an object-creating append sets
/// ([`CREATION_ONLY_HEADERS`] and `x-oss-meta-*`, any case).
pub(crate) fn is_creation_only(name: &str) -> bool {
    CREATION_ONLY_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
        || is_meta_header(name)
}

/// What a put or an append may set on the object, from the call's `headers`, `meta` and `mime` options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct WriteOptions {
    /// Extra request headers (`Cache-Control`, `x-oss-object-acl`, `Content-Type`, ...), sent as given.
    pub headers: Headers,
    /// User metadata, sent as `x-oss-meta-<key>` (keys lower-cased, as OSS stores them).
    pub meta: Vec<(String, String)>,
    /// The Content-Type (`video/webm`), or an extension to look one up by (`webm`).
    pub mime: Option<String>,
}

/// How an append's input goes out, for the one header that depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sending {
    /// The whole input in one append: `total` bytes known up front, at most one `part_size`.
    Whole,
    /// Several appends (an input past `partSize`, or a stream of unknown length).
    Parts,
    /// A live appender's parts, as they are written.
    Live,
}

impl Sending {
    /// How `append` sends an input of `total` bytes (`None`: a stream) in parts of `part_size`.
    pub(crate) fn for_input(total: Option<u64>, part_size: u64) -> Self {
        match total {
            Some(t) if t <= part_size => Sending::Whole,
            _ => Sending::Parts,
        }
    }
}

impl WriteOptions {
    /// A `Content-MD5` covers one request's body, so it goes only with an input sent whole.
    ///
    /// # Errors
    /// `InvalidArgument` naming `options.headers.Content-MD5`, saying what to do instead.
    pub(crate) fn check_content_md5(&self, sending: Sending) -> Result<(), Error> {
        if !self.headers.contains(CONTENT_MD5) {
            return Ok(());
        }
        match sending {
            Sending::Whole => Ok(()),
            Sending::Parts => Err(Error::invalid(
                "options.headers.Content-MD5",
                "an input that goes out as several appends has no single MD5; drop Content-MD5 (every append is \
                 CRC-64 checked) or raise partSize above the input size",
            )),
            Sending::Live => Err(Error::invalid(
                "options.headers.Content-MD5",
                "a live appender sends many parts, so no single MD5 applies; every part is CRC-64 checked instead",
            )),
        }
    }
}

/// The Content-Type a write sends when the caller's headers have none: `mime` if it contains `/`; else
/// the type of `mime` read as an extension; else the type of the key's extension; else
/// [`DEFAULT_CONTENT_TYPE`].
pub(crate) fn content_type<'a>(key: &str, mime: Option<&'a str>) -> &'a str {
    let mime = mime.map(str::trim).filter(|m| !m.is_empty());
    if let Some(m) = mime {
        if m.as_bytes().contains(&b'/') {
            return m;
        }
        if let Some(found) = mime::from_extension(m.trim_start_matches('.')) {
            return found;
        }
    }
    mime::from_key(key).unwrap_or(DEFAULT_CONTENT_TYPE)
}

/// Checks the write options and returns the headers to send; creation-only ones only when `creating`.
///
/// Everything is validated either way, so that a bad option fails on every call, not only the first.
fn write_headers(key: &str, options: &WriteOptions, creating: bool) -> Result<Headers, Error> {
    check_header_count(
        "options.headers",
        options.headers.len() + options.meta.len(),
    )?;
    let mut out = Headers::new();
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in options.headers.iter() {
        check_header(name, value)?;
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(Error::invalid(
                "options.headers",
                format!(
                    "{} is given twice; header names are case-insensitive, so give each once",
                    preview(name)
                ),
            ));
        }
        seen.push(lower);
        if creating || !is_creation_only(name) {
            out.set(name, value);
        }
    }
    for (meta_key, value) in &options.meta {
        check_meta(meta_key, value)?;
        let name = format!("{X_OSS_META_PREFIX}{}", meta_key.to_ascii_lowercase());
        if seen.contains(&name) {
            return Err(Error::invalid(
                "options.meta",
                format!(
                    "the key {} is given twice (or also as an {name} header); metadata keys are \
                     case-insensitive, so give each once",
                    preview(meta_key)
                ),
            ));
        }
        if creating {
            out.set(name.clone(), value);
        }
        seen.push(name);
    }
    // OSS's 8 KB limit counts the full header names, from both sources.
    let meta_headers: Vec<(String, &str)> = options
        .headers
        .iter()
        .filter(|(name, _)| is_meta_header(name))
        .map(|(name, value)| (name.to_owned(), value))
        .chain(
            options
                .meta
                .iter()
                .map(|(k, v)| (format!("{X_OSS_META_PREFIX}{k}"), v.as_str())),
        )
        .collect();
    check_meta_size(meta_headers.iter().map(|(k, v)| (k.as_str(), *v)))?;
    if let Some(mime) = &options.mime {
        check_mime(mime)?;
    }
    if creating && !out.contains(CONTENT_TYPE) {
        out.set(CONTENT_TYPE, content_type(key, options.mime.as_deref()));
    }
    Ok(out)
}

/// A request on one object, after checking the bucket and key.
fn object_request(method: Method, bucket: &str, key: &str) -> Result<Request, Error> {
    check_bucket(bucket)?;
    check_key(key)?;
    Ok(Request::new(method, Some(bucket), Some(key)))
}

/// PutObject: `PUT /key` with every write option (a put always creates the object).
///
/// `key` must already be normalized ([`crate::validate::normalize_key`]).
///
/// # Errors
/// `InvalidArgument` for a bad bucket, key, header, metadata entry or mime.
pub(crate) fn put_object(
    bucket: &str,
    key: &str,
    options: &WriteOptions,
) -> Result<Request, Error> {
    let mut request = object_request(Method::Put, bucket, key)?;
    request.headers = write_headers(key, options, true)?;
    Ok(request)
}

/// AppendObject: `POST /key?append&position=<position>`.
///
/// Creation-only attributes ([`is_creation_only`], including the Content-Type) are sent only when
/// `position` is 0; later appends cannot change them. Every option is validated either way.
///
/// # Errors
/// `InvalidArgument` for a bad bucket, key, header, metadata entry or mime.
pub(crate) fn append_object(
    bucket: &str,
    key: &str,
    position: u64,
    options: &WriteOptions,
) -> Result<Request, Error> {
    let mut request = object_request(Method::Post, bucket, key)?;
    request.query = vec![
        ("append".to_owned(), String::new()),
        ("position".to_owned(), position.to_string()),
    ];
    request.headers = write_headers(key, options, position == 0)?;
    Ok(request)
}

/// HeadObject: `HEAD /key` (length, CRC-64 and next append position of an appendable object).
///
/// # Errors
/// `InvalidArgument` for a bad bucket or key.
pub(crate) fn head_object(bucket: &str, key: &str) -> Result<Request, Error> {
    object_request(Method::Head, bucket, key)
}

/// GetObject: `GET /key`, with `Range: bytes=<first>-[<last>]` when `range` is given (`last` inclusive,
/// as in HTTP; `None` reads to the end).
///
/// # Errors
/// `InvalidArgument` for a bad bucket or key, or a range whose last byte comes before its first
/// (`options.range`).
pub(crate) fn get_object(
    bucket: &str,
    key: &str,
    range: Option<(u64, Option<u64>)>,
) -> Result<Request, Error> {
    let mut request = object_request(Method::Get, bucket, key)?;
    if let Some((first, last)) = range {
        let value = match last {
            None => format!("bytes={first}-"),
            Some(last) if last >= first => format!("bytes={first}-{last}"),
            Some(last) => {
                return Err(Error::invalid(
                    "options.range",
                    format!(
                        "the last byte {last} comes before the first byte {first}; a range is first-last \
                         with last >= first (both inclusive), or first- to read to the end"
                    ),
                ))
            }
        };
        request.headers.set(RANGE, value);
    }
    Ok(request)
}

/// DeleteObject: `DELETE /key`.
///
/// # Errors
/// `InvalidArgument` for a bad bucket or key.
pub(crate) fn delete_object(bucket: &str, key: &str) -> Result<Request, Error> {
    object_request(Method::Delete, bucket, key)
}

/// The calls besides append, for the retry policy each follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    /// HeadObject.
    Head,
    /// GetObject.
    Get,
    /// PutObject.
    Put,
    /// DeleteObject.
    Delete,
    /// SealAppendObject.
    Seal,
}

impl Call {
    /// Whether repeating the call after an ambiguous failure (network error, timeout, 5xx) cannot change
    /// its outcome. A seal is not: a repeated seal's answer would not tell whether the first landed.
    pub(crate) fn is_idempotent(self) -> bool {
        !matches!(self, Self::Seal)
    }
}

/// Checks an append before any byte moves: the headers and metadata its first request carries at
/// `position`, and, for an input of known `total` length, that the object stays within `size_limit`.
///
/// # Errors
/// `InvalidArgument` for a bad bucket, key, header or metadata; [`Error::ObjectTooLarge`].
pub(crate) fn check_append(
    bucket: &str,
    key: &str,
    position: u64,
    options: &WriteOptions,
    total: Option<u64>,
    size_limit: u64,
) -> Result<(), Error> {
    append_object(bucket, key, position, options)?;
    match total {
        Some(total) => check_append_size(position, total, size_limit),
        None => Ok(()),
    }
}

/// Checks a put before any byte moves, as [`check_append`] does at position 0.
///
/// # Errors
/// As [`check_append`].
pub(crate) fn check_put(
    bucket: &str,
    key: &str,
    options: &WriteOptions,
    total: Option<u64>,
    size_limit: u64,
) -> Result<(), Error> {
    put_object(bucket, key, options)?;
    match total {
        Some(total) => check_append_size(0, total, size_limit),
        None => Ok(()),
    }
}

fn bad_range() -> Error {
    Error::invalid(
        "options.range",
        "expected 'bytes=first-last', 'first-last', 'first-' or { start, end } with byte offsets (end inclusive)",
    )
}

/// `options.range` as the caller gave it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RangeInput {
    /// A string: `'bytes=0-99'`, `'0-99'` or `'100-'`.
    Text(String),
    /// An object `{ start, end }`.
    Bounds {
        /// `start`.
        start: Option<IntegerInput>,
        /// `end`, inclusive; absent to read to the end.
        end: Option<IntegerInput>,
    },
    /// Anything else.
    Other,
}

/// Reads `options.range` → `(first, last)`, `last` inclusive and `None` to read to the end.
///
/// # Errors
/// `InvalidArgument` (`options.range`, `.start`, `.end`) for what is not a byte range.
pub(crate) fn read_range(input: &RangeInput) -> Result<(u64, Option<u64>), Error> {
    match input {
        RangeInput::Text(text) => parse_range(text),
        RangeInput::Bounds { start, end } => range_from_bounds(start.as_ref(), end.as_ref()),
        RangeInput::Other => Err(bad_range()),
    }
}

/// Reads `options.range` given as text: `'bytes=0-99'`, `'0-99'` or `'100-'` → `(first, last)`, `last`
/// inclusive and `None` to read to the end.
///
/// # Errors
/// `InvalidArgument` (`options.range`) for any other text.
fn parse_range(text: &str) -> Result<(u64, Option<u64>), Error> {
    let spec = text.trim().strip_prefix("bytes=").unwrap_or(text.trim());
    let (first, last) = spec.split_once('-').ok_or_else(bad_range)?;
    let first: u64 = first.trim().parse().map_err(|_| bad_range())?;
    let last = if last.trim().is_empty() {
        None
    } else {
        Some(last.trim().parse::<u64>().map_err(|_| bad_range())?)
    };
    Ok((first, last))
}

/// Reads `options.range` given as `{ start, end }` (`end` inclusive, absent to read to the end).
///
/// # Errors
/// `InvalidArgument` when `start` is missing or either is not a byte offset.
fn range_from_bounds(
    start: Option<&IntegerInput>,
    end: Option<&IntegerInput>,
) -> Result<(u64, Option<u64>), Error> {
    let start = start.ok_or_else(bad_range)?;
    let start = parse_integer("options.range.start", start, 0, u64::MAX)?;
    let end = end
        .map(|e| parse_integer("options.range.end", e, 0, u64::MAX))
        .transpose()?;
    Ok((start, end))
}

/// ali-oss's default lifetime of a presigned URL, in seconds.
pub(crate) const DEFAULT_PRESIGN_EXPIRES_SECONDS: u64 = 1800;

/// What a V1 presigned URL may ask for, under ali-oss's `signatureUrl` option names.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PresignOptions {
    /// `method`: GET (the default), PUT, POST, HEAD or DELETE.
    pub method: Option<String>,
    /// `expires`: the URL's lifetime in seconds (default [`DEFAULT_PRESIGN_EXPIRES_SECONDS`]).
    pub expires: Option<IntegerInput>,
    /// `Content-Type`, which the request made with the URL must send.
    pub content_type: Option<String>,
    /// `Content-MD5`, which the request made with the URL must send.
    pub content_md5: Option<String>,
    /// `response`: response headers to override, sent as `response-<name>` queries.
    pub response: Vec<(String, String)>,
    /// `subResource`: further queries, as given.
    pub sub_resource: Vec<(String, String)>,
    /// `process`: `x-oss-process`.
    pub process: Option<String>,
    /// `trafficLimit`: `x-oss-traffic-limit`, in bit/s.
    pub traffic_limit: Option<IntegerInput>,
}

/// The request a V1 presigned URL is signed from, and the URL's lifetime in seconds.
///
/// # Errors
/// `InvalidArgument` naming the option (`options.method`, `options.expires`, `options.trafficLimit`),
/// or a bad bucket or key.
pub(crate) fn presign_v1_request(
    bucket: &str,
    key: &str,
    options: &PresignOptions,
) -> Result<(Request, u64), Error> {
    let method = match &options.method {
        Some(m) => Method::parse(m).ok_or_else(|| {
            Error::invalid(
                "options.method",
                format!("'{m}' is not one of GET, PUT, POST, HEAD, DELETE"),
            )
        })?,
        None => Method::Get,
    };
    let expires = match &options.expires {
        Some(e) => parse_integer("options.expires", e, 1, u64::from(u32::MAX))?,
        None => DEFAULT_PRESIGN_EXPIRES_SECONDS,
    };
    let mut request = Request::new(method, Some(bucket), Some(key));
    if let Some(v) = &options.content_type {
        request.headers.set(CONTENT_TYPE, v.clone());
    }
    if let Some(v) = &options.content_md5 {
        request.headers.set(CONTENT_MD5, v.clone());
    }
    for (k, v) in &options.response {
        request
            .query
            .push((format!("response-{}", k.to_ascii_lowercase()), v.clone()));
    }
    request.query.extend(options.sub_resource.iter().cloned());
    if let Some(p) = &options.process {
        request.query.push(("x-oss-process".into(), p.clone()));
    }
    if let Some(t) = &options.traffic_limit {
        let limit = parse_integer("options.trafficLimit", t, 0, u64::MAX >> 11)?;
        request
            .query
            .push(("x-oss-traffic-limit".into(), limit.to_string()));
    }
    Ok((request, expires))
}

/// The signing of a V4 presigned URL (`signatureUrlV4`): the client's, switched to V4.
///
/// # Errors
/// `InvalidArgument` (`region`) for a V1 client made without a region, which V4 needs.
pub(crate) fn presign_v4_config(client: &SigningConfig) -> Result<SigningConfig, Error> {
    if client.version == SigningVersion::V1 && client.region.is_empty() {
        return Err(Error::invalid(
            "region",
            "signatureUrlV4 signs with a region; create the client with region",
        ));
    }
    let mut config = client.clone();
    config.version = SigningVersion::V4;
    Ok(config)
}

/// The longest version id accepted; OSS's are about 60 characters.
pub(crate) const MAX_VERSION_ID_LEN: usize = 256;

/// Addresses one version of the object (`?versionId=`) on a GET, HEAD or DELETE; `None` leaves the
/// request on the current version.
///
/// # Errors
/// `InvalidArgument` naming `options.versionId` when it is empty, too long, or has characters other
/// than visible ASCII (OSS's ids are `null` or base64-like text such as `CAEQNhiBgM...`).
pub(crate) fn with_version_id(
    mut request: Request,
    version_id: Option<&str>,
) -> Result<Request, Error> {
    let Some(id) = version_id else {
        return Ok(request);
    };
    let bad = |why: &str| {
        Error::invalid(
            "options.versionId",
            format!(
                "{} {why}; a version id is 'null' or the x-oss-version-id an upload returned \
                 (visible ASCII, at most {MAX_VERSION_ID_LEN} characters)",
                preview(id)
            ),
        )
    };
    if id.is_empty() {
        return Err(bad("is empty"));
    }
    if id.len() > MAX_VERSION_ID_LEN {
        return Err(bad("is too long"));
    }
    if !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("has spaces, control or non-ASCII characters"));
    }
    request.query.push(("versionId".to_owned(), id.to_owned()));
    Ok(request)
}

/// SealAppendObject: `POST /key?seal&position=<position>` with the `Content-MD5` of its empty body.
///
/// # Errors
/// `InvalidArgument` for a bad bucket or key.
pub(crate) fn seal_append_object(bucket: &str, key: &str, position: u64) -> Result<Request, Error> {
    let mut request = object_request(Method::Post, bucket, key)?;
    request.query = vec![
        ("seal".to_owned(), String::new()),
        ("position".to_owned(), position.to_string()),
    ];
    request.headers.set(CONTENT_MD5, EMPTY_BODY_MD5);
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUCKET: &str = "examplebucket";

    fn opts(headers: &[(&str, &str)], meta: &[(&str, &str)], mime: Option<&str>) -> WriteOptions {
        WriteOptions {
            headers: headers.iter().copied().collect(),
            meta: meta
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            mime: mime.map(str::to_owned),
        }
    }

    fn pairs(request: &Request) -> Vec<(&str, &str)> {
        request.headers.iter().collect()
    }

    fn invalid<T: std::fmt::Debug>(result: Result<T, Error>) -> (String, String) {
        match result {
            Err(Error::InvalidArgument { what, reason }) => (what, reason),
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn version_ids_are_checked_and_sent_as_a_sub_resource() {
        let head = || head_object(BUCKET, "k").unwrap();
        assert!(with_version_id(head(), None).unwrap().query.is_empty());
        let r = with_version_id(
            head(),
            Some("CAEQNhiBgM0BYiIDc4MGZjZGI2OTBjOTRmNTE5NmU5NmFhZjhjYmY0"),
        )
        .unwrap();
        assert_eq!(r.query_value("versionId").map(str::len), Some(54));
        assert_eq!(
            with_version_id(head(), Some("null"))
                .unwrap()
                .query_value("versionId"),
            Some("null")
        );
        for bad in ["", "a b", "a\nb", "é", &"x".repeat(MAX_VERSION_ID_LEN + 1)] {
            let (what, reason) = invalid(with_version_id(head(), Some(bad)));
            assert_eq!(what, "options.versionId", "{bad:?}");
            assert!(reason.contains("'null'"), "{reason}");
        }
    }

    #[test]
    fn content_md5_goes_only_with_an_input_sent_whole() {
        let with_md5 = opts(&[("content-md5", "ICy5YqxZB1uWSwcVLSNLcA==")], &[], None);
        assert_eq!(Sending::for_input(Some(10), 10), Sending::Whole);
        assert_eq!(Sending::for_input(Some(11), 10), Sending::Parts);
        assert_eq!(Sending::for_input(None, 10), Sending::Parts);
        assert_eq!(with_md5.check_content_md5(Sending::Whole), Ok(()));
        let (what, reason) = invalid(with_md5.check_content_md5(Sending::Parts));
        assert_eq!(what, "options.headers.Content-MD5");
        assert!(
            reason.contains("several appends") && reason.contains("raise partSize"),
            "{reason}"
        );
        let (what, reason) = invalid(with_md5.check_content_md5(Sending::Live));
        assert_eq!(what, "options.headers.Content-MD5");
        assert!(reason.contains("live appender"), "{reason}");
        // Without the header every way of sending is fine.
        for sending in [Sending::Whole, Sending::Parts, Sending::Live] {
            assert_eq!(WriteOptions::default().check_content_md5(sending), Ok(()));
        }
    }

    fn full_options() -> WriteOptions {
        opts(
            &[
                ("Cache-Control", "no-cache"),
                ("content-disposition", "attachment"),
                ("Content-Encoding", "gzip"),
                ("Expires", "Wed, 21 Oct 2015 07:28:00 GMT"),
                ("x-oss-object-acl", "private"),
                ("x-oss-storage-class", "Standard"),
                ("x-oss-server-side-encryption", "KMS"),
                ("x-oss-server-side-data-encryption", "SM4"),
                ("x-oss-server-side-encryption-key-id", "key-1"),
                ("x-oss-tagging", "a=1"),
                ("x-oss-meta-source", "camera"),
                ("x-oss-traffic-limit", "819200"),
                ("x-oss-forbid-overwrite", "true"),
                ("Content-MD5", "ICy5YqxZB1uWSwcVLSNLcA=="),
            ],
            &[("Author", "Ann Lee")],
            Some("video/webm"),
        )
    }

    #[test]
    fn append_at_zero_sends_creation_attributes() {
        let request = append_object(BUCKET, "rec/a.webm", 0, &full_options()).unwrap();
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.bucket.as_deref(), Some(BUCKET));
        assert_eq!(request.key.as_deref(), Some("rec/a.webm"));
        assert_eq!(
            request.query,
            vec![
                ("append".to_owned(), String::new()),
                ("position".to_owned(), "0".to_owned())
            ]
        );
        assert_eq!(
            pairs(&request),
            vec![
                ("Cache-Control", "no-cache"),
                ("content-disposition", "attachment"),
                ("Content-Encoding", "gzip"),
                ("Expires", "Wed, 21 Oct 2015 07:28:00 GMT"),
                ("x-oss-object-acl", "private"),
                ("x-oss-storage-class", "Standard"),
                ("x-oss-server-side-encryption", "KMS"),
                ("x-oss-server-side-data-encryption", "SM4"),
                ("x-oss-server-side-encryption-key-id", "key-1"),
                ("x-oss-tagging", "a=1"),
                ("x-oss-meta-source", "camera"),
                ("x-oss-traffic-limit", "819200"),
                ("x-oss-forbid-overwrite", "true"),
                ("Content-MD5", "ICy5YqxZB1uWSwcVLSNLcA=="),
                ("x-oss-meta-author", "Ann Lee"),
                ("Content-Type", "video/webm"),
            ]
        );
    }

    #[test]
    fn later_appends_leave_creation_attributes_out() {
        let options = full_options();
        let before = options.clone();
        let request = append_object(BUCKET, "rec/a.webm", 1234, &options).unwrap();
        assert_eq!(request.query_value("position"), Some("1234"));
        assert_eq!(
            pairs(&request),
            vec![
                ("x-oss-traffic-limit", "819200"),
                ("x-oss-forbid-overwrite", "true"),
                ("Content-MD5", "ICy5YqxZB1uWSwcVLSNLcA=="),
            ]
        );
        let user_type = opts(&[("Content-Type", "text/plain")], &[], None);
        assert!(append_object(BUCKET, "a.txt", 1, &user_type)
            .unwrap()
            .headers
            .is_empty());
        // The caller's options are untouched.
        assert_eq!(options, before);
    }

    #[test]
    fn bad_options_fail_at_every_position() {
        let bad = opts(&[], &[("my_key", "v")], None);
        for position in [0, 7] {
            let (what, reason) = invalid(append_object(BUCKET, "a", position, &bad));
            assert_eq!(what, "options.meta");
            assert!(reason.contains("'my_key' contains '_'"), "{reason}");
        }
    }

    #[test]
    fn content_type_comes_from_headers_then_mime_then_the_key_extension() {
        let cases = [
            // (headers, mime, key, expected Content-Type)
            (
                &[("content-type", "text/plain")][..],
                Some("video/webm"),
                "a.mp4",
                "text/plain",
            ),
            (
                &[("CONTENT-TYPE", "text/plain")][..],
                None,
                "a.mp4",
                "text/plain",
            ),
            (&[][..], Some("video/webm"), "a.mp4", "video/webm"),
            (&[][..], Some("webm"), "a.mp4", "video/webm"),
            (&[][..], Some(".webm"), "a.bin", "video/webm"),
            (&[][..], Some("nonsense"), "a.mp4", "video/mp4"),
            (&[][..], Some(""), "a.mp4", "video/mp4"),
            (&[][..], None, "rec/a.webm", "video/webm"),
            (&[][..], None, "a.JSON", "application/json"),
            (&[][..], None, "noext", "application/octet-stream"),
            (&[][..], None, "a.unknownext", "application/octet-stream"),
        ];
        for (headers, mime, key, want) in cases {
            let options = opts(headers, &[], mime);
            for request in [
                put_object(BUCKET, key, &options).unwrap(),
                append_object(BUCKET, key, 0, &options).unwrap(),
            ] {
                assert_eq!(
                    request.headers.get("content-type"),
                    Some(want),
                    "{key} {mime:?}"
                );
                assert_eq!(request.headers.len(), 1);
            }
        }
    }

    #[test]
    fn put_sends_everything() {
        let request = put_object(BUCKET, "a.txt", &full_options()).unwrap();
        assert_eq!(request.method, Method::Put);
        assert!(request.query.is_empty());
        assert_eq!(request.headers.len(), 16);
        assert_eq!(request.headers.get("x-oss-meta-author"), Some("Ann Lee"));
        assert!(!request.headers.contains("Content-Length"));
        assert!(!request.headers.contains("Authorization"));
    }

    #[test]
    fn creation_only_headers_are_recognised_in_any_case() {
        for name in CREATION_ONLY_HEADERS {
            assert!(is_creation_only(name));
            assert!(is_creation_only(&name.to_ascii_uppercase()));
        }
        assert!(is_creation_only("X-OSS-META-a"));
        assert!(!is_creation_only("x-oss-meta-"));
        assert!(!is_creation_only("Content-MD5"));
        assert!(!is_creation_only("x-oss-traffic-limit"));
        assert!(!is_creation_only("x-oss-meta\u{e9}\u{e9}"));
    }

    #[test]
    fn bad_headers_and_metadata_are_refused_naming_the_option() {
        let cases = [
            (
                opts(&[("Authorization", "x")], &[], None),
                "options.headers",
                "cannot be set",
            ),
            (
                opts(&[("Host", "x")], &[], None),
                "options.headers",
                "cannot be set",
            ),
            (
                opts(&[("Content-Length", "5")], &[], None),
                "options.headers",
                "cannot be set",
            ),
            (
                opts(&[("X-Custom", "a\nb")], &[], None),
                "options.headers",
                "line break",
            ),
            (
                opts(&[("Content-Type", "a"), ("content-type", "b")], &[], None),
                "options.headers",
                "'content-type' is given twice",
            ),
            (
                opts(&[], &[("a", "1"), ("A", "2")], None),
                "options.meta",
                "the key 'A' is given twice",
            ),
            (
                opts(&[("x-oss-meta-a", "1")], &[("a", "2")], None),
                "options.meta",
                "also as an x-oss-meta-a header",
            ),
            (opts(&[], &[("k", "值")], None), "options.meta", "non-ASCII"),
            (
                opts(&[], &[], Some("video/webm\r\nx: y")),
                "options.mime",
                "line break",
            ),
            (
                opts(&[], &[("big", &"v".repeat(8200))], None),
                "options.meta",
                "at most 8192 bytes",
            ),
            (
                opts(
                    &[("x-oss-meta-a", &"v".repeat(5000))],
                    &[("b", &"v".repeat(5000))],
                    None,
                ),
                "options.meta",
                "take 10024 bytes",
            ),
        ];
        for (options, want_what, problem) in cases {
            for result in [
                put_object(BUCKET, "k", &options),
                append_object(BUCKET, "k", 0, &options),
                append_object(BUCKET, "k", 9, &options),
            ] {
                let (what, reason) = invalid(result);
                assert_eq!(what, want_what);
                assert!(reason.contains(problem), "{reason}");
            }
        }
    }

    #[test]
    fn each_operation_builds_its_method_query_and_headers() {
        let head = head_object(BUCKET, "a/b.txt").unwrap();
        assert_eq!(
            (head.method, head.query.len(), head.headers.len()),
            (Method::Head, 0, 0)
        );
        let delete = delete_object(BUCKET, "a/b.txt").unwrap();
        assert_eq!(delete.method, Method::Delete);
        assert!(delete.headers.is_empty());
        let get = get_object(BUCKET, "a", None).unwrap();
        assert_eq!((get.method, get.headers.len()), (Method::Get, 0));
        let seal = seal_append_object(BUCKET, "a", 42).unwrap();
        assert_eq!(seal.method, Method::Post);
        assert_eq!(
            seal.query,
            vec![
                ("seal".to_owned(), String::new()),
                ("position".to_owned(), "42".to_owned())
            ]
        );
        assert_eq!(
            pairs(&seal),
            vec![("Content-MD5", "1B2M2Y8AsgTpgAmY2PhCfg==")]
        );
    }

    #[test]
    fn a_range_becomes_a_bytes_header_and_last_before_first_is_refused() {
        let cases = [
            ((0, Some(0)), "bytes=0-0"),
            ((0, Some(99)), "bytes=0-99"),
            ((100, None), "bytes=100-"),
            ((5, Some(5)), "bytes=5-5"),
        ];
        for (range, want) in cases {
            let request = get_object(BUCKET, "a", Some(range)).unwrap();
            assert_eq!(pairs(&request), vec![("Range", want)]);
        }
        let (what, reason) = invalid(get_object(BUCKET, "a", Some((10, Some(9)))));
        assert_eq!(what, "options.range");
        assert!(
            reason.contains("the last byte 9 comes before the first byte 10"),
            "{reason}"
        );
    }

    #[test]
    fn only_a_seal_is_not_repeated_after_an_ambiguous_failure() {
        let calls = [
            (Call::Head, true),
            (Call::Get, true),
            (Call::Put, true),
            (Call::Delete, true),
            (Call::Seal, false),
        ];
        for (call, idempotent) in calls {
            assert_eq!(call.is_idempotent(), idempotent, "{call:?}");
        }
    }

    #[test]
    fn ranges_are_read_from_text_or_bounds() {
        let n = |v: u64| IntegerInput::from(v);
        type Range = (u64, Option<u64>);
        let cases: [(&str, Result<Range, ()>); 8] = [
            ("bytes=0-99", Ok((0, Some(99)))),
            ("0-99", Ok((0, Some(99)))),
            (" 100- ", Ok((100, None))),
            ("bytes= 5 - 6 ", Ok((5, Some(6)))),
            ("100", Err(())),
            ("-5", Err(())),
            ("a-b", Err(())),
            ("bytes=1-x", Err(())),
        ];
        for (text, want) in cases {
            match (parse_range(text), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{text}"),
                (Err(e), Err(())) => {
                    assert!(e.to_string().contains("options.range"), "{text}: {e}")
                }
                (got, want) => panic!("{text}: {got:?}, wanted {want:?}"),
            }
        }
        assert!(read_range(&RangeInput::Other).is_err());
        assert_eq!(
            read_range(&RangeInput::Text("1-2".into())),
            Ok((1, Some(2)))
        );
        assert_eq!(
            range_from_bounds(Some(&n(3)), Some(&n(9))),
            Ok((3, Some(9)))
        );
        assert_eq!(range_from_bounds(Some(&n(3)), None), Ok((3, None)));
        assert_eq!(
            invalid(range_from_bounds(None, Some(&n(9)))).0,
            "options.range"
        );
        let negative = IntegerInput::Number(-1.0);
        assert_eq!(
            invalid(range_from_bounds(Some(&negative), None)).0,
            "options.range.start"
        );
        assert_eq!(
            invalid(range_from_bounds(Some(&n(0)), Some(&negative))).0,
            "options.range.end"
        );
    }

    #[test]
    fn appends_and_puts_are_checked_before_any_byte_moves() {
        let none = WriteOptions::default();
        assert_eq!(check_append(BUCKET, "a", 0, &none, Some(10), 10), Ok(()));
        assert_eq!(check_append(BUCKET, "a", 5, &none, None, 10), Ok(()));
        assert!(matches!(
            check_append(BUCKET, "a", 5, &none, Some(6), 10),
            Err(Error::ObjectTooLarge {
                position: 5,
                length: 6,
                limit: 10
            })
        ));
        assert!(matches!(
            check_put(BUCKET, "a", &none, Some(11), 10),
            Err(Error::ObjectTooLarge {
                position: 0,
                length: 11,
                limit: 10
            })
        ));
        let bad_meta = opts(&[("Authorization", "x")], &[], None);
        assert!(check_append(BUCKET, "a", 0, &bad_meta, None, 10).is_err());
        assert!(check_put(BUCKET, "a", &bad_meta, None, 10).is_err());
        assert_eq!(invalid(check_put(BUCKET, "", &none, None, 10)).0, "name");
    }

    #[test]
    fn presigned_urls_carry_ali_oss_option_names_as_queries_and_headers() {
        let (request, expires) =
            presign_v1_request(BUCKET, "a", &PresignOptions::default()).unwrap();
        assert_eq!((request.method, expires), (Method::Get, 1800));
        assert!(request.query.is_empty() && request.headers.is_empty());
        let options = PresignOptions {
            method: Some("put".into()),
            expires: Some(IntegerInput::from(60)),
            content_type: Some("text/plain".into()),
            content_md5: Some("MD5".into()),
            response: vec![("Content-Disposition".into(), "inline".into())],
            sub_resource: vec![("append".into(), String::new())],
            process: Some("image/resize,w_10".into()),
            traffic_limit: Some(IntegerInput::from(819_200)),
        };
        let (request, expires) = presign_v1_request(BUCKET, "a", &options).unwrap();
        assert_eq!((request.method, expires), (Method::Put, 60));
        assert_eq!(
            pairs(&request),
            vec![("Content-Type", "text/plain"), ("Content-MD5", "MD5")]
        );
        let queries: Vec<(&str, &str)> = request
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            queries,
            vec![
                ("response-content-disposition", "inline"),
                ("append", ""),
                ("x-oss-process", "image/resize,w_10"),
                ("x-oss-traffic-limit", "819200"),
            ]
        );
        let bad = [
            (
                PresignOptions {
                    method: Some("PATCH".into()),
                    ..PresignOptions::default()
                },
                "options.method",
            ),
            (
                PresignOptions {
                    expires: Some(IntegerInput::from(0)),
                    ..PresignOptions::default()
                },
                "options.expires",
            ),
            (
                PresignOptions {
                    traffic_limit: Some(IntegerInput::from(u64::MAX)),
                    ..PresignOptions::default()
                },
                "options.trafficLimit",
            ),
        ];
        for (options, what) in bad {
            assert_eq!(invalid(presign_v1_request(BUCKET, "a", &options)).0, what);
        }
    }

    #[test]
    fn v4_presigning_needs_a_region_and_otherwise_signs_as_the_client() {
        let v1 = SigningConfig {
            version: SigningVersion::V1,
            region: String::new(),
            product: "oss".into(),
            additional_headers: vec!["x".into()],
        };
        assert_eq!(invalid(presign_v4_config(&v1)).0, "region");
        let with_region = SigningConfig {
            region: "cn-hangzhou".into(),
            ..v1
        };
        let config = presign_v4_config(&with_region).unwrap();
        assert_eq!(
            config,
            SigningConfig {
                version: SigningVersion::V4,
                ..with_region
            }
        );
    }

    #[test]
    fn builders_check_bucket_and_key() {
        let none = WriteOptions::default();
        let results = [
            (head_object(BUCKET, ""), "name"),
            (get_object(BUCKET, "/a", None), "name"),
            (delete_object(BUCKET, "a\nb"), "name"),
            (seal_append_object(BUCKET, "../x", 0), "name"),
            (append_object("Bad", "a", 0, &none), "bucket"),
            (put_object("ab", "a", &none), "bucket"),
        ];
        for (result, want) in results {
            assert_eq!(invalid(result).0, want);
        }
    }

    #[test]
    fn headers_and_meta_count_together_against_the_cap() {
        let entries = |headers: usize, meta: usize| WriteOptions {
            headers: (0..headers)
                .map(|i| (format!("x-oss-meta-h{i}"), "v".to_owned()))
                .collect(),
            meta: (0..meta)
                .map(|i| (format!("m{i}"), "v".to_owned()))
                .collect(),
            mime: None,
        };
        assert!(append_object(BUCKET, "a", 0, &entries(40, 24)).is_ok());
        for options in [entries(40, 25), entries(65, 0), entries(0, 65)] {
            let (what, reason) = invalid(append_object(BUCKET, "a", 3, &options));
            assert_eq!(what, "options.headers");
            assert!(
                reason.contains("65 headers are given; at most 64"),
                "{reason}"
            );
            assert!(put_object(BUCKET, "a", &options).is_err());
        }
    }
}

//! The object operations with OSS semantics: PutObject, AppendObject, GetObject, HeadObject, DeleteObject, SealAppendObject.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hyper::body::Incoming;
use hyper::{Response, StatusCode};
use md5::{Digest, Md5};
use oss_append::{Crc64, Request, SigningTime};

use crate::body::{self, BodyError, Digests, FileBody};
use crate::errors::OssError;
use crate::faults::{FaultKind, FaultSpec};
use crate::respond::{empty, set, RespBody, RespCtx};
use crate::state::AppState;
use crate::store::{ObjectKind, ObjectMeta, Slot};
use crate::versions;

/// What an operation asks the connection to do.
#[derive(Debug)]
pub enum Reply {
    /// Send this response.
    Ok(Response<RespBody>),
    /// Send this error; `drain` when the request body may still hold unread bytes.
    Err {
        /// The error.
        error: OssError,
        /// Whether the body is still unread.
        drain: bool,
    },
    /// Close the connection without a response.
    Close,
}

impl Reply {
    fn unread(error: OssError) -> Self {
        Self::Err { error, drain: true }
    }

    fn read(error: OssError) -> Self {
        Self::Err {
            error,
            drain: false,
        }
    }
}

/// One object request after routing and authentication.
#[derive(Debug)]
pub struct Call<'a> {
    /// Shared state.
    pub state: &'a AppState,
    /// Response context (time, request id).
    pub ctx: &'a RespCtx,
    /// The bucket.
    pub bucket: &'a str,
    /// The object key.
    pub key: &'a str,
    /// The request as received.
    pub req: &'a Request,
    /// The fault this request consumed, if any.
    pub fault: Option<FaultSpec>,
}

impl Call<'_> {
    fn fault_kind(&self) -> Option<FaultKind> {
        self.fault.as_ref().map(|f| f.kind)
    }

    fn slot(&self) -> std::sync::Arc<Slot> {
        self.state
            .store
            .slot(self.bucket, self.key)
            .expect("the bucket was checked before dispatch")
    }

    /// Commits `meta` (and the written data) to the store; a failure is logged and answered with a 500
    /// naming `what` could not be done, nothing applied.
    fn commit(
        &self,
        slot: &Slot,
        writer: Option<crate::datafile::DataWriter>,
        meta: &ObjectMeta,
        what: &str,
    ) -> Result<(), OssError> {
        tokio::task::block_in_place(|| self.state.store.commit(slot, writer, meta.clone())).map_err(
            |e| {
                eprintln!("oss-emulator: {what} failed: {e}");
                OssError::internal(format!("The {what} could not be completed."))
            },
        )
    }

    fn idle(&self) -> Duration {
        Duration::from_millis(self.state.config.body_timeout_ms)
    }

    fn now_secs(&self) -> i64 {
        self.ctx.now_ms.div_euclid(1000)
    }

    /// What a fault does after the commit: close, or wait and answer.
    async fn after_commit(&self, resp: Response<RespBody>) -> Reply {
        match &self.fault {
            Some(f) if f.kind == FaultKind::DropAfterCommit => Reply::Close,
            Some(f) if f.kind == FaultKind::Delay => {
                tokio::time::sleep(Duration::from_millis(f.delay_ms.unwrap_or(1000))).await;
                Reply::Ok(resp)
            }
            _ => Reply::Ok(resp),
        }
    }

    /// The error an `error_before_commit` fault answers with.
    fn injected_error(&self) -> Option<OssError> {
        let f = self.fault.as_ref()?;
        if f.kind != FaultKind::ErrorBeforeCommit {
            return None;
        }
        let status = f.status.unwrap_or(500);
        let (code, message) = match status {
            503 => ("ServiceUnavailable", "Please reduce your request rate."),
            429 => ("TooManyRequests", "Please reduce your request rate."),
            s if s >= 500 => (
                "InternalError",
                "We encountered an internal error. Please try again.",
            ),
            _ => ("InvalidRequest", "The request was rejected."),
        };
        Some(
            OssError::new(status, f.code.as_deref().unwrap_or(code), message)
                .ec("0001-00000001")
                .detail("EmulatorFault", "error_before_commit"),
        )
    }
}

/// The `Content-Length` a request declared; `None` for a chunked body.
pub fn declared_length(req: &Request) -> Option<u64> {
    req.headers.get("content-length")?.trim().parse().ok()
}

/// Parses the `position` query parameter of AppendObject and SealAppendObject.
///
/// # Errors
/// InvalidArgument when it is missing, not a decimal integer, negative or too large.
pub fn parse_position(req: &Request) -> Result<u64, OssError> {
    let Some(raw) = req.query_value("position") else {
        return Err(
            OssError::invalid_argument("Position is missing.", "position", "").ec("0016-00000501"),
        );
    };
    let valid = !raw.is_empty() && raw.len() <= 20 && raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<u64>() {
        Ok(p) if valid => Ok(p),
        _ => Err(
            OssError::invalid_argument("Position is not a valid number.", "position", raw)
                .ec("0016-00000502"),
        ),
    }
}

/// The MD5 a `Content-MD5` header names, when it has one.
///
/// # Errors
/// InvalidDigest when the header is not the base64 of 16 bytes.
pub fn parse_content_md5(req: &Request) -> Result<Option<[u8; 16]>, OssError> {
    let Some(raw) = req.headers.get("content-md5") else {
        return Ok(None);
    };
    STANDARD
        .decode(raw.trim())
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
        .map(Some)
        .ok_or_else(|| {
            OssError::new(
                400,
                "InvalidDigest",
                "The Content-MD5 you specified is not valid.",
            )
            .detail("Content-MD5", raw)
            .ec("0016-00000401")
        })
}

fn bad_digest(expected: &[u8; 16], got: &[u8]) -> OssError {
    OssError::new(
        400,
        "BadDigest",
        "The Content-MD5 you specified did not match what we received.",
    )
    .detail("ExpectedMD5", STANDARD.encode(expected))
    .detail("CalculatedMD5", STANDARD.encode(got))
    .ec("0016-00000402")
}

/// Headers that count only when an object is created.
struct Creation {
    content_type: String,
    headers: Vec<(String, String)>,
    storage_class: String,
    acl: String,
    tagging: Option<String>,
}

const STORAGE_CLASSES: &[&str] = &[
    "Standard",
    "IA",
    "Archive",
    "ColdArchive",
    "DeepColdArchive",
];
const ACLS: &[&str] = &["default", "private", "public-read", "public-read-write"];
const ECHOED: &[&str] = &[
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
    "x-oss-server-side-encryption",
    "x-oss-server-side-data-encryption",
    "x-oss-server-side-encryption-key-id",
];
/// OSS's limit on the total size of user metadata.
const MAX_META_BYTES: usize = 8 << 10;

fn creation(req: &Request, appendable: bool) -> Result<Creation, OssError> {
    let mut headers = Vec::new();
    let mut meta_bytes = 0usize;
    for (name, value) in req.headers.iter() {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("x-oss-meta-") {
            meta_bytes += lower.len() + value.len();
            headers.push((lower, value.to_owned()));
        } else if ECHOED.contains(&lower.as_str()) {
            headers.push((lower, value.to_owned()));
        }
    }
    if meta_bytes > MAX_META_BYTES {
        return Err(OssError::new(
            400,
            "InvalidArgument",
            "Your metadata headers exceed the maximum allowed metadata size.",
        )
        .ec("0016-00000301"));
    }
    let storage_class = match req.headers.get("x-oss-storage-class") {
        None => "Standard".to_owned(),
        Some(v) => STORAGE_CLASSES
            .iter()
            .find(|c| c.eq_ignore_ascii_case(v.trim()))
            .map(|c| (*c).to_owned())
            .ok_or_else(|| {
                OssError::invalid_argument("Invalid storage class.", "x-oss-storage-class", v)
                    .ec("0016-00000601")
            })?,
    };
    let acl = match req.headers.get("x-oss-object-acl") {
        None => "default".to_owned(),
        Some(v) => ACLS
            .iter()
            .find(|a| **a == v.trim())
            .map(|a| (*a).to_owned())
            .ok_or_else(|| {
                OssError::invalid_argument(
                    "no such object access control exists",
                    "x-oss-object-acl",
                    v,
                )
                .ec("0016-00000602")
            })?,
    };
    if let Some(v) = req.headers.get("x-oss-server-side-encryption") {
        if !["AES256", "KMS", "SM4"].contains(&v.trim()) {
            return Err(OssError::invalid_argument(
                "The encryption method specified is not supported",
                "x-oss-server-side-encryption",
                v,
            )
            .ec("0016-00000603"));
        }
    }
    if appendable && req.headers.contains("x-oss-server-side-encryption-key-id") {
        return Err(OssError::invalid_argument(
            "Appendable objects do not support a CMK ID for KMS encryption.",
            "x-oss-server-side-encryption-key-id",
            "",
        )
        .ec("0026-00000018"));
    }
    Ok(Creation {
        content_type: req
            .headers
            .get("content-type")
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or("application/octet-stream")
            .to_owned(),
        headers,
        storage_class,
        acl,
        tagging: req.headers.get("x-oss-tagging").map(str::to_owned),
    })
}

/// The opaque ETag of an appendable object: it changes with every append that adds bytes.
fn appendable_etag(crc: u64, size: u64) -> String {
    format!("{crc:016X}{size:016X}")
}

fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The headers that describe an object on GET and HEAD.
fn object_headers(resp: &mut Response<RespBody>, m: &ObjectMeta) {
    set(resp, "content-type", &m.content_type);
    set(resp, "etag", &format!("\"{}\"", m.etag));
    set(
        resp,
        "last-modified",
        &SigningTime::from_unix_seconds(m.last_modified).http_date(),
    );
    set(resp, "accept-ranges", "bytes");
    set(resp, "x-oss-object-type", m.kind.as_str());
    set(resp, "x-oss-storage-class", &m.storage_class);
    set(resp, "x-oss-hash-crc64ecma", &m.crc64.to_string());
    if m.kind == ObjectKind::Appendable {
        set(resp, "x-oss-next-append-position", &m.size.to_string());
    }
    if let Some(md5) = &m.content_md5 {
        set(resp, "content-md5", md5);
    }
    for (k, v) in &m.headers {
        set(resp, k, v);
    }
    if let Some(t) = m.sealed_time {
        set(
            resp,
            "x-oss-sealed-time",
            &SigningTime::from_unix_seconds(t).http_date(),
        );
    }
    if let Some(t) = &m.tagging {
        let count = t.split('&').filter(|p| !p.is_empty()).count();
        set(resp, "x-oss-tagging-count", &count.to_string());
    }
}

fn sse_echo(resp: &mut Response<RespBody>, m: &ObjectMeta) {
    for (k, v) in &m.headers {
        if k.starts_with("x-oss-server-side-") {
            set(resp, k, v);
        }
    }
}

fn status_response(status: StatusCode) -> Response<RespBody> {
    let mut r = Response::new(empty());
    *r.status_mut() = status;
    set(&mut r, "content-length", "0");
    r
}

fn body_failure(e: BodyError, limit: u64) -> Reply {
    match e {
        BodyError::Reset => Reply::Close,
        BodyError::TooLarge => Reply::read(OssError::too_large(limit)),
        BodyError::TimedOut => Reply::read(OssError::request_timeout()),
        BodyError::Broken => Reply::read(OssError::incomplete_body()),
        BodyError::Disk(e) => {
            eprintln!("oss-emulator: write failed: {e}");
            Reply::read(OssError::internal("The object could not be written."))
        }
    }
}

fn reset_point(fault: Option<&FaultSpec>, declared: Option<u64>) -> Option<u64> {
    let f = fault.filter(|f| f.kind == FaultKind::ResetMidBody)?;
    Some(
        f.after_bytes
            .unwrap_or_else(|| declared.map_or(0, |d| d / 2)),
    )
}

/// AppendObject: `POST /key?append&position=N`.
pub async fn append(call: &Call<'_>, body: &mut Incoming) -> Reply {
    let position = match parse_position(call.req) {
        Ok(p) => p,
        Err(e) => return Reply::unread(e),
    };
    let expected_md5 = match parse_content_md5(call.req) {
        Ok(m) => m,
        Err(e) => return Reply::unread(e),
    };
    let max = call.state.config.max_object_size;
    let declared = declared_length(call.req);
    if declared.is_some_and(|d| d > max) {
        return Reply::unread(OssError::too_large(max));
    }
    if let Some(e) = call.injected_error() {
        return Reply::unread(e);
    }
    let slot = call.slot();
    let guard = slot.writer.lock().await;
    let record = slot.record();
    if let Some(e) = versions::append_refusal(call.req, record.as_ref(), position) {
        return Reply::unread(e);
    }
    let current = slot.snapshot();
    let attrs = match &current {
        Some(m) if m.kind != ObjectKind::Appendable => {
            return Reply::unread(OssError::not_appendable())
        }
        Some(m) if m.sealed_time.is_some() => {
            return Reply::unread(OssError::not_appendable().detail(
                "Reason",
                "The object is sealed and can no longer be appended to.",
            ))
        }
        Some(m) if m.size != position => {
            return Reply::unread(OssError::position_not_equal(m.size))
        }
        Some(_) => None,
        None if position != 0 => return Reply::unread(OssError::position_not_equal(0)),
        None => match creation(call.req, true) {
            Ok(c) => Some(c),
            Err(e) => return Reply::unread(e),
        },
    };
    // The object may not grow past the limit, whatever the body turns out to be.
    if declared.is_some_and(|d| position.saturating_add(d) > max) {
        return Reply::unread(OssError::too_large(max));
    }
    let opened = tokio::task::block_in_place(|| match &current {
        Some(m) => call.state.store.open_append(&slot, m),
        None => call.state.store.create_data(&slot),
    });
    let writer = match opened {
        Ok(w) => w,
        Err(e) => {
            eprintln!("oss-emulator: cannot open object data: {e}");
            return Reply::unread(OssError::internal("The object could not be opened."));
        }
    };
    let prior_crc = current.as_ref().map_or(0, |m| m.crc64);
    let digests = Digests {
        crc: Crc64::continuing(prior_crc),
        md5: expected_md5.map(|_| Md5::new()),
    };
    let reset_after = reset_point(call.fault.as_ref(), declared);
    // An object may already be past a limit lowered since it was written: then no byte more fits.
    let Some(room) = max.checked_sub(position) else {
        return Reply::unread(OssError::too_large(max));
    };
    let pumped = body::pump(body, writer, digests, room, call.idle(), reset_after).await;
    let (writer, mut digests, added) = match pumped {
        Ok(done) => done,
        Err(e) => return body_failure(e, max),
    };
    if reset_after.is_some() {
        return Reply::Close; // the body ended before the reset point: still nothing is applied
    }
    if let (Some(expected), Some(md5)) = (expected_md5, digests.md5.take()) {
        let got = md5.finalize();
        if got.as_slice() != expected {
            return Reply::read(bad_digest(&expected, &got));
        }
    }
    let size = position + added;
    let crc = digests.crc.value();
    let meta = match (current, attrs) {
        (Some(mut m), _) => {
            m.size = size;
            m.crc64 = crc;
            m.etag = appendable_etag(crc, size);
            m.last_modified = call.now_secs();
            m
        }
        (None, Some(c)) => ObjectMeta {
            key: call.key.to_owned(),
            kind: ObjectKind::Appendable,
            size,
            crc64: crc,
            etag: appendable_etag(crc, size),
            content_md5: None,
            content_type: c.content_type,
            headers: c.headers,
            storage_class: c.storage_class,
            acl: c.acl,
            tagging: c.tagging,
            last_modified: call.now_secs(),
            sealed_time: None,
            gen: writer.gen(),
            version_id: None,
            delete_marker: false,
            noncurrent: Vec::new(),
        },
        (None, None) => unreachable!("a new object always has creation attributes"),
    };
    // A new appendable object on a versioned bucket is the `null` version; earlier versions stay.
    let meta = match (&record, call.state.versions.status()) {
        (_, versions::Versioning::Off) => meta,
        (Some(r), _) if !r.delete_marker => meta,
        _ => versions::succeed(record, meta, Some(versions::NULL_VERSION.to_owned())),
    };
    if let Err(e) = call.commit(&slot, Some(writer), &meta, "append") {
        return Reply::read(e);
    }
    drop(guard);
    let mut resp = status_response(StatusCode::OK);
    set(&mut resp, "etag", &format!("\"{}\"", meta.etag));
    set(&mut resp, "x-oss-next-append-position", &size.to_string());
    set(&mut resp, "x-oss-hash-crc64ecma", &crc.to_string());
    for (k, v) in versions::version_headers(call.state, &meta) {
        set(&mut resp, k, &v);
    }
    sse_echo(&mut resp, &meta);
    call.after_commit(resp).await
}

fn is_true(v: Option<&str>) -> bool {
    v.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// PutObject: `PUT /key`.
pub async fn put(call: &Call<'_>, body: &mut Incoming) -> Reply {
    if call.req.headers.contains("x-oss-copy-source") {
        return Reply::unread(OssError::not_implemented("CopyObject"));
    }
    let expected_md5 = match parse_content_md5(call.req) {
        Ok(m) => m,
        Err(e) => return Reply::unread(e),
    };
    let max = call.state.config.max_object_size;
    let declared = declared_length(call.req);
    if declared.is_some_and(|d| d > max) {
        return Reply::unread(OssError::too_large(max));
    }
    let attrs = match creation(call.req, false) {
        Ok(c) => c,
        Err(e) => return Reply::unread(e),
    };
    if let Some(e) = call.injected_error() {
        return Reply::unread(e);
    }
    let slot = call.slot();
    let guard = slot.writer.lock().await;
    // x-oss-forbid-overwrite has no effect on versioned buckets.
    if is_true(call.req.headers.get("x-oss-forbid-overwrite"))
        && slot.snapshot().is_some()
        && call.state.versions.status() == versions::Versioning::Off
    {
        return Reply::unread(
            OssError::new(
                409,
                "FileAlreadyExists",
                "The object you specified already exists and can not be overwritten.",
            )
            .ec("0016-00000708"),
        );
    }
    let writer = match tokio::task::block_in_place(|| call.state.store.create_data(&slot)) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("oss-emulator: cannot create object data: {e}");
            return Reply::unread(OssError::internal("The object could not be created."));
        }
    };
    let digests = Digests {
        crc: Crc64::new(),
        md5: Some(Md5::new()),
    };
    let reset_after = reset_point(call.fault.as_ref(), declared);
    let pumped = body::pump(body, writer, digests, max, call.idle(), reset_after).await;
    let (writer, mut digests, size) = match pumped {
        Ok(done) => done,
        Err(e) => return body_failure(e, max),
    };
    if reset_after.is_some() {
        return Reply::Close;
    }
    let md5 = digests.md5.take().map(|m| m.finalize()).unwrap_or_default();
    if let Some(expected) = expected_md5 {
        if md5.as_slice() != expected {
            return Reply::read(bad_digest(&expected, &md5));
        }
    }
    let crc = digests.crc.value();
    let meta = ObjectMeta {
        key: call.key.to_owned(),
        kind: ObjectKind::Normal,
        size,
        crc64: crc,
        etag: upper_hex(&md5),
        content_md5: Some(STANDARD.encode(md5)),
        content_type: attrs.content_type,
        headers: attrs.headers,
        storage_class: attrs.storage_class,
        acl: attrs.acl,
        tagging: attrs.tagging,
        last_modified: call.now_secs(),
        sealed_time: None,
        gen: writer.gen(),
        version_id: None,
        delete_marker: false,
        noncurrent: Vec::new(),
    };
    let meta = versions::succeed(
        slot.record(),
        meta,
        call.state.versions.id_for_write(call.ctx.now_ms),
    );
    if let Err(e) = call.commit(&slot, Some(writer), &meta, "put") {
        return Reply::read(e);
    }
    drop(guard);
    let mut resp = status_response(StatusCode::OK);
    set(&mut resp, "etag", &format!("\"{}\"", meta.etag));
    set(
        &mut resp,
        "content-md5",
        meta.content_md5.as_deref().unwrap_or(""),
    );
    set(&mut resp, "x-oss-hash-crc64ecma", &crc.to_string());
    for (k, v) in versions::version_headers(call.state, &meta) {
        set(&mut resp, k, &v);
    }
    sse_echo(&mut resp, &meta);
    call.after_commit(resp).await
}

/// Which bytes a GET returns.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeDecision {
    /// The whole object, 200.
    Full,
    /// Bytes `start..=end`, 206.
    Partial(u64, u64),
    /// 416 InvalidRange.
    Unsatisfiable,
}

/// Decides a `Range` header as OSS does: by default anything invalid or out of range means the whole
/// object; with `x-oss-range-behavior: standard` an end past the object is cut and a start past it
/// is a 416. Of several ranges only the first counts ("If you specify multiple ranges, OSS returns
/// only the data in the first range").
pub fn decide_range(header: Option<&str>, size: u64, standard: bool) -> RangeDecision {
    let Some(h) = header else {
        return RangeDecision::Full;
    };
    let h = h.trim();
    let Some(spec) = h
        .get(..6)
        .filter(|p| p.eq_ignore_ascii_case("bytes="))
        .map(|_| h[6..].trim())
    else {
        return RangeDecision::Full;
    };
    let out_of_range = if standard {
        RangeDecision::Unsatisfiable
    } else {
        RangeDecision::Full
    };
    let spec = spec.split(',').next().unwrap_or_default();
    let Some((a, b)) = spec.split_once('-') else {
        return RangeDecision::Full;
    };
    let num = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (a.trim().is_empty(), b.trim().is_empty()) {
        (true, true) => RangeDecision::Full,
        (true, false) => {
            let Some(n) = num(b) else {
                return RangeDecision::Full;
            };
            if n == 0 || size == 0 {
                return out_of_range;
            }
            if n > size {
                return if standard {
                    RangeDecision::Partial(0, size - 1)
                } else {
                    RangeDecision::Full
                };
            }
            RangeDecision::Partial(size - n, size - 1)
        }
        (false, open_end) => {
            let Some(start) = num(a) else {
                return RangeDecision::Full;
            };
            let end = if open_end {
                None
            } else {
                match num(b) {
                    Some(e) if e >= start => Some(e),
                    _ => return RangeDecision::Full,
                }
            };
            if start >= size {
                return out_of_range;
            }
            match end {
                None => RangeDecision::Partial(start, size - 1),
                Some(e) if e < size => RangeDecision::Partial(start, e),
                Some(_) if standard => RangeDecision::Partial(start, size - 1),
                Some(_) => RangeDecision::Full,
            }
        }
    }
}

fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == etag)
}

/// Checks If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since; `Some` is the answer
/// when one of them decides.
fn preconditions(req: &Request, m: &ObjectMeta) -> Option<Reply> {
    let failed = |condition: &str| {
        Reply::unread(
            OssError::new(
                412,
                "PreconditionFailed",
                "At least one of the pre-conditions you specified did not hold.",
            )
            .detail("Condition", condition)
            .ec("0026-00000010"),
        )
    };
    let date = |name: &str| {
        req.headers
            .get(name)
            .and_then(SigningTime::parse_http_date)
            .map(SigningTime::unix_seconds)
    };
    if let Some(list) = req.headers.get("if-match") {
        if !etag_matches(list, &m.etag) {
            return Some(failed("If-Match"));
        }
    }
    if let Some(t) = date("if-unmodified-since") {
        if m.last_modified > t {
            return Some(failed("If-Unmodified-Since"));
        }
    }
    let not_modified = match req.headers.get("if-none-match") {
        Some(list) => etag_matches(list, &m.etag),
        None => date("if-modified-since").is_some_and(|t| m.last_modified <= t),
    };
    if not_modified {
        let mut r = status_response(StatusCode::NOT_MODIFIED);
        r.headers_mut().remove("content-length");
        set(&mut r, "etag", &format!("\"{}\"", m.etag));
        set(
            &mut r,
            "last-modified",
            &SigningTime::from_unix_seconds(m.last_modified).http_date(),
        );
        return Some(Reply::Ok(r));
    }
    None
}

/// GetObject and HeadObject.
pub async fn get(call: &Call<'_>, head: bool) -> Reply {
    if let Some(e) = call.injected_error() {
        return Reply::unread(e);
    }
    let slot = call.state.store.existing_slot(call.bucket, call.key);
    let version = call.req.query_value("versionId");
    let found = tokio::task::block_in_place(|| {
        versions::open(call.state, slot.as_deref(), call.key, version)
    });
    let (meta, file) = match found {
        Ok(versions::Found::Object(meta, file)) => (meta, file),
        Ok(versions::Found::Error(e)) => return Reply::unread(e),
        Err(e) => {
            eprintln!("oss-emulator: cannot open object data: {e}");
            return Reply::unread(OssError::internal("The object could not be read."));
        }
    };
    if let Some(reply) = preconditions(call.req, &meta) {
        return reply;
    }
    let standard = call
        .req
        .headers
        .get("x-oss-range-behavior")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("standard"));
    let range = if head {
        RangeDecision::Full
    } else {
        decide_range(call.req.headers.get("range"), meta.size, standard)
    };
    let (status, start, len) = match range {
        RangeDecision::Full => (StatusCode::OK, 0, meta.size),
        RangeDecision::Partial(s, e) => (StatusCode::PARTIAL_CONTENT, s, e - s + 1),
        RangeDecision::Unsatisfiable => {
            return Reply::unread(
                OssError::new(
                    416,
                    "InvalidRange",
                    "The requested range cannot be satisfied.",
                )
                .detail(
                    "RangeRequested",
                    call.req.headers.get("range").unwrap_or(""),
                )
                .detail("ActualObjectSize", meta.size.to_string())
                .ec("0026-00000011"),
            )
        }
    };
    // A reset fault on a read sends half the bytes, then the connection breaks.
    let sent = match call.fault_kind() {
        Some(FaultKind::ResetMidBody) => call
            .fault
            .as_ref()
            .and_then(|f| f.after_bytes)
            .unwrap_or(len / 2)
            .min(len),
        _ => len,
    };
    let body = if head || len == 0 {
        empty()
    } else {
        http_body_util::BodyExt::boxed(FileBody::new(file, start, sent))
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    object_headers(&mut resp, &meta);
    for (k, v) in versions::version_headers(call.state, &meta) {
        set(&mut resp, k, &v);
    }
    set(&mut resp, "content-length", &len.to_string());
    if status == StatusCode::PARTIAL_CONTENT {
        set(
            &mut resp,
            "content-range",
            &format!("bytes {start}-{}/{}", start + len - 1, meta.size),
        );
    }
    for (param, header) in [
        ("response-content-type", "content-type"),
        ("response-content-language", "content-language"),
        ("response-expires", "expires"),
        ("response-cache-control", "cache-control"),
        ("response-content-disposition", "content-disposition"),
        ("response-content-encoding", "content-encoding"),
    ] {
        if let Some(v) = call.req.query_value(param) {
            set(&mut resp, header, v);
        }
    }
    call.after_commit(resp).await
}

/// DeleteObject: 204 whether or not the object existed.
pub async fn delete(call: &Call<'_>) -> Reply {
    if let Some(e) = call.injected_error() {
        return Reply::unread(e);
    }
    match versions::delete(call).await {
        Some(Ok(headers)) => {
            let mut resp = status_response(StatusCode::NO_CONTENT);
            for (k, v) in headers {
                set(&mut resp, k, &v);
            }
            return call.after_commit(resp).await;
        }
        Some(Err(e)) => return Reply::unread(e),
        None => {}
    }
    if let Some(slot) = call.state.store.existing_slot(call.bucket, call.key) {
        let guard = slot.writer.lock().await;
        if let Err(e) = tokio::task::block_in_place(|| call.state.store.remove(&slot)) {
            eprintln!("oss-emulator: delete failed: {e}");
            return Reply::unread(OssError::internal("The object could not be deleted."));
        }
        drop(guard);
    }
    call.after_commit(status_response(StatusCode::NO_CONTENT))
        .await
}

/// SealAppendObject: `POST /key?seal&position=N`.
pub async fn seal(call: &Call<'_>) -> Reply {
    let position = match parse_position(call.req) {
        Ok(p) => p,
        Err(e) => return Reply::unread(e),
    };
    if let Err(e) = parse_content_md5(call.req) {
        return Reply::unread(e);
    }
    if let Some(e) = call.injected_error() {
        return Reply::unread(e);
    }
    let Some(slot) = call.state.store.existing_slot(call.bucket, call.key) else {
        return Reply::unread(OssError::no_such_key(call.key));
    };
    let guard = slot.writer.lock().await;
    let mut meta = match slot.snapshot() {
        None => return Reply::unread(OssError::no_such_key(call.key)),
        Some(m) if m.kind != ObjectKind::Appendable => {
            return Reply::unread(OssError::not_appendable())
        }
        Some(m) if m.size != position => {
            return Reply::unread(OssError::position_not_equal(m.size))
        }
        Some(m) => m,
    };
    if meta.sealed_time.is_none() {
        meta.sealed_time = Some(call.now_secs());
        if let Err(e) = call.commit(&slot, None, &meta, "seal") {
            return Reply::unread(e);
        }
    }
    drop(guard);
    let mut resp = status_response(StatusCode::OK);
    if let Some(t) = meta.sealed_time {
        set(
            &mut resp,
            "x-oss-sealed-time",
            &SigningTime::from_unix_seconds(t).http_date(),
        );
    }
    call.after_commit(resp).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use oss_append::Method;
    use RangeDecision::*;

    #[test]
    fn ranges_follow_oss_defaults_and_standard_behaviour() {
        let cases: &[(&str, bool, RangeDecision)] = &[
            ("bytes=0-9", false, Partial(0, 9)),
            ("bytes=500-", false, Partial(500, 999)),
            ("bytes=-100", false, Partial(900, 999)),
            ("bytes=0-", false, Partial(0, 999)),
            ("bytes=500-2000", false, Full),
            ("bytes=500-2000", true, Partial(500, 999)),
            ("bytes=1000-2000", false, Full),
            ("bytes=1000-2000", true, Unsatisfiable),
            ("bytes=5-1", false, Full),
            ("bytes=a-b", true, Full),
            ("items=0-1", false, Full),
            ("bytes=0-1,3-4", false, Partial(0, 1)),
            ("bytes=0-1,3-4", true, Partial(0, 1)),
            ("bytes=0-1,4-5", false, Partial(0, 1)),
            ("bytes=-10, 0-1", false, Partial(990, 999)),
            ("bytes=500-2000,0-1", false, Full),
            ("bytes=1000-,0-1", true, Unsatisfiable),
            ("bytes=-2000", false, Full),
            ("bytes=-2000", true, Partial(0, 999)),
            ("bytes=-0", true, Unsatisfiable),
            ("bytes=-", false, Full),
        ];
        for (h, std, want) in cases {
            assert_eq!(
                &decide_range(Some(h), 1000, *std),
                want,
                "{h} standard={std}"
            );
        }
        assert_eq!(decide_range(Some("bytes=0-0"), 0, false), Full);
        assert_eq!(decide_range(None, 10, true), Full);
    }

    #[test]
    fn positions_are_strict_decimal() {
        let with = |v: Option<&str>| {
            let mut r = Request::new(Method::Post, Some("b"), Some("k"));
            r.query.push(("append".into(), String::new()));
            if let Some(v) = v {
                r.query.push(("position".into(), v.into()));
            }
            parse_position(&r)
        };
        assert_eq!(with(Some("0")).unwrap(), 0);
        assert_eq!(with(Some("18446744073709551615")).unwrap(), u64::MAX);
        for bad in ["-1", "+1", "1.5", "", "abc", "18446744073709551616", " 1"] {
            assert_eq!(
                with(Some(bad)).unwrap_err().ec,
                Some("0016-00000502"),
                "{bad:?}"
            );
        }
        assert_eq!(with(None).unwrap_err().ec, Some("0016-00000501"));
    }
}

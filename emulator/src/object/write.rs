//! The operations that change an object: AppendObject, PutObject, DeleteObject, SealAppendObject.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hyper::body::Incoming;
use hyper::{Response, StatusCode};
use md5::{Digest, Md5};
use oss_append::{Crc64, Request, SigningTime};

use super::call::{declared_length, parse_content_md5, parse_position, Call};
use super::Answer;
use crate::body::{self, BodyError, Digests};
use crate::datafile::DataWriter;
use crate::errors::OssError;
use crate::faults::{FaultKind, FaultSpec};
use crate::respond::{empty_response, set, Reply, RespBody};
use crate::store::{ObjectKind, ObjectMeta};
use crate::versions;

/// AppendObject: `POST /key?append&position=N`.
pub async fn append(call: &Call<'_>, body: &mut Incoming) -> Answer {
    let position = parse_position(call.req).map_err(Reply::unread)?;
    let declared = DeclaredBody::check(call).map_err(Reply::unread)?;
    call.error_before_commit().map_err(Reply::unread)?;
    let slot = call.slot();
    let guard = slot.writer.lock().await;
    let record = slot.record();
    if let Some(e) = versions::append_refusal(call.req, record.as_ref(), position) {
        return Err(Reply::unread(e));
    }
    let current = slot.snapshot();
    let attrs = match &current {
        Some(m) if m.kind != ObjectKind::Appendable => {
            return Err(Reply::unread(OssError::not_appendable()))
        }
        Some(m) if m.sealed_time.is_some() => {
            return Err(Reply::unread(OssError::not_appendable().detail(
                "Reason",
                "The object is sealed and can no longer be appended to.",
            )))
        }
        Some(m) if m.size != position => {
            return Err(Reply::unread(OssError::position_not_equal(m.size)))
        }
        Some(_) => None,
        None if position != 0 => return Err(Reply::unread(OssError::position_not_equal(0))),
        None => Some(creation(call.req, true).map_err(Reply::unread)?),
    };
    // The object may not grow past the limit, whatever the body turns out to be.
    let max = call.state.config.max_object_size;
    if declared
        .length
        .is_some_and(|d| position.saturating_add(d) > max)
    {
        return Err(Reply::unread(OssError::too_large(max)));
    }
    let writer = call
        .open_data(&slot, current.as_ref(), "The object could not be opened.")
        .map_err(Reply::unread)?;
    let Received {
        writer, len, crc, ..
    } = receive_body(call, body, &declared, writer, current.as_ref(), false).await?;
    let size = position + len;
    let before = match (current, attrs) {
        (Some(m), _) => m,
        (None, Some(c)) => c.new_object(call, ObjectKind::Appendable, writer.gen()),
        (None, None) => unreachable!("a new object always has creation attributes"),
    };
    let meta = ObjectMeta {
        size,
        crc64: crc,
        etag: appendable_etag(crc, size),
        last_modified: call.now_secs(),
        ..before
    };
    // A new appendable object on a versioned bucket is the `null` version; earlier versions stay.
    let meta = match (&record, call.state.versions.status()) {
        (_, versions::Versioning::Off) => meta,
        (Some(r), _) if !r.delete_marker => meta,
        _ => versions::succeed(record, meta, Some(versions::NULL_VERSION.to_owned())),
    };
    call.commit(&slot, Some(writer), &meta, "append")
        .map_err(Reply::read)?;
    drop(guard);
    let resp = written(
        call,
        &meta,
        ("x-oss-next-append-position", &size.to_string()),
    );
    Ok(call.after_commit(resp).await)
}

fn is_true(v: Option<&str>) -> bool {
    v.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// PutObject: `PUT /key`.
pub async fn put(call: &Call<'_>, body: &mut Incoming) -> Answer {
    if call.req.headers.contains("x-oss-copy-source") {
        return Err(Reply::unread(OssError::not_implemented("CopyObject")));
    }
    let declared = DeclaredBody::check(call).map_err(Reply::unread)?;
    let attrs = creation(call.req, false).map_err(Reply::unread)?;
    call.error_before_commit().map_err(Reply::unread)?;
    let slot = call.slot();
    let guard = slot.writer.lock().await;
    // x-oss-forbid-overwrite has no effect on versioned buckets.
    if is_true(call.req.headers.get("x-oss-forbid-overwrite"))
        && slot.snapshot().is_some()
        && call.state.versions.status() == versions::Versioning::Off
    {
        return Err(Reply::unread(
            OssError::new(
                409,
                "FileAlreadyExists",
                "The object you specified already exists and can not be overwritten.",
            )
            .ec("0016-00000708"),
        ));
    }
    let writer = call
        .open_data(&slot, None, "The object could not be created.")
        .map_err(Reply::unread)?;
    let Received {
        writer,
        len: size,
        crc,
        md5,
    } = receive_body(call, body, &declared, writer, None, true).await?;
    let md5 = md5.unwrap_or_default();
    let meta = ObjectMeta {
        size,
        crc64: crc,
        etag: upper_hex(&md5),
        content_md5: Some(STANDARD.encode(md5)),
        ..attrs.new_object(call, ObjectKind::Normal, writer.gen())
    };
    let meta = versions::succeed(
        slot.record(),
        meta,
        call.state.versions.id_for_write(call.ctx.now_ms),
    );
    call.commit(&slot, Some(writer), &meta, "put")
        .map_err(Reply::read)?;
    drop(guard);
    let md5_header = ("content-md5", meta.content_md5.as_deref().unwrap_or(""));
    let resp = written(call, &meta, md5_header);
    Ok(call.after_commit(resp).await)
}

/// DeleteObject: 204 whether or not the object existed.
pub async fn delete(call: &Call<'_>) -> Answer {
    call.error_before_commit().map_err(Reply::unread)?;
    match versioned_delete(call).await {
        Some(Ok(headers)) => {
            let mut resp = empty_response(StatusCode::NO_CONTENT);
            for (k, v) in headers {
                set(&mut resp, k, &v);
            }
            return Ok(call.after_commit(resp).await);
        }
        Some(Err(e)) => return Err(Reply::unread(e)),
        None => {}
    }
    if let Some(slot) = call.state.store.existing_slot(call.bucket, call.key) {
        let guard = slot.writer.lock().await;
        if let Err(e) = tokio::task::block_in_place(|| call.state.store.remove(&slot)) {
            eprintln!("oss-emulator: delete failed: {e}");
            return Err(Reply::unread(OssError::internal(
                "The object could not be deleted.",
            )));
        }
        drop(guard);
    }
    Ok(call
        .after_commit(empty_response(StatusCode::NO_CONTENT))
        .await)
}

/// DeleteObject on a versioned bucket or with `?versionId=`: adds a delete marker, or removes one
/// version for good. `None` when neither applies (the plain delete). `Ok` holds the answer's headers.
async fn versioned_delete(
    call: &Call<'_>,
) -> Option<Result<Vec<(&'static str, String)>, OssError>> {
    let state = call.state;
    let version = call.req.query_value("versionId");
    let status = state.versions.status();
    if version.is_none() && status == versions::Versioning::Off {
        return None;
    }
    let slot = state.store.slot(call.bucket, call.key)?;
    let _guard = slot.writer.lock().await;
    let record = slot.record();
    let commit = |new: Option<ObjectMeta>| -> Result<(), OssError> {
        tokio::task::block_in_place(|| match new {
            Some(m) => state.store.commit(&slot, None, m),
            None => state.store.remove(&slot),
        })
        .map_err(|e| {
            eprintln!("oss-emulator: delete failed: {e}");
            OssError::internal("The object could not be deleted.")
        })
    };
    let answer = match version {
        Some(id) => {
            let Some(record) = record else {
                return Some(Ok(vec![("x-oss-version-id", id.to_owned())]));
            };
            let (left, removed) = versions::without(record, id);
            if removed.is_some() {
                if let Err(e) = commit(left) {
                    return Some(Err(e));
                }
            }
            let mut headers = vec![("x-oss-version-id", id.to_owned())];
            if removed.is_some_and(|m| m.delete_marker) {
                headers.push(("x-oss-delete-marker", "true".to_owned()));
            }
            headers
        }
        None => {
            let id = state.versions.id_for_write(call.ctx.now_ms);
            let new = versions::succeed(
                record,
                versions::marker(call.key, call.ctx.now_ms.div_euclid(1000)),
                id,
            );
            let headers = versions::version_headers(&state.versions, &new);
            if let Err(e) = commit(Some(new)) {
                return Some(Err(e));
            }
            headers
        }
    };
    Some(Ok(answer))
}

/// SealAppendObject: `POST /key?seal&position=N`.
pub async fn seal(call: &Call<'_>) -> Answer {
    let position = parse_position(call.req).map_err(Reply::unread)?;
    parse_content_md5(call.req).map_err(Reply::unread)?;
    call.error_before_commit().map_err(Reply::unread)?;
    let Some(slot) = call.state.store.existing_slot(call.bucket, call.key) else {
        return Err(Reply::unread(OssError::no_such_key(call.key)));
    };
    let guard = slot.writer.lock().await;
    let mut meta = match slot.snapshot() {
        None => return Err(Reply::unread(OssError::no_such_key(call.key))),
        Some(m) if m.kind != ObjectKind::Appendable => {
            return Err(Reply::unread(OssError::not_appendable()))
        }
        Some(m) if m.size != position => {
            return Err(Reply::unread(OssError::position_not_equal(m.size)))
        }
        Some(m) => m,
    };
    if meta.sealed_time.is_none() {
        meta.sealed_time = Some(call.now_secs());
        call.commit(&slot, None, &meta, "seal")
            .map_err(Reply::unread)?;
    }
    drop(guard);
    let mut resp = empty_response(StatusCode::OK);
    if let Some(t) = meta.sealed_time {
        set(
            &mut resp,
            "x-oss-sealed-time",
            &SigningTime::from_unix_seconds(t).http_date(),
        );
    }
    Ok(call.after_commit(resp).await)
}

/// What a write's headers say about its body, checked before the object is locked.
struct DeclaredBody {
    /// `Content-Length`; `None` for a chunked body.
    length: Option<u64>,
    /// The MD5 that `Content-MD5` names.
    md5: Option<[u8; 16]>,
}

impl DeclaredBody {
    /// InvalidDigest for a malformed `Content-MD5`, EntityTooLarge for a length past the object limit.
    fn check(call: &Call<'_>) -> Result<Self, OssError> {
        let md5 = parse_content_md5(call.req)?;
        let length = declared_length(call.req);
        let max = call.state.config.max_object_size;
        if length.is_some_and(|d| d > max) {
            return Err(OssError::too_large(max));
        }
        Ok(Self { length, md5 })
    }
}

/// A write's body, taken whole and checked, its bytes in the writer's uncommitted data.
struct Received {
    writer: DataWriter,
    /// The body's length.
    len: u64,
    /// The CRC-64 of the object's earlier bytes followed by the body.
    crc: u64,
    /// The body's MD5, when `Content-MD5` named one or the caller asked for it.
    md5: Option<[u8; 16]>,
}

/// Streams a write's body into `writer`, after the bytes of `current` (none for a new object): no
/// more than fits under the object size limit, within the body timeout between chunks, up to the
/// point a `reset_mid_body` fault cuts it, then checked against `Content-MD5`. The MD5 is computed
/// when the client sent one or `keep_md5` asks. On `Err` the writer is dropped, so nothing is applied.
async fn receive_body(
    call: &Call<'_>,
    body: &mut Incoming,
    declared: &DeclaredBody,
    writer: DataWriter,
    current: Option<&ObjectMeta>,
    keep_md5: bool,
) -> Result<Received, Reply> {
    let max = call.state.config.max_object_size;
    let digests = Digests {
        crc: Crc64::continuing(current.map_or(0, |m| m.crc64)),
        md5: (keep_md5 || declared.md5.is_some()).then(Md5::new),
    };
    let reset_after = reset_point(call.fault.as_ref(), declared.length);
    // An object may already be past a limit lowered since it was written: then no byte more fits.
    let Some(room) = max.checked_sub(current.map_or(0, |m| m.size)) else {
        return Err(Reply::unread(OssError::too_large(max)));
    };
    let pumped = body::pump(body, writer, digests, room, call.idle(), reset_after).await;
    let (writer, digests, len) = pumped.map_err(|e| body_failure(e, max))?;
    if reset_after.is_some() {
        return Err(Reply::Close); // the body ended before the reset point: still nothing is applied
    }
    let md5: Option<[u8; 16]> = digests.md5.map(|m| m.finalize().into());
    if let (Some(expected), Some(got)) = (declared.md5, md5) {
        if got != expected {
            return Err(Reply::read(bad_digest(&expected, &got)));
        }
    }
    Ok(Received {
        writer,
        len,
        crc: digests.crc.value(),
        md5,
    })
}

/// The answer to a body that was not taken whole; `limit` is the size that was over.
pub(crate) fn body_failure(e: BodyError, limit: u64) -> Reply {
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

impl Creation {
    /// A new object of `kind` with these attributes and its data in generation `gen`, empty until
    /// the write fills in what it measured.
    fn new_object(self, call: &Call<'_>, kind: ObjectKind, gen: u64) -> ObjectMeta {
        ObjectMeta {
            key: call.key.to_owned(),
            kind,
            size: 0,
            crc64: 0,
            etag: String::new(),
            content_md5: None,
            content_type: self.content_type,
            headers: self.headers,
            storage_class: self.storage_class,
            acl: self.acl,
            tagging: self.tagging,
            last_modified: call.now_secs(),
            sealed_time: None,
            gen,
            version_id: None,
            delete_marker: false,
            noncurrent: Vec::new(),
        }
    }
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

/// The answer to a write that committed `meta`: its ETag, `extra` (the header only this kind of
/// write answers with), its CRC-64, its version, and the encryption headers it was created with.
fn written(call: &Call<'_>, meta: &ObjectMeta, extra: (&str, &str)) -> Response<RespBody> {
    let mut resp = empty_response(StatusCode::OK);
    set(&mut resp, "etag", &format!("\"{}\"", meta.etag));
    set(&mut resp, extra.0, extra.1);
    set(&mut resp, "x-oss-hash-crc64ecma", &meta.crc64.to_string());
    for (k, v) in versions::version_headers(&call.state.versions, meta) {
        set(&mut resp, k, &v);
    }
    for (k, v) in &meta.headers {
        if k.starts_with("x-oss-server-side-") {
            set(&mut resp, k, v);
        }
    }
    resp
}

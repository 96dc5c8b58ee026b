//! The operations that read an object: GetObject and HeadObject, with ranges and preconditions.

use std::fs::File;

use hyper::{Response, StatusCode};
use oss_append::{Request, SigningTime};

use super::call::Call;
use super::Answer;
use crate::body::FileBody;
use crate::errors::OssError;
use crate::faults::FaultKind;
use crate::respond::{empty, empty_response, set, Reply, RespBody};
use crate::state::AppState;
use crate::store::{ObjectKind, ObjectMeta, Slot};
use crate::versions;

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
        let mut r = empty_response(StatusCode::NOT_MODIFIED);
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
pub async fn get(call: &Call<'_>, head: bool) -> Answer {
    call.error_before_commit().map_err(Reply::unread)?;
    let slot = call.state.store.existing_slot(call.bucket, call.key);
    let version = call.req.query_value("versionId");
    let found =
        tokio::task::block_in_place(|| open(call.state, slot.as_deref(), call.key, version));
    let (meta, file) = match found {
        Ok(Found::Object(meta, file)) => (meta, file),
        Ok(Found::Error(e)) => return Err(Reply::unread(e)),
        Err(e) => {
            eprintln!("oss-emulator: cannot open object data: {e}");
            return Err(Reply::unread(OssError::internal(
                "The object could not be read.",
            )));
        }
    };
    if let Some(reply) = preconditions(call.req, &meta) {
        return Err(reply);
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
            return Err(Reply::unread(
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
            ))
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
    for (k, v) in versions::version_headers(&call.state.versions, &meta) {
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
    Ok(call.after_commit(resp).await)
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

/// What a GET or HEAD finds.
#[derive(Debug)]
enum Found {
    /// A version with data, its file open.
    Object(ObjectMeta, File),
    /// An error to answer with (no key, no such version, a delete marker).
    Error(OssError),
}

fn with_headers(mut e: OssError, headers: Vec<(&'static str, String)>) -> OssError {
    for (k, v) in headers {
        e = e.header(k, v);
    }
    e
}

/// Opens what a GET or HEAD of `key` (with `version`, when the request names one) reads.
///
/// # Errors
/// The data file cannot be opened.
fn open(
    state: &AppState,
    slot: Option<&Slot>,
    key: &str,
    version: Option<&str>,
) -> std::io::Result<Found> {
    let committed = slot.map(|s| s.committed.lock().unwrap_or_else(|p| p.into_inner()));
    let record = committed.as_ref().and_then(|c| c.as_ref());
    let meta = match (record, version) {
        (None, None) => return Ok(Found::Error(OssError::no_such_key(key))),
        (Some(m), None) if m.delete_marker => {
            return Ok(Found::Error(with_headers(
                OssError::no_such_key(key),
                versions::version_headers(&state.versions, m),
            )))
        }
        (Some(m), None) => m,
        (record, Some(id)) => {
            match record.and_then(|r| versions::all(r).find(|m| versions::id_of(m) == id)) {
                None => {
                    return Ok(Found::Error(
                        OssError::new(
                            404,
                            "NoSuchVersion",
                            "The specified version does not exist.",
                        )
                        .detail("Key", key)
                        .detail("VersionId", id)
                        .ec("0026-00000002"),
                    ))
                }
                Some(m) if m.delete_marker => {
                    return Ok(Found::Error(with_headers(
                        OssError::new(
                            405,
                            "MethodNotAllowed",
                            "The specified method is not allowed against this resource.",
                        )
                        .detail("Method", "GET")
                        .detail("ResourceType", "DeleteMarker"),
                        versions::version_headers(&state.versions, m),
                    )))
                }
                Some(m) => m,
            }
        }
    };
    let slot = slot.expect("a record comes from a slot");
    let file = File::open(slot.data_path(meta.gen))?;
    let mut meta = meta.clone();
    meta.noncurrent = Vec::new();
    Ok(Found::Object(meta, file))
}

#[cfg(test)]
mod tests {
    use super::*;
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
}

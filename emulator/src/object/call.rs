//! One object request after routing and authentication: its parameters, its fault, and the commit path.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hyper::Response;
use oss_append::Request;

use crate::datafile::DataWriter;
use crate::errors::OssError;
use crate::faults::{FaultKind, FaultSpec};
use crate::respond::{Reply, RespBody, RespCtx};
use crate::state::AppState;
use crate::store::{ObjectMeta, Slot};

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
    pub(super) fn fault_kind(&self) -> Option<FaultKind> {
        self.fault.as_ref().map(|f| f.kind)
    }

    pub(super) fn slot(&self) -> Arc<Slot> {
        self.state
            .store
            .slot(self.bucket, self.key)
            .expect("the bucket was checked before dispatch")
    }

    /// Commits `meta` (and the written data) to the store; a failure is logged and answered with a 500
    /// naming `what` could not be done, nothing applied.
    pub(super) fn commit(
        &self,
        slot: &Slot,
        writer: Option<DataWriter>,
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

    /// Opens the object's data for a write: after `current`'s bytes, or new when there is none. A
    /// failure is logged and answered with a 500 saying `failure`.
    pub(super) fn open_data(
        &self,
        slot: &Slot,
        current: Option<&ObjectMeta>,
        failure: &'static str,
    ) -> Result<DataWriter, OssError> {
        tokio::task::block_in_place(|| match current {
            Some(m) => self.state.store.open_append(slot, m),
            None => self.state.store.create_data(slot),
        })
        .map_err(|e| {
            eprintln!("oss-emulator: cannot open object data: {e}");
            OssError::internal(failure)
        })
    }

    pub(super) fn idle(&self) -> Duration {
        Duration::from_millis(self.state.config.body_timeout_ms)
    }

    pub(super) fn now_secs(&self) -> i64 {
        self.ctx.now_ms.div_euclid(1000)
    }

    /// What a fault does after the commit: close, or wait and answer.
    pub(super) async fn after_commit(&self, resp: Response<RespBody>) -> Reply {
        match &self.fault {
            Some(f) if f.kind == FaultKind::DropAfterCommit => Reply::Close,
            Some(f) if f.kind == FaultKind::Delay => {
                tokio::time::sleep(Duration::from_millis(f.delay_ms.unwrap_or(1000))).await;
                Reply::Ok(resp)
            }
            _ => Reply::Ok(resp),
        }
    }

    /// `Err` with the error an armed `error_before_commit` fault answers with, before anything is done.
    pub(super) fn error_before_commit(&self) -> Result<(), OssError> {
        let armed = self.fault.as_ref();
        let Some(f) = armed.filter(|f| f.kind == FaultKind::ErrorBeforeCommit) else {
            return Ok(());
        };
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
        Err(
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

#[cfg(test)]
mod tests {
    use super::*;
    use oss_append::Method;

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

//! The crate's error type: what went wrong, in words a user can act on, and never a secret.

use std::fmt;

/// Everything that can go wrong, from bad input to a server that disagrees with us.
///
/// Each variant maps to an ali-oss style `code`/`name`/`status` triple (see [`Error::code`],
/// [`Error::name`], [`Error::status`]) that the JS layer copies onto the thrown `Error`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument or option was rejected before anything was sent.
    #[error("invalid {what}: {reason}")]
    InvalidArgument {
        /// Which argument or option (as the user spells it, e.g. `position`, `options.partSize`).
        what: String,
        /// What was wrong and what is accepted.
        reason: String,
    },
    /// OSS answered with an error status.
    #[error("{0}")]
    Service(Box<ServiceError>),
    /// The whole-object CRC-64 that OSS reports is not the one the bytes we sent must produce.
    #[error(
        "CRC-64 mismatch after the append at position {position}: the client expects {local} for the \
         object's {next_position} bytes but OSS reports {server}{}",
        request_suffix(request_id)
    )]
    CrcMismatch {
        /// Where the append started.
        position: u64,
        /// The object length OSS reports after the append.
        next_position: u64,
        /// The CRC-64 the client computed for the whole object.
        local: u64,
        /// The CRC-64 OSS reported (`x-oss-hash-crc64ecma`).
        server: u64,
        /// The request id of the response, when known.
        request_id: Option<String>,
    },
    /// A successful response hides headers the client needs (a browser's CORS rule does not expose them).
    #[error(
        "the response (status {status}) does not expose {}; add them to ExposeHeaders in the bucket's CORS \
         rule (ExposeHeader: x-oss-next-append-position, x-oss-hash-crc64ecma, x-oss-request-id, ETag)",
        crate::strings::join(missing, ", ")
    )]
    MissingExposedHeader {
        /// The header names that could not be read.
        missing: Vec<String>,
        /// The HTTP status of the response.
        status: u16,
    },
    /// The append would make the object larger than OSS allows for appendable objects.
    #[error(
        "appending {length} bytes at position {position} would make the object {} bytes, over the \
         {limit}-byte limit for appendable objects",
        position.saturating_add(*length)
    )]
    ObjectTooLarge {
        /// Where the append would start.
        position: u64,
        /// How many bytes would be appended.
        length: u64,
        /// The size limit.
        limit: u64,
    },
    /// A live appender's write would take its accepted-but-unconfirmed bytes past `maxBuffered`; nothing
    /// accepted before is dropped.
    #[error(
        "a write of {length} bytes would hold {} unconfirmed bytes, over maxBuffered ({limit}); nothing was \
         dropped: wait for earlier writes (or ready()) and write it again, or raise maxBuffered",
        buffered.saturating_add(*length)
    )]
    BufferFull {
        /// Accepted bytes not yet confirmed.
        buffered: u64,
        /// The refused write's length.
        length: u64,
        /// `maxBuffered`.
        limit: u64,
    },
    /// A live appender saw no part confirmed for `giveUpAfter` ms while OSS stayed unreachable.
    #[error("no part was confirmed for {after_ms} ms (giveUpAfter), so the appender gave up; the last failure: {last}")]
    GaveUp {
        /// How long the appender had been failing.
        after_ms: u64,
        /// The last transient failure.
        last: Box<Error>,
    },
    /// A spooled appender's write does not fit in its spool: it would pass `maxSpool`, or local storage refused
    /// more (the browser's quota, a full disk). Nothing accepted before is dropped. Its code is `BufferFull`.
    #[error("a write of {length} bytes does not fit in the spool: {reason}; nothing was dropped: wait for earlier writes and write it again")]
    SpoolFull {
        /// The refused write's length.
        length: u64,
        /// Why: the limit passed, or what storage said.
        reason: String,
    },
    /// A spool cannot be continued: the object does not continue its bytes, or the spool is unreadable.
    /// The spool is left as it is.
    #[error("the spool cannot be continued: {reason} (object length {}, spool from {spool_start} to {spool_end}); the spool is kept: discardSpool(id) drops it", object_length.map_or_else(|| "unknown".to_owned(), |l| l.to_string()))]
    SpoolMismatch {
        /// What is wrong.
        reason: String,
        /// The object's length, when a HEAD said it.
        object_length: Option<u64>,
        /// The object position where the spooled bytes start.
        spool_start: u64,
        /// Where they end.
        spool_end: u64,
    },
    /// The request never got a response: the network failed.
    #[error("request failed before a response arrived: {message}")]
    Request {
        /// What the transport reported.
        message: String,
    },
    /// The request got no response within the timeout.
    #[error("no response within {timeout_ms} ms; raise the timeout option for slow links or large parts")]
    Timeout {
        /// The timeout that passed.
        timeout_ms: u64,
    },
    /// The caller aborted the operation.
    #[error("the operation was aborted{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Aborted {
        /// The abort reason, when the caller gave one.
        reason: Option<String>,
    },
    /// A response arrived but could not be understood.
    #[error(
        "unexpected response (status {status}): {reason}{}",
        request_suffix(request_id)
    )]
    InvalidResponse {
        /// The HTTP status.
        status: u16,
        /// What was wrong with it.
        reason: String,
        /// The request id, when known.
        request_id: Option<String>,
    },
}

fn request_suffix(request_id: &Option<String>) -> String {
    request_id
        .as_deref()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default()
}

impl Error {
    /// An [`Error::InvalidArgument`] for `what`, explaining `reason`.
    pub fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// The error code: OSS's `Code` for service errors, our own code otherwise.
    pub fn code(&self) -> &str {
        match self {
            Self::InvalidArgument { .. } => "InvalidArgument",
            Self::Service(e) => &e.code,
            Self::CrcMismatch { .. } => "CrcMismatch",
            Self::MissingExposedHeader { .. } => "MissingExposedHeader",
            Self::ObjectTooLarge { .. } => "ObjectTooLarge",
            Self::BufferFull { .. } => "BufferFull",
            Self::GaveUp { .. } => "GaveUp",
            Self::SpoolMismatch { .. } => "SpoolMismatch",
            Self::SpoolFull { .. } => "BufferFull",
            Self::Request { .. } => "RequestError",
            Self::Timeout { .. } => "ConnectionTimeoutError",
            Self::Aborted { .. } => "Aborted",
            Self::InvalidResponse { .. } => "InvalidResponse",
        }
    }

    /// The JS error name, ali-oss style: `<Code>Error`; network errors keep their own names and an abort
    /// is an `AbortError`, as DOM code expects.
    pub fn name(&self) -> String {
        match self {
            Self::Request { .. } | Self::Timeout { .. } => self.code().to_owned(),
            Self::Aborted { .. } => "AbortError".to_owned(),
            Self::Service(e) if e.code.is_empty() => "UnknownError".to_owned(),
            _ => format!("{}Error", self.code()),
        }
    }

    /// The status ali-oss would report: the HTTP status, -1 for a network error, -2 for a timeout.
    pub fn status(&self) -> Option<i32> {
        match self {
            Self::Service(e) => Some(i32::from(e.status)),
            Self::CrcMismatch { .. } => Some(200),
            Self::MissingExposedHeader { status, .. } | Self::InvalidResponse { status, .. } => {
                Some(i32::from(*status))
            }
            Self::Request { .. } => Some(-1),
            Self::Timeout { .. } => Some(-2),
            Self::GaveUp { last, .. } => last.status(),
            Self::InvalidArgument { .. }
            | Self::ObjectTooLarge { .. }
            | Self::BufferFull { .. }
            | Self::SpoolMismatch { .. }
            | Self::SpoolFull { .. }
            | Self::Aborted { .. } => None,
        }
    }

    /// The OSS request id, when the error came from a response that had one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Service(e) => e.request_id.as_deref(),
            Self::CrcMismatch { request_id, .. } | Self::InvalidResponse { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// Whether the error itself reports the object's length from the server (a 409, a CRC mismatch).
    pub fn carries_position(&self) -> bool {
        match self {
            Self::Service(e) => e.next_append_position.is_some(),
            Self::CrcMismatch { .. } => true,
            _ => false,
        }
    }

    /// The service error, when OSS sent one.
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            Self::Service(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ServiceError> for Error {
    fn from(e: ServiceError) -> Self {
        Self::Service(Box::new(e))
    }
}

/// An error response from OSS: the XML `<Error>` body (or the base64 `x-oss-err` header) plus the
/// append-related headers that ali-oss drops.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceError {
    /// HTTP status.
    pub status: u16,
    /// `<Code>`, e.g. `PositionNotEqualToLength`.
    pub code: String,
    /// `<Message>`.
    pub message: String,
    /// `<RequestId>`, or the `x-oss-request-id` header.
    pub request_id: Option<String>,
    /// `<HostId>`.
    pub host_id: Option<String>,
    /// `<EC>`, or the `x-oss-ec` header.
    pub ec: Option<String>,
    /// `<ServerTime>` (RequestTimeTooSkewed), or the response `Date` header.
    pub server_time: Option<String>,
    /// `x-oss-next-append-position` of a 409 PositionNotEqualToLength.
    pub next_append_position: Option<u64>,
    /// `x-oss-hash-crc64ecma`, when the response carried it.
    pub crc64: Option<u64>,
    /// Every other child of `<Error>` in document order (e.g. `StringToSign`, `CanonicalRequest`,
    /// `RecommendDoc`), with security tokens redacted.
    pub details: Vec<(String, String)>,
}

impl ServiceError {
    /// The value of an extra `<Error>` field such as `StringToSign`.
    pub fn detail(&self, name: &str) -> Option<&str> {
        self.details
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = if self.code.is_empty() {
            "UnknownError"
        } else {
            &self.code
        };
        if self.message.is_empty() {
            write!(f, "{code} (status {})", self.status)?;
        } else {
            write!(f, "{code}: {} (status {})", self.message, self.status)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, ", request id {id}")?;
        }
        if let Some(p) = self.next_append_position {
            write!(f, ", object length {p}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_codes_and_statuses_follow_ali_oss() {
        let service = Error::from(ServiceError {
            status: 409,
            code: "PositionNotEqualToLength".into(),
            message: "Position is not equal to file length".into(),
            request_id: Some("5C3D9175B6FC201293AD****".into()),
            next_append_position: Some(3),
            ..ServiceError::default()
        });
        assert_eq!(service.name(), "PositionNotEqualToLengthError");
        assert_eq!(service.code(), "PositionNotEqualToLength");
        assert_eq!(service.status(), Some(409));
        assert_eq!(service.request_id(), Some("5C3D9175B6FC201293AD****"));
        assert_eq!(
            service.to_string(),
            "PositionNotEqualToLength: Position is not equal to file length (status 409), request id \
             5C3D9175B6FC201293AD****, object length 3"
        );
        let net = Error::Request {
            message: "connection reset".into(),
        };
        assert_eq!(
            (net.name(), net.code(), net.status()),
            ("RequestError".into(), "RequestError", Some(-1))
        );
        let timeout = Error::Timeout { timeout_ms: 100 };
        assert_eq!(
            (timeout.name(), timeout.status()),
            ("ConnectionTimeoutError".into(), Some(-2))
        );
        assert_eq!(Error::Aborted { reason: None }.name(), "AbortError");
        let bad = Error::invalid(
            "position",
            "-1 is negative; a non-negative integer is accepted",
        );
        assert_eq!(bad.name(), "InvalidArgumentError");
        assert_eq!(
            bad.to_string(),
            "invalid position: -1 is negative; a non-negative integer is accepted"
        );
    }

    #[test]
    fn messages_tell_what_to_do() {
        let e = Error::MissingExposedHeader {
            missing: vec!["x-oss-hash-crc64ecma".into()],
            status: 200,
        };
        assert!(
            e.to_string().contains("ExposeHeaders")
                && e.to_string().contains("x-oss-hash-crc64ecma")
        );
        let e = Error::ObjectTooLarge {
            position: 5,
            length: 10,
            limit: 12,
        };
        assert!(e.to_string().contains("15 bytes"), "{e}");
    }
}

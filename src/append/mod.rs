//! The sans-IO AppendObject state machine: what to send, how to read what came back, how to recover.

mod session;
mod step;
#[cfg(test)]
mod tests;

pub(crate) use session::AppendSession;
pub(crate) use step::AppendStep;

use crate::error::{Error, ServiceError};
use crate::headers::{X_OSS_DELETE_MARKER, X_OSS_HASH_CRC64ECMA, X_OSS_REQUEST_ID};
use crate::http::Headers;
pub(crate) use crate::response::AppendResponse;
use crate::response::{parse_service_error, HeadResponse};
use crate::retry::POSITION_NOT_EQUAL_TO_LENGTH;
use crate::time::SigningTime;

/// The largest an appendable object may grow: 5 GiB.
pub(crate) const MAX_APPENDABLE_SIZE: u64 = crate::validate::MAX_OBJECT_SIZE;
const OBJECT_NOT_APPENDABLE: &str = "ObjectNotAppendable";

/// The `p` of ali-oss's `progress(p, info)` callback: 1 once finished, else the share of `total` confirmed;
/// 0 until the end when the total is unknown (a stream).
pub(crate) fn progress_fraction(loaded: u64, total: Option<u64>, finished: bool) -> f64 {
    match total {
        _ if finished => 1.0,
        Some(t) if t > 0 => (loaded as f64 / t as f64).min(1.0),
        _ => 0.0,
    }
}

/// The limits an append works within.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AppendPolicy {
    /// The largest the object may grow; an append past it fails with [`Error::ObjectTooLarge`] before
    /// anything is sent.
    pub size_limit: u64,
    /// How many retries may follow the first attempt (`retryMax`). Each resend of the part and each
    /// repeated HEAD uses one; the first HEAD after an ambiguous failure is free, and so are the single
    /// clock-skew correction and the single credential refresh.
    pub retry_max: u32,
    /// Whether the transport can refresh credentials (`refreshSTSToken` was given).
    pub can_refresh_credentials: bool,
}

impl AppendPolicy {
    /// A client's appends: OSS's object size limit, the client's `retryMax`, and whether a rejected
    /// token can be refreshed (`refreshSTSToken` was given).
    pub(crate) fn for_client(retry_max: u32, can_refresh_credentials: bool) -> Self {
        Self {
            size_limit: MAX_APPENDABLE_SIZE,
            retry_max,
            can_refresh_credentials,
        }
    }

    /// The same limits without retries of the step's own: the streaming appender schedules every retry
    /// itself, so there is one schedule and `onRetry` sees all of it.
    pub(crate) fn without_retries(self) -> Self {
        Self {
            retry_max: 0,
            ..self
        }
    }
}

impl Default for AppendPolicy {
    fn default() -> Self {
        Self {
            size_limit: MAX_APPENDABLE_SIZE,
            retry_max: 3,
            can_refresh_credentials: false,
        }
    }
}

pub(crate) use crate::response::ObjectType;

/// What a HEAD of the object reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ObjectHead {
    /// The object's length: `x-oss-next-append-position`, or `Content-Length`.
    pub length: u64,
    /// `x-oss-hash-crc64ecma`, when the response exposed it.
    pub crc64: Option<u64>,
    /// `x-oss-object-type`.
    pub object_type: ObjectType,
    /// `x-oss-request-id`, when known.
    pub request_id: Option<String>,
    /// The key's current version is a delete marker (a 404 with `x-oss-delete-marker: true` on a
    /// versioned bucket): the key reads as missing, and its appendable version, if any, is frozen.
    pub delete_marker: bool,
}

impl ObjectHead {
    /// Reads a HEAD answer: `None` for a plain 404, a delete marker (length 0) for a 404 with
    /// `x-oss-delete-marker: true`, the object for a 200.
    ///
    /// # Errors
    /// Another status is its service error; a 200 whose length cannot be read is
    /// [`Error::MissingExposedHeader`] (a hidden CRC is left to the state machine, which knows whether it
    /// needs one).
    pub(crate) fn from_answer(status: u16, headers: &Headers) -> Result<Option<Self>, Error> {
        match status {
            404 if headers
                .get(X_OSS_DELETE_MARKER)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) =>
            {
                Ok(Some(Self {
                    length: 0,
                    crc64: Some(0),
                    object_type: ObjectType::Other(String::new()),
                    request_id: headers.get(X_OSS_REQUEST_ID).map(str::to_owned),
                    delete_marker: true,
                }))
            }
            404 => Ok(None),
            200 => {
                let head = HeadResponse::from_headers(status, headers)?;
                let length = match (
                    head.length_and_crc(),
                    head.next_append_position.or(head.content_length),
                ) {
                    (Ok((l, _)), _) | (Err(_), Some(l)) => l,
                    (Err(e), None) => return Err(e),
                };
                Ok(Some(Self {
                    length,
                    crc64: head.crc64,
                    object_type: head.object_type.unwrap_or(ObjectType::Other(String::new())),
                    request_id: head.request_id,
                    delete_marker: false,
                }))
            }
            status => Err(parse_service_error(status, headers, &[]).into()),
        }
    }
}

/// What the transport reports back after carrying out an [`Action`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// The outcome of a `Send`/`Resend*` action: the parsed 200, or what went wrong — an OSS error
    /// response as [`Error::Service`] (with `next_append_position` and `crc64` from the headers of a
    /// 409, `server_time` from `<ServerTime>` or `Date` of a 403), [`Error::Request`],
    /// [`Error::Timeout`], [`Error::Aborted`], [`Error::InvalidResponse`] or
    /// [`Error::MissingExposedHeader`].
    Append(Result<AppendResponse, Error>),
    /// The outcome of a `Reconcile*` action (a HEAD of the object): `Ok(None)` when the object does not
    /// exist (404; a 404 error works too), or what went wrong, as for `Append`.
    Head(Result<Option<ObjectHead>, Error>),
    /// The caller aborted while the last action was under way.
    Abort {
        /// The abort reason, when the caller gave one.
        reason: Option<String>,
    },
}

/// A part that is on the object: where it went and the object after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Appended {
    /// Where the part starts.
    pub position: u64,
    /// The part's length.
    pub length: u64,
    /// The object's length after the part (`nextAppendPosition`).
    pub next_position: u64,
    /// The whole object's CRC-64 after the part.
    pub crc64: u64,
    /// Whether `crc64` was checked against the CRC the part's bytes predict; false only when the
    /// object's CRC before the part was unknown (then `crc64` is what OSS reported).
    pub verified: bool,
    /// Whether the success was established from the object's state (a lost or ambiguous response)
    /// rather than from a 200.
    pub recovered: bool,
}

/// What the transport must do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// POST the part: `?append&position={position}` with its `length` bytes. Sign it afresh.
    Send {
        /// The `position` query value.
        position: u64,
        /// The part's length.
        length: u64,
    },
    /// Wait `delay_ms`, then POST the part again, signed afresh; the object's state proved the earlier
    /// attempt is not there.
    Resend {
        /// The `position` query value.
        position: u64,
        /// The part's length.
        length: u64,
        /// The backoff to wait first.
        delay_ms: u64,
    },
    /// OSS rejected the request for clock skew: keep `server_time - now` as the clock offset for
    /// signing (this and later requests), then POST the part again at once.
    ResendWithClockOffset {
        /// The `position` query value.
        position: u64,
        /// The part's length.
        length: u64,
        /// The server's time, from `<ServerTime>` or the response `Date`.
        server_time: SigningTime,
    },
    /// OSS rejected the credentials: refresh them (single-flight), then POST the part again. If the
    /// refresh fails, end with its error and call [`AppendSession::fail`].
    RefreshCredentialsThenResend {
        /// The `position` query value.
        position: u64,
        /// The part's length.
        length: u64,
    },
    /// Wait `delay_ms`, then HEAD the object and report it as [`Input::Head`]: whether the part landed
    /// is unknown and the object's length and CRC-64 decide it.
    Reconcile {
        /// The backoff to wait first (0 for the first HEAD).
        delay_ms: u64,
    },
    /// The HEAD was rejected for clock skew: keep the offset as for `ResendWithClockOffset`, then HEAD
    /// again.
    ReconcileWithClockOffset {
        /// The server's time.
        server_time: SigningTime,
    },
    /// The HEAD was rejected for its credentials: refresh them, then HEAD again.
    RefreshCredentialsThenReconcile,
    /// The part is on the object, exactly once.
    Done(Appended),
}

/// What the transport does before the request of an [`Action`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Preparation {
    /// Nothing: send at once.
    None,
    /// Wait this many milliseconds (a fired abort ends the wait and the action).
    Wait(u64),
    /// Sign with the server's clock from now on: keep `server_time - now` as the clock offset.
    AdoptServerTime(SigningTime),
    /// Refresh the credentials (single-flight); if that fails, end with its error and call
    /// [`AppendSession::fail`].
    RefreshCredentials,
}

/// The request of an [`Action`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outgoing {
    /// POST the part at `position`; report it as [`Input::Append`].
    Post {
        /// The `position` query value.
        position: u64,
    },
    /// HEAD the object; report it as [`Input::Head`].
    Head,
}

impl Action {
    /// The action as the transport carries it out: what to do first, then which request to send;
    /// `None` for [`Action::Done`].
    pub(crate) fn plan(&self) -> Option<(Preparation, Outgoing)> {
        Some(match self {
            Self::Send { position, .. } => (
                Preparation::None,
                Outgoing::Post {
                    position: *position,
                },
            ),
            Self::Resend {
                position, delay_ms, ..
            } => (
                Preparation::Wait(*delay_ms),
                Outgoing::Post {
                    position: *position,
                },
            ),
            Self::ResendWithClockOffset {
                position,
                server_time,
                ..
            } => (
                Preparation::AdoptServerTime(*server_time),
                Outgoing::Post {
                    position: *position,
                },
            ),
            Self::RefreshCredentialsThenResend { position, .. } => (
                Preparation::RefreshCredentials,
                Outgoing::Post {
                    position: *position,
                },
            ),
            Self::Reconcile { delay_ms } => (Preparation::Wait(*delay_ms), Outgoing::Head),
            Self::ReconcileWithClockOffset { server_time } => {
                (Preparation::AdoptServerTime(*server_time), Outgoing::Head)
            }
            Self::RefreshCredentialsThenReconcile => {
                (Preparation::RefreshCredentials, Outgoing::Head)
            }
            Self::Done(_) => return None,
        })
    }
}

/// Builds a `PositionNotEqualToLength` verdict for a server state the append does not explain. It is
/// shaped like OSS's own 409 (status 409, the object's length and CRC attached) so that code written
/// for ali-oss's `PositionNotEqualToLengthError` handles it; the message says what was observed.
fn position_error(
    message: String,
    server_length: u64,
    server_crc: Option<u64>,
    request_id: Option<String>,
) -> Error {
    ServiceError {
        status: 409,
        code: POSITION_NOT_EQUAL_TO_LENGTH.to_owned(),
        message,
        request_id,
        next_append_position: Some(server_length),
        crc64: server_crc,
        ..ServiceError::default()
    }
    .into()
}

fn missing_crc_header() -> Error {
    Error::MissingExposedHeader {
        missing: vec![X_OSS_HASH_CRC64ECMA.to_owned()],
        status: 200,
    }
}

fn not_appendable(object_type: &ObjectType, request_id: Option<String>) -> Error {
    ServiceError {
        status: 409,
        code: OBJECT_NOT_APPENDABLE.to_owned(),
        message: format!(
            "the object is a {} object; only an Appendable object can be appended to",
            object_type.as_str()
        ),
        request_id,
        ..ServiceError::default()
    }
    .into()
}

/// An appender meeting a delete marker past position 0: the bytes before it are in a frozen version.
fn marker_not_appendable(position: u64, request_id: Option<String>) -> Error {
    ServiceError {
        status: 409,
        code: OBJECT_NOT_APPENDABLE.to_owned(),
        message: format!(
            "the object was deleted on a versioned bucket (its current version is a delete marker), so the \
             append at position {position} has nothing to continue: the appendable object is kept as a \
             previous version (versionId 'null') that can no longer be appended to; read it with \
             get(name, {{ versionId: 'null' }}), or append at position 0 to start a new object"
        ),
        request_id,
        ..ServiceError::default()
    }
    .into()
}

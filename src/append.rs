//! The sans-IO AppendObject state machine: what to send, how to read what came back, how to recover.

use crate::crc64::combine;
use crate::error::{Error, ServiceError};
use crate::headers::{X_OSS_DELETE_MARKER, X_OSS_HASH_CRC64ECMA, X_OSS_REQUEST_ID};
use crate::request::Headers;
pub use crate::response::AppendResponse;
use crate::response::{parse_service_error, HeadResponse};
use crate::retry::{
    backoff_ms, classify, error_server_time, ErrorClass, POSITION_NOT_EQUAL_TO_LENGTH,
};
use crate::time::SigningTime;

/// The largest an appendable object may grow: 5 GiB.
pub const MAX_APPENDABLE_SIZE: u64 = 5 << 30;
const OBJECT_NOT_APPENDABLE: &str = "ObjectNotAppendable";

/// The limits an append works within.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendPolicy {
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

impl Default for AppendPolicy {
    fn default() -> Self {
        Self {
            size_limit: MAX_APPENDABLE_SIZE,
            retry_max: 3,
            can_refresh_credentials: false,
        }
    }
}

pub use crate::response::ObjectType;

/// What a HEAD of the object reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectHead {
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
    pub fn from_answer(status: u16, headers: &Headers) -> Result<Option<Self>, Error> {
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
pub enum Input {
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
pub struct Appended {
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
pub enum Action {
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
pub enum Preparation {
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
pub enum Outgoing {
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
    pub fn plan(&self) -> Option<(Preparation, Outgoing)> {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    New,
    /// A POST is out (or about to be).
    Posting,
    /// A HEAD is out (or about to be).
    Heading,
    Finished,
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

/// One part's way onto the object: the first POST, and every retry and reconciliation after it.
///
/// An append is not idempotent, but it is position-conditional: OSS applies `?append&position=p` only
/// while the object is exactly `p` bytes long, so at most one attempt at a position can land. The
/// danger of a retry is misreading its answer: a 409 that echoes our own earlier attempt, or another
/// writer's bytes taken for ours. So the step resends only when a response proves the attempt was
/// rejected (403 clock skew or credentials) or the object's state proves the part is not there
/// (length == position); after anything ambiguous it reads the state first; and it accepts a part it
/// saw no 200 for only with a CRC-64 proof.
///
/// Create it (or get it from [`AppendSession::next_part`]), call [`start`](Self::start), carry out
/// each [`Action`] and feed what came back to [`handle`](Self::handle) until it answers
/// [`Action::Done`] or an error. After an error, [`might_have_landed`](Self::might_have_landed) says
/// whether the part may be on the object anyway; the next attempt must then begin with a HEAD
/// ([`AppendStep::recovering`]; [`AppendSession`] does this by itself). A transport's loop:
///
/// ```text
/// let mut step = session.next_part(len, crc64(bytes));
/// let mut action = step.start();
/// let done = loop {
///     let input = match action {
///         Err(e) => { session.fail(&step); return Err(e) }
///         Ok(Done(done)) => break done,
///         Ok(Send { position, .. }) => post(position, bytes),
///         Ok(Resend { position, delay_ms, .. }) => { sleep(delay_ms); post(position, bytes) }
///         Ok(ResendWithClockOffset { position, server_time, .. }) => {
///             clock_offset = server_time - now(); post(position, bytes) }
///         Ok(RefreshCredentialsThenResend { position, .. }) => { refresh(); post(position, bytes) }
///         Ok(Reconcile { delay_ms }) => { sleep(delay_ms); head() }
///         Ok(ReconcileWithClockOffset { server_time }) => { clock_offset = server_time - now(); head() }
///         Ok(RefreshCredentialsThenReconcile) => { refresh(); head() }
///     };
///     // post() → Input::Append(..), head() → Input::Head(..); a fired AbortSignal → Input::Abort.
///     // A failed refresh ends the loop like an error: session.fail(&step), then its error.
///     action = step.handle(input, random_in_0_1());
/// };
/// session.commit(&done);
/// ```
#[derive(Clone, Debug)]
pub struct AppendStep {
    position: u64,
    prior_crc: Option<u64>,
    length: u64,
    part_crc: u64,
    policy: AppendPolicy,
    /// The object is known to exist, so a zero-length part needs no request.
    exists: bool,
    /// An earlier attempt of this part may have landed: start with a HEAD.
    recovering: bool,
    phase: Phase,
    /// A POST of this step went out.
    sent: bool,
    /// An attempt of ours may have landed. Sticky: a timed-out request can still land after a HEAD
    /// found nothing, so a later 409 may be its echo.
    ambiguous: bool,
    /// A 409 reported exactly our length without proof: it may be our own attempt that the transport
    /// re-sent by itself (browsers silently resend a request whose reused connection closed).
    echo_suspected: bool,
    /// A 409 with a foreign length but no CRC-64, held while one HEAD reads the CRC to report with it.
    conflict: Option<Error>,
    retries: u32,
    clock_fixed: bool,
    refreshed: bool,
    last_error: Option<Error>,
}

impl AppendStep {
    /// A step that appends `length` bytes whose own CRC-64 is `part_crc` at `position`.
    ///
    /// `prior_crc` is the object's CRC-64 before the append when known (`None` at position 0 means
    /// 0, the CRC of nothing); the expected CRC after it is `combine(prior, part_crc, length)`. Without
    /// it a 200 is accepted unverified, and a part whose response was lost cannot be told from another
    /// writer's bytes, which ends in an error rather than a guess.
    pub fn new(
        position: u64,
        prior_crc: Option<u64>,
        length: u64,
        part_crc: u64,
        policy: AppendPolicy,
    ) -> Self {
        Self {
            position,
            prior_crc: if position == 0 {
                prior_crc.or(Some(0))
            } else {
                prior_crc
            },
            length,
            part_crc,
            policy,
            exists: false,
            recovering: false,
            phase: Phase::New,
            sent: false,
            ambiguous: false,
            echo_suspected: false,
            conflict: None,
            retries: 0,
            clock_fixed: false,
            refreshed: false,
            last_error: None,
        }
    }

    /// The same part again after an earlier attempt ended with the part possibly on the object (an
    /// abort mid-request, an exhausted budget): it starts with a HEAD and sends only if the part is not
    /// there.
    pub fn recovering(
        position: u64,
        prior_crc: Option<u64>,
        length: u64,
        part_crc: u64,
        policy: AppendPolicy,
    ) -> Self {
        Self {
            recovering: true,
            ambiguous: true,
            ..Self::new(position, prior_crc, length, part_crc, policy)
        }
    }

    /// Where the part goes.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The part's length.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// The whole object's CRC-64 expected after the part, when the CRC before it is known.
    pub fn expected_crc64(&self) -> Option<u64> {
        self.prior_crc
            .map(|p| combine(p, self.part_crc, self.length))
    }

    /// Whether the part may be on the object although the step did not end in `Done`: true after an
    /// ambiguous failure, a verification failure of a part that landed, or an abort (or abandonment)
    /// while a POST was out.
    pub fn might_have_landed(&self) -> bool {
        self.ambiguous || self.phase == Phase::Posting
    }

    /// The first action: `Send`, or `Reconcile` for a [`recovering`](Self::recovering) step, or `Done`
    /// at once for a zero-length part on an object known to exist; [`Error::ObjectTooLarge`] when the
    /// part would take the object past the size limit.
    ///
    /// # Errors
    /// [`Error::ObjectTooLarge`], or [`Error::InvalidArgument`] when called twice.
    pub fn start(&mut self) -> Result<Action, Error> {
        if self.phase != Phase::New {
            return Err(Error::invalid("append step", "start() was already called"));
        }
        let fits = self
            .position
            .checked_add(self.length)
            .is_some_and(|end| end <= self.policy.size_limit);
        if !fits {
            return self.fail(Error::ObjectTooLarge {
                position: self.position,
                length: self.length,
                limit: self.policy.size_limit,
            });
        }
        if self.recovering {
            self.phase = Phase::Heading;
            return Ok(Action::Reconcile { delay_ms: 0 });
        }
        match self.prior_crc {
            // A zero-byte append at the right position changes nothing; it is needed only to create
            // the object or to learn its CRC.
            Some(crc) if self.length == 0 && self.exists => self.done(crc, true, false),
            _ => {
                self.phase = Phase::Posting;
                self.sent = true;
                Ok(Action::Send {
                    position: self.position,
                    length: self.length,
                })
            }
        }
    }

    /// Takes what came back from the last action and answers the next one.
    ///
    /// `jitter` is a random number in `[0, 1)` for the backoff of a retry.
    ///
    /// # Errors
    /// The append failed: the OSS error, the network error, [`Error::CrcMismatch`], a
    /// `PositionNotEqualToLength` service error carrying the object's length and CRC, or
    /// [`Error::Aborted`]. Also [`Error::InvalidArgument`] for an input that does not answer the last
    /// action.
    pub fn handle(&mut self, input: Input, jitter: f64) -> Result<Action, Error> {
        match (self.phase, input) {
            (Phase::Posting | Phase::Heading, Input::Abort { reason }) => self.abort(reason),
            (Phase::Posting, Input::Append(Ok(r))) => self.on_appended(r),
            (Phase::Posting, Input::Append(Err(e))) => self.on_append_error(e),
            (Phase::Heading, Input::Head(r)) => self.on_head(r, jitter),
            (Phase::New, _) => Err(Error::invalid("append step", "call start() first")),
            (Phase::Finished, _) => Err(Error::invalid("append step", "the step has finished")),
            (phase, input) => {
                let (got, wanted) = match (input, phase) {
                    (Input::Head(_), _) => ("a HEAD result", "the POST it sent"),
                    (_, Phase::Heading) => ("a POST result", "the HEAD it asked for"),
                    _ => ("an abort", "the request under way"),
                };
                self.fail(Error::invalid(
                    "append step input",
                    format!("{got} does not answer {wanted}"),
                ))
            }
        }
    }

    fn expected_len(&self) -> u64 {
        self.position + self.length
    }

    fn done(&mut self, crc64: u64, verified: bool, recovered: bool) -> Result<Action, Error> {
        self.phase = Phase::Finished;
        Ok(Action::Done(Appended {
            position: self.position,
            length: self.length,
            next_position: self.expected_len(),
            crc64,
            verified,
            recovered,
        }))
    }

    fn fail(&mut self, e: Error) -> Result<Action, Error> {
        if self.phase == Phase::Posting {
            self.ambiguous = true;
        }
        self.phase = Phase::Finished;
        Err(e)
    }

    fn abort(&mut self, reason: Option<String>) -> Result<Action, Error> {
        self.fail(Error::Aborted { reason })
    }

    /// Records `e` as the reason to give up with if the budget runs out.
    fn note(&mut self, e: Error) {
        self.last_error = Some(e);
    }

    fn give_up(&mut self) -> Result<Action, Error> {
        let e = self.last_error.take().unwrap_or_else(|| Error::Request {
            message: "the retry budget ran out".to_owned(),
        });
        self.fail(e)
    }

    /// POST again; the caller has proved the part is not on the object (or the last answer was a
    /// rejection).
    fn resend(&mut self, jitter: f64) -> Result<Action, Error> {
        let (position, length) = (self.position, self.length);
        if !self.sent {
            // A recovering step's first POST is its first attempt, not a retry.
            self.sent = true;
            self.phase = Phase::Posting;
            return Ok(Action::Send { position, length });
        }
        if self.retries >= self.policy.retry_max {
            return self.give_up();
        }
        self.retries += 1;
        self.phase = Phase::Posting;
        Ok(Action::Resend {
            position,
            length,
            delay_ms: backoff_ms(self.retries, jitter),
        })
    }

    fn reconcile(&mut self) -> Result<Action, Error> {
        self.phase = Phase::Heading;
        Ok(Action::Reconcile { delay_ms: 0 })
    }

    fn retry_head(&mut self, e: Error, jitter: f64) -> Result<Action, Error> {
        self.note(e);
        if self.retries >= self.policy.retry_max {
            return self.give_up();
        }
        self.retries += 1;
        Ok(Action::Reconcile {
            delay_ms: backoff_ms(self.retries, jitter),
        })
    }

    fn on_appended(&mut self, r: AppendResponse) -> Result<Action, Error> {
        // A 200 answers this very request, so the part landed at `position`.
        self.ambiguous = true;
        if r.next_position != self.expected_len() {
            let message = format!(
                "OSS accepted {} bytes at position {} but reports the object is {} bytes, not {}",
                self.length,
                self.position,
                r.next_position,
                self.expected_len()
            );
            return self.fail(position_error(
                message,
                r.next_position,
                Some(r.crc64),
                Some(r.request_id),
            ));
        }
        match self.expected_crc64() {
            Some(expected) if expected != r.crc64 => self.fail(Error::CrcMismatch {
                position: self.position,
                next_position: r.next_position,
                local: expected,
                server: r.crc64,
                request_id: Some(r.request_id),
            }),
            Some(_) => self.done(r.crc64, true, false),
            None => self.done(r.crc64, false, false),
        }
    }

    fn on_append_error(&mut self, e: Error) -> Result<Action, Error> {
        match classify(&e) {
            ErrorClass::Aborted => self.fail(e),
            ErrorClass::Ambiguous => {
                self.ambiguous = true;
                self.note(e);
                self.reconcile()
            }
            ErrorClass::PositionConflict => self.on_position_conflict(e),
            ErrorClass::ClockSkew => match error_server_time(&e) {
                Some(server_time) if !self.clock_fixed => {
                    self.clock_fixed = true;
                    Ok(Action::ResendWithClockOffset {
                        position: self.position,
                        length: self.length,
                        server_time,
                    })
                }
                _ => self.finish_rejected(e),
            },
            ErrorClass::Credentials if self.policy.can_refresh_credentials && !self.refreshed => {
                self.refreshed = true;
                Ok(Action::RefreshCredentialsThenResend {
                    position: self.position,
                    length: self.length,
                })
            }
            ErrorClass::Credentials | ErrorClass::NotFound | ErrorClass::Fatal => {
                // A 200 whose headers the transport could not read did land.
                if let Error::MissingExposedHeader { status, .. } = &e {
                    self.ambiguous |= (200..300).contains(status);
                }
                self.finish_rejected(e)
            }
        }
    }

    /// Ends with an error after a response that rejected the request: this attempt did not land.
    fn finish_rejected(&mut self, e: Error) -> Result<Action, Error> {
        self.phase = Phase::Finished;
        Err(e)
    }

    fn on_position_conflict(&mut self, e: Error) -> Result<Action, Error> {
        let s = e.service().cloned().unwrap_or_default();
        let Some(n) = s.next_append_position else {
            // The 409 hid its header (a browser without the CORS rule): only a HEAD can tell.
            if self.ambiguous {
                self.note(e);
                return self.reconcile();
            }
            return self.finish_rejected(e);
        };
        if n == self.expected_len() {
            // Possibly our own attempt that landed: an earlier one of ours, or this one re-sent by the
            // transport after its response was lost. Only the CRC-64 can prove it; without an earlier
            // ambiguous failure, a 409 that proves nothing stays the caller's wrong position, as it came.
            let ours_was_out = self.ambiguous;
            return match (self.expected_crc64(), s.crc64) {
                (Some(expected), Some(server)) if expected == server => {
                    self.done(server, true, true)
                }
                (Some(expected), Some(server)) if ours_was_out => {
                    self.finish_rejected(Error::CrcMismatch {
                        position: self.position,
                        next_position: n,
                        local: expected,
                        server,
                        request_id: s.request_id,
                    })
                }
                (Some(_), Some(_)) => self.finish_rejected(e),
                // The 409 did not carry the CRC: the HEAD does.
                (Some(_), None) => {
                    self.echo_suspected = !ours_was_out;
                    self.note(e);
                    self.reconcile()
                }
                (None, _) if ours_was_out && self.length == 0 => {
                    self.note(e);
                    self.reconcile()
                }
                (None, crc) if ours_was_out => {
                    self.finish_rejected(self.unprovable(n, crc, s.request_id))
                }
                (None, _) => self.finish_rejected(e),
            };
        }
        if n == self.position {
            // A rejection whose length says the position was right contradicts itself (the object
            // changed under it). Read the state afresh; the resend it may lead to is budgeted.
            self.note(e);
            return self.reconcile();
        }
        // Before any ambiguity this is simply a wrong position (ali-oss parity: the 409 as it came,
        // with nextAppendPosition); after one, the length is neither ours nor untouched: another writer.
        // Either way the caller gets the object's length and CRC-64; one HEAD reads a CRC the 409 lacks.
        if s.crc64.is_none() {
            self.conflict = Some(e);
            return self.reconcile();
        }
        self.finish_rejected(e)
    }

    /// Ends with the held 409, carrying the CRC-64 the HEAD read when the object still has that length.
    fn report_conflict(
        &mut self,
        mut conflict: Error,
        head: Result<Option<ObjectHead>, Error>,
    ) -> Result<Action, Error> {
        if let (Error::Service(e), Ok(Some(head))) = (&mut conflict, head) {
            if e.next_append_position == Some(head.length) {
                e.crc64 = head.crc64;
            }
        }
        self.finish_rejected(conflict)
    }

    fn unprovable(&self, n: u64, crc: Option<u64>, request_id: Option<String>) -> Error {
        let message = format!(
            "after an interrupted append of {} bytes at position {}, the object is {} bytes; the part may \
             have landed, but without the object's CRC-64 before it (initCrc) the client cannot tell its \
             own bytes from another writer's, so it neither re-sent nor accepted them: check the object, \
             then continue at position {}",
            self.length, self.position, n, n
        );
        position_error(message, n, crc, request_id)
    }

    fn on_head(
        &mut self,
        r: Result<Option<ObjectHead>, Error>,
        jitter: f64,
    ) -> Result<Action, Error> {
        if let Some(conflict) = self.conflict.take() {
            return self.report_conflict(conflict, r);
        }
        let head = match r {
            Ok(head) => head,
            Err(e) => match classify(&e) {
                ErrorClass::Aborted => return self.fail(e),
                ErrorClass::NotFound => None,
                ErrorClass::Ambiguous => return self.retry_head(e, jitter),
                ErrorClass::ClockSkew => {
                    return match error_server_time(&e) {
                        Some(server_time) if !self.clock_fixed => {
                            self.clock_fixed = true;
                            Ok(Action::ReconcileWithClockOffset { server_time })
                        }
                        _ => self.fail(e),
                    }
                }
                ErrorClass::Credentials
                    if self.policy.can_refresh_credentials && !self.refreshed =>
                {
                    self.refreshed = true;
                    return Ok(Action::RefreshCredentialsThenReconcile);
                }
                ErrorClass::Credentials | ErrorClass::PositionConflict | ErrorClass::Fatal => {
                    return self.fail(e)
                }
            },
        };
        // A delete marker reads as no object at 0 (an append there starts a new one); past 0 the
        // appendable object is frozen behind it.
        let head = match head {
            Some(h) if h.delete_marker && self.position > 0 => {
                return self.fail(marker_not_appendable(self.position, h.request_id));
            }
            Some(h) if h.delete_marker => None,
            head => head,
        };
        let Some(head) = head else {
            // No object: nothing can have landed, but only an append at 0 may create it.
            if self.position == 0 {
                return self.resend(jitter);
            }
            let e = ServiceError {
                status: 404,
                code: "NoSuchKey".to_owned(),
                message: format!(
                    "the object no longer exists, but the append at position {} needs {} bytes before it",
                    self.position, self.position
                ),
                ..ServiceError::default()
            };
            return self.fail(e.into());
        };
        if head.object_type != ObjectType::Appendable {
            return self.fail(not_appendable(&head.object_type, head.request_id));
        }
        self.judge(head, jitter)
    }

    /// Decides from the object's length and CRC whether the part landed.
    fn judge(&mut self, head: ObjectHead, jitter: f64) -> Result<Action, Error> {
        let ObjectHead {
            length: n,
            crc64: crc,
            request_id,
            ..
        } = head;
        // A zero-length part is "applied" exactly when the object exists at the position.
        let suspected = std::mem::take(&mut self.echo_suspected);
        if n == self.expected_len() && (self.ambiguous || self.length == 0 || suspected) {
            return match (self.expected_crc64(), crc) {
                (Some(expected), Some(server)) if expected == server => {
                    self.done(server, true, self.length > 0)
                }
                // Only suspected, and disproved: the 409 was the caller's wrong position after all.
                (Some(_), Some(_)) if suspected && !self.ambiguous => {
                    let e = self.last_error.take().unwrap_or_else(|| {
                        position_error(
                            "the object already holds other bytes at this position".into(),
                            n,
                            crc,
                            request_id.clone(),
                        )
                    });
                    self.fail(e)
                }
                (Some(expected), Some(server)) => self.fail(Error::CrcMismatch {
                    position: self.position,
                    next_position: n,
                    local: expected,
                    server,
                    request_id,
                }),
                (_, None) => self.fail(missing_crc_header()),
                (None, Some(server)) if self.length == 0 => self.done(server, false, false),
                (None, server) => {
                    let e = self.unprovable(n, server, request_id);
                    self.fail(e)
                }
            };
        }
        if n == self.position {
            // Not applied. The CRC must still be the one the part was planned on.
            match (self.prior_crc, crc) {
                (Some(prior), Some(server)) if prior != server => {
                    return self.fail(Error::CrcMismatch {
                        position: self.position,
                        next_position: n,
                        local: prior,
                        server,
                        request_id,
                    })
                }
                (None, Some(server)) => self.prior_crc = Some(server),
                _ => {}
            }
            return self.resend(jitter);
        }
        let message = format!(
            "the object is {n} bytes, which an append of {} bytes at position {} does not explain \
             ({} if not applied, {} if applied): another writer changed it, so nothing was re-sent",
            self.length,
            self.position,
            self.position,
            self.expected_len()
        );
        self.fail(position_error(message, n, crc, request_id))
    }
}

/// A part whose fate is unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    length: u64,
    crc: u64,
}

/// An object's position and CRC-64 across many parts: the multi-part `append` and the streaming
/// appender.
///
/// For each part: [`next_part`](Self::next_part), drive the step, then [`commit`](Self::commit) its
/// `Done` or, after an error, [`fail`](Self::fail). A part that failed but may have landed stays
/// pending; offering the same part again (same length and CRC) makes a step that first checks
/// whether it is already there, so retrying never duplicates it.
#[derive(Clone, Debug)]
pub struct AppendSession {
    policy: AppendPolicy,
    start: u64,
    position: u64,
    crc: Option<u64>,
    exists: bool,
    pending: Option<Pending>,
    confirmed: u64,
    /// A part was committed or failed.
    offered: bool,
}

impl AppendSession {
    /// A session continuing an object at `position`, whose CRC-64 there is `crc` when known. At
    /// position 0 it is 0, the CRC of nothing, whatever is given. Both are the caller's word, so a first
    /// zero-length part is still sent: it creates the object at 0, and elsewhere checks the position (a
    /// wrong one is OSS's 409) and learns the CRC.
    pub fn new(position: u64, crc: Option<u64>, policy: AppendPolicy) -> Self {
        Self {
            policy,
            start: position,
            position,
            crc: if position == 0 { Some(0) } else { crc },
            exists: false,
            pending: None,
            confirmed: 0,
            offered: false,
        }
    }

    /// A session continuing the object a HEAD found (`position: 'resume'`): `None` when it does not
    /// exist, or a delete marker when it was deleted on a versioned bucket (start at 0; the first part
    /// creates it).
    ///
    /// # Errors
    /// `ObjectNotAppendable` for a Normal, Multipart or Symlink object; [`Error::MissingExposedHeader`]
    /// when the HEAD did not expose the CRC-64, without which nothing appended could be verified.
    pub fn resume_from_head(
        head: Option<&ObjectHead>,
        policy: AppendPolicy,
    ) -> Result<Self, Error> {
        let Some(head) = head.filter(|h| !h.delete_marker) else {
            return Ok(Self::new(0, Some(0), policy));
        };
        if head.object_type != ObjectType::Appendable {
            return Err(not_appendable(&head.object_type, head.request_id.clone()));
        }
        let crc = head.crc64.ok_or_else(missing_crc_header)?;
        Ok(Self {
            exists: true,
            ..Self::new(head.length, Some(crc), policy)
        })
    }

    /// The step for the next part: `length` bytes whose own CRC-64 is `part_crc`.
    ///
    /// If the pending part is offered again, the step begins with a HEAD and sends only if the part is
    /// not there. A different part is sent at the last confirmed position; should the pending part
    /// have landed after all, OSS answers 409 and the step fails with the object's length.
    pub fn next_part(&self, length: u64, part_crc: u64) -> AppendStep {
        let retry = self.pending
            == Some(Pending {
                length,
                crc: part_crc,
            });
        let mut step = if retry {
            AppendStep::recovering(
                self.position,
                self.crc,
                length,
                part_crc,
                self.policy.clone(),
            )
        } else {
            AppendStep::new(
                self.position,
                self.crc,
                length,
                part_crc,
                self.policy.clone(),
            )
        };
        step.exists = self.exists;
        step
    }

    /// Records a part that is on the object.
    pub fn commit(&mut self, done: &Appended) {
        debug_assert_eq!(done.position, self.position, "a step of another session");
        self.position = done.next_position;
        self.crc = Some(done.crc64);
        self.exists = true;
        self.pending = None;
        self.confirmed = self.confirmed.max(self.position - self.start);
        self.offered = true;
    }

    /// Records a step that ended with an error: if its part may have landed, it becomes the pending
    /// part. A CRC-64 the step learned from a HEAD is kept.
    pub fn fail(&mut self, step: &AppendStep) {
        debug_assert_eq!(step.position, self.position, "a step of another session");
        if self.crc.is_none() {
            self.crc = step.prior_crc;
        }
        self.offered = true;
        if step.might_have_landed() {
            self.pending = Some(Pending {
                length: step.length,
                crc: step.part_crc,
            });
        }
    }

    /// Whether an input that ended now still needs a zero-length part: one that gave no bytes at all
    /// sends one, which creates the object (or checks the position), as ali-oss does.
    pub fn needs_empty_part(&self) -> bool {
        !self.offered
    }

    /// The object's length and CRC-64 where the next append continues, when both are certain: the CRC is
    /// known and no part's fate is unknown. A client keeps it to verify its next append to the object.
    pub fn settled(&self) -> Option<(u64, u64)> {
        self.crc
            .filter(|_| self.pending.is_none())
            .map(|crc| (self.position, crc))
    }

    /// The object's length after the last confirmed part: the `position` of the next one.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The object's CRC-64 at [`position`](Self::position), when known.
    pub fn crc64(&self) -> Option<u64> {
        self.crc
    }

    /// Whether a failed part may be on the object (its fate is settled by offering it again).
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether the session saw the object exist at [`position`](Self::position) (a committed part, or
    /// the HEAD it resumed from); from then on a zero-length part needs no request.
    pub fn exists(&self) -> bool {
        self.exists
    }

    /// Bytes confirmed on the object since the session began; it never goes backwards, so it is the
    /// progress high-water mark.
    pub fn confirmed(&self) -> u64 {
        self.confirmed
    }

    /// How far this session got, for the error of a call that fails after some parts landed: the object's
    /// length and CRC-64 after its last confirmed part, from which the caller continues with `{ position,
    /// initCrc64 }`. `None` when no part was confirmed (or the CRC is unknown). A part whose fate was left
    /// unknown may still have landed beyond it; continuing then meets OSS's 409 with the true length.
    pub fn reached(&self) -> Option<(u64, u64)> {
        if self.position == self.start && self.confirmed == 0 {
            return None;
        }
        self.crc.map(|crc| (self.position, crc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crc64::crc64;
    use crate::retry::REQUEST_TIME_TOO_SKEWED;

    const POS: u64 = 100;
    const LEN: u64 = 10;
    const JITTER: f64 = 0.5;
    /// A CRC-64 that no bytes in these tests produce.
    const OTHER: u64 = 0x0123_4567_89AB_CDEF;
    const SERVER_TIME: &str = "2024-01-02T03:04:05.000Z";

    fn prior() -> u64 {
        crc64(&[1; POS as usize])
    }
    fn part() -> u64 {
        crc64(&[2; LEN as usize])
    }
    fn expected() -> u64 {
        combine(prior(), part(), LEN)
    }
    fn server_time() -> SigningTime {
        SigningTime::parse_iso8601_extended(SERVER_TIME).unwrap()
    }

    fn policy(retry_max: u32, refresh: bool) -> AppendPolicy {
        AppendPolicy {
            retry_max,
            can_refresh_credentials: refresh,
            ..AppendPolicy::default()
        }
    }
    fn step() -> AppendStep {
        AppendStep::new(POS, Some(prior()), LEN, part(), policy(3, false))
    }
    fn step_with(retry_max: u32, refresh: bool) -> AppendStep {
        AppendStep::new(POS, Some(prior()), LEN, part(), policy(retry_max, refresh))
    }
    fn step_without_prior() -> AppendStep {
        AppendStep::new(POS, None, LEN, part(), policy(3, false))
    }

    fn net_error() -> Error {
        Error::Request {
            message: "connection reset".into(),
        }
    }
    fn timeout_error() -> Error {
        Error::Timeout { timeout_ms: 60_000 }
    }
    fn service(status: u16, code: &str) -> Error {
        ServiceError {
            status,
            code: code.into(),
            message: format!("{code} from the test"),
            request_id: Some("RID".into()),
            ..ServiceError::default()
        }
        .into()
    }
    fn conflict(next: Option<u64>, crc: Option<u64>) -> Error {
        ServiceError {
            status: 409,
            code: POSITION_NOT_EQUAL_TO_LENGTH.into(),
            message: "Position is not equal to file length".into(),
            request_id: Some("RID409".into()),
            ec: Some("0026-00000016".into()),
            next_append_position: next,
            crc64: crc,
            ..ServiceError::default()
        }
        .into()
    }
    fn skew_error(time: Option<&str>) -> Error {
        ServiceError {
            status: 403,
            code: REQUEST_TIME_TOO_SKEWED.into(),
            message: "The difference between the request time and the current time is too large."
                .into(),
            server_time: time.map(str::to_owned),
            ..ServiceError::default()
        }
        .into()
    }

    fn expired_url_error(time: Option<&str>) -> Error {
        ServiceError {
            status: 403,
            code: "AccessDenied".into(),
            message: "Request has expired.".into(),
            ec: Some("0002-00000069".into()),
            server_time: time.map(str::to_owned),
            ..ServiceError::default()
        }
        .into()
    }

    /// A readable 200 to an append.
    fn answer(next_position: u64, crc64: u64, request_id: &str) -> AppendResponse {
        AppendResponse {
            status: 200,
            next_position,
            crc64,
            request_id: request_id.into(),
            etag: String::new(),
            version_id: None,
        }
    }

    fn ok(next_position: u64, crc64: u64) -> Input {
        Input::Append(Ok(answer(next_position, crc64, "RID200")))
    }
    fn post_err(e: Error) -> Input {
        Input::Append(Err(e))
    }
    fn net() -> Input {
        post_err(net_error())
    }
    fn timeout() -> Input {
        post_err(timeout_error())
    }
    fn head_of(length: u64, crc64: Option<u64>, object_type: ObjectType) -> Input {
        Input::Head(Ok(Some(ObjectHead {
            length,
            crc64,
            object_type,
            request_id: Some("RIDHEAD".into()),
            delete_marker: false,
        })))
    }
    fn head(length: u64, crc64: u64) -> Input {
        head_of(length, Some(crc64), ObjectType::Appendable)
    }
    fn head_err(e: Error) -> Input {
        Input::Head(Err(e))
    }
    fn head_missing() -> Input {
        Input::Head(Ok(None))
    }
    fn head_marker() -> Input {
        let headers: Headers = [
            ("x-oss-delete-marker", "true"),
            ("x-oss-request-id", "RIDDM"),
        ]
        .into_iter()
        .collect();
        Input::Head(ObjectHead::from_answer(404, &headers))
    }
    fn abort() -> Input {
        Input::Abort {
            reason: Some("user".into()),
        }
    }

    #[derive(Debug)]
    enum Want {
        Act(Action),
        Err(Error),
        /// An error with this code.
        Code(&'static str),
        /// `CrcMismatch` with these values.
        Crc {
            local: u64,
            server: u64,
        },
        /// A `PositionNotEqualToLength` verdict carrying the object's length and CRC.
        Length {
            length: u64,
            crc: Option<u64>,
        },
    }

    fn send() -> Want {
        Want::Act(Action::Send {
            position: POS,
            length: LEN,
        })
    }
    fn resend(delay_ms: u64) -> Want {
        Want::Act(Action::Resend {
            position: POS,
            length: LEN,
            delay_ms,
        })
    }
    fn reconcile(delay_ms: u64) -> Want {
        Want::Act(Action::Reconcile { delay_ms })
    }
    fn done(recovered: bool) -> Want {
        Want::Act(Action::Done(Appended {
            position: POS,
            length: LEN,
            next_position: POS + LEN,
            crc64: expected(),
            verified: true,
            recovered,
        }))
    }

    fn check(name: &str, at: usize, want: &Want, got: &Result<Action, Error>) {
        let fits = match (want, got) {
            (Want::Act(a), Ok(b)) => a == b,
            (Want::Err(a), Err(b)) => a == b,
            (Want::Code(code), Err(e)) => e.code() == *code,
            (
                Want::Crc { local, server },
                Err(Error::CrcMismatch {
                    local: l,
                    server: s,
                    ..
                }),
            ) => (local, server) == (l, s),
            (Want::Length { length, crc }, Err(Error::Service(s))) => {
                s.status == 409
                    && s.code == POSITION_NOT_EQUAL_TO_LENGTH
                    && s.next_append_position == Some(*length)
                    && s.crc64 == *crc
            }
            _ => false,
        };
        assert!(fits, "{name}, answer {at}: wanted {want:?}, got {got:?}");
    }

    /// One row: a step, the inputs fed to it (`None` = `start()`) with the answer each must produce,
    /// and whether the part may have landed when it ends in an error.
    struct Case {
        name: &'static str,
        step: AppendStep,
        script: Vec<(Option<Input>, Want)>,
        landed: Option<bool>,
    }

    fn case(
        name: &'static str,
        step: AppendStep,
        script: Vec<(Option<Input>, Want)>,
        landed: Option<bool>,
    ) -> Case {
        Case {
            name,
            step,
            script,
            landed,
        }
    }

    fn start() -> Option<Input> {
        None
    }

    fn cases() -> Vec<Case> {
        vec![
            // --- 200 ---
            case(
                "200 with the expected length and CRC",
                step(),
                vec![(start(), send()), (Some(ok(110, expected())), done(false))],
                None,
            ),
            case(
                "200 with a CRC the bytes do not predict",
                step(),
                vec![
                    (start(), send()),
                    (Some(ok(110, OTHER)), Want::Crc { local: expected(), server: OTHER }),
                ],
                Some(true),
            ),
            case(
                "200 with the wrong length",
                step(),
                vec![
                    (start(), send()),
                    (Some(ok(115, OTHER)), Want::Length { length: 115, crc: Some(OTHER) }),
                ],
                Some(true),
            ),
            case(
                "200 without the prior CRC is accepted unverified",
                step_without_prior(),
                vec![
                    (start(), send()),
                    (
                        Some(ok(110, OTHER)),
                        Want::Act(Action::Done(Appended {
                            position: POS,
                            length: LEN,
                            next_position: 110,
                            crc64: OTHER,
                            verified: false,
                            recovered: false,
                        })),
                    ),
                ],
                None,
            ),
            case(
                "a 200 whose headers CORS hides landed but cannot be checked",
                step(),
                vec![
                    (start(), send()),
                    (
                        Some(post_err(Error::MissingExposedHeader {
                            missing: vec![X_OSS_HASH_CRC64ECMA.into()],
                            status: 200,
                        })),
                        Want::Code("MissingExposedHeader"),
                    ),
                ],
                Some(true),
            ),
            case(
                "an unreadable 200 is reconciled",
                step(),
                vec![
                    (start(), send()),
                    (
                        Some(post_err(Error::InvalidResponse {
                            status: 200,
                            reason: "bad header".into(),
                            request_id: None,
                        })),
                        reconcile(0),
                    ),
                    (Some(head(110, expected())), done(true)),
                ],
                None,
            ),
            // --- ambiguous failures ---
            case(
                "lost response after commit: HEAD shows it applied, nothing re-sent",
                step(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head(110, expected())), done(true)),
                ],
                None,
            ),
            case(
                "5xx before commit: HEAD shows nothing, resend",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(service(500, "InternalError"))), reconcile(0)),
                    (Some(head(100, prior())), resend(100)),
                    (Some(ok(110, expected())), done(false)),
                ],
                None,
            ),
            case(
                "5xx after commit: HEAD shows it applied",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(service(503, "ServiceUnavailable"))), reconcile(0)),
                    (Some(head(110, expected())), done(true)),
                ],
                None,
            ),
            case(
                "connection reset mid-body: resend",
                step(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head(100, prior())), resend(100)),
                    (Some(ok(110, expected())), done(false)),
                ],
                None,
            ),
            case(
                "timeout after commit: HEAD shows it applied",
                step(),
                vec![
                    (start(), send()),
                    (Some(timeout()), reconcile(0)),
                    (Some(head(110, expected())), done(true)),
                ],
                None,
            ),
            case(
                "429 is reconciled before any resend",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(service(429, "TooManyRequests"))), reconcile(0)),
                    (Some(head(100, prior())), resend(100)),
                    (Some(ok(110, expected())), done(false)),
                ],
                None,
            ),
            // --- 409 PositionNotEqualToLength ---
            case(
                "409 on the first attempt is the caller's wrong position, as it came",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(conflict(Some(130), Some(OTHER)))), Want::Err(conflict(Some(130), Some(OTHER)))),
                ],
                Some(false),
            ),
            case(
                "409 with a foreign length and no CRC: one HEAD reads the CRC the error reports",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(conflict(Some(130), None))), reconcile(0)),
                    (Some(head(130, OTHER)), Want::Err(conflict(Some(130), Some(OTHER)))),
                ],
                Some(false),
            ),
            case(
                "409 with a foreign length and no CRC: a failed HEAD leaves the 409 as it came",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(conflict(Some(130), None))), reconcile(0)),
                    (
                        Some(Input::Head(Err(Error::Timeout { timeout_ms: 5 }))),
                        Want::Err(conflict(Some(130), None)),
                    ),
                ],
                Some(false),
            ),
            case(
                "409 with a foreign length and no CRC: an object that moved on again reports no CRC",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(conflict(Some(130), None))), reconcile(0)),
                    (Some(head(150, OTHER)), Want::Err(conflict(Some(130), None))),
                ],
                Some(false),
            ),
            case(
                "409 on the first attempt with our length and CRC: our own append, re-sent by the transport",
                step(),
                vec![(start(), send()), (Some(post_err(conflict(Some(110), Some(expected())))), done(true))],
                None,
            ),
            case(
                "409 on the first attempt with our length but another CRC is the caller's wrong position",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(conflict(Some(110), Some(OTHER)))), Want::Err(conflict(Some(110), Some(OTHER)))),
                ],
                Some(false),
            ),
            case(
                "409 on the first attempt with our length and no CRC: a HEAD with our CRC proves it ours",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(conflict(Some(110), None))), reconcile(0)),
                    (Some(head(110, expected())), done(true)),
                ],
                None,
            ),
            case(
                "409 on the first attempt with our length and no CRC: a HEAD with another CRC keeps the 409",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(conflict(Some(110), None))), reconcile(0)),
                    (Some(head(110, OTHER)), Want::Err(conflict(Some(110), None))),
                ],
                Some(false),
            ),
            case(
                "409 on the first attempt with our length but no prior CRC proves nothing: as it came",
                step_without_prior(),
                vec![
                    (start(), send()),
                    (Some(post_err(conflict(Some(110), Some(OTHER)))), Want::Err(conflict(Some(110), Some(OTHER)))),
                ],
                Some(false),
            ),
            case(
                "409 without its length header on the first attempt fails as it came",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(conflict(None, None))), Want::Err(conflict(None, None))),
                ],
                Some(false),
            ),
            case(
                "409 whose length is our position contradicts itself: read the state, resend",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(conflict(Some(100), None))), reconcile(0)),
                    (Some(head(100, prior())), resend(100)),
                    (Some(ok(110, expected())), done(false)),
                ],
                None,
            ),
            case(
                "the resend after a timeout meets the 409 echo of the first attempt: done",
                step(),
                vec![
                    (start(), send()),
                    (Some(timeout()), reconcile(0)),
                    (Some(head(100, prior())), resend(100)),
                    (Some(post_err(conflict(Some(110), Some(expected())))), done(true)),
                ],
                None,
            ),
            case(
                "a 409 echo without a CRC is proved by a HEAD",
                step(),
                vec![
                    (start(), send()),
                    (Some(timeout()), reconcile(0)),
                    (Some(head(100, prior())), resend(100)),
                    (Some(post_err(conflict(Some(110), None))), reconcile(0)),
                    (Some(head(110, expected())), done(true)),
                ],
                None,
            ),
            case(
                "a 409 without its length header after an ambiguous failure is reconciled",
                step(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head(100, prior())), resend(100)),
                    (Some(post_err(conflict(None, None))), reconcile(0)),
                    (Some(head(110, expected())), done(true)),
                ],
                None,
            ),
            case(
                "a duplicate-looking 409 with a CRC that is not ours",
                step(),
                vec![
                    (start(), send()),
                    (Some(timeout()), reconcile(0)),
                    (Some(head(100, prior())), resend(100)),
                    (
                        Some(post_err(conflict(Some(110), Some(OTHER)))),
                        Want::Crc { local: expected(), server: OTHER },
                    ),
                ],
                Some(true),
            ),
            case(
                "a 409 with a foreign length after an ambiguous failure",
                step(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head(100, prior())), resend(100)),
                    (Some(post_err(conflict(Some(125), Some(OTHER)))), Want::Err(conflict(Some(125), Some(OTHER)))),
                ],
                Some(true),
            ),
            // --- other writers ---
            case(
                "another writer appended: the HEAD length differs",
                step(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head(130, OTHER)), Want::Length { length: 130, crc: Some(OTHER) }),
                ],
                Some(true),
            ),
            case(
                "another writer's bytes of the same length: CRC mismatch",
                step(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head(110, OTHER)), Want::Crc { local: expected(), server: OTHER }),
                ],
                Some(true),
            ),
            case(
                "the object before the part changed: CRC mismatch at the position, nothing re-sent",
                step(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head(100, OTHER)), Want::Crc { local: prior(), server: OTHER }),
                ],
                Some(true),
            ),
            case(
                "a contradictory 409, then the HEAD shows another writer's part",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(conflict(Some(100), None))), reconcile(0)),
                    (Some(head(110, expected())), Want::Length { length: 110, crc: Some(expected()) }),
                ],
                Some(false),
            ),
            // --- prior CRC unknown ---
            case(
                "prior CRC unknown: a part that may be ours cannot be proved, so it is not accepted",
                step_without_prior(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head(110, OTHER)), Want::Length { length: 110, crc: Some(OTHER) }),
                ],
                Some(true),
            ),
            case(
                "prior CRC unknown and hidden: a 409 echo cannot be proved",
                step_without_prior(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head_of(100, None, ObjectType::Appendable)), resend(100)),
                    (Some(post_err(conflict(Some(110), Some(OTHER)))), Want::Length { length: 110, crc: Some(OTHER) }),
                ],
                Some(true),
            ),
            case(
                "prior CRC unknown is learned from a HEAD that shows nothing landed",
                step_without_prior(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head(100, prior())), resend(100)),
                    (Some(net()), reconcile(0)),
                    (Some(head(110, expected())), done(true)),
                ],
                None,
            ),
            // --- 403 ---
            case(
                "clock skew: resend once with the server time, fail on the second",
                step(),
                vec![
                    (start(), send()),
                    (
                        Some(post_err(skew_error(Some(SERVER_TIME)))),
                        Want::Act(Action::ResendWithClockOffset {
                            position: POS,
                            length: LEN,
                            server_time: server_time(),
                        }),
                    ),
                    (Some(post_err(skew_error(Some(SERVER_TIME)))), Want::Err(skew_error(Some(SERVER_TIME)))),
                ],
                Some(false),
            ),
            case(
                "clock skew with the server time from the Date header",
                step(),
                vec![
                    (start(), send()),
                    (
                        Some(post_err(skew_error(Some("Tue, 02 Jan 2024 03:04:05 GMT")))),
                        Want::Act(Action::ResendWithClockOffset {
                            position: POS,
                            length: LEN,
                            server_time: server_time(),
                        }),
                    ),
                    (Some(ok(110, expected())), done(false)),
                ],
                None,
            ),
            case(
                "an expired query-signed URL: resend once with the server time, fail on the second",
                step(),
                vec![
                    (start(), send()),
                    (
                        Some(post_err(expired_url_error(Some(SERVER_TIME)))),
                        Want::Act(Action::ResendWithClockOffset {
                            position: POS,
                            length: LEN,
                            server_time: server_time(),
                        }),
                    ),
                    (
                        Some(post_err(expired_url_error(Some(SERVER_TIME)))),
                        Want::Err(expired_url_error(Some(SERVER_TIME))),
                    ),
                ],
                Some(false),
            ),
            case(
                "any other AccessDenied is final",
                step(),
                vec![
                    (start(), send()),
                    (
                        Some(post_err(service(403, "AccessDenied"))),
                        Want::Err(service(403, "AccessDenied")),
                    ),
                ],
                Some(false),
            ),
            case(
                "clock skew without a server time cannot be corrected",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(skew_error(None))), Want::Err(skew_error(None))),
                ],
                Some(false),
            ),
            case(
                "expired token with a refresher: refresh once and resend",
                step_with(3, true),
                vec![
                    (start(), send()),
                    (
                        Some(post_err(service(403, "SecurityTokenExpired"))),
                        Want::Act(Action::RefreshCredentialsThenResend {
                            position: POS,
                            length: LEN,
                        }),
                    ),
                    (Some(ok(110, expected())), done(false)),
                ],
                None,
            ),
            case(
                "credentials rejected again after the refresh",
                step_with(3, true),
                vec![
                    (start(), send()),
                    (
                        Some(post_err(service(403, "SecurityTokenExpired"))),
                        Want::Act(Action::RefreshCredentialsThenResend {
                            position: POS,
                            length: LEN,
                        }),
                    ),
                    (
                        Some(post_err(service(403, "InvalidSecurityToken"))),
                        Want::Err(service(403, "InvalidSecurityToken")),
                    ),
                ],
                Some(false),
            ),
            case(
                "credentials rejected without a refresher",
                step(),
                vec![
                    (start(), send()),
                    (
                        Some(post_err(service(403, "InvalidAccessKeyId"))),
                        Want::Err(service(403, "InvalidAccessKeyId")),
                    ),
                ],
                Some(false),
            ),
            // --- other 4xx ---
            case(
                "409 ObjectNotAppendable fails as it came",
                step(),
                vec![
                    (start(), send()),
                    (
                        Some(post_err(service(409, OBJECT_NOT_APPENDABLE))),
                        Want::Err(service(409, OBJECT_NOT_APPENDABLE)),
                    ),
                ],
                Some(false),
            ),
            case(
                "403 AccessDenied fails as it came",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(service(403, "AccessDenied"))), Want::Err(service(403, "AccessDenied"))),
                ],
                Some(false),
            ),
            case(
                "a 4xx after an ambiguous failure leaves the part possibly landed",
                step(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head(100, prior())), resend(100)),
                    (
                        Some(post_err(service(400, "InvalidArgument"))),
                        Want::Err(service(400, "InvalidArgument")),
                    ),
                ],
                Some(true),
            ),
            // --- budget ---
            case(
                "budget exhausted: fail with the last error",
                step_with(1, false),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head(100, prior())), resend(100)),
                    (Some(post_err(service(500, "InternalError"))), reconcile(0)),
                    (Some(head(100, prior())), Want::Err(service(500, "InternalError"))),
                ],
                Some(true),
            ),
            case(
                "retryMax 0 still reconciles a lost response",
                step_with(0, false),
                vec![
                    (start(), send()),
                    (Some(timeout()), reconcile(0)),
                    (Some(head(110, expected())), done(true)),
                ],
                None,
            ),
            case(
                "retryMax 0 and not applied: fail with the first error",
                step_with(0, false),
                vec![
                    (start(), send()),
                    (Some(timeout()), reconcile(0)),
                    (Some(head(100, prior())), Want::Err(timeout_error())),
                ],
                Some(true),
            ),
            case(
                "backoff grows with each retry of the shared budget",
                step_with(3, false),
                vec![
                    (start(), send()),
                    (Some(post_err(service(500, "InternalError"))), reconcile(0)),
                    (Some(head_err(service(503, "ServiceUnavailable"))), reconcile(100)),
                    (Some(head(100, prior())), resend(200)),
                    (Some(net()), reconcile(0)),
                    (Some(head(100, prior())), resend(400)),
                    (Some(ok(110, expected())), done(false)),
                ],
                None,
            ),
            // --- HEAD failures ---
            case(
                "HEAD fails twice, then shows the part applied",
                step_with(2, false),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head_err(net_error())), reconcile(100)),
                    (Some(head_err(service(500, "InternalError"))), reconcile(200)),
                    (Some(head(110, expected())), done(true)),
                ],
                None,
            ),
            case(
                "HEAD keeps failing: fail with its last error",
                step_with(1, false),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head_err(net_error())), reconcile(100)),
                    (Some(head_err(timeout_error())), Want::Err(timeout_error())),
                ],
                Some(true),
            ),
            case(
                "HEAD retries use up the budget a resend would need",
                step_with(1, false),
                vec![
                    (start(), send()),
                    (Some(timeout()), reconcile(0)),
                    (Some(head_err(net_error())), reconcile(100)),
                    (Some(head(100, prior())), Want::Err(net_error())),
                ],
                Some(true),
            ),
            case(
                "HEAD rejected for clock skew, then for its credentials",
                step_with(3, true),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (
                        Some(head_err(skew_error(Some(SERVER_TIME)))),
                        Want::Act(Action::ReconcileWithClockOffset {
                            server_time: server_time(),
                        }),
                    ),
                    (
                        Some(head_err(service(403, "SecurityTokenExpired"))),
                        Want::Act(Action::RefreshCredentialsThenReconcile),
                    ),
                    (Some(head(110, expected())), done(true)),
                ],
                None,
            ),
            case(
                "HEAD denied: fail with its error, the part possibly landed",
                step(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head_err(service(403, "AccessDenied"))), Want::Err(service(403, "AccessDenied"))),
                ],
                Some(true),
            ),
            case(
                "HEAD hides the CRC needed to prove the part",
                step(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (
                        Some(head_of(110, None, ObjectType::Appendable)),
                        Want::Code("MissingExposedHeader"),
                    ),
                ],
                Some(true),
            ),
            case(
                "HEAD 404 at position 0: not created, resend",
                AppendStep::new(0, None, LEN, part(), policy(3, false)),
                vec![
                    (start(), Want::Act(Action::Send { position: 0, length: LEN })),
                    (Some(net()), reconcile(0)),
                    (
                        Some(head_missing()),
                        Want::Act(Action::Resend {
                            position: 0,
                            length: LEN,
                            delay_ms: 100,
                        }),
                    ),
                    (
                        Some(ok(LEN, part())),
                        Want::Act(Action::Done(Appended {
                            position: 0,
                            length: LEN,
                            next_position: LEN,
                            crc64: part(),
                            verified: true,
                            recovered: false,
                        })),
                    ),
                ],
                None,
            ),
            case(
                "HEAD finds a delete marker past position 0: the appendable version is frozen",
                step(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head_marker()), Want::Code("ObjectNotAppendable")),
                ],
                Some(true),
            ),
            case(
                "HEAD finds a delete marker at position 0: not created, resend",
                AppendStep::new(0, None, LEN, part(), policy(3, false)),
                vec![
                    (start(), Want::Act(Action::Send { position: 0, length: LEN })),
                    (Some(net()), reconcile(0)),
                    (
                        Some(head_marker()),
                        Want::Act(Action::Resend {
                            position: 0,
                            length: LEN,
                            delay_ms: 100,
                        }),
                    ),
                ],
                None,
            ),
            case(
                "HEAD 404 past position 0: the object was deleted",
                step(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (Some(head_err(service(404, "NoSuchKey"))), Want::Code("NoSuchKey")),
                ],
                Some(true),
            ),
            case(
                "HEAD finds a Normal object",
                step(),
                vec![
                    (start(), send()),
                    (Some(net()), reconcile(0)),
                    (
                        Some(head_of(110, Some(OTHER), ObjectType::Normal)),
                        Want::Code(OBJECT_NOT_APPENDABLE),
                    ),
                ],
                Some(true),
            ),
            // --- size, abort, zero length, misuse ---
            case(
                "ObjectTooLarge before anything is sent",
                AppendStep::new(MAX_APPENDABLE_SIZE - 5, Some(prior()), LEN, part(), policy(3, false)),
                vec![(
                    start(),
                    Want::Err(Error::ObjectTooLarge {
                        position: MAX_APPENDABLE_SIZE - 5,
                        length: LEN,
                        limit: MAX_APPENDABLE_SIZE,
                    }),
                )],
                Some(false),
            ),
            case(
                "abort while the POST is out",
                step(),
                vec![
                    (start(), send()),
                    (Some(abort()), Want::Err(Error::Aborted { reason: Some("user".into()) })),
                ],
                Some(true),
            ),
            case(
                "abort reported as the POST's error",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(Error::Aborted { reason: None })), Want::Code("Aborted")),
                ],
                Some(true),
            ),
            case(
                "abort during the HEAD after a rejected attempt",
                step(),
                vec![
                    (start(), send()),
                    (Some(post_err(conflict(Some(100), None))), reconcile(0)),
                    (Some(abort()), Want::Code("Aborted")),
                ],
                Some(false),
            ),
            case(
                "abort during the HEAD after an ambiguous failure",
                step(),
                vec![
                    (start(), send()),
                    (Some(timeout()), reconcile(0)),
                    (Some(abort()), Want::Code("Aborted")),
                ],
                Some(true),
            ),
            case(
                "recovering: the part is already there, nothing re-sent",
                AppendStep::recovering(POS, Some(prior()), LEN, part(), policy(3, false)),
                vec![(start(), reconcile(0)), (Some(head(110, expected())), done(true))],
                None,
            ),
            case(
                "recovering: the part is not there, its first POST is not a retry",
                AppendStep::recovering(POS, Some(prior()), LEN, part(), policy(0, false)),
                vec![
                    (start(), reconcile(0)),
                    (Some(head(100, prior())), send()),
                    (Some(ok(110, expected())), done(false)),
                ],
                None,
            ),
            case(
                "a zero-byte append at 0 creates the object",
                AppendStep::new(0, None, 0, 0, policy(3, false)),
                vec![
                    (start(), Want::Act(Action::Send { position: 0, length: 0 })),
                    (
                        Some(ok(0, 0)),
                        Want::Act(Action::Done(Appended {
                            position: 0,
                            length: 0,
                            next_position: 0,
                            crc64: 0,
                            verified: true,
                            recovered: false,
                        })),
                    ),
                ],
                None,
            ),
            case(
                "a zero-byte append whose response was lost: the object exists, done",
                AppendStep::new(0, None, 0, 0, policy(3, false)),
                vec![
                    (start(), Want::Act(Action::Send { position: 0, length: 0 })),
                    (Some(net()), reconcile(0)),
                    (
                        Some(head(0, 0)),
                        Want::Act(Action::Done(Appended {
                            position: 0,
                            length: 0,
                            next_position: 0,
                            crc64: 0,
                            verified: true,
                            recovered: false,
                        })),
                    ),
                ],
                None,
            ),
            case(
                "a zero-byte append whose response was lost: no object, resend",
                AppendStep::new(0, None, 0, 0, policy(3, false)),
                vec![
                    (start(), Want::Act(Action::Send { position: 0, length: 0 })),
                    (Some(timeout()), reconcile(0)),
                    (
                        Some(head_missing()),
                        Want::Act(Action::Resend {
                            position: 0,
                            length: 0,
                            delay_ms: 100,
                        }),
                    ),
                ],
                None,
            ),
            case(
                "inputs after the end are refused",
                step(),
                vec![
                    (start(), send()),
                    (Some(ok(110, expected())), done(false)),
                    (Some(ok(110, expected())), Want::Code("InvalidArgument")),
                ],
                None,
            ),
            case(
                "an input that does not answer the action ends the step, conservatively",
                step(),
                vec![
                    (start(), send()),
                    (Some(head(110, expected())), Want::Code("InvalidArgument")),
                ],
                Some(true),
            ),
            case(
                "an input before start() is refused",
                step(),
                vec![(Some(ok(110, expected())), Want::Code("InvalidArgument"))],
                Some(false),
            ),
        ]
    }

    #[test]
    fn every_recovery_branch_follows_its_table_row() {
        let cases = cases();
        assert!(cases.len() >= 50, "{} rows", cases.len());
        for Case {
            name,
            mut step,
            script,
            landed,
        } in cases
        {
            let mut last = None;
            for (at, (input, want)) in script.into_iter().enumerate() {
                let got = match input {
                    None => step.start(),
                    Some(input) => step.handle(input, JITTER),
                };
                check(name, at, &want, &got);
                if let Ok(Action::Resend { position, .. }) = &got {
                    assert_eq!(*position, step.position(), "{name}");
                }
                last = Some(got);
            }
            if let Some(landed) = landed {
                assert!(matches!(last, Some(Err(_))), "{name}: ends in an error");
                assert_eq!(
                    step.might_have_landed(),
                    landed,
                    "{name}: might_have_landed"
                );
            }
            assert!(step.retries <= step.policy.retry_max, "{name}: budget");
        }
    }

    #[test]
    fn verdicts_say_what_was_observed() {
        let mut s = step();
        s.start().unwrap();
        s.handle(net(), JITTER).unwrap();
        let e = s.handle(head(130, OTHER), JITTER).unwrap_err();
        assert_eq!(e.name(), "PositionNotEqualToLengthError");
        assert_eq!(e.status(), Some(409));
        assert_eq!(e.request_id(), Some("RIDHEAD"));
        let text = e.to_string();
        assert!(
            text.contains("another writer") && text.contains("object length 130"),
            "{text}"
        );

        let mut s = step_without_prior();
        s.start().unwrap();
        s.handle(net(), JITTER).unwrap();
        let text = s.handle(head(110, OTHER), JITTER).unwrap_err().to_string();
        assert!(
            text.contains("initCrc") && text.contains("continue at position 110"),
            "{text}"
        );

        let mut s = step();
        s.start().unwrap();
        s.handle(net(), JITTER).unwrap();
        let e = s
            .handle(
                head_of(110, Some(OTHER), ObjectType::parse("normal")),
                JITTER,
            )
            .unwrap_err();
        assert_eq!(e.name(), "ObjectNotAppendableError");
        assert!(e.to_string().contains("Normal object"), "{e}");
    }

    #[test]
    fn object_types_parse_case_insensitively() {
        assert_eq!(ObjectType::parse("Appendable"), ObjectType::Appendable);
        assert_eq!(ObjectType::parse(" appendable "), ObjectType::Appendable);
        assert_eq!(ObjectType::parse("NORMAL"), ObjectType::Normal);
        assert_eq!(ObjectType::parse("Multipart"), ObjectType::Multipart);
        assert_eq!(ObjectType::parse("Symlink"), ObjectType::Symlink);
        assert_eq!(
            ObjectType::parse("Weird"),
            ObjectType::Other("Weird".into())
        );
    }

    fn head_info(length: u64, crc64: Option<u64>, object_type: ObjectType) -> ObjectHead {
        ObjectHead {
            length,
            crc64,
            object_type,
            request_id: None,
            delete_marker: false,
        }
    }

    #[test]
    fn head_answers_read_as_missing_marker_object_or_error() {
        let h = |pairs: &[(&str, &str)]| -> Headers { pairs.iter().copied().collect() };
        assert_eq!(ObjectHead::from_answer(404, &h(&[])), Ok(None));
        assert_eq!(
            ObjectHead::from_answer(404, &h(&[("x-oss-delete-marker", "false")])),
            Ok(None)
        );
        let marker = ObjectHead::from_answer(
            404,
            &h(&[
                ("x-oss-delete-marker", "true"),
                ("x-oss-version-id", "CAEQ1"),
            ]),
        )
        .unwrap()
        .unwrap();
        assert!(marker.delete_marker);
        assert_eq!(marker.length, 0);
        let found = ObjectHead::from_answer(
            200,
            &h(&[
                ("x-oss-object-type", "Appendable"),
                ("x-oss-next-append-position", "11"),
                ("x-oss-hash-crc64ecma", "5"),
                ("x-oss-version-id", "null"),
            ]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (found.length, found.crc64, found.delete_marker),
            (11, Some(5), false)
        );
        // A hidden CRC is for the state machine to judge; a hidden length is not.
        let no_crc = ObjectHead::from_answer(200, &h(&[("content-length", "3")])).unwrap();
        assert_eq!(no_crc.map(|o| (o.length, o.crc64)), Some((3, None)));
        assert_eq!(
            ObjectHead::from_answer(200, &h(&[])).unwrap_err().code(),
            "MissingExposedHeader"
        );
        let denied = ObjectHead::from_answer(403, &h(&[])).unwrap_err();
        assert_eq!(denied.service().map(|s| s.status), Some(403));
    }

    #[test]
    fn resume_from_head_continues_only_appendable_objects() {
        let p = AppendPolicy::default();
        let s = AppendSession::resume_from_head(None, p.clone()).unwrap();
        assert_eq!((s.position(), s.crc64(), s.exists()), (0, Some(0), false));
        // Deleted on a versioned bucket: a new object starts at 0.
        let marker = ObjectHead {
            delete_marker: true,
            ..head_info(0, Some(0), ObjectType::Other(String::new()))
        };
        let s = AppendSession::resume_from_head(Some(&marker), p.clone()).unwrap();
        assert_eq!((s.position(), s.crc64(), s.exists()), (0, Some(0), false));

        let h = head_info(POS, Some(prior()), ObjectType::Appendable);
        let s = AppendSession::resume_from_head(Some(&h), p.clone()).unwrap();
        assert_eq!(
            (s.position(), s.crc64(), s.exists()),
            (POS, Some(prior()), true)
        );

        for t in [
            ObjectType::Normal,
            ObjectType::Multipart,
            ObjectType::Symlink,
        ] {
            let h = head_info(POS, Some(prior()), t);
            let e = AppendSession::resume_from_head(Some(&h), p.clone()).unwrap_err();
            assert_eq!(e.code(), OBJECT_NOT_APPENDABLE);
        }
        let h = head_info(POS, None, ObjectType::Appendable);
        let e = AppendSession::resume_from_head(Some(&h), p).unwrap_err();
        assert_eq!(e.code(), "MissingExposedHeader");
    }

    /// Runs a step against answers that always succeed.
    fn run_clean(step: &mut AppendStep) -> Appended {
        let mut action = step.start().unwrap();
        loop {
            action = match action {
                Action::Send { position, length } => {
                    let crc = step.expected_crc64().unwrap();
                    step.handle(ok(position + length, crc), JITTER).unwrap()
                }
                Action::Done(done) => return done,
                other => panic!("unexpected {other:?}"),
            };
        }
    }

    #[test]
    fn a_session_chains_positions_and_crcs() {
        let parts: [&[u8]; 4] = [b"hello ", b"", b"append ", b"world"];
        let mut session = AppendSession::new(0, None, AppendPolicy::default());
        let mut all = Vec::new();
        let mut high_water = 0;
        for p in parts {
            let mut step = session.next_part(p.len() as u64, crc64(p));
            let done = run_clean(&mut step);
            assert!(done.verified);
            session.commit(&done);
            all.extend_from_slice(p);
            assert_eq!(session.position(), all.len() as u64);
            assert_eq!(session.crc64(), Some(crc64(&all)));
            assert!(session.confirmed() >= high_water);
            high_water = session.confirmed();
        }
        assert_eq!(high_water, all.len() as u64);
    }

    #[test]
    fn a_session_knows_the_crc_where_it_starts() {
        let p = AppendPolicy::default();
        // At 0 the object's CRC is that of nothing, whatever the caller says.
        assert_eq!(AppendSession::new(0, None, p.clone()).crc64(), Some(0));
        assert_eq!(AppendSession::new(0, Some(7), p.clone()).crc64(), Some(0));
        // Elsewhere it is the caller's word, or unknown.
        assert_eq!(AppendSession::new(POS, Some(7), p.clone()).crc64(), Some(7));
        assert_eq!(AppendSession::new(POS, None, p).crc64(), None);
    }

    #[test]
    fn zero_length_parts_are_sent_only_to_create_or_to_learn() {
        let p = AppendPolicy::default();
        // A new object: one zero-byte append at 0 creates it.
        let mut session = AppendSession::new(0, None, p.clone());
        let mut step = session.next_part(0, 0);
        assert_eq!(
            step.start().unwrap(),
            Action::Send {
                position: 0,
                length: 0
            }
        );
        let done = match step.handle(ok(0, 0), JITTER).unwrap() {
            Action::Done(d) => d,
            other => panic!("{other:?}"),
        };
        session.commit(&done);
        assert!(session.exists());
        // Once it exists, a zero-length part needs no request.
        let mut step = session.next_part(0, 0);
        assert!(matches!(step.start().unwrap(), Action::Done(d) if d.next_position == 0));
        // The caller's word for position and CRC is checked by one zero-byte append (ali-oss sends it too).
        let session = AppendSession::new(POS, Some(prior()), p.clone());
        assert_eq!(
            session.next_part(0, 0).start().unwrap(),
            Action::Send {
                position: POS,
                length: 0
            }
        );
        // An object a HEAD found: no request.
        let h = head_info(POS, Some(prior()), ObjectType::Appendable);
        let session = AppendSession::resume_from_head(Some(&h), p.clone()).unwrap();
        let mut step = session.next_part(0, 0);
        assert_eq!(
            step.start().unwrap(),
            Action::Done(Appended {
                position: POS,
                length: 0,
                next_position: POS,
                crc64: prior(),
                verified: true,
                recovered: false,
            })
        );
        // Without the CRC, the zero-byte append is sent to learn it.
        let session = AppendSession::new(POS, None, p);
        assert_eq!(
            session.next_part(0, 0).start().unwrap(),
            Action::Send {
                position: POS,
                length: 0
            }
        );
    }

    #[test]
    fn a_session_is_settled_only_with_a_known_crc_and_no_pending_part() {
        assert_eq!(
            AppendSession::new(POS, None, policy(3, false)).settled(),
            None
        );
        let mut session = AppendSession::new(POS, Some(prior()), policy(3, false));
        assert_eq!(session.settled(), Some((POS, prior())));
        let mut step = session.next_part(LEN, part());
        step.start().unwrap();
        let _ = step.handle(timeout(), JITTER);
        session.fail(&step);
        assert!(session.has_pending());
        assert_eq!(session.settled(), None, "the part may have landed");
    }

    #[test]
    fn every_action_plans_its_preparation_and_request() {
        let t = server_time();
        let cases = [
            (
                Action::Send {
                    position: 7,
                    length: 1,
                },
                Some((Preparation::None, Outgoing::Post { position: 7 })),
            ),
            (
                Action::Resend {
                    position: 7,
                    length: 1,
                    delay_ms: 9,
                },
                Some((Preparation::Wait(9), Outgoing::Post { position: 7 })),
            ),
            (
                Action::ResendWithClockOffset {
                    position: 7,
                    length: 1,
                    server_time: t,
                },
                Some((
                    Preparation::AdoptServerTime(t),
                    Outgoing::Post { position: 7 },
                )),
            ),
            (
                Action::RefreshCredentialsThenResend {
                    position: 7,
                    length: 1,
                },
                Some((
                    Preparation::RefreshCredentials,
                    Outgoing::Post { position: 7 },
                )),
            ),
            (
                Action::Reconcile { delay_ms: 0 },
                Some((Preparation::Wait(0), Outgoing::Head)),
            ),
            (
                Action::ReconcileWithClockOffset { server_time: t },
                Some((Preparation::AdoptServerTime(t), Outgoing::Head)),
            ),
            (
                Action::RefreshCredentialsThenReconcile,
                Some((Preparation::RefreshCredentials, Outgoing::Head)),
            ),
        ];
        for (action, plan) in cases {
            assert_eq!(action.plan(), plan, "{action:?}");
        }
        let done = Appended {
            position: 0,
            length: 0,
            next_position: 0,
            crc64: 0,
            verified: true,
            recovered: false,
        };
        assert_eq!(Action::Done(done).plan(), None);
    }

    #[test]
    fn an_input_without_bytes_sends_one_empty_part() {
        let mut session = AppendSession::new(0, None, policy(3, false));
        assert!(session.needs_empty_part());
        let mut step = session.next_part(0, 0);
        assert_eq!(
            step.start(),
            Ok(Action::Send {
                position: 0,
                length: 0
            })
        );
        let done = match step.handle(Input::Append(Ok(answer(0, 0, "R"))), JITTER) {
            Ok(Action::Done(done)) => done,
            other => panic!("{other:?}"),
        };
        session.commit(&done);
        assert!(
            !session.needs_empty_part(),
            "the input ended after its parts"
        );
        let mut failed = AppendSession::new(0, None, policy(3, false));
        let mut step = failed.next_part(3, 9);
        step.start().unwrap();
        let _ = step.handle(Input::Abort { reason: None }, JITTER);
        failed.fail(&step);
        assert!(!failed.needs_empty_part());
    }

    #[test]
    fn a_part_that_may_have_landed_is_checked_before_it_is_sent_again() {
        let mut session = AppendSession::new(POS, Some(prior()), AppendPolicy::default());
        let mut step = session.next_part(LEN, part());
        step.start().unwrap();
        step.handle(abort(), JITTER).unwrap_err();
        session.fail(&step);
        assert!(session.has_pending());
        assert_eq!(session.position(), POS);

        // Offering the same part again: HEAD first; it landed, so it is not sent again.
        let mut step = session.next_part(LEN, part());
        assert_eq!(step.start().unwrap(), Action::Reconcile { delay_ms: 0 });
        let done = match step.handle(head(110, expected()), JITTER).unwrap() {
            Action::Done(d) => d,
            other => panic!("{other:?}"),
        };
        assert!(done.recovered);
        session.commit(&done);
        assert!(!session.has_pending());
        assert_eq!(
            (session.position(), session.crc64()),
            (110, Some(expected()))
        );
        assert_eq!(session.confirmed(), LEN);
    }

    #[test]
    fn a_step_abandoned_while_its_post_is_out_leaves_the_part_pending() {
        let mut session = AppendSession::new(POS, Some(prior()), AppendPolicy::default());
        let mut step = session.next_part(LEN, part());
        step.start().unwrap();
        // The transport dropped the step (a failed credential refresh, say) without an answer.
        assert!(step.might_have_landed());
        session.fail(&step);
        assert!(session.has_pending());
        let mut step = session.next_part(LEN, part());
        assert_eq!(step.start().unwrap(), Action::Reconcile { delay_ms: 0 });
        assert_eq!(
            step.handle(head(POS, prior()), JITTER).unwrap(),
            Action::Send {
                position: POS,
                length: LEN
            }
        );
    }

    #[test]
    fn a_different_part_after_a_pending_one_is_sent_and_a_landed_pending_part_surfaces_as_409() {
        let mut session = AppendSession::new(POS, Some(prior()), AppendPolicy::default());
        let mut step = session.next_part(LEN, part());
        step.start().unwrap();
        step.handle(abort(), JITTER).unwrap_err();
        session.fail(&step);

        let other = crc64(b"other");
        let mut step = session.next_part(5, other);
        assert_eq!(
            step.start().unwrap(),
            Action::Send {
                position: POS,
                length: 5
            }
        );
        let e = step
            .handle(post_err(conflict(Some(110), Some(expected()))), JITTER)
            .unwrap_err();
        assert_eq!(e.service().unwrap().next_append_position, Some(110));
        session.fail(&step);
        assert!(session.has_pending(), "the first part's fate is still open");
        assert_eq!(session.position(), POS);
    }

    #[test]
    fn a_definite_rejection_leaves_the_session_as_it_was() {
        let mut session = AppendSession::new(POS, Some(prior()), AppendPolicy::default());
        let mut step = session.next_part(LEN, part());
        step.start().unwrap();
        step.handle(post_err(service(403, "AccessDenied")), JITTER)
            .unwrap_err();
        session.fail(&step);
        assert!(!session.has_pending());
        assert_eq!(
            session.next_part(LEN, part()).start().unwrap(),
            Action::Send {
                position: POS,
                length: LEN
            }
        );
    }

    #[test]
    fn a_session_keeps_the_crc_a_failed_step_learned() {
        let mut session = AppendSession::new(POS, None, policy(0, false));
        let mut step = session.next_part(LEN, part());
        step.start().unwrap();
        step.handle(net(), JITTER).unwrap();
        step.handle(head(POS, prior()), JITTER).unwrap_err();
        session.fail(&step);
        assert_eq!(session.crc64(), Some(prior()));
        assert!(session.has_pending());
    }

    // ---------------------------------------------------------------------------------------------
    // A simulated server under random faults.

    /// xorshift64*: deterministic, no extra crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn chance(&mut self, percent: u64) -> bool {
            self.below(100) < percent
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        fn bytes(&mut self, n: u64) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
    }

    /// An appendable object as OSS keeps it, plus requests still on their way that may land later.
    struct Model {
        data: Vec<u8>,
        exists: bool,
        /// (part index, position, bytes) of POSTs the client gave up on that can still land.
        stale: Vec<(usize, u64, Vec<u8>)>,
        rng: Rng,
        /// The part the client is working on, to tag stale requests.
        part: usize,
    }

    impl Model {
        fn apply(&mut self, position: u64, bytes: &[u8]) -> bool {
            if position != self.data.len() as u64 {
                return false;
            }
            self.data.extend_from_slice(bytes);
            self.exists = true;
            true
        }

        /// Before each request is served, an earlier one may land.
        fn tick(&mut self) {
            if !self.stale.is_empty() && self.rng.chance(35) {
                let i = self.rng.below(self.stale.len() as u64) as usize;
                let (_, position, bytes) = self.stale.remove(i);
                self.apply(position, &bytes);
            }
        }

        fn crc(&self) -> u64 {
            crc64(&self.data)
        }

        fn len(&self) -> u64 {
            self.data.len() as u64
        }

        fn post(&mut self, position: u64, bytes: &[u8]) -> Result<AppendResponse, Error> {
            self.tick();
            match self.rng.below(100) {
                0..=4 => return Err(skew_error(Some(SERVER_TIME))),
                5..=8 => return Err(service(403, "SecurityTokenExpired")),
                9..=13 => return Err(service(500, "InternalError")),
                14..=18 => return Err(net_error()),
                19..=23 => {
                    self.stale.push((self.part, position, bytes.to_vec()));
                    return Err(timeout_error());
                }
                _ => {}
            }
            if position != self.len() {
                let next = if self.rng.chance(10) {
                    None
                } else {
                    Some(self.len())
                };
                let crc = self.rng.chance(50).then(|| self.crc());
                return Err(conflict(next, crc));
            }
            self.apply(position, bytes);
            match self.rng.below(100) {
                0..=7 => Err(net_error()),
                8..=11 => Err(timeout_error()),
                12..=15 => Err(service(503, "ServiceUnavailable")),
                _ => Ok(answer(self.len(), self.crc(), "")),
            }
        }

        fn head(&mut self) -> Result<Option<ObjectHead>, Error> {
            self.tick();
            match self.rng.below(100) {
                0..=7 => Err(net_error()),
                8..=11 => Err(service(500, "InternalError")),
                12..=13 => Err(skew_error(Some(SERVER_TIME))),
                14..=15 => Err(service(403, "SecurityTokenExpired")),
                _ if !self.exists && self.rng.chance(50) => Err(service(404, "NoSuchKey")),
                _ if !self.exists => Ok(None),
                _ => Ok(Some(head_info(
                    self.len(),
                    Some(self.crc()),
                    ObjectType::Appendable,
                ))),
            }
        }
    }

    /// Carries out a step's actions against the model; aborts now and then.
    fn drive(
        step: &mut AppendStep,
        model: &mut Model,
        bytes: &[u8],
        rng: &mut Rng,
    ) -> Result<Appended, Error> {
        let mut action = step.start();
        loop {
            let act = action?;
            // Never a resend (nor a recovering step's first POST) unless the part is not there.
            let proved_absent = match act {
                Action::Resend { position, .. } => Some(position),
                Action::Send { position, .. } if step.recovering => Some(position),
                _ => None,
            };
            if let Some(position) = proved_absent {
                assert_eq!(
                    model.len(),
                    position,
                    "resend while the part is on the object"
                );
            }
            let posting = matches!(
                act,
                Action::Send { .. }
                    | Action::Resend { .. }
                    | Action::ResendWithClockOffset { .. }
                    | Action::RefreshCredentialsThenResend { .. }
            );
            if let Action::Done(done) = act {
                return Ok(done);
            }
            if rng.chance(3) {
                // Aborted while the request was under way: it may have reached OSS or not.
                if posting {
                    let position = step.position();
                    match rng.below(3) {
                        0 => {}
                        1 => {
                            model.apply(position, bytes);
                        }
                        _ => model.stale.push((model.part, position, bytes.to_vec())),
                    }
                }
                let input = if rng.chance(50) {
                    Input::Abort { reason: None }
                } else if posting {
                    Input::Append(Err(Error::Aborted { reason: None }))
                } else {
                    Input::Head(Err(Error::Aborted { reason: None }))
                };
                action = step.handle(input, rng.unit());
                continue;
            }
            let input = if posting {
                assert_eq!(step.length(), bytes.len() as u64);
                Input::Append(model.post(step.position(), bytes))
            } else {
                Input::Head(model.head())
            };
            action = step.handle(input, rng.unit());
        }
    }

    #[test]
    fn random_faults_never_lose_or_duplicate_a_part() {
        let mut totals = [0u64; 3]; // steps, failed steps, recovered parts
        for seed in 1..=10_000u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let prefix_len = if rng.chance(50) { 0 } else { rng.below(40) };
            let prefix = rng.bytes(prefix_len);
            let policy = AppendPolicy {
                size_limit: MAX_APPENDABLE_SIZE,
                retry_max: rng.below(5) as u32,
                can_refresh_credentials: rng.chance(50),
            };
            let mut model = Model {
                exists: prefix_len > 0 || rng.chance(30),
                data: prefix.clone(),
                stale: Vec::new(),
                rng: Rng(rng.next() | 1),
                part: 0,
            };
            let mut session = if rng.chance(50) {
                let head = model
                    .exists
                    .then(|| head_info(model.len(), Some(model.crc()), ObjectType::Appendable));
                AppendSession::resume_from_head(head.as_ref(), policy.clone()).unwrap()
            } else {
                AppendSession::new(prefix_len, Some(crc64(&prefix)), policy.clone())
            };
            let parts: Vec<Vec<u8>> = (0..1 + rng.below(6))
                .map(|_| {
                    let n = if rng.chance(15) { 0 } else { 1 + rng.below(12) };
                    rng.bytes(n)
                })
                .collect();
            let mut expected = prefix.clone();
            let mut high_water = 0;
            for (index, bytes) in parts.iter().enumerate() {
                model.part = index;
                let mut attempts = 0;
                loop {
                    attempts += 1;
                    assert!(
                        attempts < 1000,
                        "seed {seed}: part {index} never got through"
                    );
                    totals[0] += 1;
                    let mut step = session.next_part(bytes.len() as u64, crc64(bytes));
                    let result = drive(&mut step, &mut model, bytes, &mut rng);
                    assert!(step.retries <= policy.retry_max, "seed {seed}: budget");
                    let finished = match result {
                        Ok(done) => {
                            assert!(done.verified, "seed {seed}");
                            assert_eq!(done.position, expected.len() as u64, "seed {seed}");
                            totals[2] += u64::from(done.recovered);
                            session.commit(&done);
                            expected.extend_from_slice(bytes);
                            // The model may hold the part already while stale copies are out;
                            // it must never hold more than the parts so far.
                            assert_eq!(model.data, expected, "seed {seed}: part {index}");
                            true
                        }
                        Err(e) => {
                            totals[1] += 1;
                            let code = e.code().to_owned();
                            assert!(
                                [
                                    "RequestError",
                                    "ConnectionTimeoutError",
                                    "Aborted",
                                    "InternalError",
                                    "ServiceUnavailable",
                                    REQUEST_TIME_TOO_SKEWED,
                                    "SecurityTokenExpired",
                                ]
                                .contains(&code.as_str()),
                                "seed {seed}: part {index}: unexpected {e:?}"
                            );
                            if !step.might_have_landed() {
                                assert_eq!(model.data, expected, "seed {seed}: said not landed");
                                assert!(
                                    model.stale.iter().all(|(p, ..)| *p != index),
                                    "seed {seed}: said not landed while a copy is on its way"
                                );
                            }
                            session.fail(&step);
                            false
                        }
                    };
                    assert!(session.confirmed() >= high_water, "seed {seed}: progress");
                    high_water = session.confirmed();
                    if finished {
                        break;
                    }
                }
            }
            // Whatever is still on its way arrives too late: the positions are taken (a zero-byte
            // copy at the end is the no-op OSS makes of it).
            for (_, position, bytes) in std::mem::take(&mut model.stale) {
                model.apply(position, &bytes);
                assert_eq!(
                    model.data, expected,
                    "seed {seed}: a late copy landed at {position}"
                );
            }
            assert_eq!(model.data, expected, "seed {seed}: the object");
            assert_eq!(session.position(), expected.len() as u64, "seed {seed}");
            assert_eq!(session.crc64(), Some(crc64(&expected)), "seed {seed}");
            assert_eq!(session.confirmed(), (expected.len() - prefix.len()) as u64);
        }
        assert!(
            totals[1] > 3000 && totals[2] > 3000,
            "faults exercised: {totals:?}"
        );
    }

    #[test]
    fn reached_says_how_far_a_failed_call_got() {
        let policy = AppendPolicy {
            retry_max: 0,
            ..AppendPolicy::default()
        };
        let mut session = AppendSession::new(100, Some(7), policy);
        assert_eq!(session.reached(), None, "nothing confirmed yet");
        let part_crc = crate::crc64::crc64(b"abc");
        let mut step = session.next_part(3, part_crc);
        step.start().unwrap();
        let crc = combine(7, part_crc, 3);
        let done = match step.handle(Input::Append(Ok(answer(103, crc, ""))), 0.5) {
            Ok(Action::Done(done)) => done,
            other => panic!("{other:?}"),
        };
        session.commit(&done);
        let mut step = session.next_part(2, 9);
        step.start().unwrap();
        let failed = step.handle(
            Input::Append(Err(Error::Request {
                message: "reset".into(),
            })),
            0.5,
        );
        assert_eq!(failed, Ok(Action::Reconcile { delay_ms: 0 }));
        let failed = step.handle(
            Input::Head(Err(Error::Request {
                message: "refused".into(),
            })),
            0.5,
        );
        assert!(failed.is_err());
        session.fail(&step);
        assert_eq!(
            session.reached(),
            Some((103, crc)),
            "the last confirmed part, not the pending one"
        );
    }
}

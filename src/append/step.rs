//! One part's way onto the object: the first POST, and every retry and reconciliation after it.

use super::{
    marker_not_appendable, missing_crc_header, not_appendable, position_error, Action,
    AppendPolicy, AppendResponse, Appended, Input, ObjectHead, ObjectType,
};
use crate::crc64::combine;
use crate::error::{Error, ServiceError};
use crate::retry::{backoff_ms, classify, error_server_time, ErrorClass};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    New,
    /// A POST is out (or about to be).
    Posting,
    /// A HEAD is out (or about to be).
    Heading,
    Finished,
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
/// Create it (or get it from [`AppendSession::next_part`](super::AppendSession::next_part)), call [`start`](Self::start), carry out
/// each [`Action`] and feed what came back to [`handle`](Self::handle) until it answers
/// [`Action::Done`] or an error. After an error, [`might_have_landed`](Self::might_have_landed) says
/// whether the part may be on the object anyway; the next attempt must then begin with a HEAD
/// ([`AppendStep::recovering`]; [`AppendSession`](super::AppendSession) does this by itself). A transport's loop:
///
/// ```text
/// let mut step = session.next_part(len, crc64(bytes));
/// let mut action = step.start();
/// let done = loop {
///     let (preparation, outgoing) = match action {
///         Err(e) => { session.fail(&step); return Err(e) }
///         Ok(Done(done)) => break done,
///         Ok(next) => next.plan().unwrap(),
///     };
///     match preparation {
///         Preparation::None => {}
///         Preparation::Wait(ms) => sleep(ms),
///         Preparation::AdoptServerTime(t) => clock_offset = t - now(),
///         Preparation::RefreshCredentials => refresh(), // on failure: session.fail(&step), its error
///     }
///     let input = match outgoing {
///         Outgoing::Post { position } => Input::Append(post(position, bytes)),
///         Outgoing::Head => Input::Head(head()),
///     }; // a fired AbortSignal → Input::Abort
///     action = step.handle(input, random_in_0_1());
/// };
/// session.commit(&done);
/// ```
#[derive(Clone, Debug)]
pub(crate) struct AppendStep {
    pub(super) position: u64,
    pub(super) prior_crc: Option<u64>,
    pub(super) length: u64,
    pub(super) part_crc: u64,
    pub(super) policy: AppendPolicy,
    /// The object is known to exist, so a zero-length part needs no request.
    pub(super) exists: bool,
    /// An earlier attempt of this part may have landed: start with a HEAD.
    pub(super) recovering: bool,
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
    pub(super) retries: u32,
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
    pub(crate) fn new(
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
    pub(crate) fn recovering(
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
    #[cfg(test)]
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// The part's length.
    #[cfg(test)]
    pub(crate) fn length(&self) -> u64 {
        self.length
    }

    /// The whole object's CRC-64 expected after the part, when the CRC before it is known.
    pub(crate) fn expected_crc64(&self) -> Option<u64> {
        self.prior_crc
            .map(|p| combine(p, self.part_crc, self.length))
    }

    /// Whether the part may be on the object although the step did not end in `Done`: true after an
    /// ambiguous failure, a verification failure of a part that landed, or an abort (or abandonment)
    /// while a POST was out.
    pub(crate) fn might_have_landed(&self) -> bool {
        self.ambiguous || self.phase == Phase::Posting
    }

    /// The first action: `Send`, or `Reconcile` for a [`recovering`](Self::recovering) step, or `Done`
    /// at once for a zero-length part on an object known to exist; [`Error::ObjectTooLarge`] when the
    /// part would take the object past the size limit.
    ///
    /// # Errors
    /// [`Error::ObjectTooLarge`], or [`Error::InvalidArgument`] when called twice.
    pub(crate) fn start(&mut self) -> Result<Action, Error> {
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
    pub(crate) fn handle(&mut self, input: Input, jitter: f64) -> Result<Action, Error> {
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

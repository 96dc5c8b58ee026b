//! A live appender's lifecycle, sans-IO: what it accepts, when each waiter settles, and how it rides out outages.
//!
//! The transport asks [`Live::next_part`] what to send, sends it (recovering exactly as the append state machine
//! says), and reports [`Live::part_confirmed`] or [`Live::part_failed`]. Transient failures (network errors,
//! timeouts, 5xx, 429, a browser that is offline) never fail the appender: every accepted byte is kept, in order,
//! and the same part is offered again after a capped exponential backoff with full jitter, or at once when the
//! browser comes back online or the app calls `retryNow()`. Only a fatal failure, or `giveUpAfter` ms without a
//! confirmed part, ends it; then every waiter is rejected and the caller still holds every unconfirmed byte.
//!
//! Waiters are the caller's (`W`: promise settlers in JS, labels in tests); what happens to them comes back as
//! [`Notice`]s, drained with [`Live::take_notices`] once the caller may run callbacks again.

use std::collections::VecDeque;

use crate::coalesce::Coalescer;
use crate::error::Error;
use crate::validate::{self, IntegerInput, PartSizes, MAX_OBJECT_SIZE, MAX_TIMER_MS};

/// The accepted-but-unconfirmed bytes an appender holds by default: 64 MiB.
pub(crate) const DEFAULT_MAX_BUFFERED: u64 = 64 << 20;
/// The longest wait between two attempts while OSS is unreachable, by default.
pub(crate) const DEFAULT_MAX_RETRY_DELAY_MS: u64 = 30_000;
/// The ceiling of the first wait; each further attempt doubles it, up to `maxRetryDelay`.
pub(crate) const FIRST_RETRY_CEILING_MS: u64 = 1_000;

/// Where a live appender is in its life, as `w.state` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LiveState {
    /// Accepting writes and sending them.
    Open,
    /// A part failed transiently and no part was confirmed since: waiting to try it again, or trying.
    /// Writes are still accepted.
    Retrying,
    /// `close()` was called; what is buffered goes out, and then the appender is closed.
    Closing,
    /// Everything written is on the object.
    Closed,
    /// A fatal failure (or `giveUpAfter`) ended it.
    Failed,
    /// `abort()` (or the caller's signal) ended it.
    Aborted,
}

impl LiveState {
    /// The name JS sees: `'open'`, `'retrying'`, ...
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Retrying => "retrying",
            Self::Closing => "closing",
            Self::Closed => "closed",
            Self::Failed => "failed",
            Self::Aborted => "aborted",
        }
    }
}

/// How much an appender holds and how long it waits: `maxBuffered`, `maxRetryDelay`, `giveUpAfter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LiveLimits {
    /// The most accepted-but-unconfirmed bytes held; a write past it is refused with `BufferFull`.
    pub max_buffered: u64,
    /// The backoff cap, in ms.
    pub max_retry_delay_ms: u64,
    /// Give up after this many ms without a confirmed part while failing; `None`: never.
    pub give_up_after_ms: Option<u64>,
}

impl Default for LiveLimits {
    fn default() -> Self {
        Self {
            max_buffered: DEFAULT_MAX_BUFFERED,
            max_retry_delay_ms: DEFAULT_MAX_RETRY_DELAY_MS,
            give_up_after_ms: None,
        }
    }
}

impl LiveLimits {
    /// Validates `options.maxBuffered`, `options.maxRetryDelay` and `options.giveUpAfter` (which may be
    /// `Infinity`), filling in defaults.
    ///
    /// # Errors
    /// `InvalidArgument` naming the option, for anything but a positive whole number in range.
    pub(crate) fn from_options(
        max_buffered: Option<&IntegerInput>,
        max_retry_delay: Option<&IntegerInput>,
        give_up_after: Option<&IntegerInput>,
    ) -> Result<Self, Error> {
        let mut limits = Self::default();
        if let Some(v) = max_buffered {
            limits.max_buffered =
                validate::parse_integer("options.maxBuffered", v, 1, MAX_OBJECT_SIZE)?;
        }
        if let Some(v) = max_retry_delay {
            limits.max_retry_delay_ms =
                validate::parse_integer("options.maxRetryDelay", v, 1, MAX_TIMER_MS)?;
        }
        limits.give_up_after_ms = match give_up_after {
            Some(IntegerInput::Number(n)) if *n == f64::INFINITY => None,
            Some(v) => Some(
                validate::parse_integer("options.giveUpAfter", v, 1, u64::MAX).map_err(
                    |e| match e {
                        Error::InvalidArgument { what, reason } => Error::invalid(
                            what,
                            format!("{reason}, or Infinity (never give up, the default)"),
                        ),
                        other => other,
                    },
                )?,
            ),
            None => None,
        };
        Ok(limits)
    }
}

/// The wait before retry `attempt` (1 for the first): a uniform share `jitter` (a random number in `[0, 1)`
/// the caller draws) of `min(1 s · 2^(attempt-1), cap_ms)`: full jitter, so that many clients coming back
/// together spread out.
pub(crate) fn retry_delay_ms(attempt: u32, cap_ms: u64, jitter: f64) -> u64 {
    let doublings = attempt.saturating_sub(1).min(40);
    let ceiling = FIRST_RETRY_CEILING_MS
        .saturating_mul(1 << doublings)
        .min(cap_ms);
    let share = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    (ceiling as f64 * share) as u64
}

/// Whether a part's failure is worth waiting out: the network, a timeout, a 5xx, a 429 or 408. Anything
/// else (a CRC mismatch, another writer, a non-appendable object, a 403 a refresh did not fix, other 4xx)
/// is final.
pub(crate) fn is_transient(error: &Error) -> bool {
    match error {
        Error::Request { .. } | Error::Timeout { .. } => true,
        Error::Service(e) => {
            e.status >= 500 || e.status == 429 || e.status == 408 || e.code == "RequestTimeout"
        }
        Error::InvalidResponse { status, .. } => *status >= 500,
        _ => false,
    }
}

/// A retry the appender scheduled, for `onRetry`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RetryInfo {
    /// 1 for the first retry since the last confirmed part.
    pub attempt: u32,
    /// How long it waits before trying again.
    pub delay_ms: u64,
    /// What failed.
    pub error: Error,
    /// Accepted bytes not yet confirmed.
    pub buffered: u64,
}

/// What happened to the caller's waiters, and what the app should hear about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Notice<W> {
    /// Resolve: the write's (or flush's) bytes are on the object; a `ready()` or room waiter may go on.
    Resolve(W),
    /// Resolve a `close()`: everything is on the object.
    Closed(W),
    /// Reject with the appender's end (see [`Live::error`]).
    Reject(W),
    /// `w.state` changed.
    State(LiveState),
    /// A part failed transiently and is tried again after `delay_ms`.
    Retry(RetryInfo),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// No part out.
    Idle,
    /// The part is being sent (or recovered).
    Sending,
    /// The part failed transiently; waiting for the backoff, the `online` event or `retryNow()`.
    Waiting,
}

/// A live appender's lifecycle. See the module documentation.
#[derive(Debug)]
pub(crate) struct Live<W> {
    limits: LiveLimits,
    coalescer: Coalescer,
    start_position: u64,
    accepted: u64,
    confirmed: u64,
    /// The length of the part out or waiting to be tried again.
    part: Option<u64>,
    phase: Phase,
    closing: bool,
    /// Closed, failed or aborted; the error for the last two.
    end: Option<(LiveState, Option<Error>)>,
    /// Writes and flushes: resolved once `confirmed` reaches the end offset.
    waiters: VecDeque<(u64, W)>,
    /// `ready()`: resolved once less than a part waits to be taken.
    ready: Vec<W>,
    /// A writable's chunk of this length waiting to fit under `maxBuffered`.
    room: VecDeque<(u64, W)>,
    closers: Vec<W>,
    notices: Vec<Notice<W>>,
    /// Retries since the last confirmed part (what `onRetry` reports).
    retries: u32,
    /// Retries that grew the backoff: not those scheduled while offline.
    backoff_step: u32,
    /// When the first failed attempt since the last confirmed part began.
    failing_since: Option<u64>,
    attempt_started: u64,
    reported: LiveState,
}

impl<W> Live<W> {
    /// An open appender continuing an object at `start_position`.
    pub(crate) fn new(start_position: u64, sizes: PartSizes, limits: LiveLimits) -> Self {
        Self {
            limits,
            coalescer: Coalescer::new(sizes),
            start_position,
            accepted: 0,
            confirmed: 0,
            part: None,
            phase: Phase::Idle,
            closing: false,
            end: None,
            waiters: VecDeque::new(),
            ready: Vec::new(),
            room: VecDeque::new(),
            closers: Vec::new(),
            notices: Vec::new(),
            retries: 0,
            backoff_step: 0,
            failing_since: None,
            attempt_started: 0,
            reported: LiveState::Open,
        }
    }

    /// `w.state`.
    pub(crate) fn state(&self) -> LiveState {
        // Retrying from the first transient failure until a part is confirmed, attempts included.
        match &self.end {
            Some((state, _)) => *state,
            None if self.retries > 0 => LiveState::Retrying,
            None if self.closing => LiveState::Closing,
            None => LiveState::Open,
        }
    }

    /// The error a failed or aborted appender ended with.
    pub(crate) fn error(&self) -> Option<&Error> {
        self.end.as_ref().and_then(|(_, e)| e.as_ref())
    }

    /// Accepted bytes not yet confirmed on the object (`w.buffered`): everything a failure leaves unsent.
    pub(crate) fn buffered(&self) -> u64 {
        self.accepted - self.confirmed
    }

    /// Bytes confirmed on the object since opening.
    pub(crate) fn confirmed(&self) -> u64 {
        self.confirmed
    }

    /// Whether small writes wait for company: the flush interval should run.
    pub(crate) fn waiting_for_more(&self) -> bool {
        self.end.is_none() && !self.closing && self.coalescer.waiting_for_more()
    }

    /// The flush interval passed: what is buffered goes out.
    pub(crate) fn flush_due(&mut self) {
        self.coalescer.flush_all();
    }

    /// Whether a part waits for its retry (`retryNow()` and the `online` event have something to do).
    pub(crate) fn is_waiting(&self) -> bool {
        self.phase == Phase::Waiting && self.end.is_none()
    }

    /// What the caller must do with its waiters, and what the app should hear, in order.
    pub(crate) fn take_notices(&mut self) -> Vec<Notice<W>> {
        std::mem::take(&mut self.notices)
    }

    /// Why `what` (write, flush) is refused now, if it is.
    fn refusal(&self, what: &str) -> Option<Error> {
        match &self.end {
            Some((LiveState::Closed, _)) => Some(closed_error(what)),
            Some((_, Some(e))) => Some(e.clone()),
            Some((_, None)) => Some(Error::Aborted { reason: None }),
            None if self.closing => Some(closed_error(what)),
            None => None,
        }
    }

    /// Accepts `len` bytes after everything written before; `waiter` resolves once they are on the object.
    ///
    /// # Errors
    /// The waiter back with why: the appender is closing, closed, failed (its error) or aborted; the bytes
    /// would take the unconfirmed bytes past `maxBuffered` ([`Error::BufferFull`], nothing accepted before
    /// is dropped) or the object past its size limit.
    pub(crate) fn write(&mut self, len: u64, waiter: W) -> Result<(), (Error, W)> {
        if let Some(e) = self.refusal("write") {
            return Err((e, waiter));
        }
        if let Err(e) = self.check_room(len) {
            return Err((e, waiter));
        }
        self.accepted += len;
        self.coalescer.push(len);
        self.waiters.push_back((self.accepted, waiter));
        self.settle();
        Ok(())
    }

    fn check_room(&self, len: u64) -> Result<(), Error> {
        let buffered = self.buffered();
        if buffered.saturating_add(len) > self.limits.max_buffered {
            return Err(Error::BufferFull {
                buffered,
                length: len,
                limit: self.limits.max_buffered,
            });
        }
        validate::check_append_size(
            self.start_position + self.confirmed,
            buffered + len,
            MAX_OBJECT_SIZE,
        )
    }

    /// For a writable: `waiter` resolves once `len` more bytes fit under `maxBuffered` (backpressure instead
    /// of `BufferFull`).
    ///
    /// # Errors
    /// As [`write`](Self::write) for a refused appender; `BufferFull` when `len` alone is over `maxBuffered`.
    pub(crate) fn wait_room(&mut self, len: u64, waiter: W) -> Result<(), (Error, W)> {
        if let Some(e) = self.refusal("write") {
            return Err((e, waiter));
        }
        if len > self.limits.max_buffered {
            let e = Error::BufferFull {
                buffered: 0,
                length: len,
                limit: self.limits.max_buffered,
            };
            return Err((e, waiter));
        }
        self.room.push_back((len, waiter));
        self.settle();
        Ok(())
    }

    /// `ready()`: `waiter` resolves once less than a part's worth waits to be sent (at once when closed).
    ///
    /// # Errors
    /// The waiter back with the error of a failed or aborted appender.
    pub(crate) fn wait_ready(&mut self, waiter: W) -> Result<(), (Error, W)> {
        match &self.end {
            Some((LiveState::Failed | LiveState::Aborted, _)) => {
                let e = self
                    .refusal("write")
                    .unwrap_or(Error::Aborted { reason: None });
                Err((e, waiter))
            }
            Some(_) => {
                self.notices.push(Notice::Resolve(waiter));
                Ok(())
            }
            None => {
                self.ready.push(waiter);
                self.settle();
                Ok(())
            }
        }
    }

    /// `flush()`: sends everything buffered; `waiter` resolves once it is on the object.
    ///
    /// # Errors
    /// As [`write`](Self::write) for a refused appender.
    pub(crate) fn flush(&mut self, waiter: W) -> Result<(), (Error, W)> {
        if let Some(e) = self.refusal("flush") {
            return Err((e, waiter));
        }
        self.coalescer.flush_all();
        self.waiters.push_back((self.accepted, waiter));
        self.settle();
        Ok(())
    }

    /// `close()`: no more writes; `waiter` resolves once everything is on the object, however long an
    /// outage lasts (or rejects with the fatal error). Closing twice waits for the same end.
    ///
    /// # Errors
    /// The waiter back with the error of a failed or aborted appender.
    pub(crate) fn close(&mut self, waiter: W) -> Result<(), (Error, W)> {
        match &self.end {
            Some((LiveState::Closed, _)) => {}
            Some(_) => {
                let e = self
                    .refusal("close")
                    .unwrap_or(Error::Aborted { reason: None });
                return Err((e, waiter));
            }
            None if !self.closing => {
                self.closing = true;
                self.coalescer.close();
            }
            None => {}
        }
        self.closers.push(waiter);
        self.settle();
        Ok(())
    }

    /// `abort()`: ends the appender at once in every state, a backoff wait included; every waiter rejects
    /// with `AbortError`. Returns false when it had already ended (nothing changes then).
    pub(crate) fn abort(&mut self, reason: Option<String>) -> bool {
        if self.end.is_some() {
            return false;
        }
        self.end_with(LiveState::Aborted, Error::Aborted { reason });
        true
    }

    /// The next part to send: its length, or `None` while a part is out, nothing is due, or the appender
    /// has ended. `now` is the caller's clock in ms.
    pub(crate) fn next_part(&mut self, now: u64) -> Option<u64> {
        if self.end.is_some() || self.phase != Phase::Idle {
            return None;
        }
        let len = self.coalescer.next_part()?;
        self.coalescer.take(len);
        self.part = Some(len);
        self.phase = Phase::Sending;
        self.attempt_started = now;
        self.settle();
        Some(len)
    }

    /// The part out is on the object: its waiters resolve, the retry count starts over.
    pub(crate) fn part_confirmed(&mut self) {
        if self.end.is_some() || self.phase != Phase::Sending {
            return;
        }
        self.confirmed += self.part.take().unwrap_or(0);
        self.phase = Phase::Idle;
        self.retries = 0;
        self.backoff_step = 0;
        self.failing_since = None;
        self.settle();
    }

    /// The part out failed with `error` at `now`. A transient failure schedules a retry of the same part
    /// and returns its delay in ms; `online` is the runtime's hint (`navigator.onLine`): while offline no
    /// backoff is spent, and the appender probes at the cap. A fatal failure, or a transient one after
    /// `giveUpAfter`, fails the appender and returns `None`, as does a part that fails after an abort.
    pub(crate) fn part_failed(
        &mut self,
        error: Error,
        now: u64,
        online: bool,
        jitter: f64,
    ) -> Option<u64> {
        if self.end.is_some() || self.phase != Phase::Sending {
            return None;
        }
        if !is_transient(&error) {
            self.end_with(LiveState::Failed, error);
            return None;
        }
        let since = *self.failing_since.get_or_insert(self.attempt_started);
        let failing_for = now.saturating_sub(since);
        let left = self
            .limits
            .give_up_after_ms
            .map(|limit| limit.saturating_sub(failing_for));
        if left == Some(0) {
            let after_ms = failing_for;
            self.end_with(
                LiveState::Failed,
                Error::GaveUp {
                    after_ms,
                    last: Box::new(error),
                },
            );
            return None;
        }
        self.retries += 1;
        let cap = self.limits.max_retry_delay_ms;
        let delay = if online {
            self.backoff_step += 1;
            retry_delay_ms(self.backoff_step, cap, jitter)
        } else {
            cap
        };
        let delay = left.map_or(delay, |left| delay.min(left));
        self.phase = Phase::Waiting;
        self.notices.push(Notice::Retry(RetryInfo {
            attempt: self.retries,
            delay_ms: delay,
            error,
            buffered: self.buffered(),
        }));
        self.settle();
        Some(delay)
    }

    /// The wait is over (the backoff passed, the runtime came online, or `retryNow()`): returns the length
    /// of the part to send again, or `None` when no part was waiting.
    pub(crate) fn retry(&mut self, now: u64) -> Option<u64> {
        if !self.is_waiting() {
            return None;
        }
        self.phase = Phase::Sending;
        self.attempt_started = now;
        self.settle();
        self.part
    }

    fn end_with(&mut self, state: LiveState, error: Error) {
        self.end = Some((state, Some(error)));
        self.coalescer = Coalescer::new(PartSizes::default());
        let waiters = std::mem::take(&mut self.waiters)
            .into_iter()
            .map(|(_, w)| w);
        let room = std::mem::take(&mut self.room).into_iter().map(|(_, w)| w);
        let rejected: Vec<W> = waiters
            .chain(room)
            .chain(self.ready.drain(..))
            .chain(self.closers.drain(..))
            .collect();
        self.notices
            .extend(rejected.into_iter().map(Notice::Reject));
        self.note_state();
    }

    /// Resolves every waiter that may go on, closes when everything is on the object, and reports a
    /// changed state.
    fn settle(&mut self) {
        if self.end.is_none() {
            while self
                .waiters
                .front()
                .is_some_and(|(end, _)| *end <= self.confirmed)
            {
                let (_, w) = self.waiters.pop_front().expect("checked");
                self.notices.push(Notice::Resolve(w));
            }
            if !self.coalescer.is_full() {
                self.notices
                    .extend(self.ready.drain(..).map(Notice::Resolve));
            }
            while self
                .room
                .front()
                .is_some_and(|(len, _)| self.buffered() + len <= self.limits.max_buffered)
            {
                let (_, w) = self.room.pop_front().expect("checked");
                self.notices.push(Notice::Resolve(w));
            }
            let finished = self.closing
                && self.phase == Phase::Idle
                && self.confirmed == self.accepted
                && self.coalescer.next_part().is_none();
            if finished {
                self.end = Some((LiveState::Closed, None));
            }
        }
        if matches!(self.end, Some((LiveState::Closed, _))) {
            self.notices
                .extend(self.closers.drain(..).map(Notice::Closed));
        }
        self.note_state();
    }

    fn note_state(&mut self) {
        let now = self.state();
        if now != self.reported {
            self.reported = now;
            self.notices.push(Notice::State(now));
        }
    }
}

fn closed_error(what: &str) -> Error {
    Error::invalid(
        "appender",
        format!(
            "cannot {what}: the appender is closed; open a new one with position: 'resume' to continue the object"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ServiceError;

    fn sizes(part: u64, min: u64) -> PartSizes {
        PartSizes::from_options(Some(&part.into()), Some(&min.into())).unwrap()
    }

    fn live(limits: LiveLimits) -> Live<&'static str> {
        Live::new(0, sizes(100, 10), limits)
    }

    fn net() -> Error {
        Error::Request {
            message: "connection refused".into(),
        }
    }

    fn service(status: u16, code: &str) -> Error {
        ServiceError {
            status,
            code: code.into(),
            ..ServiceError::default()
        }
        .into()
    }

    /// The notices without the retry details, for compact tables.
    fn names(l: &mut Live<&'static str>) -> Vec<String> {
        l.take_notices()
            .into_iter()
            .map(|n| match n {
                Notice::Resolve(w) => format!("resolve {w}"),
                Notice::Closed(w) => format!("closed {w}"),
                Notice::Reject(w) => format!("reject {w}"),
                Notice::State(s) => format!("state {}", s.as_str()),
                Notice::Retry(r) => format!("retry {} in {}", r.attempt, r.delay_ms),
            })
            .collect()
    }

    #[test]
    fn the_schedule_doubles_from_one_second_to_the_cap_with_full_jitter() {
        let table: &[(u32, u64, f64, u64)] = &[
            (1, 30_000, 0.999_999, 999),
            (1, 30_000, 0.5, 500),
            (2, 30_000, 0.5, 1_000),
            (3, 30_000, 1.0, 4_000),
            (5, 30_000, 1.0, 16_000),
            (6, 30_000, 1.0, 30_000),
            (60, 30_000, 1.0, 30_000),
            (1, 300, 1.0, 300),
            (4, 30_000, 0.0, 0),
            (4, 30_000, f64::NAN, 0),
            (4, 30_000, -3.0, 0),
        ];
        for &(attempt, cap, jitter, want) in table {
            assert_eq!(
                retry_delay_ms(attempt, cap, jitter),
                want,
                "attempt {attempt}, jitter {jitter}"
            );
        }
    }

    #[test]
    fn network_5xx_and_throttling_are_retried_and_rejections_are_final() {
        let transient = [
            net(),
            Error::Timeout { timeout_ms: 5 },
            service(503, "ServiceUnavailable"),
            service(500, "InternalError"),
            service(429, "TooManyRequests"),
            service(400, "RequestTimeout"),
            Error::InvalidResponse {
                status: 502,
                reason: "html".into(),
                request_id: None,
            },
        ];
        let fatal = [
            service(409, "PositionNotEqualToLength"),
            service(409, "ObjectNotAppendable"),
            service(403, "AccessDenied"),
            service(403, "InvalidAccessKeyId"),
            service(404, "NoSuchBucket"),
            Error::CrcMismatch {
                position: 0,
                next_position: 1,
                local: 1,
                server: 2,
                request_id: None,
            },
            Error::MissingExposedHeader {
                missing: vec![],
                status: 200,
            },
            Error::InvalidResponse {
                status: 0,
                reason: "a written Blob changed size".into(),
                request_id: None,
            },
        ];
        assert!(transient.iter().all(is_transient));
        assert!(!fatal.iter().any(is_transient));
    }

    #[test]
    fn writes_resolve_in_order_as_parts_are_confirmed() {
        let mut l = live(LiveLimits::default());
        l.write(30, "a").unwrap();
        l.write(5, "b").unwrap();
        assert_eq!(l.next_part(0), Some(35));
        assert_eq!(l.next_part(0), None, "one part at a time");
        l.write(200, "c").unwrap();
        assert_eq!(l.buffered(), 235);
        assert!(names(&mut l).is_empty());
        l.part_confirmed();
        assert_eq!(names(&mut l), ["resolve a", "resolve b"]);
        assert_eq!(l.next_part(0), Some(100));
        l.part_confirmed();
        assert!(names(&mut l).is_empty(), "c is not all there yet");
        assert_eq!(l.next_part(0), Some(100));
        l.part_confirmed();
        assert_eq!(l.next_part(0), None, "0 bytes wait below minPartSize");
        assert_eq!((l.confirmed(), l.buffered()), (235, 0));
        assert_eq!(names(&mut l), ["resolve c"]);
    }

    #[test]
    fn an_outage_is_a_pause_and_every_byte_waits_for_it() {
        let mut l = live(LiveLimits::default());
        l.write(50, "a").unwrap();
        assert_eq!(l.next_part(1_000), Some(50));
        assert_eq!(l.part_failed(net(), 1_200, true, 0.5), Some(500));
        assert_eq!(l.state(), LiveState::Retrying);
        assert_eq!(names(&mut l), ["retry 1 in 500", "state retrying"]);
        assert_eq!(l.next_part(1_300), None, "the waiting part goes first");
        l.write(60, "b").unwrap();
        assert_eq!(l.buffered(), 110, "writes are still accepted");
        assert_eq!(l.retry(1_700), Some(50), "the same part again");
        assert_eq!(
            l.state(),
            LiveState::Retrying,
            "retrying until a part is confirmed"
        );
        assert_eq!(
            l.part_failed(service(503, "ServiceUnavailable"), 1_800, true, 0.5),
            Some(1_000)
        );
        assert_eq!(l.retry(2_800), Some(50));
        assert_eq!(
            l.part_failed(Error::Timeout { timeout_ms: 9 }, 2_900, true, 1.0),
            Some(4_000)
        );
        assert_eq!(names(&mut l), ["retry 2 in 1000", "retry 3 in 4000"]);
        assert_eq!(l.retry(6_900), Some(50));
        l.part_confirmed();
        assert_eq!(names(&mut l), ["resolve a", "state open"]);
        assert_eq!(l.next_part(7_000), Some(60));
        assert_eq!(
            l.part_failed(net(), 7_100, true, 0.5),
            Some(500),
            "the schedule starts over"
        );
        assert_eq!(names(&mut l), ["retry 1 in 500", "state retrying"]);
    }

    #[test]
    fn offline_waits_at_the_cap_without_growing_the_backoff() {
        let limits = LiveLimits {
            max_retry_delay_ms: 8_000,
            ..LiveLimits::default()
        };
        let mut l = live(limits);
        l.write(50, "a").unwrap();
        l.next_part(0);
        assert_eq!(l.part_failed(net(), 10, false, 0.5), Some(8_000));
        assert_eq!(l.retry(8_010), Some(50));
        assert_eq!(l.part_failed(net(), 8_020, false, 0.5), Some(8_000));
        assert_eq!(
            l.retry(9_000),
            Some(50),
            "the online event or retryNow() retries at once"
        );
        assert_eq!(
            l.part_failed(net(), 9_010, true, 1.0),
            Some(1_000),
            "the first online wait"
        );
        let retries: Vec<(u32, u64)> = l
            .take_notices()
            .into_iter()
            .filter_map(|n| match n {
                Notice::Retry(r) => Some((r.attempt, r.delay_ms)),
                _ => None,
            })
            .collect();
        assert_eq!(retries, [(1, 8_000), (2, 8_000), (3, 1_000)]);
    }

    #[test]
    fn retry_does_nothing_unless_a_part_waits() {
        let mut l = live(LiveLimits::default());
        assert_eq!(l.retry(0), None);
        l.write(50, "a").unwrap();
        l.next_part(0);
        assert_eq!(l.retry(0), None, "a part is out, not waiting");
        l.part_failed(net(), 1, true, 0.0);
        assert!(l.is_waiting());
        assert_eq!(l.retry(2), Some(50));
        assert_eq!(l.retry(3), None, "it is out again");
    }

    #[test]
    fn give_up_after_ms_without_a_confirmed_part() {
        let limits = LiveLimits {
            give_up_after_ms: Some(10_000),
            ..LiveLimits::default()
        };
        let mut l = live(limits);
        l.write(50, "a").unwrap();
        l.write(20, "b").unwrap();
        l.close("c").unwrap();
        assert_eq!(l.next_part(5_000), Some(70));
        assert_eq!(l.part_failed(net(), 6_000, true, 1.0), Some(1_000));
        l.retry(7_000);
        assert_eq!(
            l.part_failed(net(), 14_000, true, 1.0),
            Some(1_000),
            "the wait stops at the deadline"
        );
        l.retry(14_500);
        assert_eq!(
            l.part_failed(net(), 14_900, true, 1.0),
            Some(100),
            "the last wait ends at the deadline"
        );
        l.retry(15_000);
        assert_eq!(l.part_failed(net(), 15_000, true, 1.0), None);
        assert_eq!(l.state(), LiveState::Failed);
        assert_eq!(
            l.error(),
            Some(&Error::GaveUp {
                after_ms: 10_000,
                last: Box::new(net())
            })
        );
        assert_eq!(
            l.buffered(),
            70,
            "every unconfirmed byte is left to the caller"
        );
        let notices = names(&mut l);
        assert_eq!(
            notices[notices.len() - 4..],
            ["reject a", "reject b", "reject c", "state failed"]
        );
    }

    #[test]
    fn idle_time_does_not_count_towards_giving_up() {
        let limits = LiveLimits {
            give_up_after_ms: Some(1_000),
            ..LiveLimits::default()
        };
        let mut l = live(limits);
        l.write(50, "a").unwrap();
        l.next_part(0);
        l.part_confirmed();
        l.write(50, "b").unwrap();
        assert_eq!(l.next_part(60_000), Some(50));
        assert_eq!(l.part_failed(net(), 60_100, true, 1.0), Some(900));
    }

    #[test]
    fn a_fatal_failure_rejects_every_waiter_and_refuses_everything_after() {
        let mut l = live(LiveLimits::default());
        let conflict = service(409, "PositionNotEqualToLength");
        l.write(50, "a").unwrap();
        l.next_part(0);
        l.write(5, "b").unwrap();
        l.flush("f").unwrap();
        l.wait_ready("r").unwrap();
        assert_eq!(names(&mut l), ["resolve r"]);
        l.close("c").unwrap();
        assert_eq!(l.part_failed(conflict.clone(), 1, true, 0.5), None);
        assert_eq!(
            names(&mut l),
            [
                "state closing",
                "reject a",
                "reject b",
                "reject f",
                "reject c",
                "state failed"
            ]
        );
        assert_eq!((l.confirmed(), l.buffered()), (0, 55));
        assert_eq!(l.write(1, "x").unwrap_err(), (conflict.clone(), "x"));
        assert_eq!(l.flush("y").unwrap_err(), (conflict.clone(), "y"));
        assert_eq!(l.close("z").unwrap_err(), (conflict.clone(), "z"));
        assert_eq!(l.wait_ready("w").unwrap_err(), (conflict, "w"));
        assert_eq!(l.next_part(2), None);
        assert!(!l.abort(None), "abort after the end changes nothing");
    }

    #[test]
    fn close_waits_out_an_outage_then_resolves() {
        let mut l = live(LiveLimits::default());
        l.write(5, "a").unwrap();
        l.close("c").unwrap();
        assert_eq!(names(&mut l), ["state closing"]);
        assert!(l.write(1, "late").is_err(), "no writes after close");
        assert_eq!(
            l.next_part(0),
            Some(5),
            "below minPartSize, but closing sends it"
        );
        l.part_failed(net(), 1, true, 0.0);
        assert_eq!(l.state(), LiveState::Retrying);
        l.close("c2").unwrap();
        l.retry(2);
        l.part_confirmed();
        assert_eq!(
            names(&mut l),
            [
                "retry 1 in 0",
                "state retrying",
                "resolve a",
                "closed c",
                "closed c2",
                "state closed"
            ]
        );
        l.close("c3").unwrap();
        assert_eq!(names(&mut l), ["closed c3"]);
        let (e, _) = l.write(1, "x").unwrap_err();
        assert!(e.to_string().contains("closed"), "{e}");
    }

    #[test]
    fn closing_with_nothing_written_sends_one_empty_part() {
        let mut l = live(LiveLimits::default());
        l.close("c").unwrap();
        assert_eq!(l.next_part(0), Some(0));
        l.part_confirmed();
        assert_eq!(names(&mut l), ["state closing", "closed c", "state closed"]);
    }

    #[test]
    fn abort_ends_every_state_at_once() {
        for setup in ["open", "sending", "retrying", "closing"] {
            let mut l = live(LiveLimits::default());
            l.write(50, "a").unwrap();
            if setup != "open" {
                l.next_part(0);
            }
            if setup == "retrying" {
                l.part_failed(net(), 1, true, 0.5);
            }
            if setup == "closing" {
                l.close("c").unwrap();
            }
            l.take_notices();
            assert!(l.abort(Some("stop".into())), "{setup}");
            let notices = names(&mut l);
            assert_eq!(
                notices.last().map(String::as_str),
                Some("state aborted"),
                "{setup}"
            );
            assert!(notices.contains(&"reject a".to_owned()), "{setup}");
            assert_eq!(l.retry(5), None, "{setup}: the backoff wait is over");
            assert_eq!(l.part_failed(net(), 5, true, 0.5), None, "{setup}");
            l.part_confirmed();
            assert_eq!(l.confirmed(), 0, "{setup}: a late answer changes nothing");
            let (e, _) = l.write(1, "x").unwrap_err();
            assert_eq!(
                e,
                Error::Aborted {
                    reason: Some("stop".into())
                }
            );
        }
    }

    #[test]
    fn max_buffered_refuses_the_write_past_it_and_keeps_the_rest() {
        let limits = LiveLimits {
            max_buffered: 100,
            ..LiveLimits::default()
        };
        let mut l = live(limits);
        l.write(60, "a").unwrap();
        l.next_part(0);
        l.part_failed(net(), 1, true, 0.5);
        l.write(40, "b").unwrap();
        let (e, w) = l.write(1, "c").unwrap_err();
        assert_eq!((e.code(), w), ("BufferFull", "c"),);
        assert_eq!(
            e,
            Error::BufferFull {
                buffered: 100,
                length: 1,
                limit: 100
            }
        );
        assert_eq!(l.state(), LiveState::Retrying, "the appender goes on");
        assert_eq!(l.buffered(), 100);
        l.retry(2);
        l.part_confirmed();
        l.write(60, "d").unwrap();
        assert_eq!(l.buffered(), 100);
    }

    #[test]
    fn a_writable_waits_for_room_instead() {
        let limits = LiveLimits {
            max_buffered: 100,
            ..LiveLimits::default()
        };
        let mut l = live(limits);
        l.write(90, "a").unwrap();
        l.wait_room(20, "room").unwrap();
        assert!(names(&mut l).is_empty());
        assert_eq!(
            l.wait_room(101, "huge").unwrap_err().1,
            "huge",
            "can never fit"
        );
        l.next_part(0);
        l.part_confirmed();
        assert_eq!(names(&mut l), ["resolve a", "resolve room"]);
        l.wait_room(20, "now").unwrap();
        assert_eq!(names(&mut l), ["resolve now"]);
    }

    #[test]
    fn ready_waits_while_a_part_is_buffered_behind_the_one_out() {
        let mut l = live(LiveLimits::default());
        l.write(150, "a").unwrap();
        l.wait_ready("r").unwrap();
        assert!(names(&mut l).is_empty());
        assert_eq!(l.next_part(0), Some(100));
        assert_eq!(names(&mut l), ["resolve r"]);
    }

    #[test]
    fn ready_resolves_at_once_once_closed() {
        let mut l = live(LiveLimits::default());
        l.close("c").unwrap();
        l.next_part(0);
        l.part_confirmed();
        l.take_notices();
        l.wait_ready("r").unwrap();
        assert_eq!(names(&mut l), ["resolve r"]);
    }

    #[test]
    fn the_object_size_limit_still_holds() {
        let mut l: Live<&str> =
            Live::new(MAX_OBJECT_SIZE - 10, sizes(100, 10), LiveLimits::default());
        l.write(10, "a").unwrap();
        assert_eq!(l.write(1, "b").unwrap_err().0.code(), "ObjectTooLarge");
    }

    #[test]
    fn options_are_checked() {
        let n = |v: f64| IntegerInput::Number(v);
        assert_eq!(
            LiveLimits::from_options(None, None, None).unwrap(),
            LiveLimits::default()
        );
        let l = LiveLimits::from_options(Some(&n(1.0)), Some(&n(5.0)), Some(&n(f64::INFINITY)))
            .unwrap();
        assert_eq!(
            l,
            LiveLimits {
                max_buffered: 1,
                max_retry_delay_ms: 5,
                give_up_after_ms: None
            }
        );
        assert_eq!(
            LiveLimits::from_options(None, None, Some(&n(60_000.0)))
                .unwrap()
                .give_up_after_ms,
            Some(60_000)
        );
        for (mb, mrd, gua, what) in [
            (Some(n(0.0)), None, None, "options.maxBuffered"),
            (Some(n(-1.0)), None, None, "options.maxBuffered"),
            (Some(n(1.5)), None, None, "options.maxBuffered"),
            (Some(n(f64::INFINITY)), None, None, "options.maxBuffered"),
            (None, Some(n(0.0)), None, "options.maxRetryDelay"),
            (None, Some(n(f64::NAN)), None, "options.maxRetryDelay"),
            (None, Some(n(f64::INFINITY)), None, "options.maxRetryDelay"),
            (None, None, Some(n(0.0)), "options.giveUpAfter"),
            (
                None,
                None,
                Some(n(f64::NEG_INFINITY)),
                "options.giveUpAfter",
            ),
            (
                None,
                None,
                Some(IntegerInput::Text("soon".into())),
                "options.giveUpAfter",
            ),
        ] {
            match LiveLimits::from_options(mb.as_ref(), mrd.as_ref(), gua.as_ref()) {
                Err(Error::InvalidArgument { what: w, reason }) => {
                    assert_eq!(w, what, "{reason}");
                    assert!(reason.contains("accepted"), "{reason}");
                }
                other => panic!("{what}: {other:?}"),
            }
        }
    }
}

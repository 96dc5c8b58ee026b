//! The table of recovery branches, the session rules, and a randomized fault simulation.

use super::*;
use crate::crc64::combine;
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
fn a_client_policy_keeps_its_budget_and_the_appender_s_has_none() {
    let client = AppendPolicy::for_client(5, true);
    assert_eq!(
        (
            client.size_limit,
            client.retry_max,
            client.can_refresh_credentials
        ),
        (5 << 30, 5, true)
    );
    let appender = client.clone().without_retries();
    assert_eq!(
        appender,
        AppendPolicy {
            retry_max: 0,
            ..client
        }
    );
}

#[test]
fn progress_is_the_confirmed_share_and_one_only_at_the_end() {
    let cases = [
        ((0, Some(10), false), 0.0),
        ((5, Some(10), false), 0.5),
        ((12, Some(10), false), 1.0),
        ((0, Some(0), false), 0.0),
        ((0, Some(0), true), 1.0),
        ((7, None, false), 0.0),
        ((7, None, true), 1.0),
    ];
    for ((loaded, total, finished), want) in cases {
        assert_eq!(
            progress_fraction(loaded, total, finished),
            want,
            "{loaded} of {total:?}"
        );
    }
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

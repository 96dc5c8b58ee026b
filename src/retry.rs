//! How a failed request is judged and how soon it is tried again: the one error classification and
//! backoff that the append state machine (`append`) and [`CallRetries`] (HEAD, GET, PUT, DELETE, seal) share.
//!
//! An append has its own state machine because it is not idempotent; every other call either repeats
//! safely or was rejected before OSS acted on it.

use crate::error::Error;
use crate::response::{is_expired_url, server_time};
use crate::time::SigningTime;

/// The backoff ceiling of the first retry, in milliseconds; it doubles with each retry.
pub(crate) const BACKOFF_BASE_MS: u64 = 200;
/// The largest backoff ceiling, in milliseconds.
pub(crate) const BACKOFF_CAP_MS: u64 = 20_000;

pub(crate) const POSITION_NOT_EQUAL_TO_LENGTH: &str = "PositionNotEqualToLength";
pub(crate) const REQUEST_TIME_TOO_SKEWED: &str = "RequestTimeTooSkewed";
const CREDENTIAL_CODES: [&str; 3] = [
    "SecurityTokenExpired",
    "InvalidSecurityToken",
    "InvalidAccessKeyId",
];

/// The full-jitter backoff before retry number `retry` (1 for the first retry): a uniform share
/// `jitter` (a random number in `[0, 1)` the transport supplies) of `min(200 ms · 2^(retry-1), 20 s)`.
pub(crate) fn backoff_ms(retry: u32, jitter: f64) -> u64 {
    let ceiling = (BACKOFF_BASE_MS << retry.saturating_sub(1).min(16)).min(BACKOFF_CAP_MS);
    let share = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.0
    };
    (ceiling as f64 * share) as u64
}

/// What a failed request's error says about the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// The caller aborted.
    Aborted,
    /// The request may or may not have been applied: no answer, or one that says nothing.
    Ambiguous,
    /// 409 PositionNotEqualToLength.
    PositionConflict,
    /// Rejected for the signing clock (`RequestTimeTooSkewed`, or a presigned URL that expired at once).
    ClockSkew,
    /// Rejected for the credentials (an expired or unknown STS token or key).
    Credentials,
    /// A 404 for the key (on a HEAD: the object does not exist).
    NotFound,
    /// A definite rejection that a retry would not change.
    Fatal,
}

/// Classifies a failed request's error.
pub(crate) fn classify(e: &Error) -> ErrorClass {
    match e {
        Error::Aborted { .. } => ErrorClass::Aborted,
        Error::Request { .. } | Error::Timeout { .. } => ErrorClass::Ambiguous,
        // An unreadable 4xx is still a rejection; an unreadable 2xx or 5xx says nothing.
        Error::InvalidResponse { status, .. } if (400..500).contains(status) => ErrorClass::Fatal,
        Error::InvalidResponse { .. } => ErrorClass::Ambiguous,
        Error::Service(s) => match (s.status, s.code.as_str()) {
            (409, POSITION_NOT_EQUAL_TO_LENGTH) => ErrorClass::PositionConflict,
            (_, REQUEST_TIME_TOO_SKEWED) => ErrorClass::ClockSkew,
            _ if is_expired_url(s) => ErrorClass::ClockSkew,
            (_, code) if CREDENTIAL_CODES.contains(&code) => ErrorClass::Credentials,
            (404, "NoSuchBucket") => ErrorClass::Fatal,
            (404, _) => ErrorClass::NotFound,
            // 408/RequestTimeout: OSS gave up reading the body; 429: throttled. Both are almost
            // certainly rejections, but repeating (or, for an append, a HEAD) costs little.
            (408 | 429, _) | (_, "RequestTimeout") => ErrorClass::Ambiguous,
            (status, _) if !(400..500).contains(&status) => ErrorClass::Ambiguous,
            _ => ErrorClass::Fatal,
        },
        _ => ErrorClass::Fatal,
    }
}

/// The server's clock carried by a clock-skew rejection, when it has one.
pub(crate) fn error_server_time(e: &Error) -> Option<SigningTime> {
    e.service().and_then(server_time)
}

/// What the transport must do after a failed attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Wait `delay_ms`, then sign and send again.
    Retry {
        /// The backoff to wait.
        delay_ms: u64,
    },
    /// Sign with the server's clock from now on, then send again at once.
    AdoptServerTime(SigningTime),
    /// Refresh the credentials (single-flight), then send again.
    RefreshCredentials,
    /// Give up with the error.
    Fail,
}

/// The retry budget and history of one call.
#[derive(Clone, Debug)]
pub(crate) struct CallRetries {
    retry_max: u32,
    can_refresh: bool,
    idempotent: bool,
    retries: u32,
    clock_fixed: bool,
    refreshed: bool,
}

impl CallRetries {
    /// A call that may be retried `retry_max` times after the first attempt. `idempotent`: repeating it
    /// after an ambiguous failure (network error, timeout, 5xx) cannot change the outcome.
    pub(crate) fn new(retry_max: u32, can_refresh: bool, idempotent: bool) -> Self {
        Self {
            retry_max,
            can_refresh,
            idempotent,
            retries: 0,
            clock_fixed: false,
            refreshed: false,
        }
    }

    /// Decides after `error`. A clock fix and a credential refresh are each tried once (the request was
    /// rejected, so repeating it is safe for any operation); ambiguous failures are retried with full
    /// jitter backoff only for idempotent calls, within the budget.
    pub(crate) fn after(&mut self, error: &Error, jitter: f64) -> Verdict {
        match classify(error) {
            ErrorClass::ClockSkew if !self.clock_fixed => match error_server_time(error) {
                Some(t) => {
                    self.clock_fixed = true;
                    Verdict::AdoptServerTime(t)
                }
                None => Verdict::Fail,
            },
            ErrorClass::Credentials if self.can_refresh && !self.refreshed => {
                self.refreshed = true;
                Verdict::RefreshCredentials
            }
            ErrorClass::Ambiguous => self.backoff(jitter),
            _ => Verdict::Fail,
        }
    }

    fn backoff(&mut self, jitter: f64) -> Verdict {
        if !self.idempotent || self.retries >= self.retry_max {
            return Verdict::Fail;
        }
        self.retries += 1;
        Verdict::Retry {
            delay_ms: backoff_ms(self.retries, jitter),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ServiceError;

    fn service(status: u16, code: &str) -> Error {
        Error::from(ServiceError {
            status,
            code: code.into(),
            server_time: Some("2024-01-02T03:04:05.000Z".into()),
            ..ServiceError::default()
        })
    }

    #[test]
    fn backoff_is_full_jitter_capped() {
        assert_eq!(backoff_ms(1, 0.0), 0);
        assert_eq!(backoff_ms(1, 0.5), 100);
        assert_eq!(backoff_ms(1, 0.999_999), 199);
        assert_eq!(backoff_ms(2, 0.5), 200);
        assert_eq!(backoff_ms(7, 0.5), 6_400);
        assert_eq!(
            backoff_ms(8, 0.5),
            10_000,
            "200·2^7 = 25.6 s is capped at 20 s"
        );
        assert_eq!(backoff_ms(u32::MAX, 1.0), BACKOFF_CAP_MS);
        assert_eq!(backoff_ms(0, 1.0), BACKOFF_BASE_MS);
        assert_eq!(backoff_ms(3, f64::NAN), 0);
        assert_eq!(backoff_ms(3, -1.0), 0);
        assert_eq!(backoff_ms(3, 7.0), 800);
    }

    #[test]
    fn each_failure_class_is_retried_refreshed_or_final_within_the_budget() {
        let net = Error::Request {
            message: "reset".into(),
        };
        let timeout = Error::Timeout { timeout_ms: 5 };
        let cases: Vec<(&str, CallRetries, Vec<Error>, Vec<Verdict>)> = vec![
            (
                "idempotent calls retry ambiguous failures within the budget",
                CallRetries::new(2, false, true),
                vec![
                    net.clone(),
                    service(503, "ServiceUnavailable"),
                    timeout.clone(),
                ],
                vec![
                    Verdict::Retry { delay_ms: 100 },
                    Verdict::Retry { delay_ms: 200 },
                    Verdict::Fail,
                ],
            ),
            (
                "a seal is never repeated after an ambiguous failure",
                CallRetries::new(3, false, false),
                vec![timeout.clone()],
                vec![Verdict::Fail],
            ),
            (
                "skew is fixed once, for any call",
                CallRetries::new(0, false, false),
                vec![
                    service(403, "RequestTimeTooSkewed"),
                    service(403, "RequestTimeTooSkewed"),
                ],
                vec![
                    Verdict::AdoptServerTime(
                        SigningTime::parse_iso8601_extended("2024-01-02T03:04:05.000Z").unwrap(),
                    ),
                    Verdict::Fail,
                ],
            ),
            (
                "an expired presigned URL is fixed once like skew; other AccessDenied is final",
                CallRetries::new(3, false, true),
                vec![
                    Error::from(ServiceError {
                        status: 403,
                        code: "AccessDenied".into(),
                        message: "Request has expired.".into(),
                        server_time: Some("2024-01-02T03:04:05.000Z".into()),
                        ..ServiceError::default()
                    }),
                    service(403, "AccessDenied"),
                ],
                vec![
                    Verdict::AdoptServerTime(
                        SigningTime::parse_iso8601_extended("2024-01-02T03:04:05.000Z").unwrap(),
                    ),
                    Verdict::Fail,
                ],
            ),
            (
                "expired tokens are refreshed once when a refresher exists",
                CallRetries::new(0, true, true),
                vec![
                    service(403, "SecurityTokenExpired"),
                    service(403, "InvalidAccessKeyId"),
                ],
                vec![Verdict::RefreshCredentials, Verdict::Fail],
            ),
            (
                "without a refresher a rejected token fails",
                CallRetries::new(3, false, true),
                vec![service(403, "SecurityTokenExpired")],
                vec![Verdict::Fail],
            ),
            (
                "a body timeout (408) or an unreadable 5xx is ambiguous, as for an append",
                CallRetries::new(3, false, true),
                vec![
                    service(408, "RequestTimeout"),
                    Error::InvalidResponse {
                        status: 502,
                        reason: "not XML".into(),
                        request_id: None,
                    },
                ],
                vec![
                    Verdict::Retry { delay_ms: 100 },
                    Verdict::Retry { delay_ms: 200 },
                ],
            ),
            (
                "client errors are final",
                CallRetries::new(3, true, true),
                vec![
                    service(404, "NoSuchKey"),
                    service(403, "SignatureDoesNotMatch"),
                    Error::Aborted { reason: None },
                ],
                vec![Verdict::Fail, Verdict::Fail, Verdict::Fail],
            ),
        ];
        for (name, mut retries, errors, expected) in cases {
            let got: Vec<Verdict> = errors.iter().map(|e| retries.after(e, 0.5)).collect();
            assert_eq!(got, expected, "{name}");
        }
    }
}

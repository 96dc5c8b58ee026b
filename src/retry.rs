//! When a non-append request (HEAD, GET, PUT, DELETE, seal) is tried again, and how soon.
//!
//! Appends have their own state machine (`append`); everything here either repeats safely or was
//! rejected before OSS acted on it.

use crate::append::backoff_ms;
use crate::error::Error;
use crate::response::{is_expired_url, server_time};
use crate::time::SigningTime;

/// What the transport must do after a failed attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
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
pub struct CallRetries {
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
    pub fn new(retry_max: u32, can_refresh: bool, idempotent: bool) -> Self {
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
    pub fn after(&mut self, error: &Error, jitter: f64) -> Verdict {
        match error {
            Error::Service(e) => match e.code.as_str() {
                _ if (e.code == "RequestTimeTooSkewed" || is_expired_url(e))
                    && !self.clock_fixed =>
                {
                    match server_time(e) {
                        Some(t) => {
                            self.clock_fixed = true;
                            Verdict::AdoptServerTime(t)
                        }
                        None => Verdict::Fail,
                    }
                }
                "SecurityTokenExpired" | "InvalidSecurityToken" | "InvalidAccessKeyId"
                    if self.can_refresh && !self.refreshed =>
                {
                    self.refreshed = true;
                    Verdict::RefreshCredentials
                }
                _ if e.status >= 500 || e.status == 429 => self.backoff(jitter),
                _ => Verdict::Fail,
            },
            Error::Request { .. } | Error::Timeout { .. } => self.backoff(jitter),
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
    fn table() {
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

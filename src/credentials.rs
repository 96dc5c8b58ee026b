//! Access credentials: a key pair and an optional STS token, never printed.

use std::fmt;

use crate::error::Error;

/// An AccessKey pair with an optional STS security token.
///
/// `Debug` and `Display` show the access key id only; the secret and the token are redacted so that
/// credentials can sit inside structures that get logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    access_key_secret: String,
    security_token: Option<String>,
}

impl Credentials {
    /// Builds credentials, trimming surrounding whitespace as ali-oss does.
    ///
    /// # Errors
    /// `InvalidArgument` when the id or the secret is empty, when a value holds anything but printable
    /// ASCII (it would corrupt the signed headers or fail in `fetch`), or when the id holds `:` (V1's
    /// separator).
    pub fn new(
        access_key_id: &str,
        access_key_secret: &str,
        security_token: Option<&str>,
    ) -> Result<Self, Error> {
        let id = access_key_id.trim();
        let secret = access_key_secret.trim();
        if id.is_empty() {
            return Err(Error::invalid(
                "accessKeyId",
                "it is empty; pass the AccessKey ID of a RAM user or an STS credential",
            ));
        }
        if secret.is_empty() {
            return Err(Error::invalid(
                "accessKeySecret",
                "it is empty; pass the AccessKey secret that belongs to accessKeyId",
            ));
        }
        let token = security_token.map(str::trim).filter(|t| !t.is_empty());
        for (what, value) in [
            ("accessKeyId", id),
            ("accessKeySecret", secret),
            ("stsToken", token.unwrap_or("")),
        ] {
            check_printable(what, value)?;
        }
        if let Some(at) = id.find(':') {
            // V1's `Authorization: OSS <id>:<signature>` splits at the first ':'.
            return Err(Error::invalid(
                "accessKeyId",
                format!(
                    "it contains ':' (at character {}), which V1 signing uses as its separator; an AccessKey \
                     ID of printable ASCII without ':' or spaces is accepted",
                    id[..at].chars().count() + 1
                ),
            ));
        }
        Ok(Self {
            access_key_id: id.to_owned(),
            access_key_secret: secret.to_owned(),
            security_token: token.map(str::to_owned),
        })
    }

    /// The AccessKey ID (not secret: it travels in every Authorization header).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The AccessKey secret, used only as HMAC key material.
    pub fn access_key_secret(&self) -> &str {
        &self.access_key_secret
    }

    /// The STS security token, sent as `x-oss-security-token`.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }
}

/// Credentials travel in headers (`Authorization`, `x-oss-security-token`) and in V4's signed scope, so
/// only printable US-ASCII survives every runtime's `fetch` unchanged; the id, which V4's `Credential=` scope
/// carries between spaces and commas, takes no spaces either.
///
/// # Errors
/// `InvalidArgument` naming `what` and the position of the first other character, never the value.
fn check_printable(what: &str, value: &str) -> Result<(), Error> {
    let spaces = what != "accessKeyId";
    let accepted = |c: char| c.is_ascii_graphic() || (spaces && c == ' ');
    let Some((at, c)) = value.chars().enumerate().find(|(_, c)| !accepted(*c)) else {
        return Ok(());
    };
    let kind = if c == ' ' || c == '\t' {
        "a space"
    } else if c.is_control() {
        "a control character"
    } else {
        "a non-ASCII character"
    };
    let rule = if spaces {
        "only printable ASCII characters (' ' to '~') are accepted"
    } else {
        "only printable ASCII characters without spaces ('!' to '~') are accepted"
    };
    Err(Error::invalid(
        what,
        format!("it contains {kind} at character {}; {rule}", at + 1),
    ))
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessKey {}", self.access_key_id)?;
        if self.security_token.is_some() {
            f.write_str(" (STS)")?;
        }
        Ok(())
    }
}

/// When `refreshSTSToken` is called without a rejection asking for it: ali-oss's time-based refresh,
/// once `refreshSTSTokenInterval` has passed since the last refresh (or since the client was made).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RefreshSchedule {
    interval_ms: u64,
    last_ms: f64,
}

impl RefreshSchedule {
    /// A schedule whose interval starts at `now_ms` (milliseconds on any clock the caller keeps).
    pub(crate) fn new(interval_ms: u64, now_ms: f64) -> Self {
        Self {
            interval_ms,
            last_ms: now_ms,
        }
    }

    /// Whether a refresh is due at `now_ms`.
    pub(crate) fn is_due(&self, now_ms: f64) -> bool {
        now_ms - self.last_ms >= self.interval_ms as f64
    }

    /// Records a refresh at `now_ms`: the next is due an interval later.
    pub(crate) fn refreshed(&mut self, now_ms: f64) {
        self.last_ms = now_ms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_secret_or_token() {
        let c = Credentials::new(" LTAIid ", "very-secret-value", Some("sts-token-value")).unwrap();
        for shown in [format!("{c:?}"), format!("{c:#?}"), c.to_string()] {
            assert!(shown.contains("LTAIid"), "{shown}");
            assert!(!shown.contains("very-secret-value"), "{shown}");
            assert!(!shown.contains("sts-token-value"), "{shown}");
        }
    }

    #[test]
    fn trims_and_drops_empty_token() {
        let c = Credentials::new(" id\t", " secret ", Some("  ")).unwrap();
        assert_eq!(
            (c.access_key_id(), c.access_key_secret(), c.security_token()),
            ("id", "secret", None)
        );
    }

    #[test]
    fn rejects_missing_parts_without_echoing_them() {
        let e = Credentials::new("id", "  ", None).unwrap_err().to_string();
        assert!(e.contains("accessKeySecret"), "{e}");
        let e = Credentials::new("id", "se\ncret", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("accessKeySecret") && !e.contains("se\ncret"),
            "{e}"
        );
        assert!(Credentials::new("", "s", None).is_err());
    }

    #[test]
    fn accepts_printable_ascii_only_and_no_colon_in_the_id() {
        let secret_value = "s3cr\u{e9}t";
        for (id, secret, token, what, problem) in [
            (
                "LTAI id",
                "s",
                None,
                "accessKeyId",
                "a space at character 5",
            ),
            (
                "LTAI\u{e9}",
                "s",
                None,
                "accessKeyId",
                "a non-ASCII character at character 5",
            ),
            (
                "LTAI\u{7f}x",
                "s",
                None,
                "accessKeyId",
                "a control character at character 5",
            ),
            ("LT:AI", "s", None, "accessKeyId", "':' (at character 3)"),
            (
                "id",
                secret_value,
                None,
                "accessKeySecret",
                "a non-ASCII character",
            ),
            (
                "id",
                "s\te",
                None,
                "accessKeySecret",
                "a space at character 2",
            ),
            (
                "id",
                "s",
                Some("tok\u{2028}en"),
                "stsToken",
                "a non-ASCII character at character 4",
            ),
            (
                "id",
                "s",
                Some("tok\u{0}"),
                "stsToken",
                "a control character",
            ),
        ] {
            let e = Credentials::new(id, secret, token).expect_err(id);
            let Error::InvalidArgument { what: w, reason } = &e else {
                panic!("{e:?}")
            };
            assert_eq!(w, what, "{id:?} {reason}");
            assert!(reason.contains(problem), "{reason}");
            assert!(reason.contains("accepted"), "{reason}");
            assert!(
                !reason.contains(secret_value) && !reason.contains("tok"),
                "{reason}"
            );
        }
        let ok = Credentials::new(
            "STS.NUgYrLnoC:".trim_end_matches(':'),
            "a!~Z09+/=",
            Some("CAIS+/=_-.~"),
        );
        assert!(ok.is_ok(), "{ok:?}");
    }

    #[test]
    fn a_refresh_is_due_once_the_interval_has_passed_since_the_last() {
        let mut schedule = RefreshSchedule::new(1_000, 5_000.0);
        assert!(!schedule.is_due(5_999.0));
        assert!(schedule.is_due(6_000.0));
        schedule.refreshed(6_500.0);
        assert!(!schedule.is_due(7_000.0));
        assert!(schedule.is_due(7_500.0));
        assert!(RefreshSchedule::new(0, 1.0).is_due(1.0));
    }
}

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
    /// `InvalidArgument` when the id or the secret is empty, or when a value holds a line break
    /// (it would corrupt the signed headers).
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
            if value.chars().any(|c| c.is_control()) {
                return Err(Error::invalid(
                    what,
                    "it contains a control character; only printable characters are accepted",
                ));
            }
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
}

//! Faults armed through the control plane and consumed by the next matching requests.

use serde::{Deserialize, Serialize};

/// What a fault does to the request it hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Apply the request, then close the connection without a response.
    DropAfterCommit,
    /// Answer an error (default 500 InternalError) without applying anything.
    ErrorBeforeCommit,
    /// Read part of the body, then close the connection; nothing is applied.
    ResetMidBody,
    /// Apply the request, then wait before answering.
    Delay,
}

impl FaultKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DropAfterCommit => "drop_after_commit",
            Self::ErrorBeforeCommit => "error_before_commit",
            Self::ResetMidBody => "reset_mid_body",
            Self::Delay => "delay",
        }
    }
}

/// The operations a fault can match.
pub const OPS: &[&str] = &["append", "put", "get", "head", "delete", "seal", "any"];

fn any_op() -> String {
    "any".to_owned()
}

fn one() -> u32 {
    1
}

/// A fault as the control plane receives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// What happens.
    pub kind: FaultKind,
    /// Which operation it matches: append, put, get, head, delete, seal or any.
    #[serde(default = "any_op")]
    pub op: String,
    /// Only this bucket, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// Only this exact key, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Only keys with this prefix, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
    /// How many matching requests it hits.
    #[serde(default = "one")]
    pub count: u32,
    /// `error_before_commit`: the status (default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `error_before_commit`: the code (default InternalError, or ServiceUnavailable for 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `delay`: how long to wait, in milliseconds (default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// `reset_mid_body`: bytes read before the reset (default half the declared length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_bytes: Option<u64>,
}

impl FaultSpec {
    /// Checks the fields, returning a message for the control plane's 400.
    ///
    /// # Errors
    /// A message naming the bad field.
    pub fn validate(&self) -> Result<(), String> {
        if !OPS.contains(&self.op.as_str()) {
            return Err(format!("op must be one of {}", OPS.join(", ")));
        }
        if self.count == 0 {
            return Err("count must be at least 1".into());
        }
        if let Some(s) = self.status {
            if !(400..=599).contains(&s) {
                return Err("status must be between 400 and 599".into());
            }
        }
        if self.delay_ms.is_some_and(|d| d > 600_000) {
            return Err("delay_ms must be at most 600000".into());
        }
        Ok(())
    }

    fn matches(&self, op: &str, bucket: &str, key: &str) -> bool {
        (self.op == "any" || self.op == op)
            && self.bucket.as_deref().is_none_or(|b| b == bucket)
            && self.key.as_deref().is_none_or(|k| k == key)
            && self
                .key_prefix
                .as_deref()
                .is_none_or(|p| key.starts_with(p))
    }
}

/// An armed fault and how many more requests it hits.
#[derive(Clone, Debug, Serialize)]
pub struct Armed {
    /// Its id.
    pub id: u64,
    /// What it matches and does.
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Hits left.
    pub remaining: u32,
}

/// The armed faults, first armed first matched.
#[derive(Debug, Default)]
pub struct Faults {
    next_id: u64,
    armed: Vec<Armed>,
}

impl Faults {
    /// Arms `spec`; returns its id.
    pub fn arm(&mut self, spec: FaultSpec) -> u64 {
        self.next_id += 1;
        let remaining = spec.count;
        self.armed.push(Armed {
            id: self.next_id,
            spec,
            remaining,
        });
        self.next_id
    }

    /// Consumes one hit of the first fault matching the request.
    pub fn take(&mut self, op: &str, bucket: &str, key: &str) -> Option<FaultSpec> {
        let i = self
            .armed
            .iter()
            .position(|a| a.spec.matches(op, bucket, key))?;
        let spec = self.armed[i].spec.clone();
        self.armed[i].remaining -= 1;
        if self.armed[i].remaining == 0 {
            self.armed.remove(i);
        }
        Some(spec)
    }

    /// The armed faults.
    pub fn list(&self) -> &[Armed] {
        &self.armed
    }

    /// Disarms one fault; false when there was none with that id.
    pub fn disarm(&mut self, id: u64) -> bool {
        let before = self.armed.len();
        self.armed.retain(|a| a.id != id);
        self.armed.len() != before
    }

    /// Disarms everything.
    pub fn clear(&mut self) {
        self.armed.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> FaultSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn faults_match_in_order_and_run_out() {
        let mut f = Faults::default();
        f.arm(spec(
            r#"{"kind":"delay","op":"append","key":"a","count":2}"#,
        ));
        f.arm(spec(r#"{"kind":"drop_after_commit"}"#));
        assert_eq!(
            f.take("put", "b", "a").unwrap().kind,
            FaultKind::DropAfterCommit
        );
        assert_eq!(f.take("append", "b", "a").unwrap().kind, FaultKind::Delay);
        assert_eq!(f.take("append", "b", "a").unwrap().kind, FaultKind::Delay);
        assert!(f.take("append", "b", "a").is_none());
        assert!(f.list().is_empty());
    }

    #[test]
    fn invalid_specs_are_refused_and_a_fault_disarms_once() {
        assert!(spec(r#"{"kind":"delay","op":"nope"}"#).validate().is_err());
        assert!(spec(r#"{"kind":"delay","count":0}"#).validate().is_err());
        assert!(spec(r#"{"kind":"error_before_commit","status":200}"#)
            .validate()
            .is_err());
        assert!(serde_json::from_str::<FaultSpec>(r#"{"kind":"explode"}"#).is_err());
        assert!(serde_json::from_str::<FaultSpec>(r#"{"kind":"delay","typo":1}"#).is_err());
        let mut f = Faults::default();
        let id = f.arm(spec(r#"{"kind":"reset_mid_body","key_prefix":"rec/"}"#));
        assert!(f.take("append", "b", "other").is_none());
        assert!(f.disarm(id));
        assert!(!f.disarm(id));
    }
}

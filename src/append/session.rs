//! An object's position and CRC-64 across many parts, and the part whose fate is unknown.

use super::{
    missing_crc_header, not_appendable, AppendPolicy, AppendStep, Appended, ObjectHead, ObjectType,
};
use crate::error::Error;

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
pub(crate) struct AppendSession {
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
    pub(crate) fn new(position: u64, crc: Option<u64>, policy: AppendPolicy) -> Self {
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
    pub(crate) fn resume_from_head(
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
    pub(crate) fn next_part(&self, length: u64, part_crc: u64) -> AppendStep {
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
    pub(crate) fn commit(&mut self, done: &Appended) {
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
    pub(crate) fn fail(&mut self, step: &AppendStep) {
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
    pub(crate) fn needs_empty_part(&self) -> bool {
        !self.offered
    }

    /// The object's length and CRC-64 where the next append continues, when both are certain: the CRC is
    /// known and no part's fate is unknown. A client keeps it to verify its next append to the object.
    pub(crate) fn settled(&self) -> Option<(u64, u64)> {
        self.crc
            .filter(|_| self.pending.is_none())
            .map(|crc| (self.position, crc))
    }

    /// The object's length after the last confirmed part: the `position` of the next one.
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// The object's CRC-64 at [`position`](Self::position), when known.
    pub(crate) fn crc64(&self) -> Option<u64> {
        self.crc
    }

    /// Whether a failed part may be on the object (its fate is settled by offering it again).
    #[cfg(test)]
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether the session saw the object exist at [`position`](Self::position) (a committed part, or
    /// the HEAD it resumed from); from then on a zero-length part needs no request.
    #[cfg(test)]
    pub(crate) fn exists(&self) -> bool {
        self.exists
    }

    /// Bytes confirmed on the object since the session began; it never goes backwards, so it is the
    /// progress high-water mark.
    pub(crate) fn confirmed(&self) -> u64 {
        self.confirmed
    }

    /// How far this session got, for the error of a call that fails after some parts landed: the object's
    /// length and CRC-64 after its last confirmed part, from which the caller continues with `{ position,
    /// initCrc64 }`. `None` when no part was confirmed (or the CRC is unknown). A part whose fate was left
    /// unknown may still have landed beyond it; continuing then meets OSS's 409 with the true length.
    pub(crate) fn reached(&self) -> Option<(u64, u64)> {
        if self.position == self.start && self.confirmed == 0 {
            return None;
        }
        self.crc.map(|crc| (self.position, crc))
    }
}

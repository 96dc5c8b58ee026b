//! Bucket versioning as OSS does it: the status, version ids, delete markers, frozen appendable versions.

// Every version of a key lives in that key's sidecar: the current one with `noncurrent` (newest first)
// beside it, so one rename commits a whole change and a restart finds every version again.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use oss_append::Request;

use crate::errors::OssError;
use crate::store::{ObjectKind, ObjectMeta};

/// The version id of appendable objects and of writes to a suspended bucket.
pub const NULL_VERSION: &str = "null";

/// A bucket's versioning status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Versioning {
    /// Never enabled: one version per key, no version ids.
    Off,
    /// Every put and delete makes a new version with its own id.
    Enabled,
    /// Versions made before are kept; new writes get the `null` id and replace the `null` version.
    Suspended,
}

impl Versioning {
    /// Parses `enabled` or `suspended` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "enabled" => Some(Self::Enabled),
            "suspended" => Some(Self::Suspended),
            _ => None,
        }
    }

    /// The `<Status>` of GetBucketVersioning; `None` when never enabled.
    pub fn status(self) -> Option<&'static str> {
        match self {
            Self::Off => None,
            Self::Enabled => Some("Enabled"),
            Self::Suspended => Some("Suspended"),
        }
    }

    fn code(self) -> u8 {
        match self {
            Self::Off => 0,
            Self::Enabled => 1,
            Self::Suspended => 2,
        }
    }

    fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Enabled,
            2 => Self::Suspended,
            _ => Self::Off,
        }
    }
}

/// The live versioning status (set by `--versioning` and the control plane) and the id source.
#[derive(Debug)]
pub struct Versions {
    status: AtomicU8,
    initial: Versioning,
    counter: AtomicU64,
}

impl Versions {
    /// Starts with `initial`.
    pub fn new(initial: Versioning) -> Self {
        Self {
            status: AtomicU8::new(initial.code()),
            initial,
            counter: AtomicU64::new(0),
        }
    }

    /// The status now.
    pub fn status(&self) -> Versioning {
        Versioning::from_code(self.status.load(Ordering::Relaxed))
    }

    /// Sets the status.
    pub fn set(&self, status: Versioning) {
        self.status.store(status.code(), Ordering::Relaxed);
    }

    /// Back to the status the emulator started with.
    pub fn reset(&self) {
        self.set(self.initial);
    }

    /// A fresh opaque version id (URL-safe, unique across restarts as the clock moves on).
    pub fn new_id(&self, now_ms: i64) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut raw = Vec::with_capacity(16);
        raw.extend_from_slice(&now_ms.to_be_bytes());
        raw.extend_from_slice(&n.to_be_bytes());
        format!("CAEQ{}", URL_SAFE_NO_PAD.encode(raw))
    }

    /// The id a new put or delete marker gets; `None` on a bucket that never had versioning.
    pub fn id_for_write(&self, now_ms: i64) -> Option<String> {
        match self.status() {
            Versioning::Off => None,
            Versioning::Enabled => Some(self.new_id(now_ms)),
            Versioning::Suspended => Some(NULL_VERSION.to_owned()),
        }
    }
}

/// The id a stored version answers to: versions written before versioning was enabled are `null`.
pub fn id_of(meta: &ObjectMeta) -> &str {
    meta.version_id.as_deref().unwrap_or(NULL_VERSION)
}

/// The record after a write of `new` over `old` with version id `id`: on a versioned bucket the old
/// current version is kept (frozen) as a previous one, and a `null` id replaces the `null` version.
pub fn succeed(old: Option<ObjectMeta>, mut new: ObjectMeta, id: Option<String>) -> ObjectMeta {
    let Some(id) = id else {
        new.noncurrent = Vec::new();
        return new;
    };
    let mut history = Vec::new();
    if let Some(mut old) = old {
        let older = std::mem::take(&mut old.noncurrent);
        if old.version_id.is_none() {
            old.version_id = Some(NULL_VERSION.to_owned());
        }
        history.push(old);
        history.extend(older);
    }
    history.retain(|m| id_of(m) != id);
    new.version_id = Some(id);
    new.noncurrent = history;
    new
}

/// A delete marker for `key` made at `now_secs`.
pub fn marker(key: &str, now_secs: i64) -> ObjectMeta {
    ObjectMeta {
        key: key.to_owned(),
        kind: ObjectKind::Normal,
        size: 0,
        crc64: 0,
        etag: String::new(),
        content_md5: None,
        content_type: String::new(),
        headers: Vec::new(),
        storage_class: "Standard".to_owned(),
        acl: "default".to_owned(),
        tagging: None,
        last_modified: now_secs,
        sealed_time: None,
        gen: 0,
        version_id: None,
        delete_marker: true,
        noncurrent: Vec::new(),
    }
}

/// Every version of a record, newest first.
pub fn all(record: &ObjectMeta) -> impl Iterator<Item = &ObjectMeta> {
    std::iter::once(record).chain(&record.noncurrent)
}

/// The record once version `id` is removed for good (`None`: nothing is left), and the removed version.
pub fn without(record: ObjectMeta, id: &str) -> (Option<ObjectMeta>, Option<ObjectMeta>) {
    let mut older = record.noncurrent.clone();
    let mut current = record;
    current.noncurrent = Vec::new();
    let mut list = vec![current];
    list.append(&mut older);
    let removed = list
        .iter()
        .position(|m| id_of(m) == id)
        .map(|at| list.remove(at));
    let mut rest = list.into_iter();
    let current = rest.next().map(|mut c| {
        c.noncurrent = rest.collect();
        c
    });
    (current, removed)
}

/// Why an append must be refused on a versioned key, before the usual checks: a `versionId` in the
/// request, or a delete marker as the current version with a position past 0.
pub fn append_refusal(
    req: &Request,
    record: Option<&ObjectMeta>,
    position: u64,
) -> Option<OssError> {
    if let Some(v) = req.query_value("versionId") {
        return Some(
            OssError::invalid_argument(
                "AppendObject does not support a versionId.",
                "versionId",
                v,
            )
            .ec("0016-00000504"),
        );
    }
    match record {
        Some(m) if m.delete_marker && position != 0 => Some(OssError::not_appendable().detail(
            "Reason",
            "The current version is a delete marker; append at position 0 to start a new object.",
        )),
        _ => None,
    }
}

/// The headers that name a version on an answer (`x-oss-version-id`, `x-oss-delete-marker`).
pub fn version_headers(versions: &Versions, meta: &ObjectMeta) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if meta.version_id.is_some() || versions.status() != Versioning::Off {
        out.push(("x-oss-version-id", id_of(meta).to_owned()));
    }
    if meta.delete_marker {
        out.push(("x-oss-delete-marker", "true".to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: ObjectKind, size: u64, gen: u64, id: Option<&str>) -> ObjectMeta {
        let mut m = marker("k", 0);
        m.delete_marker = false;
        m.kind = kind;
        m.size = size;
        m.gen = gen;
        m.version_id = id.map(str::to_owned);
        m
    }

    fn ids(m: &ObjectMeta) -> Vec<String> {
        all(m)
            .map(|v| {
                format!(
                    "{}{}",
                    id_of(v),
                    if v.delete_marker { "(marker)" } else { "" }
                )
            })
            .collect()
    }

    #[test]
    fn a_put_freezes_the_appendable_version_and_a_marker_hides_both() {
        let appendable = object(ObjectKind::Appendable, 5, 1, Some(NULL_VERSION));
        let put = succeed(
            Some(appendable),
            object(ObjectKind::Normal, 3, 2, None),
            Some("v2".into()),
        );
        assert_eq!(ids(&put), ["v2", "null"]);
        assert_eq!(put.noncurrent[0].gen, 1);
        let deleted = succeed(Some(put), marker("k", 9), Some("v3".into()));
        assert_eq!(ids(&deleted), ["v3(marker)", "v2", "null"]);
        // A new appendable object after the marker takes the null id: the old null version goes.
        let again = succeed(
            Some(deleted),
            object(ObjectKind::Appendable, 0, 4, None),
            Some(NULL_VERSION.into()),
        );
        assert_eq!(ids(&again), ["null", "v3(marker)", "v2"]);
        // Unversioned: a write replaces the record.
        let plain = succeed(Some(again), object(ObjectKind::Normal, 1, 5, None), None);
        assert_eq!(ids(&plain), ["null"]);
        assert!(plain.version_id.is_none());
    }

    #[test]
    fn removing_a_version_promotes_the_next_one() {
        let record = succeed(
            Some(succeed(
                Some(object(ObjectKind::Appendable, 5, 1, Some(NULL_VERSION))),
                object(ObjectKind::Normal, 3, 2, None),
                Some("v2".into()),
            )),
            marker("k", 1),
            Some("v3".into()),
        );
        let (left, removed) = without(record.clone(), "v3");
        assert!(removed.unwrap().delete_marker);
        assert_eq!(ids(&left.unwrap()), ["v2", "null"]);
        let (left, removed) = without(record.clone(), "nope");
        assert!(removed.is_none());
        assert_eq!(ids(&left.unwrap()), ids(&record));
        let (left, _) = without(object(ObjectKind::Normal, 1, 1, Some("v1")), "v1");
        assert!(left.is_none());
    }

    #[test]
    fn appends_refuse_version_ids_and_markers_past_zero() {
        let mut req = Request::new(oss_append::Method::Post, Some("b"), Some("k"));
        let dm = marker("k", 0);
        assert!(append_refusal(&req, Some(&dm), 0).is_none());
        assert_eq!(
            append_refusal(&req, Some(&dm), 5).unwrap().code,
            "ObjectNotAppendable"
        );
        assert!(append_refusal(&req, None, 5).is_none());
        req.query.push(("versionId".into(), "null".into()));
        assert_eq!(
            append_refusal(&req, None, 0).unwrap().ec,
            Some("0016-00000504")
        );
    }

    #[test]
    fn ids_are_url_safe_and_distinct() {
        let v = Versions::new(Versioning::Enabled);
        let a = v.new_id(1_700_000_000_000);
        let b = v.new_id(1_700_000_000_000);
        assert_ne!(a, b);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        v.set(Versioning::Suspended);
        assert_eq!(v.id_for_write(0).as_deref(), Some(NULL_VERSION));
        v.reset();
        assert_eq!(v.status(), Versioning::Enabled);
        assert_eq!(Versions::new(Versioning::Off).id_for_write(0), None);
        assert_eq!(Versioning::parse("Suspended"), Some(Versioning::Suspended));
        assert_eq!(Versioning::parse("off"), None);
    }
}

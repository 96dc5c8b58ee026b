//! A recording's local spool, sans-IO: its record, its segments and what to keep of them, and how a reopen decides.
//!
//! A spool keeps the bytes an appender accepted but OSS has not confirmed, so that a reload, a tab crash or a
//! killed process loses none of them. The storage (OPFS, IndexedDB, files) is the binding's; this module decides:
//!
//! - the **record** (bucket, key, endpoint, and the object's length and CRC-64 where the spooled bytes start),
//!   encoded as text and replaced atomically; it never holds a credential;
//! - the **segments**: every accepted write is stored as immutable segments named by their object offset and
//!   length, at most one part long, written completely before the write counts as spooled; once OSS confirms a
//!   position, the record moves there and every segment that ends at or before it goes, so the spool stays no
//!   larger than the unconfirmed bytes plus one part;
//! - the **survey** of what a crash left: the contiguous run of complete segments from the record's start;
//!   anything else is stale;
//! - the **reopen** from one HEAD: the object is at the spool's start (send everything), or holds a prefix of the
//!   spooled bytes (its answer was lost: verify the prefix by CRC and skip it); anything else is a
//!   [`Error::SpoolMismatch`] and the spool is left as it is.

use crate::append::ObjectHead;
#[cfg(test)]
use crate::crc64;
use crate::error::Error;
use crate::response::ObjectType;
use crate::strings::debug_quoted;
use crate::validate::{self, IntegerInput, MAX_OBJECT_SIZE};

/// The most bytes a spool holds by default (`maxSpool`): 4 GiB, most of OSS's 5 GiB object limit; the
/// browser's storage quota usually ends a spool before this.
pub(crate) const DEFAULT_MAX_SPOOL: u64 = 4 << 30;
/// The longest spool id.
pub(crate) const MAX_ID_LEN: usize = 128;
/// The longest `spoolDir`.
pub(crate) const MAX_DIR_LEN: usize = 4096;
/// The record's name among a spool's entries.
pub(crate) const RECORD_NAME: &str = "record";

const SEGMENT_PREFIX: &str = "s-";
const FORMAT_LINE: &str = "oss-append-spool 1";

/// Checks an app's spool id: 1 to 128 of `A-Z a-z 0-9 . _ -`, not starting with a dot (it names a directory).
///
/// # Errors
/// `InvalidArgument` naming `options.spool` and what is accepted.
pub(crate) fn check_id(id: &str) -> Result<(), Error> {
    let accepted = "1 to 128 characters of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.'";
    let bad = id.is_empty()
        || id.len() > MAX_ID_LEN
        || id.starts_with('.')
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if bad {
        return Err(Error::invalid(
            "options.spool",
            format!(
                "{} is not a spool id; {accepted} are accepted",
                debug_quoted(id)
            ),
        ));
    }
    Ok(())
}

/// Checks `spoolDir`: a non-empty path of at most 4096 characters without NUL.
///
/// # Errors
/// `InvalidArgument` naming `what`.
pub(crate) fn check_dir(what: &str, dir: &str) -> Result<(), Error> {
    if dir.is_empty() || dir.len() > MAX_DIR_LEN || dir.contains('\0') {
        return Err(Error::invalid(
            what,
            format!(
                "{} is not a directory path; a non-empty path of at most {MAX_DIR_LEN} characters without NUL is accepted",
                debug_quoted(dir)
            ),
        ));
    }
    Ok(())
}

/// Reads `options.maxSpool`: bytes, from 1 to 5 GiB; default [`DEFAULT_MAX_SPOOL`].
///
/// # Errors
/// `InvalidArgument` naming `options.maxSpool`.
pub(crate) fn max_spool(input: Option<&IntegerInput>) -> Result<u64, Error> {
    match input {
        Some(v) => validate::parse_integer("options.maxSpool", v, 1, MAX_OBJECT_SIZE),
        None => Ok(DEFAULT_MAX_SPOOL),
    }
}

/// Where a spooled appender starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SpoolStart {
    /// At this position, whose CRC-64 is known.
    At(u64, u64),
    /// Where a HEAD finds the object (an existing spool then checks that it matches).
    FromHead,
}

/// Decides where a spooled appender starts. A new spool given a `position` starts there, which needs the
/// object's CRC-64 there (`known_crc`: `initCrc64` or the client's own record; 0 at position 0); an
/// existing spool, or one given no position, continues where the object ends.
///
/// # Errors
/// `InvalidArgument` naming `options.position` for a new spool at a position whose CRC-64 is unknown.
pub(crate) fn spool_start(
    position: Option<u64>,
    spool_exists: bool,
    known_crc: Option<u64>,
) -> Result<SpoolStart, Error> {
    let Some(p) = position.filter(|_| !spool_exists) else {
        return Ok(SpoolStart::FromHead);
    };
    match known_crc.or((p == 0).then_some(0)) {
        Some(crc) => Ok(SpoolStart::At(p, crc)),
        None => Err(Error::invalid(
            "options.position",
            format!("a new spool starting at {p} must know the object's CRC-64 there: pass initCrc64, or leave position out to continue where the object ends"),
        )),
    }
}

/// Whether a write of `length` bytes fits in a spool holding `unconfirmed` bytes under `max_spool`.
///
/// # Errors
/// [`Error::SpoolFull`] (code `BufferFull`) naming the limit.
pub(crate) fn check_room(unconfirmed: u64, length: u64, max_spool: u64) -> Result<(), Error> {
    match unconfirmed.checked_add(length) {
        Some(total) if total <= max_spool => Ok(()),
        total => Err(Error::SpoolFull {
            length,
            reason: format!(
                "it would hold {} unconfirmed bytes, over maxSpool ({max_spool})",
                total.map_or_else(|| "too many".to_owned(), |t| t.to_string())
            ),
        }),
    }
}

/// What a spool remembers besides its bytes: where they go and where they start. Never a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SpoolRecord {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// The endpoint the client addressed (its origin, without credentials).
    pub endpoint: String,
    /// The object's length where the spooled bytes start: everything before it is confirmed on OSS.
    pub start_position: u64,
    /// The object's CRC-64 at `start_position`.
    pub start_crc: u64,
    /// When the record was written, in ms since the Unix epoch (the caller's clock).
    pub updated_at_ms: u64,
}

impl SpoolRecord {
    /// The record as text: a format line, then `name=value` lines with percent-encoded strings.
    pub(crate) fn encode(&self) -> String {
        format!(
            "{FORMAT_LINE}\nbucket={}\nkey={}\nendpoint={}\nstart={}\ncrc64={}\nupdated={}\n",
            escape(&self.bucket),
            escape(&self.key),
            escape(&self.endpoint),
            self.start_position,
            self.start_crc,
            self.updated_at_ms
        )
    }

    /// Reads a record written by [`encode`](Self::encode).
    ///
    /// # Errors
    /// `SpoolMismatch` saying what is wrong with it (another format, a missing or unreadable field).
    pub(crate) fn decode(text: &str) -> Result<Self, Error> {
        let mut lines = text.lines();
        if lines.next() != Some(FORMAT_LINE) {
            return Err(corrupt(
                "its record is not an oss-append spool record (version 1)",
            ));
        }
        let mut fields: Vec<(&str, &str)> = Vec::new();
        for line in lines.filter(|l| !l.is_empty()) {
            let (name, value) = line
                .split_once('=')
                .ok_or_else(|| corrupt("its record has a line without '='"))?;
            fields.push((name, value));
        }
        let get = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .ok_or_else(|| corrupt(&format!("its record has no {name}")))
        };
        let text = |name: &str| {
            get(name).and_then(|v| {
                unescape(v).ok_or_else(|| corrupt(&format!("its {name} is not UTF-8")))
            })
        };
        let number = |name: &str| {
            get(name).and_then(|v| {
                v.parse::<u64>()
                    .map_err(|_| corrupt(&format!("its {name} is not a number")))
            })
        };
        Ok(Self {
            bucket: text("bucket")?,
            key: text("key")?,
            endpoint: text("endpoint")?,
            start_position: number("start")?,
            start_crc: number("crc64")?,
            updated_at_ms: number("updated")?,
        })
    }
}

fn escape(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn unescape(s: &str) -> Option<String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

fn corrupt(reason: &str) -> Error {
    Error::SpoolMismatch {
        reason: format!("the spool is unreadable: {reason}"),
        object_length: None,
        spool_start: 0,
        spool_end: 0,
    }
}

/// A stored run of spooled bytes: `len` bytes of the object from `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Segment {
    /// Where its bytes go in the object.
    pub offset: u64,
    /// How many bytes it holds.
    pub len: u64,
}

impl Segment {
    /// The object offset just past it.
    pub(crate) fn end(&self) -> u64 {
        self.offset + self.len
    }

    /// Its entry name: `s-<offset>-<len>`, so a listing alone tells what each entry should hold.
    pub(crate) fn name(&self) -> String {
        format!("{SEGMENT_PREFIX}{}-{}", self.offset, self.len)
    }

    /// The segment an entry name stands for, if it is one.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        let (offset, len) = name.strip_prefix(SEGMENT_PREFIX)?.split_once('-')?;
        let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !plain(offset) || !plain(len) {
            return None;
        }
        let segment = Self {
            offset: offset.parse().ok()?,
            len: len.parse().ok()?,
        };
        (segment.len > 0 && segment.offset.checked_add(segment.len).is_some()).then_some(segment)
    }
}

/// The segments a write of `len` bytes at object offset `offset` is stored as: at most `max_len` bytes each,
/// so that the one segment straddling a confirmed position holds less than a part of confirmed bytes.
#[cfg(test)]
pub(crate) fn segments_for(offset: u64, len: u64, max_len: u64) -> Vec<Segment> {
    let max_len = max_len.max(1);
    let mut out = Vec::new();
    let mut at = offset;
    let end = offset + len;
    while at < end {
        let n = (end - at).min(max_len);
        out.push(Segment { offset: at, len: n });
        at += n;
    }
    out
}

/// One segment to store and where its bytes come from: `(write index, from, to)` ranges of the writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegmentPlan {
    /// The segment.
    pub segment: Segment,
    /// Its bytes, in order: byte ranges of the batch's writes.
    pub pieces: Vec<(usize, u64, u64)>,
}

/// The segments a batch of contiguous writes (their lengths, the first at object offset `offset`) is stored as:
/// writes that waited together share segments of at most `max_len` bytes, so that a backlog costs one storage
/// write per part rather than one per write.
pub(crate) fn batch_segments(offset: u64, lens: &[u64], max_len: u64) -> Vec<SegmentPlan> {
    let max_len = max_len.max(1);
    let mut plans: Vec<SegmentPlan> = Vec::new();
    let mut at = offset;
    for (i, &len) in lens.iter().enumerate() {
        let mut from = 0;
        while from < len {
            let open = plans
                .last()
                .is_some_and(|p| p.segment.len < max_len && p.segment.end() == at);
            if !open {
                plans.push(SegmentPlan {
                    segment: Segment { offset: at, len: 0 },
                    pieces: Vec::new(),
                });
            }
            let plan = plans.last_mut().expect("pushed");
            let n = (len - from).min(max_len - plan.segment.len);
            plan.pieces.push((i, from, from + n));
            plan.segment.len += n;
            from += n;
            at += n;
        }
    }
    plans
}

/// Whether a stored segment may go once OSS confirmed the object up to `confirmed`.
pub(crate) fn is_confirmed(segment: &Segment, confirmed: u64) -> bool {
    segment.end() <= confirmed
}

/// A segment of the spool and how many of its first bytes precede the spool's start (already confirmed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Piece {
    /// The stored segment.
    pub segment: Segment,
    /// Bytes at its head to skip.
    pub skip: u64,
}

/// What a spool's entries hold, from its record's start on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Survey {
    /// The segments that hold the spooled bytes, in order, contiguous from the start.
    pub pieces: Vec<Piece>,
    /// Where the spooled bytes end (the start when there are none).
    pub end: u64,
    /// Entries to delete: confirmed segments, incomplete ones (a crash while writing), everything after a
    /// gap, and leftovers of interrupted writes.
    pub stale: Vec<String>,
}

/// Surveys a spool's entries, `(name, stored size)`, against its record's start. Only a contiguous run of
/// complete segments from the start counts: a write counts as spooled once its segments are complete, and
/// they are written in order, so what follows a gap or an incomplete segment never counted.
pub(crate) fn survey(start: u64, entries: &[(String, u64)]) -> Survey {
    let mut segments: Vec<(Segment, &str, u64)> = Vec::new();
    let mut stale = Vec::new();
    for (name, size) in entries {
        if name == RECORD_NAME {
            continue;
        }
        match Segment::parse(name) {
            Some(s) => segments.push((s, name, *size)),
            None => stale.push(name.clone()),
        }
    }
    crate::sort::heap_sort(&mut segments);
    let mut pieces = Vec::new();
    let mut cursor = start;
    for (segment, name, size) in segments {
        // Sorted by offset, so once one does not continue the run (a gap, an incomplete one), none after does.
        let usable = size == segment.len && segment.offset <= cursor && segment.end() > cursor;
        if usable {
            pieces.push(Piece {
                segment,
                skip: cursor - segment.offset,
            });
            cursor = segment.end();
        } else {
            stale.push(name.to_owned());
        }
    }
    Survey {
        pieces,
        end: cursor,
        stale,
    }
}

/// What a reopen does after its HEAD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reopen {
    /// The object ends where the spool starts: send every spooled byte.
    SendAll,
    /// The object holds the first `len` spooled bytes (their answer was lost): stream them through CRC-64
    /// from the spool's start CRC, [`check_prefix`], and skip them.
    VerifyPrefix {
        /// How many spooled bytes the object already holds.
        len: u64,
    },
}

/// Decides a reopen from one HEAD of the object (`None`: it does not exist). `end` is where the spooled
/// bytes end ([`Survey::end`]).
///
/// # Errors
/// `SpoolMismatch` when the object does not continue the spool: shorter than its start, longer than its end,
/// another CRC at its start, not appendable, or missing although bytes before the start were confirmed. The
/// spool is left as it is.
pub(crate) fn reopen(
    record: &SpoolRecord,
    end: u64,
    head: Option<&ObjectHead>,
) -> Result<Reopen, Error> {
    let start = record.start_position;
    let mismatch = |reason: String, object_length: Option<u64>| Error::SpoolMismatch {
        reason,
        object_length,
        spool_start: start,
        spool_end: end,
    };
    let Some(head) = head else {
        // Nothing ever landed: a spool that starts at 0 with nothing confirmed is whole.
        return if start == 0 {
            Ok(Reopen::SendAll)
        } else {
            Err(mismatch("the object no longer exists".into(), None))
        };
    };
    let length = Some(head.length);
    if head.object_type != ObjectType::Appendable {
        return Err(mismatch(
            format!(
                "the object is not appendable (type {})",
                head.object_type.as_str()
            ),
            length,
        ));
    }
    let Some(crc) = head.crc64 else {
        return Err(mismatch(
            "the HEAD did not expose x-oss-hash-crc64ecma, so the object cannot be checked".into(),
            length,
        ));
    };
    if head.length < start {
        return Err(mismatch(
            "the object is shorter than the spool's start (it was truncated or replaced)".into(),
            length,
        ));
    }
    if head.length > end {
        return Err(mismatch(
            "the object is longer than everything spooled: another writer appended".into(),
            length,
        ));
    }
    if head.length == start {
        return if crc == record.start_crc {
            Ok(Reopen::SendAll)
        } else {
            Err(mismatch(
                format!(
                    "the object's CRC-64 {crc} differs from the spool's {} at its start: it was rewritten",
                    record.start_crc
                ),
                length,
            ))
        };
    }
    Ok(Reopen::VerifyPrefix {
        len: head.length - start,
    })
}

/// Checks the prefix a [`Reopen::VerifyPrefix`] asked for: `prefix_crc` is the CRC-64 of the object's first
/// `head.length` bytes as the spool has them (the record's start CRC chained over the prefix's bytes).
///
/// # Errors
/// `SpoolMismatch` when the object holds other bytes than the spool there (another writer appended).
pub(crate) fn check_prefix(
    record: &SpoolRecord,
    end: u64,
    head: &ObjectHead,
    prefix_crc: u64,
) -> Result<(), Error> {
    if head.crc64 == Some(prefix_crc) {
        return Ok(());
    }
    Err(Error::SpoolMismatch {
        reason: format!(
            "the object's CRC-64 {} differs from the spooled bytes' {prefix_crc} at its length: another writer appended",
            head.crc64.map_or_else(|| "(hidden)".to_owned(), |c| c.to_string())
        ),
        object_length: Some(head.length),
        spool_start: record.start_position,
        spool_end: end,
    })
}

/// The CRC-64 a prefix check compares: `start_crc` chained over `bytes` (the binding streams the prefix in
/// pieces through [`crc64::Crc64`] from this).
#[cfg(test)]
pub(crate) fn chain_crc(start_crc: u64, bytes: &[u8]) -> u64 {
    crc64::combine(start_crc, crc64::crc64(bytes), bytes.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crc64::crc64;

    fn record(start: u64, crc: u64) -> SpoolRecord {
        SpoolRecord {
            bucket: "examplebucket".into(),
            key: "rec/a b%.webm".into(),
            endpoint: "http://127.0.0.1:9000".into(),
            start_position: start,
            start_crc: crc,
            updated_at_ms: 1_700_000_000_000,
        }
    }

    fn head(length: u64, crc: Option<u64>) -> ObjectHead {
        ObjectHead {
            length,
            crc64: crc,
            object_type: ObjectType::Appendable,
            request_id: None,
            delete_marker: false,
        }
    }

    #[test]
    fn ids_dirs_and_limits_are_checked() {
        for ok in ["rec-42", "a", "A.b_c-9", &"x".repeat(128)] {
            assert_eq!(check_id(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            ".hidden",
            "a/b",
            "..",
            "a b",
            "é",
            &"x".repeat(129),
            "a\0",
        ] {
            let e = check_id(bad).unwrap_err();
            assert_eq!(e.code(), "InvalidArgument", "{bad}");
            assert!(
                e.to_string().contains("options.spool") && e.to_string().contains("A-Z"),
                "{e}"
            );
        }
        assert!(check_dir("options.spoolDir", "/var/lib/app").is_ok());
        for bad in ["", "a\0b", &"d".repeat(4097)] {
            assert_eq!(
                check_dir("options.spoolDir", bad).unwrap_err().code(),
                "InvalidArgument"
            );
        }
        assert_eq!(max_spool(None), Ok(DEFAULT_MAX_SPOOL));
        assert_eq!(max_spool(Some(&IntegerInput::Number(4096.0))), Ok(4096));
        for bad in [0.0, -1.0, 1.5, f64::NAN, 6.0 * (1u64 << 30) as f64] {
            let e = max_spool(Some(&IntegerInput::Number(bad))).unwrap_err();
            assert!(e.to_string().contains("options.maxSpool"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_write_fits_under_max_spool_or_is_refused_as_buffer_full() {
        let table: &[(u64, u64, u64, bool)] = &[
            (0, 10, 10, true),
            (5, 5, 10, true),
            (5, 6, 10, false),
            (0, 11, 10, false),
            (u64::MAX, 1, u64::MAX, false),
            (0, 0, 1, true),
        ];
        for &(unconfirmed, length, max, fits) in table {
            let got = check_room(unconfirmed, length, max);
            assert_eq!(got.is_ok(), fits, "{unconfirmed} + {length} under {max}");
            if let Err(e) = got {
                assert_eq!(
                    (e.code(), e.name().as_str()),
                    ("BufferFull", "BufferFullError")
                );
                assert!(e.to_string().contains("maxSpool"), "{e}");
            }
        }
    }

    #[test]
    fn the_record_round_trips_and_holds_no_more_than_its_fields() {
        let r = record(123, u64::MAX);
        let text = r.encode();
        assert_eq!(SpoolRecord::decode(&text), Ok(r.clone()));
        assert!(text.contains("key=rec%2Fa%20b%25%2Ewebm"), "{text}");
        assert_eq!(text.lines().count(), 7);
        let table: &[(&str, &str)] = &[
            ("", "not an oss-append spool record"),
            ("oss-append-spool 2\n", "not an oss-append spool record"),
            ("oss-append-spool 1\nbucket=b\n", "has no key"),
            ("oss-append-spool 1\nnonsense\n", "without '='"),
            (
                "oss-append-spool 1\nbucket=b\nkey=k\nendpoint=e\nstart=-1\ncrc64=0\nupdated=0\n",
                "start is not a number",
            ),
            (
                "oss-append-spool 1\nbucket=%FF\nkey=k\nendpoint=e\nstart=1\ncrc64=0\nupdated=0\n",
                "bucket is not UTF-8",
            ),
        ];
        for (text, want) in table {
            let e = SpoolRecord::decode(text).unwrap_err();
            assert_eq!(e.code(), "SpoolMismatch");
            assert!(e.to_string().contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn segment_names_round_trip_and_reject_other_entries() {
        let s = Segment {
            offset: 1 << 40,
            len: 7,
        };
        assert_eq!(s.name(), "s-1099511627776-7");
        assert_eq!(Segment::parse(&s.name()), Some(s));
        for other in [
            "record",
            "s-1",
            "s--1-2",
            "s-1-0",
            "s-1-+2",
            "s-a-2",
            "x-1-2",
            "s-1-2.tmp",
            "s-18446744073709551615-1",
        ] {
            assert_eq!(Segment::parse(other), None, "{other}");
        }
    }

    #[test]
    fn writes_split_into_segments_of_at_most_a_part() {
        type Row = (u64, u64, u64, &'static [(u64, u64)]);
        let table: &[Row] = &[
            (0, 10, 4, &[(0, 4), (4, 4), (8, 2)]),
            (100, 3, 8, &[(100, 3)]),
            (5, 8, 8, &[(5, 8)]),
            (5, 0, 8, &[]),
            (0, 2, 0, &[(0, 1), (1, 1)]),
        ];
        for &(offset, len, max, want) in table {
            let got: Vec<(u64, u64)> = segments_for(offset, len, max)
                .iter()
                .map(|s| (s.offset, s.len))
                .collect();
            assert_eq!(got, want, "{offset} {len} {max}");
        }
    }

    #[test]
    fn writes_that_waited_together_share_segments_of_at_most_a_part() {
        type Plan = (u64, u64, &'static [(usize, u64, u64)]);
        let table: &[(u64, &[u64], u64, &[Plan])] = &[
            (
                0,
                &[3, 3, 3],
                8,
                &[
                    (0, 8, &[(0, 0, 3), (1, 0, 3), (2, 0, 2)]),
                    (8, 1, &[(2, 2, 3)]),
                ],
            ),
            (
                10,
                &[20],
                8,
                &[
                    (10, 8, &[(0, 0, 8)]),
                    (18, 8, &[(0, 8, 16)]),
                    (26, 4, &[(0, 16, 20)]),
                ],
            ),
            (0, &[8, 1], 8, &[(0, 8, &[(0, 0, 8)]), (8, 1, &[(1, 0, 1)])]),
            (5, &[0, 2, 0], 8, &[(5, 2, &[(1, 0, 2)])]),
            (0, &[], 8, &[]),
        ];
        for &(offset, lens, max, want) in table {
            let got: Vec<Plan> = batch_segments(offset, lens, max)
                .into_iter()
                .map(|p| {
                    (
                        p.segment.offset,
                        p.segment.len,
                        &*Box::leak(p.pieces.into_boxed_slice()),
                    )
                })
                .collect();
            assert_eq!(got, want, "{offset} {lens:?} {max}");
        }
    }

    fn entries(list: &[(&str, u64)]) -> Vec<(String, u64)> {
        list.iter().map(|(n, s)| ((*n).to_owned(), *s)).collect()
    }

    #[test]
    fn a_survey_keeps_the_contiguous_complete_run_from_the_start() {
        struct Case {
            name: &'static str,
            start: u64,
            entries: &'static [(&'static str, u64)],
            pieces: &'static [(u64, u64, u64)],
            end: u64,
            stale: &'static [&'static str],
        }
        let cases = [
            Case {
                name: "empty",
                start: 7,
                entries: &[("record", 90)],
                pieces: &[],
                end: 7,
                stale: &[],
            },
            Case {
                name: "in order, listed out of order",
                start: 0,
                entries: &[("s-10-5", 5), ("record", 1), ("s-0-10", 10)],
                pieces: &[(0, 10, 0), (10, 5, 0)],
                end: 15,
                stale: &[],
            },
            Case {
                name: "a segment straddles the start; confirmed ones are stale",
                start: 12,
                entries: &[("s-0-10", 10), ("s-10-5", 5), ("s-15-5", 5)],
                pieces: &[(10, 5, 2), (15, 5, 0)],
                end: 20,
                stale: &["s-0-10"],
            },
            Case {
                name: "an incomplete segment (a crash while writing) ends the run",
                start: 0,
                entries: &[("s-0-4", 4), ("s-4-4", 0), ("s-8-4", 4)],
                pieces: &[(0, 4, 0)],
                end: 4,
                stale: &["s-4-4", "s-8-4"],
            },
            Case {
                name: "a gap ends the run",
                start: 0,
                entries: &[("s-0-4", 4), ("s-6-4", 4)],
                pieces: &[(0, 4, 0)],
                end: 4,
                stale: &["s-6-4"],
            },
            Case {
                name: "nothing at the start: nothing counts",
                start: 4,
                entries: &[("s-5-4", 4)],
                pieces: &[],
                end: 4,
                stale: &["s-5-4"],
            },
            Case {
                name: "leftovers of an interrupted rename and strangers are stale",
                start: 0,
                entries: &[("s-0-4.tmp", 2), ("s-0-4", 4), ("junk", 3)],
                pieces: &[(0, 4, 0)],
                end: 4,
                stale: &["s-0-4.tmp", "junk"],
            },
            Case {
                name: "a duplicate under another length is used only past what is covered",
                start: 0,
                entries: &[("s-0-4", 4), ("s-0-8", 8), ("s-8-2", 2)],
                pieces: &[(0, 4, 0), (0, 8, 4), (8, 2, 0)],
                end: 10,
                stale: &[],
            },
        ];
        for c in cases {
            let got = survey(c.start, &entries(c.entries));
            let pieces: Vec<(u64, u64, u64)> = got
                .pieces
                .iter()
                .map(|p| (p.segment.offset, p.segment.len, p.skip))
                .collect();
            assert_eq!(pieces, c.pieces, "{}", c.name);
            assert_eq!(got.end, c.end, "{}", c.name);
            let mut stale = got.stale.clone();
            stale.sort();
            let mut want: Vec<String> = c.stale.iter().map(|s| (*s).to_owned()).collect();
            want.sort();
            assert_eq!(stale, want, "{}", c.name);
        }
    }

    #[test]
    fn a_trimmed_spool_stays_within_the_unconfirmed_bytes_plus_one_part() {
        // Writes of uneven sizes, parts confirmed at uneven positions: after each confirm the stored bytes
        // never pass the unconfirmed ones plus one part.
        let part = 1000;
        let mut rng = crate::test_rng::XorShift(7);
        let mut below = |n: u64| rng.next() % n;
        let mut stored: Vec<Segment> = Vec::new();
        let mut written = 0;
        let mut confirmed = 0;
        for _ in 0..2000 {
            let len = below(3 * part) + 1;
            stored.extend(segments_for(written, len, part));
            written += len;
            if below(3) == 0 {
                confirmed += below(written - confirmed + 1);
                stored.retain(|s| !is_confirmed(s, confirmed));
                let on_disk: u64 = stored.iter().map(|s| s.len).sum();
                assert!(
                    on_disk <= written - confirmed + part,
                    "{on_disk} > {} + {part}",
                    written - confirmed
                );
                let names: Vec<(String, u64)> = stored.iter().map(|s| (s.name(), s.len)).collect();
                let s = survey(confirmed, &names);
                assert_eq!(s.end, written);
                assert!(s.stale.is_empty());
            }
        }
    }

    #[test]
    fn a_reopen_decides_from_one_head() {
        let bytes = b"0123456789";
        let start_crc = crc64(b"abc");
        let r = record(3, start_crc);
        let end = 13;
        let appendable = |len, crc| Some(head(len, Some(crc)));
        let mut normal = head(3, Some(start_crc));
        normal.object_type = ObjectType::Normal;
        struct Case {
            name: &'static str,
            record: SpoolRecord,
            head: Option<ObjectHead>,
            want: Result<Reopen, &'static str>,
        }
        let cases = [
            Case {
                name: "at the start",
                record: r.clone(),
                head: appendable(3, start_crc),
                want: Ok(Reopen::SendAll),
            },
            Case {
                name: "a prefix landed",
                record: r.clone(),
                head: appendable(7, 1),
                want: Ok(Reopen::VerifyPrefix { len: 4 }),
            },
            Case {
                name: "everything landed",
                record: r.clone(),
                head: appendable(13, 1),
                want: Ok(Reopen::VerifyPrefix { len: 10 }),
            },
            Case {
                name: "another CRC at the start",
                record: r.clone(),
                head: appendable(3, start_crc ^ 1),
                want: Err("differs from the spool's"),
            },
            Case {
                name: "shorter",
                record: r.clone(),
                head: appendable(2, 0),
                want: Err("shorter"),
            },
            Case {
                name: "longer than the spool",
                record: r.clone(),
                head: appendable(14, 0),
                want: Err("another writer"),
            },
            Case {
                name: "not appendable",
                record: r.clone(),
                head: Some(normal),
                want: Err("not appendable"),
            },
            Case {
                name: "hidden CRC",
                record: r.clone(),
                head: Some(head(3, None)),
                want: Err("x-oss-hash-crc64ecma"),
            },
            Case {
                name: "missing after confirmed bytes",
                record: r.clone(),
                head: None,
                want: Err("no longer exists"),
            },
            Case {
                name: "missing, nothing ever landed",
                record: record(0, 0),
                head: None,
                want: Ok(Reopen::SendAll),
            },
        ];
        for c in cases {
            let got = reopen(&c.record, end, c.head.as_ref());
            match (got, c.want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{}", c.name),
                (Err(e), Err(want)) => {
                    assert_eq!(e.code(), "SpoolMismatch", "{}", c.name);
                    assert_eq!(e.name(), "SpoolMismatchError");
                    assert!(
                        e.to_string().contains(want) && e.to_string().contains("kept"),
                        "{}: {e}",
                        c.name
                    );
                }
                (got, want) => panic!("{}: got {got:?}, want {want:?}", c.name),
            }
        }
        // The prefix check: the landed prefix's CRC, chained from the start, must be the object's.
        let landed = head(7, Some(crc64(b"abc0123")));
        assert_eq!(chain_crc(start_crc, &bytes[..4]), crc64(b"abc0123"));
        assert_eq!(
            check_prefix(&r, end, &landed, chain_crc(start_crc, &bytes[..4])),
            Ok(())
        );
        let other = head(7, Some(crc64(b"abcXXXX")));
        let e = check_prefix(&r, end, &other, chain_crc(start_crc, &bytes[..4])).unwrap_err();
        assert_eq!(e.code(), "SpoolMismatch");
        assert!(e.to_string().contains("another writer"), "{e}");
    }

    #[test]
    fn a_new_spool_starts_where_asked_only_with_the_crc_there() {
        assert_eq!(spool_start(None, false, None), Ok(SpoolStart::FromHead));
        assert_eq!(spool_start(Some(5), true, None), Ok(SpoolStart::FromHead));
        assert_eq!(spool_start(Some(0), false, None), Ok(SpoolStart::At(0, 0)));
        assert_eq!(
            spool_start(Some(5), false, Some(9)),
            Ok(SpoolStart::At(5, 9))
        );
        match spool_start(Some(5), false, None) {
            Err(Error::InvalidArgument { what, reason }) => {
                assert_eq!(what, "options.position");
                assert!(reason.contains("pass initCrc64"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}

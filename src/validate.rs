//! Input checks with messages that say what was wrong and what is accepted: names, positions, sizes, headers.

use crate::error::Error;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// The largest appendable object OSS keeps: 5 GiB.
pub const MAX_OBJECT_SIZE: u64 = 5 * GIB;
/// The largest `position` an append can start at (an append there can only add zero bytes).
pub const MAX_POSITION: u64 = MAX_OBJECT_SIZE;
/// How much one append request carries by default when an input is split into several appends.
pub const DEFAULT_PART_SIZE: u64 = 8 * MIB;
/// The smallest `partSize`: one byte (tiny parts are slow but valid; tests use them).
pub const MIN_PART_SIZE: u64 = 1;
/// The largest `partSize`: 4 GiB less one byte. A part's body is one JS byte array or Blob slice whose length
/// crosses the bindings as a 32-bit integer, so this is the most one request can carry without truncation;
/// larger inputs (up to [`MAX_OBJECT_SIZE`]) go out in several parts.
pub const MAX_PART_SIZE: u64 = u32::MAX as u64;
/// How much a live appender gathers before it sends, unless `minPartSize` says otherwise.
///
/// 64 KiB keeps the request count low for video while audio-only recordings still reach OSS every few seconds.
pub const DEFAULT_MIN_PART_SIZE: u64 = 64 * KIB;
/// The longest object key OSS accepts, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1023;
/// The total size OSS allows for all `x-oss-meta-*` header names and values of one object.
pub const MAX_META_BYTES: usize = 8 * 1024;
/// The longest timeout or interval accepted, in ms: the largest delay JavaScript timers honour
/// (`setTimeout` fires at once for anything longer).
pub const MAX_TIMER_MS: u64 = 2_147_483_647;
/// The largest `retryMax` accepted.
pub const MAX_RETRY_MAX: u64 = 100;

/// The bucket naming rule, as error messages state it.
const BUCKET_RULE: &str = concat!(
    "a bucket name has 3 to 63 characters: lowercase letters, digits and hyphens, ",
    "starting and ending with a letter or digit"
);
/// How JS numbers may arrive, as error messages state it.
const INTEGER_FORMS: &str = "as a number, a decimal string or a bigint";

/// An integer option as the JS layer hands it over: a JS number, a string or a bigint.
#[derive(Clone, Debug, PartialEq)]
pub enum IntegerInput {
    /// A JS number.
    Number(f64),
    /// A JS string, e.g. a `nextAppendPosition` from an earlier result.
    Text(String),
    /// A JS bigint in decimal (`bigint.toString()`), which may exceed every Rust integer type.
    BigInt(String),
}

/// The forms `options.position` may take.
pub type PositionInput = IntegerInput;

impl From<u64> for IntegerInput {
    fn from(value: u64) -> Self {
        const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
        if value <= MAX_SAFE_INTEGER {
            // Exact below 2^53.
            Self::Number(value as f64)
        } else {
            Self::BigInt(value.to_string())
        }
    }
}

impl From<f64> for IntegerInput {
    fn from(value: f64) -> Self {
        Self::Number(value)
    }
}

impl From<&str> for IntegerInput {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

/// A short, escaped, quoted rendering of user input for error messages; long input is cut so that a
/// huge value never ends up in a message.
pub(crate) fn preview(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut out = String::from("'");
    let mut chars = text.chars();
    for c in chars.by_ref().take(MAX_CHARS) {
        out.extend(c.escape_debug());
    }
    out.push('\'');
    if chars.next().is_some() {
        out.push_str(&format!("… ({} bytes in all)", text.len()));
    }
    out
}

/// `5368709120 (5 GiB)`: a byte count with its binary unit when it is a round one.
fn bytes(n: u64) -> String {
    for (unit, name) in [(GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")] {
        if n >= unit && n % unit == 0 {
            return format!("{n} ({} {name})", n / unit);
        }
    }
    n.to_string()
}

/// A finite JS number as JS would write it, for messages: `7`, `-1`, `1.5`. Written by hand because
/// Rust's float formatting (`f64::to_string`) made the shipped .wasm 8.3 kB larger gzipped (20 kB raw).
fn show_number(n: f64) -> String {
    let sign = if n < 0.0 { "-" } else { "" };
    let a = n.abs();
    if a >= 1e15 {
        return format!("{sign}{}", u128_decimal(a as u128));
    }
    let whole = a.trunc() as u64;
    let micros = ((a - a.trunc()) * 1e6).round() as u64;
    let (whole, micros) = if micros == 1_000_000 {
        (whole + 1, 0)
    } else {
        (whole, micros)
    };
    if micros == 0 {
        return format!("{sign}{whole}");
    }
    let fraction = format!("{micros:06}");
    format!("{sign}{whole}.{}", fraction.trim_end_matches('0'))
}

/// `n` in decimal, by long division of its 32-bit limbs: Rust's `u128` formatting (and the `u128`
/// division it would take) adds over a kilobyte to the wasm.
fn u128_decimal(n: u128) -> String {
    let mut limbs = [96, 64, 32, 0].map(|shift| (n >> shift) as u32);
    let mut digits = Vec::new();
    loop {
        let mut rem = 0;
        for limb in &mut limbs {
            let part = rem << 32 | u64::from(*limb);
            *limb = (part / 10) as u32;
            rem = part % 10;
        }
        digits.push(char::from(b'0' + rem as u8));
        if limbs == [0; 4] {
            break;
        }
    }
    digits.iter().rev().collect()
}

/// What [`parse_integer`]-style checks report when the value is wrong.
enum IntegerProblem {
    Negative,
    NotWhole,
    NotANumber,
    Empty,
    TooLarge,
}

/// Reads an integer input as a u64, or says why it is not one; values past u64 report `TooLarge`.
fn integer_value(input: &IntegerInput) -> Result<u64, (IntegerProblem, String)> {
    match input {
        IntegerInput::Number(n) => {
            let shown = if n.is_nan() {
                "NaN".to_owned()
            } else if n.is_infinite() {
                if *n > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
            } else {
                show_number(*n)
            };
            if n.is_nan() {
                Err((IntegerProblem::NotANumber, shown))
            } else if *n < 0.0 {
                Err((IntegerProblem::Negative, shown))
            } else if n.is_infinite() || *n >= 18_446_744_073_709_551_616.0 {
                Err((IntegerProblem::TooLarge, shown))
            } else if n.fract() != 0.0 {
                Err((IntegerProblem::NotWhole, shown))
            } else {
                // -0.0 lands here too and reads as 0, as in JavaScript.
                Ok(*n as u64)
            }
        }
        IntegerInput::Text(text) | IntegerInput::BigInt(text) => {
            let trimmed = text.trim();
            let shown = preview(trimmed);
            if trimmed.is_empty() {
                return Err((IntegerProblem::Empty, shown));
            }
            let (negative, digits) = match trimmed.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, trimmed),
            };
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                let problem = if digits.contains(['.', 'e', 'E']) {
                    IntegerProblem::NotWhole
                } else {
                    IntegerProblem::NotANumber
                };
                return Err((problem, shown));
            }
            if negative && digits.bytes().any(|b| b != b'0') {
                return Err((IntegerProblem::Negative, shown));
            }
            digits
                .parse::<u64>()
                .map_err(|_| (IntegerProblem::TooLarge, shown))
        }
    }
}

/// Checks an integer input against `min..=max`, or describes the problem (`-1 is negative`).
fn in_range(input: &IntegerInput, min: u64, max: u64) -> Result<u64, String> {
    match integer_value(input) {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(n) if n < min => Err(format!("{n} is below the minimum")),
        Ok(n) => Err(format!("{n} is over the limit")),
        Err((kind, shown)) => Err(match kind {
            IntegerProblem::Negative => format!("{shown} is negative"),
            IntegerProblem::NotWhole => format!("{shown} is not a whole number"),
            IntegerProblem::NotANumber => format!("{shown} is not a number"),
            IntegerProblem::Empty => "it is empty".to_owned(),
            IntegerProblem::TooLarge => format!("{shown} is over the limit"),
        }),
    }
}

/// Parses a non-negative integer between `min` and `max`; `show` renders the bounds in messages
/// (plain numbers, or byte counts with their unit).
fn parse_bounded(
    what: &str,
    input: &IntegerInput,
    min: u64,
    max: u64,
    show: fn(u64) -> String,
) -> Result<u64, Error> {
    in_range(input, min, max).map_err(|problem| {
        Error::invalid(
            what,
            format!(
                "{problem}; a whole number from {} to {} is accepted, {INTEGER_FORMS}",
                show(min),
                show(max)
            ),
        )
    })
}

/// Parses an integer option named `what` within `min..=max` (no units in messages).
///
/// # Errors
/// `InvalidArgument` naming `what` for NaN, infinities, fractions, negatives, junk text and values out of range.
pub fn parse_integer(what: &str, input: &IntegerInput, min: u64, max: u64) -> Result<u64, Error> {
    parse_bounded(what, input, min, max, |n| n.to_string())
}

/// Parses `options.position`: a whole number of bytes from 0 to [`MAX_POSITION`] (5 GiB).
///
/// Decimal strings may carry surrounding whitespace and leading zeros; signs other than `-0`, exponents,
/// fractions, hex and NaN are rejected.
///
/// # Errors
/// `InvalidArgument` (`position`) saying what was wrong and what is accepted.
pub fn parse_position(input: &PositionInput) -> Result<u64, Error> {
    parse_bounded("position", input, 0, MAX_POSITION, bytes)
}

/// Parses a part size option (`what` as the user spells it, e.g. `options.partSize`) within
/// [`MIN_PART_SIZE`]..=[`MAX_PART_SIZE`].
///
/// # Errors
/// `InvalidArgument` naming `what`.
pub fn parse_part_size(what: &str, input: &IntegerInput) -> Result<u64, Error> {
    parse_bounded(what, input, MIN_PART_SIZE, MAX_PART_SIZE, bytes)
}

/// The validated part sizes of an upload or a live appender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartSizes {
    /// The most one append request carries.
    pub part_size: u64,
    /// How much a live appender gathers before it sends (0: send whatever is buffered).
    pub min_part_size: u64,
}

impl PartSizes {
    /// Validates `options.partSize` and `options.minPartSize`, filling in defaults.
    ///
    /// `partSize` defaults to [`DEFAULT_PART_SIZE`]; `minPartSize` to [`DEFAULT_MIN_PART_SIZE`], lowered to
    /// `partSize` when that is smaller. `minPartSize` may be 0 and may not exceed `partSize`.
    ///
    /// # Errors
    /// `InvalidArgument` (`options.partSize` or `options.minPartSize`).
    pub fn from_options(
        part_size: Option<&IntegerInput>,
        min_part_size: Option<&IntegerInput>,
    ) -> Result<Self, Error> {
        let part = match part_size {
            Some(input) => parse_part_size("options.partSize", input)?,
            None => DEFAULT_PART_SIZE,
        };
        let min = match min_part_size {
            Some(input) => parse_bounded("options.minPartSize", input, 0, MAX_PART_SIZE, bytes)?,
            None => return Ok(Self::new_unchecked(part, DEFAULT_MIN_PART_SIZE.min(part))),
        };
        if min > part {
            let whose = if part_size.is_some() {
                "options.partSize"
            } else {
                "the default partSize"
            };
            return Err(Error::invalid(
                "options.minPartSize",
                format!(
                    "{} is larger than {whose}, {}; minPartSize must not exceed partSize (raise partSize too)",
                    bytes(min),
                    bytes(part)
                ),
            ));
        }
        Ok(Self::new_unchecked(part, min))
    }

    const fn new_unchecked(part_size: u64, min_part_size: u64) -> Self {
        Self {
            part_size,
            min_part_size,
        }
    }
}

impl Default for PartSizes {
    fn default() -> Self {
        Self::new_unchecked(DEFAULT_PART_SIZE, DEFAULT_MIN_PART_SIZE)
    }
}

/// The byte range `[start, end)` of the next part of an input of `total` bytes consumed up to `at`, at most
/// `part_size` bytes long (64-bit throughout: inputs reach 5 GiB); `None` once the input is exhausted.
pub fn next_part_range(at: u64, total: u64, part_size: u64) -> Option<(u64, u64)> {
    (at < total).then(|| (at, total.min(at.saturating_add(part_size.max(1)))))
}

/// Decodes an object name from its UTF-16 code units (a JS string), refusing lone surrogates: a lossy
/// conversion would store the object under another name (U+FFFD in place of the surrogate).
///
/// # Errors
/// `InvalidArgument` (`name`) naming the surrogate and its position.
pub fn decode_name(units: &[u16]) -> Result<String, Error> {
    let mut out = String::with_capacity(units.len());
    for (at, c) in char::decode_utf16(units.iter().copied()).enumerate() {
        match c {
            Ok(c) => out.push(c),
            Err(e) => {
                return Err(Error::invalid(
                    "name",
                    format!(
                        "it contains a lone surrogate (U+{:04X}) at character {}, which is not Unicode text; a \
                         name of well-formed Unicode (surrogates only in pairs) is accepted",
                        e.unpaired_surrogate(),
                        at + 1
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// Parses a timeout in ms (`what` as the user spells it): from 1 to [`MAX_TIMER_MS`].
///
/// Besides numbers, text with a unit is accepted as ali-oss does (`'60s'`, `'1.5m'`, `'500ms'`, `'1h'`).
///
/// # Errors
/// `InvalidArgument` naming `what`.
pub fn parse_timeout_ms(what: &str, input: &IntegerInput) -> Result<u64, Error> {
    parse_duration_ms(what, input, 1)
}

/// Parses an interval in ms (`what` as the user spells it): from 0 to [`MAX_TIMER_MS`], with the units of
/// [`parse_timeout_ms`].
///
/// # Errors
/// `InvalidArgument` naming `what`.
pub fn parse_interval_ms(what: &str, input: &IntegerInput) -> Result<u64, Error> {
    parse_duration_ms(what, input, 0)
}

fn parse_duration_ms(what: &str, input: &IntegerInput, min: u64) -> Result<u64, Error> {
    let result = match input {
        IntegerInput::Text(text) => {
            let shown = preview(text.trim());
            match duration_with_unit(text) {
                Some(ms) if ms.round() < min as f64 => Err(format!("{shown} is below the minimum")),
                Some(ms) if ms.round() > MAX_TIMER_MS as f64 => {
                    Err(format!("{shown} is over the limit"))
                }
                // In range, so the cast is exact.
                Some(ms) => Ok(ms.round() as u64),
                None => in_range(input, min, MAX_TIMER_MS).map_err(|problem| {
                    if problem.ends_with("not a number") || problem.ends_with("not a whole number")
                    {
                        format!("{shown} is not a duration")
                    } else {
                        problem
                    }
                }),
            }
        }
        _ => in_range(input, min, MAX_TIMER_MS),
    };
    result.map_err(|problem| {
        Error::invalid(
            what,
            format!(
                "{problem}; milliseconds from {min} to {MAX_TIMER_MS} are accepted, as a number or as text \
                 such as '60000', '60s', '1.5m' or '500ms'"
            ),
        )
    })
}

/// `'60s'` → 60000.0; `None` when the text has no unit (plain digits go through the integer path).
fn duration_with_unit(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let factor = match unit.trim_start().to_ascii_lowercase().as_str() {
        "ms" => 1.0,
        "s" | "sec" | "secs" => 1_000.0,
        "m" | "min" | "mins" => 60_000.0,
        "h" | "hr" | "hrs" => 3_600_000.0,
        _ => return None,
    };
    let valid = !number.is_empty()
        && number.matches('.').count() <= 1
        && number != "."
        && !number.starts_with('.')
        && !number.ends_with('.');
    if !valid {
        return None;
    }
    // Parsed by hand (digits, one optional fraction): Rust's float parser would add kilobytes to the wasm.
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.len() > 15 || fraction.len() > 9 {
        return Some(f64::INFINITY);
    }
    let digits = |t: &str| {
        t.bytes()
            .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'))
    };
    let scale = 10u64.pow(fraction.len() as u32);
    Some((digits(whole) * scale + digits(fraction)) as f64 * factor / scale as f64)
}

/// Checks that appending `length` bytes at `position` keeps the object within `limit` bytes
/// (normally [`MAX_OBJECT_SIZE`]).
///
/// # Errors
/// [`Error::ObjectTooLarge`] when `position + length` exceeds `limit`.
pub fn check_append_size(position: u64, length: u64, limit: u64) -> Result<(), Error> {
    match position.checked_add(length) {
        Some(end) if end <= limit => Ok(()),
        _ => Err(Error::ObjectTooLarge {
            position,
            length,
            limit,
        }),
    }
}

/// Checks a bucket name against OSS's rule: 3 to 63 characters, lowercase letters, digits and hyphens,
/// starting and ending with a letter or digit.
///
/// ali-oss also lets `_` through; OSS never creates such buckets, so they are rejected here with a
/// message that says so.
///
/// # Errors
/// `InvalidArgument` (`bucket`).
pub fn check_bucket(name: &str) -> Result<(), Error> {
    let fail = |problem: String| {
        Err(Error::invalid(
            "bucket",
            format!("{problem}; {BUCKET_RULE}"),
        ))
    };
    if name.is_empty() {
        return fail("it is empty".to_owned());
    }
    let shown = preview(name);
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return match c {
            'A'..='Z' => fail(format!("{shown} contains the uppercase letter '{c}'")),
            '_' => fail(format!(
                "{shown} contains '_', which OSS bucket names never have (ali-oss lets it through, OSS does not)"
            )),
            _ => fail(format!("{shown} contains '{}'", c.escape_debug())),
        };
    }
    let len = name.len();
    if !(3..=63).contains(&len) {
        return fail(format!("{shown} has {len} characters"));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return fail(format!("{shown} starts or ends with '-'"));
    }
    Ok(())
}

/// Turns an object name into the key OSS stores: one leading `/` is removed, as ali-oss does, then the
/// key is checked with [`check_key`].
///
/// # Errors
/// `InvalidArgument` (`name`).
pub fn normalize_key(name: &str) -> Result<String, Error> {
    match name.strip_prefix('/') {
        Some("") => Err(Error::invalid(
            "name",
            "'/' is empty once its leading '/' is removed; an object name of 1 to 1023 bytes is accepted",
        )),
        Some(rest) => check_key(rest).map(|()| rest.to_owned()),
        None => check_key(name).map(|()| name.to_owned()),
    }
}

/// Checks an object key (after [`normalize_key`]): 1 to 1023 bytes of UTF-8, not starting with `/` or `\`,
/// no control characters, and no `.` or `..` path segments.
///
/// OSS itself rejects only CR and LF among control characters; all C0 controls and DEL are rejected here
/// because they are mistakes in practice and break logs and tools. `.` and `..` segments are rejected
/// because URL parsers (every `fetch`) resolve them, even percent-encoded, so such an object could not
/// be addressed.
///
/// # Errors
/// `InvalidArgument` (`name`).
pub fn check_key(key: &str) -> Result<(), Error> {
    const ACCEPTED: &str =
        "an object name of 1 to 1023 bytes of UTF-8 without control characters is accepted";
    let fail = |problem: String| Err(Error::invalid("name", format!("{problem}; {ACCEPTED}")));
    if key.is_empty() {
        return fail("it is empty".to_owned());
    }
    let shown = preview(key);
    if key.len() > MAX_KEY_BYTES {
        return fail(format!("{shown} is {} bytes long", key.len()));
    }
    if key.starts_with('/') {
        return fail(format!(
            "{shown} starts with '/' (one leading '/' is removed, not more)"
        ));
    }
    if key.starts_with('\\') {
        return fail(format!(
            "{shown} starts with a backslash, which OSS does not allow"
        ));
    }
    if let Some((at, c)) = key.char_indices().find(|(_, c)| c.is_ascii_control()) {
        let what = match c {
            '\r' | '\n' => "a line break",
            _ => "a control character",
        };
        return fail(format!(
            "{shown} contains {what} ('{}') at byte {at}",
            c.escape_debug()
        ));
    }
    if key.split('/').any(|seg| seg == "." || seg == "..") {
        return fail(format!(
            "{shown} has a '.' or '..' path segment, which URL parsers resolve away, so the object could \
             not be addressed"
        ));
    }
    Ok(())
}

/// Header names the client sets itself (signing and transport); a caller may not supply them.
const RESERVED_HEADERS: [(&str, &str); 9] = [
    ("authorization", "the client signs every request"),
    ("host", "it comes from the endpoint"),
    ("content-length", "the transport sets it from the body"),
    ("transfer-encoding", "the transport decides it"),
    ("connection", "the transport decides it"),
    ("date", "the client signs with x-oss-date"),
    ("x-oss-date", "the client sets the signing time"),
    (
        "x-oss-content-sha256",
        "the client signs with UNSIGNED-PAYLOAD",
    ),
    (
        "x-oss-security-token",
        "it comes from the stsToken credential",
    ),
];

/// Headers a browser's `fetch` refuses to send (the Fetch standard's forbidden request-header names) and
/// hop-by-hop headers: Node would send them while browsers drop them silently, so the same call would mean
/// two things. `Proxy-*` and `Sec-*` names are refused as well ([`FORBIDDEN_HEADER_PREFIXES`]).
const FORBIDDEN_HEADERS: [&str; 20] = [
    "accept-charset",
    "accept-encoding",
    "access-control-request-headers",
    "access-control-request-method",
    "access-control-request-private-network",
    "cookie",
    "cookie2",
    "dnt",
    "expect",
    "keep-alive",
    "origin",
    "referer",
    "set-cookie",
    "te",
    "trailer",
    "upgrade",
    "via",
    "x-http-method",
    "x-http-method-override",
    "x-method-override",
];
/// Name prefixes of forbidden request headers (see [`FORBIDDEN_HEADERS`]).
const FORBIDDEN_HEADER_PREFIXES: [&str; 2] = ["proxy-", "sec-"];
/// The most headers one call may add, `options.headers` and `options.meta` entries together: far more than
/// any OSS request needs, and few enough that a runaway object is refused before it is copied.
pub const MAX_USER_HEADERS: usize = 64;
/// The longest header a caller may add, name and value together, in bytes (OSS's whole metadata budget).
pub const MAX_HEADER_BYTES: usize = 8 * 1024;
/// The storage classes OSS knows (`x-oss-storage-class`, any case).
const STORAGE_CLASSES: [&str; 5] = [
    "Standard",
    "IA",
    "Archive",
    "ColdArchive",
    "DeepColdArchive",
];
/// The object ACLs OSS knows (`x-oss-object-acl`).
const OBJECT_ACLS: [&str; 4] = ["default", "private", "public-read", "public-read-write"];

/// Checks how many headers a call adds (`options.headers` plus `options.meta` entries) against
/// [`MAX_USER_HEADERS`].
///
/// # Errors
/// `InvalidArgument` (`what`, e.g. `options.headers`).
pub fn check_header_count(what: &str, count: usize) -> Result<(), Error> {
    if count > MAX_USER_HEADERS {
        return Err(Error::invalid(
            what,
            format!(
                "{count} headers are given; at most {MAX_USER_HEADERS} headers and metadata entries together \
                 are accepted"
            ),
        ));
    }
    Ok(())
}

/// Checks a header's size (name and value together) against [`MAX_HEADER_BYTES`].
///
/// # Errors
/// `InvalidArgument` (`what`).
pub fn check_header_size(what: &str, name: &str, value_len: usize) -> Result<(), Error> {
    let total = name.len().saturating_add(value_len);
    if total > MAX_HEADER_BYTES {
        return Err(Error::invalid(
            what,
            format!(
                "{} takes {total} bytes with its value; a header of at most {MAX_HEADER_BYTES} bytes (name and \
                 value) is accepted",
                preview(name)
            ),
        ));
    }
    Ok(())
}

/// Checks the values OSS itself would refuse, so that they fail before anything is sent: `Content-MD5`
/// (the base64 of a 16-byte digest), `x-oss-storage-class` and `x-oss-object-acl` (known names).
fn check_known_value(name: &str, value: &str) -> Result<(), Error> {
    const WHAT: &str = "options.headers";
    let value = value.trim();
    if name.eq_ignore_ascii_case("content-md5") && !is_md5_base64(value) {
        return Err(Error::invalid(
            WHAT,
            format!(
                "Content-MD5 {} is not the base64 of a 16-byte MD5 digest; 24 characters ending in '==' are \
                 accepted, e.g. '1B2M2Y8AsgTpgAmY2PhCfg=='",
                preview(value)
            ),
        ));
    }
    for (header, known) in [
        ("x-oss-storage-class", &STORAGE_CLASSES[..]),
        ("x-oss-object-acl", &OBJECT_ACLS[..]),
    ] {
        if name.eq_ignore_ascii_case(header) && !known.iter().any(|k| k.eq_ignore_ascii_case(value))
        {
            return Err(Error::invalid(
                WHAT,
                format!(
                    "{name} {} is not one OSS knows; {} are accepted",
                    preview(value),
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Whether `value` is the canonical base64 of 16 bytes: 22 characters of the standard alphabet, the last
/// carrying only 2 bits (one of `AQgw`), then `==`.
fn is_md5_base64(value: &str) -> bool {
    let bytes = value.as_bytes();
    let is_b64 = |b: &u8| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/';
    bytes.len() == 24
        && bytes[..22].iter().all(is_b64)
        && b"AQgw".contains(&bytes[21])
        && &bytes[22..] == b"=="
}

/// Whether `c` may appear in an HTTP header name (an RFC 9110 token).
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || u8::try_from(c).is_ok_and(|b| b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks one header value: printable US-ASCII, spaces and tabs only.
///
/// Browsers' `fetch` throws on characters above U+00FF and OSS expects ASCII, so anything else is
/// rejected with a hint to encode it.
fn check_header_value(what: &str, name: &str, value: &str) -> Result<(), Error> {
    if let Some(c) = value
        .chars()
        .find(|c| !(*c == '\t' || (' '..='~').contains(c)))
    {
        let problem = if c == '\r' || c == '\n' {
            "a line break".to_owned()
        } else if c.is_control() {
            format!("the control character '{}'", c.escape_debug())
        } else {
            format!("the non-ASCII character '{c}'")
        };
        return Err(Error::invalid(
            what,
            format!(
                "the value of {} contains {problem}; header values are printable US-ASCII (percent-encode \
                 other text, e.g. with encodeURIComponent)",
                preview(name)
            ),
        ));
    }
    Ok(())
}

/// Checks a caller-supplied request header (`options.headers`): a valid header name, a printable
/// US-ASCII value, and not one of the headers the client sets itself (`Authorization`, `Host`,
/// `Content-Length`, `Transfer-Encoding`, `Connection`, `Date`, `x-oss-date`, `x-oss-content-sha256`,
/// `x-oss-security-token`), nor one `fetch` forbids ([`FORBIDDEN_HEADERS`]); at most [`MAX_HEADER_BYTES`];
/// `Content-MD5`, `x-oss-storage-class` and `x-oss-object-acl` values OSS would accept. `x-oss-meta-*`
/// names must also follow [`check_meta`]'s key rule.
///
/// # Errors
/// `InvalidArgument` (`options.headers`).
pub fn check_header(name: &str, value: &str) -> Result<(), Error> {
    const WHAT: &str = "options.headers";
    if name.is_empty() || !name.chars().all(is_token_char) {
        return Err(Error::invalid(
            WHAT,
            format!(
                "{} is not a header name; names are letters, digits and !#$%&'*+-.^_`|~",
                preview(name)
            ),
        ));
    }
    if let Some((_, why)) = RESERVED_HEADERS
        .iter()
        .find(|(reserved, _)| reserved.eq_ignore_ascii_case(name))
    {
        return Err(Error::invalid(
            WHAT,
            format!("{} cannot be set: {why}", preview(name)),
        ));
    }
    let lower = name.to_ascii_lowercase();
    if FORBIDDEN_HEADERS.contains(&lower.as_str())
        || FORBIDDEN_HEADER_PREFIXES
            .iter()
            .any(|p| lower.starts_with(p))
    {
        return Err(Error::invalid(
            WHAT,
            format!(
                "{} cannot be set: browsers refuse it (a forbidden request header, with Proxy-* and Sec-*) or it \
                 is hop-by-hop, so it would be sent by Node only; object headers such as Cache-Control, \
                 Content-Disposition and x-oss-* are accepted",
                preview(name)
            ),
        ));
    }
    check_header_size(WHAT, name, value.len())?;
    if is_meta_header(name) {
        // Header names are ASCII here, so the prefix ends on a character boundary.
        return check_meta(&name[META_PREFIX.len()..], value);
    }
    check_header_value(WHAT, name, value)?;
    check_known_value(name, value)
}

/// The prefix of user metadata headers.
pub const META_PREFIX: &str = "x-oss-meta-";

/// Whether `name` is a user metadata header (`x-oss-meta-<key>`, any case).
pub(crate) fn is_meta_header(name: &str) -> bool {
    name.len() > META_PREFIX.len()
        && name.is_char_boundary(META_PREFIX.len())
        && name[..META_PREFIX.len()].eq_ignore_ascii_case(META_PREFIX)
}

/// Checks one user metadata entry (`options.meta`, sent as `x-oss-meta-<key>`): the key has letters,
/// digits and hyphens only, as OSS requires (it stores keys lower-cased); the value is printable US-ASCII.
///
/// # Errors
/// `InvalidArgument` (`options.meta`).
pub fn check_meta(key: &str, value: &str) -> Result<(), Error> {
    const WHAT: &str = "options.meta";
    if key.is_empty() {
        return Err(Error::invalid(
            WHAT,
            "a key is empty; keys are letters, digits and hyphens",
        ));
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(Error::invalid(
            WHAT,
            format!(
                "the key {} contains '{}'; OSS accepts only letters, digits and hyphens in metadata keys",
                preview(key),
                c.escape_debug()
            ),
        ));
    }
    let name = format!("{META_PREFIX}{key}");
    check_header_size(WHAT, &name, value.len())?;
    check_header_value(WHAT, &name, value)
}

/// Checks `options.mime`: a printable US-ASCII Content-Type (or an extension such as `webm`).
///
/// # Errors
/// `InvalidArgument` (`options.mime`).
pub fn check_mime(mime: &str) -> Result<(), Error> {
    check_header_value("options.mime", "Content-Type", mime)
}

/// Checks the total size of the metadata headers (`x-oss-meta-*` names plus values) against
/// [`MAX_META_BYTES`].
///
/// # Errors
/// `InvalidArgument` (`options.meta`).
pub fn check_meta_size<'a>(
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), Error> {
    let total: usize = headers
        .into_iter()
        .filter(|(name, _)| is_meta_header(name))
        .map(|(name, value)| name.len() + value.len())
        .sum();
    if total > MAX_META_BYTES {
        return Err(Error::invalid(
            "options.meta",
            format!(
                "the x-oss-meta-* headers take {total} bytes; OSS accepts at most {MAX_META_BYTES} bytes of \
                 metadata names and values per object"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod number_tests {
    use super::*;

    #[test]
    fn numbers_and_durations_without_float_formatting() {
        for (n, shown) in [
            (7.0, "7"),
            (-1.0, "-1"),
            (1.5, "1.5"),
            (-0.25, "-0.25"),
            (0.1 + 0.2, "0.3"),
            (2.9999999, "3"),
            (1e20, "100000000000000000000"),
            (-1e300, "-340282366920938463463374607431768211455"),
        ] {
            assert_eq!(show_number(n), shown);
        }
        let mut edges = vec![
            0,
            1,
            9,
            10,
            u128::from(u32::MAX),
            u128::from(u64::MAX),
            u128::MAX,
        ];
        edges.extend(
            (0..128).flat_map(|bit| [1u128 << bit, (1u128 << bit) - 1, 10u128.pow(bit % 39)]),
        );
        for n in edges {
            assert_eq!(u128_decimal(n), n.to_string());
        }
        for n in [
            1e15,
            1e15 + 0.5,
            9.007_199_254_740_993e15,
            1.8e19,
            3.4e38,
            3.5e38,
            f64::MAX,
        ] {
            assert_eq!(show_number(n), (n as u128).to_string(), "{n}");
        }
        for (text, ms) in [
            ("60s", 60_000.0),
            ("1.5m", 90_000.0),
            ("500ms", 500.0),
            ("0.001s", 1.0),
            ("2h", 7_200_000.0),
        ] {
            assert_eq!(duration_with_unit(text), Some(ms), "{text}");
        }
        assert_eq!(duration_with_unit("1234567890123456s"), Some(f64::INFINITY));
        assert_eq!(duration_with_unit("1.2.3s"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_parts(e: Error) -> (String, String) {
        match e {
            Error::InvalidArgument { what, reason } => (what, reason),
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn positions_in_every_form() {
        let ok: [(IntegerInput, u64); 12] = [
            (0u64.into(), 0),
            (IntegerInput::Number(-0.0), 0),
            (1234u64.into(), 1234),
            (MAX_POSITION.into(), MAX_POSITION),
            ("0".into(), 0),
            ("  42 ".into(), 42),
            ("007".into(), 7),
            ("-0".into(), 0),
            ("5368709120".into(), MAX_POSITION),
            (IntegerInput::BigInt("99".into()), 99),
            (IntegerInput::BigInt("5368709120".into()), MAX_POSITION),
            (IntegerInput::Number(3.0), 3),
        ];
        for (input, want) in ok {
            assert_eq!(parse_position(&input), Ok(want), "{input:?}");
        }
    }

    #[test]
    fn bad_positions_say_what_was_wrong_and_what_is_accepted() {
        let cases: [(IntegerInput, &str); 16] = [
            (IntegerInput::Number(f64::NAN), "NaN is not a number"),
            (
                IntegerInput::Number(f64::INFINITY),
                "Infinity is over the limit",
            ),
            (
                IntegerInput::Number(f64::NEG_INFINITY),
                "-Infinity is negative",
            ),
            (IntegerInput::Number(-1.0), "-1 is negative"),
            (IntegerInput::Number(1.5), "1.5 is not a whole number"),
            (IntegerInput::Number(1e300), "is over the limit"),
            ((MAX_POSITION + 1).into(), "5368709121 is over the limit"),
            ("".into(), "it is empty"),
            ("   ".into(), "it is empty"),
            ("-5".into(), "'-5' is negative"),
            ("1e3".into(), "'1e3' is not a whole number"),
            ("1.0".into(), "'1.0' is not a whole number"),
            ("0x10".into(), "'0x10' is not a number"),
            ("+5".into(), "'+5' is not a number"),
            (
                IntegerInput::BigInt("123456789012345678901234567890".into()),
                "'123456789012345678901234567890' is over the limit",
            ),
            ("abc".into(), "'abc' is not a number"),
        ];
        for (input, problem) in cases {
            let (what, reason) = invalid_parts(parse_position(&input).unwrap_err());
            assert_eq!(what, "position");
            assert!(reason.contains(problem), "{input:?}: {reason}");
            assert!(
                reason.ends_with(
                    "a whole number from 0 to 5368709120 (5 GiB) is accepted, as a number, a decimal \
                     string or a bigint"
                ),
                "{reason}"
            );
        }
    }

    #[test]
    fn huge_input_is_never_echoed_in_full() {
        let junk = "x".repeat(100_000);
        let (_, reason) = invalid_parts(parse_position(&junk.as_str().into()).unwrap_err());
        assert!(reason.len() < 300, "{reason}");
        assert!(reason.contains("(100000 bytes in all)"), "{reason}");
        let (_, reason) = invalid_parts(normalize_key(&"k".repeat(5000)).unwrap_err());
        assert!(
            reason.len() < 300 && reason.contains("is 5000 bytes long"),
            "{reason}"
        );
    }

    #[test]
    fn part_sizes_have_defaults_bounds_and_an_order() {
        assert_eq!(
            PartSizes::from_options(None, None),
            Ok(PartSizes {
                part_size: DEFAULT_PART_SIZE,
                min_part_size: DEFAULT_MIN_PART_SIZE
            })
        );
        assert_eq!(
            PartSizes::default(),
            PartSizes::from_options(None, None).unwrap()
        );
        let small = IntegerInput::from(1000u64);
        assert_eq!(
            PartSizes::from_options(Some(&small), None),
            Ok(PartSizes {
                part_size: 1000,
                min_part_size: 1000
            })
        );
        let zero = IntegerInput::from(0u64);
        assert_eq!(
            PartSizes::from_options(Some(&small), Some(&zero)),
            Ok(PartSizes {
                part_size: 1000,
                min_part_size: 0
            })
        );
        let (what, reason) = invalid_parts(PartSizes::from_options(Some(&zero), None).unwrap_err());
        assert_eq!(what, "options.partSize");
        assert!(
            reason.contains("0 is below the minimum") && reason.contains("from 1 to 4294967295"),
            "{reason}"
        );
        let big = IntegerInput::from(16 * MIB);
        let (what, reason) = invalid_parts(PartSizes::from_options(None, Some(&big)).unwrap_err());
        assert_eq!(what, "options.minPartSize");
        assert_eq!(
            reason,
            "16777216 (16 MiB) is larger than the default partSize, 8388608 (8 MiB); minPartSize must not \
             exceed partSize (raise partSize too)"
        );
        let (_, reason) =
            invalid_parts(PartSizes::from_options(Some(&small), Some(&big)).unwrap_err());
        assert!(
            reason.contains("larger than options.partSize, 1000"),
            "{reason}"
        );
        let (_, reason) = invalid_parts(
            PartSizes::from_options(Some(&IntegerInput::Number(0.5)), None).unwrap_err(),
        );
        assert!(reason.starts_with("0.5 is not a whole number"), "{reason}");
        let too_big = IntegerInput::from(MAX_PART_SIZE + 1);
        assert!(PartSizes::from_options(Some(&too_big), None).is_err());
    }

    #[test]
    fn part_size_stops_where_a_32_bit_body_length_would_wrap() {
        let largest = IntegerInput::from(4_294_967_295u64);
        assert_eq!(
            PartSizes::from_options(Some(&largest), None).map(|p| p.part_size),
            Ok(u64::from(u32::MAX))
        );
        for input in [
            IntegerInput::from(4_294_967_296u64),
            IntegerInput::from(5 * GIB),
            IntegerInput::from("5368709120"),
        ] {
            let (what, reason) =
                invalid_parts(PartSizes::from_options(Some(&input), None).unwrap_err());
            assert_eq!(what, "options.partSize");
            assert!(reason.contains("from 1 to 4294967295"), "{reason}");
        }
        let (what, _) = invalid_parts(
            PartSizes::from_options(Some(&largest), Some(&IntegerInput::from(4_294_967_296u64)))
                .unwrap_err(),
        );
        assert_eq!(what, "options.minPartSize");
    }

    #[test]
    fn part_ranges_are_64_bit_past_4_gib() {
        let total = 5 * GIB;
        let mut at = 0;
        let mut parts = Vec::new();
        while let Some((start, end)) = next_part_range(at, total, MAX_PART_SIZE) {
            assert_eq!(start, at);
            parts.push(end - start);
            at = end;
        }
        assert_eq!(parts, [u64::from(u32::MAX), GIB + 1]);
        assert_eq!(
            next_part_range(4 * GIB, total, 8 * MIB),
            Some((4 * GIB, 4 * GIB + 8 * MIB))
        );
        assert_eq!(next_part_range(total, total, 1), None);
        assert_eq!(
            next_part_range(u64::MAX - 1, u64::MAX, u64::MAX),
            Some((u64::MAX - 1, u64::MAX))
        );
        assert_eq!(
            next_part_range(0, 3, 0),
            Some((0, 1)),
            "a zero part size still moves"
        );
    }

    #[test]
    fn names_with_lone_surrogates_are_refused() {
        let utf16 = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
        assert_eq!(
            decode_name(&utf16("rec/\u{1F600}.webm")).as_deref(),
            Ok("rec/\u{1F600}.webm")
        );
        assert_eq!(decode_name(&[]).as_deref(), Ok(""));
        for (units, problem) in [
            (vec![0x61, 0xD800], "U+D800) at character 2"),
            (vec![0xDC00, 0x61], "U+DC00) at character 1"),
            (vec![0x61, 0xD83D, 0x61], "U+D83D) at character 2"),
            (vec![0xDE00, 0xD83D], "U+DE00) at character 1"),
        ] {
            let (what, reason) = invalid_parts(decode_name(&units).unwrap_err());
            assert_eq!(what, "name");
            assert!(reason.contains(problem), "{reason}");
            assert!(reason.contains("well-formed Unicode"), "{reason}");
        }
    }

    #[test]
    fn headers_refused_by_browsers_or_by_oss_fail_locally() {
        for name in [
            "Expect",
            "keep-alive",
            "Upgrade",
            "TE",
            "Trailer",
            "Transfer-Encoding",
            "Host",
            "Content-Length",
            "Connection",
            "Cookie",
            "Date",
            "Origin",
            "Referer",
            "Via",
            "Proxy-Authorization",
            "proxy-x",
            "Sec-Fetch-Mode",
            "Accept-Encoding",
            "DNT",
            "X-HTTP-Method-Override",
        ] {
            let (what, reason) = invalid_parts(check_header(name, "1").unwrap_err());
            assert_eq!(what, "options.headers");
            assert!(reason.contains("cannot be set"), "{name}: {reason}");
        }
        assert!(check_header("Content-MD5", "1B2M2Y8AsgTpgAmY2PhCfg==").is_ok());
        assert!(check_header("content-md5", " 1B2M2Y8AsgTpgAmY2PhCfg== ").is_ok());
        for bad in [
            "",
            "abc",
            "1B2M2Y8AsgTpgAmY2PhCfg=",
            "1B2M2Y8AsgTpgAmY2PhCfh==",
            "1B2M2Y8AsgTpgAmY2PhC*g==",
            "1B2M2Y8AsgTpgAmY2PhCfg==x",
            "d41d8cd98f00b204e9800998ecf8427e",
        ] {
            let (_, reason) = invalid_parts(check_header("Content-MD5", bad).unwrap_err());
            assert!(
                reason.contains("base64 of a 16-byte MD5"),
                "{bad:?}: {reason}"
            );
        }
        for good in [
            "Standard",
            "IA",
            "archive",
            "ColdArchive",
            "DeepColdArchive",
        ] {
            assert!(check_header("x-oss-storage-class", good).is_ok(), "{good}");
        }
        let (_, reason) =
            invalid_parts(check_header("x-oss-storage-class", "Glacier").unwrap_err());
        assert!(
            reason.contains("'Glacier' is not one OSS knows")
                && reason.contains("Standard, IA, Archive"),
            "{reason}"
        );
        let (_, reason) = invalid_parts(check_header("x-oss-object-acl", "public").unwrap_err());
        assert!(reason.contains("private, public-read"), "{reason}");

        let at_limit = "v".repeat(MAX_HEADER_BYTES - "Cache-Control".len());
        assert!(check_header("Cache-Control", &at_limit).is_ok());
        let (_, reason) =
            invalid_parts(check_header("Cache-Control", &format!("{at_limit}v")).unwrap_err());
        assert!(
            reason.contains("takes 8193 bytes") && reason.contains("at most 8192"),
            "{reason}"
        );
        let (what, _) = invalid_parts(check_meta("k", &"v".repeat(MAX_HEADER_BYTES)).unwrap_err());
        assert_eq!(what, "options.meta");

        assert!(check_header_count("options.headers", MAX_USER_HEADERS).is_ok());
        let (_, reason) =
            invalid_parts(check_header_count("options.headers", MAX_USER_HEADERS + 1).unwrap_err());
        assert!(
            reason.contains("65 headers") && reason.contains("at most 64"),
            "{reason}"
        );
    }

    #[test]
    fn durations_accept_numbers_and_units() {
        let ok: [(IntegerInput, u64); 8] = [
            (60_000u64.into(), 60_000),
            ("60000".into(), 60_000),
            ("60s".into(), 60_000),
            ("1.5m".into(), 90_000),
            ("500ms".into(), 500),
            ("1h".into(), 3_600_000),
            (" 2 S ".into(), 2_000),
            (MAX_TIMER_MS.into(), MAX_TIMER_MS),
        ];
        for (input, want) in ok {
            assert_eq!(parse_timeout_ms("timeout", &input), Ok(want), "{input:?}");
        }
        assert_eq!(
            parse_interval_ms("refreshSTSTokenInterval", &0u64.into()),
            Ok(0)
        );
        let bad: [(IntegerInput, &str); 7] = [
            (0u64.into(), "0 is below the minimum"),
            (IntegerInput::Number(f64::NAN), "NaN is not a number"),
            (IntegerInput::Number(-5.0), "-5 is negative"),
            ((MAX_TIMER_MS + 1).into(), "2147483648 is over the limit"),
            ("1000h".into(), "'1000h' is over the limit"),
            ("soon".into(), "'soon' is not a duration"),
            ("1.2.3s".into(), "'1.2.3s' is not a duration"),
        ];
        for (input, problem) in bad {
            let (what, reason) = invalid_parts(parse_timeout_ms("timeout", &input).unwrap_err());
            assert_eq!(what, "timeout");
            assert!(reason.starts_with(problem), "{input:?}: {reason}");
            assert!(
                reason.contains("milliseconds from 1 to 2147483647 are accepted"),
                "{reason}"
            );
        }
    }

    #[test]
    fn large_u64_inputs_stay_exact() {
        assert_eq!(IntegerInput::from(3u64), IntegerInput::Number(3.0));
        assert_eq!(
            IntegerInput::from(u64::MAX),
            IntegerInput::BigInt("18446744073709551615".into())
        );
        let (_, reason) = invalid_parts(parse_position(&u64::MAX.into()).unwrap_err());
        assert!(
            reason.starts_with("18446744073709551615 is over the limit"),
            "{reason}"
        );
    }

    #[test]
    fn integers_report_plain_bounds() {
        assert_eq!(
            parse_integer("retryMax", &3u64.into(), 0, MAX_RETRY_MAX),
            Ok(3)
        );
        let (what, reason) =
            invalid_parts(parse_integer("retryMax", &101u64.into(), 0, MAX_RETRY_MAX).unwrap_err());
        assert_eq!(what, "retryMax");
        assert_eq!(
            reason,
            "101 is over the limit; a whole number from 0 to 100 is accepted, as a number, a decimal \
             string or a bigint"
        );
    }

    #[test]
    fn append_size_limit() {
        assert_eq!(
            check_append_size(0, MAX_OBJECT_SIZE, MAX_OBJECT_SIZE),
            Ok(())
        );
        assert_eq!(
            check_append_size(MAX_OBJECT_SIZE, 0, MAX_OBJECT_SIZE),
            Ok(())
        );
        assert_eq!(
            check_append_size(MAX_OBJECT_SIZE - 1, 2, MAX_OBJECT_SIZE),
            Err(Error::ObjectTooLarge {
                position: MAX_OBJECT_SIZE - 1,
                length: 2,
                limit: MAX_OBJECT_SIZE
            })
        );
        let e = check_append_size(u64::MAX, 1, MAX_OBJECT_SIZE).unwrap_err();
        assert_eq!(e.code(), "ObjectTooLarge");
    }

    #[test]
    fn bucket_names() {
        for ok in ["abc", "examplebucket", "a-1-b", "0ab", &"a".repeat(63)] {
            assert_eq!(check_bucket(ok), Ok(()), "{ok}");
        }
        let cases = [
            ("", "it is empty"),
            ("ab", "'ab' has 2 characters"),
            (&"a".repeat(64), "has 64 characters"),
            ("MyBucket", "contains the uppercase letter 'M'"),
            (
                "my_bucket",
                "contains '_', which OSS bucket names never have",
            ),
            ("my.bucket", "'my.bucket' contains '.'"),
            ("my bucket", "contains ' '"),
            ("-abc", "starts or ends with '-'"),
            ("abc-", "starts or ends with '-'"),
            ("bück", "contains 'ü'"),
        ];
        for (name, problem) in cases {
            let (what, reason) = invalid_parts(check_bucket(name).unwrap_err());
            assert_eq!(what, "bucket");
            assert!(reason.contains(problem), "{name}: {reason}");
            assert!(reason.ends_with(BUCKET_RULE), "{reason}");
        }
    }

    #[test]
    fn keys_strip_one_leading_slash() {
        assert_eq!(normalize_key("/a.txt"), Ok("a.txt".to_owned()));
        assert_eq!(
            normalize_key("dir/a b+c.txt"),
            Ok("dir/a b+c.txt".to_owned())
        );
        assert_eq!(normalize_key("中文/ü.webm"), Ok("中文/ü.webm".to_owned()));
        assert_eq!(normalize_key("a/"), Ok("a/".to_owned()));
        assert_eq!(normalize_key("a..b/.c/d."), Ok("a..b/.c/d.".to_owned()));
        let long = "é".repeat(511) + "a";
        assert_eq!(long.len(), MAX_KEY_BYTES);
        assert_eq!(normalize_key(&long), Ok(long.clone()));
        assert_eq!(normalize_key(&format!("/{long}")), Ok(long.clone()));
    }

    #[test]
    fn bad_keys_say_why() {
        let cases = [
            ("", "it is empty"),
            ("/", "'/' is empty once its leading '/' is removed"),
            (
                "//a",
                "'/a' starts with '/' (one leading '/' is removed, not more)",
            ),
            ("\\a", "'\\\\a' starts with a backslash"),
            ("a\nb", "'a\\nb' contains a line break ('\\n') at byte 1"),
            ("a\rb", "contains a line break ('\\r')"),
            ("a\tb", "contains a control character ('\\t') at byte 1"),
            ("a\u{7f}", "contains a control character"),
            ("a/../b", "has a '.' or '..' path segment"),
            ("./a", "has a '.' or '..' path segment"),
            ("a/.", "has a '.' or '..' path segment"),
            ("..", "has a '.' or '..' path segment"),
        ];
        for (name, problem) in cases {
            let (what, reason) = invalid_parts(normalize_key(name).unwrap_err());
            assert_eq!(what, "name");
            assert!(reason.contains(problem), "{name:?}: {reason}");
            assert!(reason.contains("1 to 1023 bytes"), "{reason}");
        }
        let too_long = "a".repeat(MAX_KEY_BYTES + 1);
        let (_, reason) = invalid_parts(normalize_key(&too_long).unwrap_err());
        assert!(reason.contains("is 1024 bytes long"), "{reason}");
    }

    #[test]
    fn headers_and_meta() {
        assert_eq!(check_header("Cache-Control", "no-cache"), Ok(()));
        assert_eq!(check_header("x-oss-object-acl", "private"), Ok(()));
        assert_eq!(check_header("X-OSS-META-Author", "Ann Lee"), Ok(()));
        assert_eq!(check_meta("uid", "1\t2 !~"), Ok(()));
        let cases = [
            (
                check_header("Authorization", "x"),
                "options.headers",
                "'Authorization' cannot be set: the client signs",
            ),
            (
                check_header("content-length", "3"),
                "options.headers",
                "cannot be set: the transport sets it",
            ),
            (
                check_header("X-Oss-Date", "x"),
                "options.headers",
                "cannot be set",
            ),
            (
                check_header("x-oss-security-token", "x"),
                "options.headers",
                "stsToken",
            ),
            (
                check_header("bad name", "x"),
                "options.headers",
                "'bad name' is not a header name",
            ),
            (
                check_header("", "x"),
                "options.headers",
                "'' is not a header name",
            ),
            (
                check_header("Cache-Control", "a\r\nx-evil: 1"),
                "options.headers",
                "contains a line break",
            ),
            (
                check_header("Content-Disposition", "attachment; filename=中"),
                "options.headers",
                "non-ASCII character '中'",
            ),
            (
                check_header("x-oss-meta-my_key", "v"),
                "options.meta",
                "the key 'my_key' contains '_'",
            ),
            (check_meta("", "v"), "options.meta", "a key is empty"),
            (check_meta("a b", "v"), "options.meta", "contains ' '"),
            (
                check_meta("k", "v\n"),
                "options.meta",
                "the value of 'x-oss-meta-k' contains a line break",
            ),
            (
                check_meta("k", "\u{0}"),
                "options.meta",
                "control character '\\0'",
            ),
        ];
        for (result, want_what, problem) in cases {
            let (what, reason) = invalid_parts(result.unwrap_err());
            assert_eq!(what, want_what);
            assert!(reason.contains(problem), "{reason}");
        }
    }

    #[test]
    fn meta_size_limit() {
        let value = "v".repeat(MAX_META_BYTES - "x-oss-meta-a".len());
        assert_eq!(
            check_meta_size([
                ("x-oss-meta-a", value.as_str()),
                ("Cache-Control", "no-cache")
            ]),
            Ok(())
        );
        let (what, reason) = invalid_parts(
            check_meta_size([("x-oss-meta-a", value.as_str()), ("X-Oss-Meta-B", "1")]).unwrap_err(),
        );
        assert_eq!(what, "options.meta");
        assert!(
            reason.contains("take 8205 bytes") && reason.contains("at most 8192"),
            "{reason}"
        );
    }
}

//! Numbers from JS (positions, sizes, durations, counts): parsed, bounded, and shown back without float noise.

use super::preview;
use crate::error::Error;

const KIB: u64 = 1024;
pub(super) const MIB: u64 = 1024 * KIB;
pub(super) const GIB: u64 = 1024 * MIB;

/// The largest appendable object OSS keeps: 5 GiB.
pub(crate) const MAX_OBJECT_SIZE: u64 = 5 * GIB;
/// The largest `position` an append can start at (an append there can only add zero bytes).
pub(crate) const MAX_POSITION: u64 = MAX_OBJECT_SIZE;
/// How much one append request carries by default when an input is split into several appends.
pub(crate) const DEFAULT_PART_SIZE: u64 = 8 * MIB;
/// The smallest `partSize`: one byte (tiny parts are slow but valid; tests use them).
pub(crate) const MIN_PART_SIZE: u64 = 1;
/// The largest `partSize`: 4 GiB less one byte. A part's body is one JS byte array or Blob slice whose length
/// crosses the bindings as a 32-bit integer, so this is the most one request can carry without truncation;
/// larger inputs (up to [`MAX_OBJECT_SIZE`]) go out in several parts.
pub(crate) const MAX_PART_SIZE: u64 = u32::MAX as u64;
/// How much a live appender gathers before it sends, unless `minPartSize` says otherwise.
///
/// 64 KiB keeps the request count low for video while audio-only recordings still reach OSS every few seconds.
pub(crate) const DEFAULT_MIN_PART_SIZE: u64 = 64 * KIB;
/// The longest timeout or interval accepted, in ms: the largest delay JavaScript timers honour
/// (`setTimeout` fires at once for anything longer).
pub(crate) const MAX_TIMER_MS: u64 = 2_147_483_647;
/// The largest `retryMax` accepted.
pub(crate) const MAX_RETRY_MAX: u64 = 100;

/// How JS numbers may arrive, as error messages state it.
const INTEGER_FORMS: &str = "as a number, a decimal string or a bigint";

/// An integer option as the JS layer hands it over: a JS number, a string or a bigint.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum IntegerInput {
    /// A JS number.
    Number(f64),
    /// A JS string, e.g. a `nextAppendPosition` from an earlier result.
    Text(String),
    /// A JS bigint in decimal (`bigint.toString()`), which may exceed every Rust integer type.
    BigInt(String),
}

/// The forms `options.position` may take.
pub(crate) type PositionInput = IntegerInput;

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
pub(crate) fn parse_integer(
    what: &str,
    input: &IntegerInput,
    min: u64,
    max: u64,
) -> Result<u64, Error> {
    parse_bounded(what, input, min, max, |n| n.to_string())
}

/// Parses `options.position`: a whole number of bytes from 0 to [`MAX_POSITION`] (5 GiB).
///
/// Decimal strings may carry surrounding whitespace and leading zeros; signs other than `-0`, exponents,
/// fractions, hex and NaN are rejected.
///
/// # Errors
/// `InvalidArgument` (`position`) saying what was wrong and what is accepted.
pub(crate) fn parse_position(input: &PositionInput) -> Result<u64, Error> {
    parse_bounded("position", input, 0, MAX_POSITION, bytes)
}

/// Parses a part size option (`what` as the user spells it, e.g. `options.partSize`) within
/// [`MIN_PART_SIZE`]..=[`MAX_PART_SIZE`].
///
/// # Errors
/// `InvalidArgument` naming `what`.
pub(crate) fn parse_part_size(what: &str, input: &IntegerInput) -> Result<u64, Error> {
    parse_bounded(what, input, MIN_PART_SIZE, MAX_PART_SIZE, bytes)
}

/// The validated part sizes of an upload or a live appender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PartSizes {
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
    pub(crate) fn from_options(
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
pub(crate) fn next_part_range(at: u64, total: u64, part_size: u64) -> Option<(u64, u64)> {
    (at < total).then(|| (at, total.min(at.saturating_add(part_size.max(1)))))
}

/// Parses a timeout in ms (`what` as the user spells it): from 1 to [`MAX_TIMER_MS`].
///
/// Besides numbers, text with a unit is accepted as ali-oss does (`'60s'`, `'1.5m'`, `'500ms'`, `'1h'`).
///
/// # Errors
/// `InvalidArgument` naming `what`.
pub(crate) fn parse_timeout_ms(what: &str, input: &IntegerInput) -> Result<u64, Error> {
    parse_duration_ms(what, input, 1)
}

/// Parses an interval in ms (`what` as the user spells it): from 0 to [`MAX_TIMER_MS`], with the units of
/// [`parse_timeout_ms`].
///
/// # Errors
/// `InvalidArgument` naming `what`.
pub(crate) fn parse_interval_ms(what: &str, input: &IntegerInput) -> Result<u64, Error> {
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
pub(crate) fn check_append_size(position: u64, length: u64, limit: u64) -> Result<(), Error> {
    match position.checked_add(length) {
        Some(end) if end <= limit => Ok(()),
        _ => Err(Error::ObjectTooLarge {
            position,
            length,
            limit,
        }),
    }
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

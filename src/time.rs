//! Signing time: formats a caller-supplied instant the ways OSS wants it; never reads a clock.

use std::fmt;

use crate::strings;

const DAY_NAMES: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A UTC instant with one-second precision, as used in signatures.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SigningTime {
    unix_seconds: i64,
}

impl SigningTime {
    /// The instant `unix_seconds` after 1970-01-01T00:00:00Z.
    pub const fn from_unix_seconds(unix_seconds: i64) -> Self {
        Self { unix_seconds }
    }

    /// The instant from JavaScript-style milliseconds (`Date.now()`), rounded down to the second.
    pub fn from_unix_millis(unix_millis: i64) -> Self {
        Self {
            unix_seconds: unix_millis.div_euclid(1000),
        }
    }

    /// Seconds since the Unix epoch.
    pub const fn unix_seconds(self) -> i64 {
        self.unix_seconds
    }

    /// This instant moved by `seconds` (negative moves back).
    pub const fn plus_seconds(self, seconds: i64) -> Self {
        Self {
            unix_seconds: self.unix_seconds + seconds,
        }
    }

    /// RFC 1123 form used by V1 and the `Date` header: `Wed, 28 Dec 2022 10:27:41 GMT`.
    pub fn http_date(self) -> String {
        let c = self.civil();
        let weekday = DAY_NAMES[self.unix_seconds.div_euclid(86_400).rem_euclid(7) as usize];
        format!(
            "{weekday}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            c.day,
            MONTH_NAMES[(c.month - 1) as usize],
            c.year,
            c.hour,
            c.minute,
            c.second
        )
    }

    /// ISO 8601 basic form used by V4: `20231216T162057Z`.
    pub fn iso8601_basic(self) -> String {
        let c = self.civil();
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// The V4 scope date: `20231216`.
    pub fn date_stamp(self) -> String {
        let c = self.civil();
        format!("{:04}{:02}{:02}", c.year, c.month, c.day)
    }

    /// Parses an RFC 1123 date (`Wed, 28 Dec 2022 10:27:41 GMT`); the weekday is not checked.
    pub fn parse_http_date(text: &str) -> Option<Self> {
        let rest = text.trim();
        let rest = strings::find(rest, ", ").map_or(rest, |at| &rest[at + 2..]);
        let mut parts = rest.split_ascii_whitespace();
        let day: u32 = parts.next()?.parse().ok()?;
        let month_name = parts.next()?;
        let month = MONTH_NAMES
            .iter()
            .position(|m| m.eq_ignore_ascii_case(month_name))? as u32
            + 1;
        let year: i64 = parts.next()?.parse().ok()?;
        let (hour, minute, second) = parse_hms(parts.next()?)?;
        match parts.next() {
            Some(zone) if zone == "GMT" || zone == "UTC" || zone == "+0000" => {}
            _ => return None,
        }
        if parts.next().is_some() {
            return None;
        }
        Self::from_civil(year, month, day, hour, minute, second)
    }

    /// Parses the V4 basic form `20231216T162057Z`.
    pub fn parse_iso8601_basic(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !text.is_char_boundary(8) {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = text.get(r)?;
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        Self::from_civil(
            num(0..4)? as i64,
            num(4..6)?,
            num(6..8)?,
            num(9..11)?,
            num(11..13)?,
            num(13..15)?,
        )
    }

    /// Parses the ISO 8601 extended form OSS puts in `<ServerTime>`: `2024-01-02T03:04:05.000Z`.
    pub fn parse_iso8601_extended(text: &str) -> Option<Self> {
        let text = text.trim();
        let (date, time) = text.split_once('T')?;
        let mut d = date.split('-');
        let year: i64 = d.next()?.parse().ok()?;
        let month: u32 = d.next()?.parse().ok()?;
        let day: u32 = d.next()?.parse().ok()?;
        if d.next().is_some() {
            return None;
        }
        let time = time.strip_suffix('Z')?;
        let time = time.split_once('.').map_or(time, |(whole, frac)| {
            if frac.bytes().all(|c| c.is_ascii_digit()) {
                whole
            } else {
                ""
            }
        });
        let (hour, minute, second) = parse_hms(time)?;
        Self::from_civil(year, month, day, hour, minute, second)
    }

    /// The ISO 8601 extended form with milliseconds, as OSS writes `<ServerTime>`.
    pub fn iso8601_extended(self) -> String {
        let c = self.civil();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    fn from_civil(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
    ) -> Option<Self> {
        if !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let days = days_from_civil(year, month, day);
        Some(Self {
            unix_seconds: days * 86_400 + i64::from(hour * 3600 + minute * 60 + second),
        })
    }

    fn civil(self) -> Civil {
        let days = self.unix_seconds.div_euclid(86_400);
        let secs = self.unix_seconds.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
        }
    }
}

impl fmt::Debug for SigningTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningTime({})", self.iso8601_basic())
    }
}

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

fn parse_hms(text: &str) -> Option<(u32, u32, u32)> {
    let mut t = text.split(':');
    let mut field = || -> Option<u32> {
        let s = t.next()?;
        (s.len() == 2 && s.bytes().all(|c| c.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let hms = (field()?, field()?, field()?);
    t.next().is_none().then_some(hms)
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_the_signing_vectors() {
        let t = SigningTime::from_unix_seconds(1_702_743_657);
        assert_eq!(t.iso8601_basic(), "20231216T162057Z");
        assert_eq!(t.date_stamp(), "20231216");
        assert_eq!(t.http_date(), "Sat, 16 Dec 2023 16:20:57 GMT");
        assert_eq!(
            SigningTime::from_unix_seconds(0).http_date(),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(SigningTime::from_unix_millis(1_702_743_657_999), t);
    }

    #[test]
    fn parses_what_it_formats_across_centuries() {
        let mut s: i64 = -2_208_988_800; // 1900-01-01
        while s < 7_258_118_400 {
            // 2200-01-01
            let t = SigningTime::from_unix_seconds(s);
            assert_eq!(SigningTime::parse_http_date(&t.http_date()), Some(t));
            assert_eq!(
                SigningTime::parse_iso8601_basic(&t.iso8601_basic()),
                Some(t)
            );
            assert_eq!(
                SigningTime::parse_iso8601_extended(&t.iso8601_extended()),
                Some(t)
            );
            s += 86_400 * 7 + 3_601 * 5 + 17;
        }
    }

    #[test]
    fn rejects_malformed_dates() {
        for bad in [
            "",
            "Wed, 28 Dec 2022",
            "Wed, 31 Feb 2022 10:00:00 GMT",
            "Wed, 28 Dec 2022 25:00:00 GMT",
            "Wed, 28 Foo 2022 10:00:00 GMT",
            "Wed, 28 Dec 2022 10:00:00 PST",
        ] {
            assert_eq!(SigningTime::parse_http_date(bad), None, "{bad}");
        }
        for bad in [
            "20231216T162057",
            "2023121XT162057Z",
            "20231316T162057Z",
            "20231216t162057Z",
            "2023121é162057Z",
        ] {
            assert_eq!(SigningTime::parse_iso8601_basic(bad), None, "{bad}");
        }
        assert_eq!(
            SigningTime::parse_iso8601_extended("2023-12-16T16:20:57.123Z"),
            Some(SigningTime::from_unix_seconds(1_702_743_657))
        );
        assert_eq!(
            SigningTime::parse_iso8601_extended("2023-12-16 16:20:57Z"),
            None
        );
    }
}

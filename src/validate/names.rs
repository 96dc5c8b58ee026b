//! Bucket names and object keys, as OSS accepts them.

use super::preview;
use crate::error::Error;

/// The longest object key OSS accepts, in bytes of UTF-8.
pub(crate) const MAX_KEY_BYTES: usize = 1023;

/// The bucket naming rule, as error messages state it.
pub(super) const BUCKET_RULE: &str = concat!(
    "a bucket name has 3 to 63 characters: lowercase letters, digits and hyphens, ",
    "starting and ending with a letter or digit"
);

/// Decodes an object name from its UTF-16 code units (a JS string), refusing lone surrogates: a lossy
/// conversion would store the object under another name (U+FFFD in place of the surrogate).
///
/// # Errors
/// `InvalidArgument` (`name`) naming the surrogate and its position.
pub(crate) fn decode_name(units: &[u16]) -> Result<String, Error> {
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

/// Checks a bucket name against OSS's rule: 3 to 63 characters, lowercase letters, digits and hyphens,
/// starting and ending with a letter or digit.
///
/// ali-oss also lets `_` through; OSS never creates such buckets, so they are rejected here with a
/// message that says so.
///
/// # Errors
/// `InvalidArgument` (`bucket`).
pub(crate) fn check_bucket(name: &str) -> Result<(), Error> {
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
pub(crate) fn normalize_key(name: &str) -> Result<String, Error> {
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
pub(crate) fn check_key(key: &str) -> Result<(), Error> {
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

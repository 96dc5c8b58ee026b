//! Caller-given request headers, user metadata and MIME types: what OSS and browsers accept.

use super::preview;
use crate::error::Error;
use crate::headers::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_MD5, CONTENT_TYPE, DATE, HOST, X_OSS_CONTENT_SHA256,
    X_OSS_DATE, X_OSS_META_PREFIX, X_OSS_OBJECT_ACL, X_OSS_SECURITY_TOKEN, X_OSS_STORAGE_CLASS,
};

/// The total size OSS allows for all `x-oss-meta-*` header names and values of one object.
pub(crate) const MAX_META_BYTES: usize = 8 * 1024;

/// Header names the client sets itself (signing and transport); a caller may not supply them.
const RESERVED_HEADERS: [(&str, &str); 9] = [
    (AUTHORIZATION, "the client signs every request"),
    (HOST, "it comes from the endpoint"),
    (CONTENT_LENGTH, "the transport sets it from the body"),
    ("transfer-encoding", "the transport decides it"),
    ("connection", "the transport decides it"),
    (DATE, "the client signs with x-oss-date"),
    (X_OSS_DATE, "the client sets the signing time"),
    (
        X_OSS_CONTENT_SHA256,
        "the client signs with UNSIGNED-PAYLOAD",
    ),
    (
        X_OSS_SECURITY_TOKEN,
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
pub(crate) const MAX_USER_HEADERS: usize = 64;
/// The longest header a caller may add, name and value together, in bytes (OSS's whole metadata budget).
pub(crate) const MAX_HEADER_BYTES: usize = 8 * 1024;
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
pub(crate) fn check_header_count(what: &str, count: usize) -> Result<(), Error> {
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
pub(crate) fn check_header_size(what: &str, name: &str, value_len: usize) -> Result<(), Error> {
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
    if name.eq_ignore_ascii_case(CONTENT_MD5) && !is_md5_base64(value) {
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
        (X_OSS_STORAGE_CLASS, &STORAGE_CLASSES[..]),
        (X_OSS_OBJECT_ACL, &OBJECT_ACLS[..]),
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
pub(crate) fn check_header(name: &str, value: &str) -> Result<(), Error> {
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
        return check_meta(&name[X_OSS_META_PREFIX.len()..], value);
    }
    check_header_value(WHAT, name, value)?;
    check_known_value(name, value)
}

/// Whether `name` is a user metadata header (`x-oss-meta-<key>`, any case).
pub(crate) fn is_meta_header(name: &str) -> bool {
    name.len() > X_OSS_META_PREFIX.len()
        && name.is_char_boundary(X_OSS_META_PREFIX.len())
        && name[..X_OSS_META_PREFIX.len()].eq_ignore_ascii_case(X_OSS_META_PREFIX)
}

/// Checks one user metadata entry (`options.meta`, sent as `x-oss-meta-<key>`): the key has letters,
/// digits and hyphens only, as OSS requires (it stores keys lower-cased); the value is printable US-ASCII.
///
/// # Errors
/// `InvalidArgument` (`options.meta`).
pub(crate) fn check_meta(key: &str, value: &str) -> Result<(), Error> {
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
    let name = format!("{X_OSS_META_PREFIX}{key}");
    check_header_size(WHAT, &name, value.len())?;
    check_header_value(WHAT, &name, value)
}

/// Checks `options.mime`: a printable US-ASCII Content-Type (or an extension such as `webm`).
///
/// # Errors
/// `InvalidArgument` (`options.mime`).
pub(crate) fn check_mime(mime: &str) -> Result<(), Error> {
    check_header_value("options.mime", CONTENT_TYPE, mime)
}

/// Checks the total size of the metadata headers (`x-oss-meta-*` names plus values) against
/// [`MAX_META_BYTES`].
///
/// # Errors
/// `InvalidArgument` (`options.meta`).
pub(crate) fn check_meta_size<'a>(
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

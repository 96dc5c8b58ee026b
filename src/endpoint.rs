//! Where requests go: the endpoint's scheme and host, how the bucket is addressed, and the URLs that follow.

use std::fmt;

use crate::encode::{uri_encode, url_encode_key};
use crate::error::Error;
use crate::http::Request;
use crate::strings;
use crate::validate::preview;

/// The suffix of Alibaba Cloud's public OSS hosts.
const ALIYUN_SUFFIX: &str = ".aliyuncs.com";
/// Region hosts without an `-internal` twin (Alibaba's VPC endpoints).
const VPC_PREFIX: &str = "vpc100-";
/// Host ids of the global acceleration endpoints, which serve every region and so name none.
const ACCELERATE_IDS: [&str; 2] = ["oss-accelerate", "oss-accelerate-overseas"];

/// `http` or `https`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Scheme {
    /// Plain HTTP (local emulators, `secure: false`).
    Http,
    /// HTTPS, the default.
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }

    /// 80 or 443.
    pub(crate) const fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }

    /// The scheme `secure` selects; unset means HTTPS.
    pub(crate) const fn from_secure(secure: Option<bool>) -> Self {
        match secure {
            Some(false) => Self::Http,
            _ => Self::Https,
        }
    }
}

/// How a request names its bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum AddressingStyle {
    /// `https://bucket.host/key`: OSS's default.
    VirtualHosted,
    /// `https://host/bucket/key` (`pathStyle`, ali-oss's `sldEnable`); also used for IP and `localhost` hosts.
    Path,
    /// `https://host/key`: the host is a custom domain bound to the bucket, so neither host nor path names it.
    Cname,
}

/// A parsed endpoint: scheme, host, optional port and addressing style.
///
/// The host is lower-case; IPv6 hosts keep their brackets (`[::1]`). A port equal to the scheme's default
/// is dropped, as URL parsers do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Endpoint {
    scheme: Scheme,
    host: String,
    port: Option<u16>,
    style: AddressingStyle,
}

impl Endpoint {
    /// Parses `endpoint`: `http(s)://host[:port]` with an optional trailing `/`, or a bare `host[:port]` whose
    /// scheme comes from `secure` (HTTPS unless `Some(false)`).
    ///
    /// An IP address or `localhost` host turns [`AddressingStyle::VirtualHosted`] into [`AddressingStyle::Path`]:
    /// `bucket.127.0.0.1` is no host, and a local emulator serves `/bucket/key`.
    ///
    /// # Errors
    /// `InvalidArgument` (`endpoint`) for other schemes, paths, queries, user info, bad hosts and ports.
    pub(crate) fn parse(
        endpoint: &str,
        secure: Option<bool>,
        style: AddressingStyle,
    ) -> Result<Self, Error> {
        const ACCEPTED: &str = "an endpoint is http://host[:port], https://host[:port] or a bare \
                                host[:port], e.g. 'https://oss-cn-hangzhou.aliyuncs.com' or \
                                'http://127.0.0.1:9000'";
        let fail =
            |problem: String| Err(Error::invalid("endpoint", format!("{problem}; {ACCEPTED}")));
        // URL parsers drop surrounding whitespace too.
        let text = endpoint.trim();
        if text.is_empty() {
            return fail("it is empty".to_owned());
        }
        let (scheme, rest) = match strings::find(text, "://") {
            Some(at) => {
                let scheme = &text[..at];
                let scheme = if scheme.eq_ignore_ascii_case("https") {
                    Scheme::Https
                } else if scheme.eq_ignore_ascii_case("http") {
                    Scheme::Http
                } else {
                    return fail(format!(
                        "the protocol {} is not supported (only http and https are)",
                        preview(scheme)
                    ));
                };
                (scheme, &text[at + 3..])
            }
            None => (Scheme::from_secure(secure), text),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.as_bytes().contains(&b'@') {
            // Never echo it: the part before '@' may hold a password.
            return fail(
                "it contains user info ('…@'); credentials go in accessKeyId and accessKeySecret"
                    .to_owned(),
            );
        }
        if !tail.is_empty() && tail != "/" {
            return fail(format!(
                "{} has a path, query or fragment ({}); the bucket and object name are separate options",
                preview(text),
                preview(tail)
            ));
        }
        if let Some(c) = authority
            .chars()
            .find(|c| c.is_whitespace() || c.is_control())
        {
            return fail(format!("{} contains '{}'", preview(text), c.escape_debug()));
        }
        let (host, port) = split_host_port(authority).map_err(|problem| {
            Error::invalid(
                "endpoint",
                format!("{} {problem}; {ACCEPTED}", preview(text)),
            )
        })?;
        Ok(Self::new(scheme, host, port, style))
    }

    /// The endpoint of an OSS region: `oss-<region>[-internal].aliyuncs.com` (see [`region_host`]).
    ///
    /// # Errors
    /// `InvalidArgument` (`region`) from [`check_region`].
    pub(crate) fn for_region(
        region: &str,
        internal: bool,
        secure: Option<bool>,
        style: AddressingStyle,
    ) -> Result<Self, Error> {
        check_region(region)?;
        Ok(Self::new(
            Scheme::from_secure(secure),
            region_host(region, internal),
            None,
            style,
        ))
    }

    /// Assembles an endpoint from checked parts (used by [`Endpoint::parse`]; `host` lower-case).
    fn new(scheme: Scheme, host: String, port: Option<u16>, style: AddressingStyle) -> Self {
        let port = port.filter(|p| *p != scheme.default_port());
        let style = match style {
            AddressingStyle::VirtualHosted if is_ip_or_localhost(&host) => AddressingStyle::Path,
            other => other,
        };
        Self {
            scheme,
            host,
            port,
            style,
        }
    }

    /// The scheme.
    pub(crate) const fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The endpoint host, without bucket or port.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The port, when it is not the scheme's default.
    #[cfg(test)]
    pub(crate) const fn port(&self) -> Option<u16> {
        self.port
    }

    /// How the bucket is addressed.
    #[cfg(test)]
    pub(crate) const fn style(&self) -> AddressingStyle {
        self.style
    }

    /// Whether the host is an IP address.
    #[cfg(test)]
    pub(crate) fn is_ip(&self) -> bool {
        is_ip(&self.host)
    }

    /// The `host[:port]` a request for `bucket` goes to (its `Host` header): `bucket.host` for
    /// virtual-hosted addressing, the endpoint host otherwise.
    pub(crate) fn authority(&self, bucket: Option<&str>) -> String {
        let mut out = String::new();
        if let (AddressingStyle::VirtualHosted, Some(bucket)) = (self.style, bucket) {
            out.push_str(bucket);
            out.push('.');
        }
        out.push_str(&self.host);
        if let Some(port) = self.port {
            out.push(':');
            out.push_str(&port.to_string());
        }
        out
    }

    /// The percent-encoded URL path of `bucket`/`key`: `/key`, or `/bucket/key` for path style; a bucket
    /// without a key is `/` (path style: `/bucket/`).
    pub(crate) fn path(&self, bucket: Option<&str>, key: Option<&str>) -> String {
        let mut out = String::from("/");
        if let (AddressingStyle::Path, Some(bucket)) = (self.style, bucket) {
            out.push_str(bucket);
            out.push('/');
        }
        if let Some(key) = key {
            out.push_str(&url_encode_key(key));
        }
        out
    }

    /// The object's URL without a query, as ali-oss reports it in `url`, e.g.
    /// `https://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc.txt`.
    pub(crate) fn object_url(&self, bucket: &str, key: &str) -> String {
        format!(
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(Some(bucket)),
            self.path(Some(bucket), Some(key))
        )
    }

    /// The URL to send `request` to: its bucket and key as in [`Endpoint::object_url`], then its query in
    /// order, flags bare (`?append&position=0`) and values percent-encoded.
    pub(crate) fn request_url(&self, request: &Request) -> String {
        let bucket = request.bucket.as_deref();
        let mut url = format!(
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(bucket),
            self.path(bucket, request.key.as_deref())
        );
        for (i, (name, value)) in request.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&uri_encode(name));
            if !value.is_empty() {
                url.push('=');
                url.push_str(&uri_encode(value));
            }
        }
        url
    }
}

/// The origin, e.g. `https://oss-cn-hangzhou.aliyuncs.com` or `http://127.0.0.1:9000`.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.authority(None))
    }
}

fn is_ip(host: &str) -> bool {
    host.starts_with('[') || is_ipv4(host)
}

// The address checks below accept exactly what `std::net::Ipv4Addr` and `Ipv6Addr` parse, following the
// standard library's parser step by step. Measured: std's parsers in their place made the shipped .wasm
// 0.5 kB larger gzipped (2.4 kB raw). The platform's `URL` would move the check out of the core.

/// Whether `text` is a dotted-quad IPv4 address: four decimal numbers up to 255 without leading zeros.
fn is_ipv4(text: &str) -> bool {
    let mut rest = text.as_bytes();
    read_ipv4(&mut rest) && rest.is_empty()
}

/// Whether `text` is an IPv6 address: eight hex groups, or fewer around one `::`, the last two of which
/// may be written as an IPv4 address.
fn is_ipv6(text: &str) -> bool {
    let mut rest = text.as_bytes();
    let (head, head_ipv4) = read_ipv6_groups(&mut rest, 8);
    if head < 8 {
        // An IPv4 part may only end the address, and `::` stands for at least one zero group.
        let Some(after) = rest.strip_prefix(b"::").filter(|_| !head_ipv4) else {
            return false;
        };
        rest = after;
        read_ipv6_groups(&mut rest, 7 - head);
    }
    rest.is_empty()
}

/// Reads colon-separated IPv6 groups from the front of `rest`, filling at most `limit` of them; an IPv4
/// address fills two and ends the run. Returns how many were filled and whether IPv4 ended them.
fn read_ipv6_groups(rest: &mut &[u8], limit: usize) -> (usize, bool) {
    for filled in 0..limit {
        let mut next = *rest;
        if filled > 0 {
            match next.strip_prefix(b":") {
                Some(after) => next = after,
                None => return (filled, false),
            }
        }
        if filled + 1 < limit && read_ipv4(&mut next) {
            *rest = next;
            return (filled + 2, true);
        }
        if read_number(&mut next, 16, 4).is_none() {
            return (filled, false);
        }
        *rest = next;
    }
    (limit, false)
}

/// Reads a dotted-quad IPv4 address from the front of `rest`; `rest` moves past it only when it is one.
fn read_ipv4(rest: &mut &[u8]) -> bool {
    let mut next = *rest;
    for part in 0..4 {
        if part > 0 {
            match next.strip_prefix(b".") {
                Some(after) => next = after,
                None => return false,
            }
        }
        if read_number(&mut next, 10, 3).is_none_or(|n| n > 255) {
            return false;
        }
    }
    *rest = next;
    true
}

/// Reads a number of 1 to `max_digits` digits in `radix` from the front of `rest`; decimal numbers may
/// not have a leading zero. `rest` moves past it only when it is one.
fn read_number(rest: &mut &[u8], radix: u32, max_digits: usize) -> Option<u32> {
    let digit = |b: &u8| char::from(*b).to_digit(radix);
    let len = rest.iter().take_while(|b| digit(b).is_some()).count();
    if len == 0 || len > max_digits || (radix == 10 && len > 1 && rest[0] == b'0') {
        return None;
    }
    let (digits, after) = rest.split_at(len);
    *rest = after;
    Some(
        digits
            .iter()
            .filter_map(digit)
            .fold(0, |n, d| n * radix + d),
    )
}

fn is_ip_or_localhost(host: &str) -> bool {
    is_ip(host) || host == "localhost"
}

/// Splits `host[:port]` (or `[v6][:port]`) and checks both; the error completes "'<input>' …".
fn split_host_port(authority: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let close = inner
            .find(']')
            .ok_or_else(|| "has an IPv6 address without its closing ']'".to_owned())?;
        if !is_ipv6(&inner[..close]) {
            return Err("has an invalid IPv6 address".to_owned());
        }
        let host = format!("[{}]", inner[..close].to_ascii_lowercase());
        match &inner[close + 1..] {
            "" => (host, None),
            rest => match rest.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err("has text after the IPv6 address".to_owned()),
            },
        }
    } else {
        match authority.split_once(':') {
            Some((_, port)) if port.as_bytes().contains(&b':') => {
                return Err("has more than one ':' (write IPv6 addresses in brackets)".to_owned());
            }
            Some((host, port)) => (host.to_ascii_lowercase(), Some(port)),
            None => (authority.to_ascii_lowercase(), None),
        }
    };
    let port = match port {
        None => None,
        Some(text) => match text.parse::<u16>() {
            Ok(p) if p > 0 && text.bytes().all(|b| b.is_ascii_digit()) => Some(p),
            _ => {
                return Err(format!(
                    "has the port {}, not a number from 1 to 65535",
                    preview(text)
                ));
            }
        },
    };
    if !host.starts_with('[') {
        check_host_name(&host)?;
    }
    Ok((host, port))
}

/// Checks a DNS host name (lower-cased): dot-separated labels of letters, digits, `-` and `_`.
fn check_host_name(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("has no host".to_owned());
    }
    if host.len() > 253 {
        return Err("has a host longer than 253 characters".to_owned());
    }
    for label in host.split('.') {
        if label.is_empty() {
            return Err(
                "has an empty label in its host (two dots in a row, or a leading or trailing dot)"
                    .to_owned(),
            );
        }
        if label.len() > 63 {
            return Err("has a host label longer than 63 characters".to_owned());
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!(
                "has '{}' in its host (letters, digits, '-', '_' and '.' are accepted)",
                c.escape_debug()
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("has a host label that starts or ends with '-'".to_owned());
        }
    }
    Ok(())
}

/// Checks a `region` option: `oss-cn-hangzhou` or `cn-hangzhou` style ids (lower-case letters, digits,
/// hyphens).
///
/// # Errors
/// `InvalidArgument` (`region`); a region ending in `-internal` gets a hint to use `internal: true`.
pub(crate) fn check_region(region: &str) -> Result<(), Error> {
    const ACCEPTED: &str = "a region id such as 'oss-cn-hangzhou' or 'cn-hangzhou' is accepted \
                            (lower-case letters, digits and hyphens)";
    let fail = |problem: String| Err(Error::invalid("region", format!("{problem}; {ACCEPTED}")));
    if region.is_empty() {
        return fail("it is empty".to_owned());
    }
    let shown = preview(region);
    if let Some(c) = region
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return fail(format!("{shown} contains '{}'", c.escape_debug()));
    }
    if region.len() > 63 || region.starts_with('-') || region.ends_with('-') {
        return fail(format!(
            "{shown} is longer than 63 characters or starts or ends with '-'"
        ));
    }
    if region.ends_with("-internal") {
        return Err(Error::invalid(
            "region",
            format!(
                "{shown} names an internal endpoint; pass the region without '-internal' and set internal: true"
            ),
        ));
    }
    if standard_region(region).is_empty() {
        return fail(format!("{shown} names no region"));
    }
    Ok(())
}

/// The host of a region: `oss-<id>.aliyuncs.com`, or `oss-<id>-internal.aliyuncs.com` when `internal`.
///
/// `cn-hangzhou` gets the `oss-` prefix; `oss-cn-hangzhou` already has it; `vpc100-oss-cn-*` regions are VPC
/// hosts already and never get `-internal`, as in ali-oss.
pub(crate) fn region_host(region: &str, internal: bool) -> String {
    let prefixed = region.starts_with("oss-") || region.starts_with(VPC_PREFIX);
    let id = if prefixed {
        region.to_owned()
    } else {
        format!("oss-{region}")
    };
    let internal = internal && !id.starts_with(VPC_PREFIX);
    format!(
        "{id}{}{ALIYUN_SUFFIX}",
        if internal { "-internal" } else { "" }
    )
}

/// The bare region id a V4 signature uses: `oss-cn-hangzhou` and `cn-hangzhou` both give `cn-hangzhou`
/// (also from `vpc100-oss-cn-hangzhou`).
pub(crate) fn standard_region(region: &str) -> &str {
    let region = region.strip_prefix(VPC_PREFIX).unwrap_or(region);
    region.strip_prefix("oss-").unwrap_or(region)
}

/// Whether `region` names a global acceleration endpoint rather than a region.
pub(crate) fn is_acceleration_region(region: &str) -> bool {
    let bare = standard_region(region);
    ACCELERATE_IDS
        .iter()
        .any(|id| id.strip_prefix("oss-") == Some(bare))
}

/// The bare region of an `oss-<region>[-internal].aliyuncs.com` host (`cn-hangzhou`), or `None` for any other
/// host, including the acceleration endpoints and bucket-prefixed hosts.
pub(crate) fn region_from_host(host: &str) -> Option<String> {
    let id = host.strip_suffix(ALIYUN_SUFFIX)?;
    if id.as_bytes().contains(&b'.') || ACCELERATE_IDS.contains(&id) {
        return None;
    }
    let id = id.strip_suffix("-internal").unwrap_or(id);
    let region = id.strip_prefix("oss-")?;
    let valid = !region.is_empty()
        && !region.starts_with('-')
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    valid.then(|| region.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    const VH: AddressingStyle = AddressingStyle::VirtualHosted;

    fn parse(text: &str, secure: Option<bool>, style: AddressingStyle) -> Endpoint {
        Endpoint::parse(text, secure, style).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn reason(e: Error) -> String {
        match e {
            Error::InvalidArgument { what, reason } => {
                assert!(what == "endpoint" || what == "region", "{what}");
                reason
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn object_urls_for_every_addressing_style() {
        let key = "dir/a b+c.txt";
        let cases = [
            (
                "https://oss-cn-hangzhou.aliyuncs.com",
                None,
                VH,
                "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc.txt",
            ),
            (
                "oss-cn-hangzhou.aliyuncs.com",
                None,
                VH,
                "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc.txt",
            ),
            (
                "oss-cn-hangzhou.aliyuncs.com/",
                Some(false),
                VH,
                "http://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc.txt",
            ),
            (
                "HTTP://OSS-cn-hangzhou.aliyuncs.com:80/",
                Some(true),
                VH,
                "http://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc.txt",
            ),
            (
                "https://oss-cn-hangzhou.aliyuncs.com:8443",
                None,
                VH,
                "https://examplebucket.oss-cn-hangzhou.aliyuncs.com:8443/dir/a%20b%2Bc.txt",
            ),
            (
                "https://oss-cn-hangzhou.aliyuncs.com",
                None,
                AddressingStyle::Path,
                "https://oss-cn-hangzhou.aliyuncs.com/examplebucket/dir/a%20b%2Bc.txt",
            ),
            (
                "https://static.example.com",
                None,
                AddressingStyle::Cname,
                "https://static.example.com/dir/a%20b%2Bc.txt",
            ),
            (
                "http://127.0.0.1:9000",
                None,
                VH,
                "http://127.0.0.1:9000/examplebucket/dir/a%20b%2Bc.txt",
            ),
            (
                "127.0.0.1:9000",
                Some(false),
                VH,
                "http://127.0.0.1:9000/examplebucket/dir/a%20b%2Bc.txt",
            ),
            (
                "http://localhost:9000",
                None,
                VH,
                "http://localhost:9000/examplebucket/dir/a%20b%2Bc.txt",
            ),
            (
                "http://[::1]:9000",
                None,
                VH,
                "http://[::1]:9000/examplebucket/dir/a%20b%2Bc.txt",
            ),
            (
                "https://[2001:DB8::1]",
                None,
                VH,
                "https://[2001:db8::1]/examplebucket/dir/a%20b%2Bc.txt",
            ),
            (
                "http://10.0.0.5",
                None,
                AddressingStyle::Cname,
                "http://10.0.0.5/dir/a%20b%2Bc.txt",
            ),
            (
                "  https://oss-cn-hangzhou.aliyuncs.com  ",
                None,
                VH,
                "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc.txt",
            ),
        ];
        for (endpoint, secure, style, want) in cases {
            let ep = parse(endpoint, secure, style);
            assert_eq!(ep.object_url("examplebucket", key), want, "{endpoint}");
        }
    }

    #[test]
    fn a_region_gives_its_public_internal_or_accelerated_endpoint() {
        let cases = [
            (
                "oss-cn-hangzhou",
                false,
                None,
                "https://oss-cn-hangzhou.aliyuncs.com",
            ),
            (
                "cn-hangzhou",
                false,
                None,
                "https://oss-cn-hangzhou.aliyuncs.com",
            ),
            (
                "cn-hangzhou",
                true,
                None,
                "https://oss-cn-hangzhou-internal.aliyuncs.com",
            ),
            (
                "oss-cn-shanghai",
                true,
                Some(false),
                "http://oss-cn-shanghai-internal.aliyuncs.com",
            ),
            (
                "vpc100-oss-cn-beijing",
                true,
                None,
                "https://vpc100-oss-cn-beijing.aliyuncs.com",
            ),
            (
                "oss-accelerate",
                false,
                None,
                "https://oss-accelerate.aliyuncs.com",
            ),
        ];
        for (region, internal, secure, want) in cases {
            let ep = Endpoint::for_region(region, internal, secure, VH).unwrap();
            assert_eq!(ep.to_string(), want, "{region}");
            assert_eq!(ep.style(), VH);
        }
        let ep = Endpoint::for_region("cn-hangzhou", false, None, AddressingStyle::Path).unwrap();
        assert_eq!(
            ep.object_url("b-1", "k"),
            "https://oss-cn-hangzhou.aliyuncs.com/b-1/k"
        );
    }

    #[test]
    fn request_urls_carry_the_query_in_order() {
        let ep = parse("https://oss-cn-hangzhou.aliyuncs.com", None, VH);
        let mut req = Request::new(Method::Post, Some("examplebucket"), Some("dir/a b+c.txt"));
        req.query = vec![
            ("append".into(), String::new()),
            ("position".into(), "0".into()),
        ];
        assert_eq!(
            ep.request_url(&req),
            "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc.txt?append&position=0"
        );
        req.query = vec![
            (
                "response-content-type".into(),
                "text/plain; charset=utf-8".into(),
            ),
            ("seal".into(), String::new()),
            ("a b".into(), "x/y~z*".into()),
        ];
        assert_eq!(
            ep.request_url(&req),
            "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc.txt\
             ?response-content-type=text%2Fplain%3B%20charset%3Dutf-8&seal&a%20b=x%2Fy~z%2A"
        );
        let path = parse("http://127.0.0.1:9000", None, VH);
        req.query.clear();
        assert_eq!(
            path.request_url(&req),
            "http://127.0.0.1:9000/examplebucket/dir/a%20b%2Bc.txt"
        );
        let bucket_only = Request::new(Method::Get, Some("examplebucket"), None);
        assert_eq!(
            path.request_url(&bucket_only),
            "http://127.0.0.1:9000/examplebucket/"
        );
        assert_eq!(
            ep.request_url(&bucket_only),
            "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/"
        );
        let service = Request::new(Method::Get, None, None);
        assert_eq!(
            ep.request_url(&service),
            "https://oss-cn-hangzhou.aliyuncs.com/"
        );
        let cname = parse("cdn.example.com", None, AddressingStyle::Cname);
        assert_eq!(
            cname.request_url(&Request::new(
                Method::Head,
                Some("examplebucket"),
                Some("中/ü")
            )),
            "https://cdn.example.com/%E4%B8%AD/%C3%BC"
        );
    }

    #[test]
    fn an_endpoint_is_lower_cased_and_keeps_its_port_in_the_host_header() {
        let ep = parse("http://LOCALHOST:9000", None, VH);
        assert_eq!(
            (ep.scheme(), ep.host(), ep.port(), ep.style(), ep.is_ip()),
            (
                Scheme::Http,
                "localhost",
                Some(9000),
                AddressingStyle::Path,
                false
            )
        );
        assert_eq!(ep.authority(Some("b")), "localhost:9000");
        assert_eq!(ep.to_string(), "http://localhost:9000");
        let ep = parse("https://oss-cn-hangzhou.aliyuncs.com:443", None, VH);
        assert_eq!(ep.port(), None);
        assert_eq!(ep.authority(Some("b")), "b.oss-cn-hangzhou.aliyuncs.com");
        assert!(parse("http://192.168.1.2", None, VH).is_ip());
        assert!(parse("http://[::1]", None, VH).is_ip());
        assert_eq!(Scheme::from_secure(None), Scheme::Https);
        assert_eq!(Scheme::from_secure(Some(true)), Scheme::Https);
        assert_eq!(Scheme::Http.default_port(), 80);
    }

    /// The hand-written address checks must answer exactly as `std::net` parses.
    fn assert_ip_checks_match_std(text: &str) {
        use std::net::{Ipv4Addr, Ipv6Addr};
        assert_eq!(
            is_ipv4(text),
            text.parse::<Ipv4Addr>().is_ok(),
            "IPv4 {text:?}"
        );
        assert_eq!(
            is_ipv6(text),
            text.parse::<Ipv6Addr>().is_ok(),
            "IPv6 {text:?}"
        );
    }

    #[test]
    fn ip_checks_match_std_on_edge_cases() {
        let cases = [
            "",
            "0.0.0.0",
            "127.0.0.1",
            "255.255.255.255",
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.4.",
            ".1.2.3.4",
            "01.2.3.4",
            "1.2.3.00",
            "1.2.3.0",
            "0001.2.3.4",
            "1..2.3",
            "1.2.3.-4",
            "+1.2.3.4",
            " 1.2.3.4",
            "1.2.3.4 ",
            "1.2.3.4:80",
            "1.2.3.٤",
            "localhost",
            "::",
            "::1",
            "[::1]",
            "1::",
            ":::",
            "1:::2",
            "::1:",
            ":1::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7::",
            "::1:2:3:4:5:6:7",
            "::1:2:3:4:5:6:7:8",
            "1::2::3",
            "fe80::1%eth0",
            "FFFF::abcd",
            "12345::",
            "0000:0000::",
            "00000::",
            "g::",
            "::ffff:192.168.1.1",
            "::ffff:192.168.1.256",
            "::ffff:01.2.3.4",
            "1.2.3.4::",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1:2:3:4:5::1.2.3.4",
            "1:2:3:4:5:6::1.2.3.4",
            "1.2.3.4:1:2:3:4:5:6",
            "::1.2.3.4.5",
            "::1.2.3.4:5",
            "::1.2.3",
            "64:ff9b::1.2.3.4",
            "1:2:3:4:5:6:7:8::",
            "::0:0:0:0:0:0:0",
        ];
        for text in cases {
            assert_ip_checks_match_std(text);
        }
    }

    #[test]
    fn ip_checks_match_std_on_generated_text() {
        // Every string of up to six characters over an alphabet that reaches each branch.
        const ALPHABET: &[u8] = b"01f:.9g";
        let mut text = Vec::new();
        fn each(text: &mut Vec<u8>, left: usize) {
            assert_ip_checks_match_std(std::str::from_utf8(text).unwrap());
            if left > 0 {
                for &b in ALPHABET {
                    text.push(b);
                    each(text, left - 1);
                    text.pop();
                }
            }
        }
        each(&mut text, 6);
        // Longer text from address-shaped pieces, chosen by a fixed xorshift sequence.
        const PIECES: [&str; 16] = [
            "0", "1", "00", "255", "256", "ffff", "FFFF", "10000", "1.2.3.4", "01.2.3.4", ":",
            "::", ".", "1.2.3", "g", "099",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let count = next() % 16;
            let text: String = (0..count).map(|_| PIECES[(next() % 16) as usize]).collect();
            assert_ip_checks_match_std(&text);
        }
    }

    #[test]
    fn bad_endpoints_say_why() {
        let cases = [
            ("", "it is empty"),
            ("   ", "it is empty"),
            (
                "ftp://oss.example.com",
                "the protocol 'ftp' is not supported",
            ),
            ("file:///etc/passwd", "the protocol 'file' is not supported"),
            (
                "https://oss-cn-hangzhou.aliyuncs.com/bucket",
                "has a path, query or fragment ('/bucket')",
            ),
            (
                "https://oss-cn-hangzhou.aliyuncs.com?x=1",
                "has a path, query or fragment ('?x=1')",
            ),
            (
                "https://oss-cn-hangzhou.aliyuncs.com#f",
                "has a path, query or fragment ('#f')",
            ),
            (
                "https://ak:secret@oss.example.com",
                "contains user info ('…@')",
            ),
            ("https://", "has no host"),
            ("https://:9000", "has no host"),
            (
                "https://host:",
                "has the port '', not a number from 1 to 65535",
            ),
            ("https://host:0", "has the port '0'"),
            ("https://host:65536", "has the port '65536'"),
            ("https://host:+80", "has the port '+80'"),
            ("https://host:abc", "has the port 'abc'"),
            ("https://a..b", "has an empty label"),
            ("https://a.b.", "has an empty label"),
            ("https://-a.b", "starts or ends with '-'"),
            ("https://a b.com", "contains ' '"),
            ("https://a%20b.com", "has '%' in its host"),
            ("https://exa!mple.com", "has '!' in its host"),
            ("::1", "has more than one ':'"),
            ("http://[::1", "without its closing ']'"),
            ("http://[zz::1]", "invalid IPv6 address"),
            ("http://[::1]x", "text after the IPv6 address"),
            ("javascript:alert(1)", "has the port 'alert(1)'"),
        ];
        for (text, problem) in cases {
            let e = Endpoint::parse(text, None, VH).unwrap_err();
            let reason = reason(e);
            assert!(reason.contains(problem), "{text}: {reason}");
            assert!(reason.ends_with("'http://127.0.0.1:9000'"), "{reason}");
        }
        let secret = reason(Endpoint::parse("https://ak:topsecret@h.com", None, VH).unwrap_err());
        assert!(!secret.contains("topsecret"), "{secret}");
        let long = format!("https://{}.com/", "a".repeat(300));
        assert!(reason(Endpoint::parse(&long, None, VH).unwrap_err()).len() < 400);
    }

    #[test]
    fn region_names_are_checked_with_the_character_at_fault() {
        for ok in [
            "oss-cn-hangzhou",
            "cn-hangzhou",
            "ap-southeast-1",
            "vpc100-oss-cn-beijing",
        ] {
            assert_eq!(check_region(ok), Ok(()), "{ok}");
        }
        let cases = [
            ("", "it is empty"),
            ("CN-hangzhou", "contains 'C'"),
            ("cn_hangzhou", "contains '_'"),
            ("cn hangzhou", "contains ' '"),
            ("-cn", "starts or ends with '-'"),
            ("oss-", "starts or ends with '-'"),
            ("oss-cn-hangzhou-internal", "set internal: true"),
        ];
        for (region, problem) in cases {
            let e = check_region(region).unwrap_err();
            assert_eq!(e.code(), "InvalidArgument");
            let reason = reason(e);
            assert!(reason.contains(problem), "{region}: {reason}");
        }
        assert!(Endpoint::for_region("Bad", false, None, VH).is_err());
    }

    #[test]
    fn regions_are_read_from_names_and_hosts_in_every_spelling() {
        assert_eq!(standard_region("oss-cn-hangzhou"), "cn-hangzhou");
        assert_eq!(standard_region("cn-hangzhou"), "cn-hangzhou");
        assert_eq!(standard_region("vpc100-oss-cn-beijing"), "cn-beijing");
        assert_eq!(
            region_host("cn-hangzhou", false),
            "oss-cn-hangzhou.aliyuncs.com"
        );
        assert!(is_acceleration_region("oss-accelerate"));
        assert!(is_acceleration_region("accelerate-overseas"));
        assert!(!is_acceleration_region("cn-hangzhou"));
        let hosts = [
            ("oss-cn-hangzhou.aliyuncs.com", Some("cn-hangzhou")),
            ("oss-cn-hangzhou-internal.aliyuncs.com", Some("cn-hangzhou")),
            ("oss-ap-southeast-1.aliyuncs.com", Some("ap-southeast-1")),
            ("oss-accelerate.aliyuncs.com", None),
            ("oss-accelerate-overseas.aliyuncs.com", None),
            ("bucket.oss-cn-hangzhou.aliyuncs.com", None),
            ("cn-hangzhou.oss.aliyuncs.com", None),
            ("oss-.aliyuncs.com", None),
            ("oss-cn-hangzhou.example.com", None),
            ("127.0.0.1", None),
        ];
        for (host, want) in hosts {
            assert_eq!(region_from_host(host).as_deref(), want, "{host}");
        }
    }
}

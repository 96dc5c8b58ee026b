//! The request target read as OSS reads it: the bucket and key (virtual host, path style, cname) and the query.

use std::net::IpAddr;

use oss_append::encode::percent_decode;

use crate::errors::OssError;

/// What a request addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `/` on the service endpoint (ListBuckets).
    Service,
    /// A bucket (ListObjects).
    Bucket(String),
    /// An object.
    Object {
        /// Its bucket.
        bucket: String,
        /// Its key.
        key: String,
    },
}

pub(crate) fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(h, _)| &h[1..]);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// Works out bucket and key from the `Host` header and the raw path.
///
/// IP addresses, `localhost` and dotless hosts are path style (`/bucket/key`). `bucket.<anything>` is a
/// virtual host when `bucket` exists or the rest looks like an OSS endpoint (`oss-*`, `*.aliyuncs.com`),
/// so an unknown bucket there is NoSuchBucket. Any other host is a cname for the default bucket.
///
/// # Errors
/// InvalidObjectName for a key OSS refuses.
pub fn resolve(
    host: &str,
    raw_path: &str,
    is_bucket: impl Fn(&str) -> bool,
    default_bucket: &str,
) -> Result<Target, OssError> {
    let host = strip_port(host.trim()).to_ascii_lowercase();
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let path_style = host.is_empty()
        || host == "localhost"
        || host.parse::<IpAddr>().is_ok()
        || !host.contains('.');
    let (bucket, raw_key) = if path_style {
        if path.is_empty() {
            return Ok(Target::Service);
        }
        let (b, k) = path.split_once('/').unwrap_or((path, ""));
        (percent_decode(b, false), k)
    } else {
        let (first, rest) = host.split_once('.').unwrap_or((&host, ""));
        if is_bucket(first) || rest.starts_with("oss-") || rest.contains("aliyuncs.com") {
            (first.to_owned(), path)
        } else {
            (default_bucket.to_owned(), path)
        }
    };
    if raw_key.is_empty() {
        return Ok(Target::Bucket(bucket));
    }
    let key = percent_decode(raw_key, false);
    if key.len() > 1023 || key.starts_with('/') || key.starts_with('\\') || key.contains('\0') {
        return Err(OssError::new(
            400,
            "InvalidObjectName",
            "The specified object is not valid.",
        )
        .detail("ObjectName", key.chars().take(256).collect::<String>())
        .ec("0016-00000005"));
    }
    Ok(Target::Object { bucket, key })
}

/// Splits a raw query into decoded pairs (`+` is a space, a bare name has an empty value).
pub fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(host: &str, path: &str) -> Result<Target, OssError> {
        resolve(
            host,
            path,
            |b| b == "examplebucket" || b == "other",
            "examplebucket",
        )
    }

    fn obj(b: &str, k: &str) -> Target {
        Target::Object {
            bucket: b.into(),
            key: k.into(),
        }
    }

    #[test]
    fn path_style_virtual_host_and_cname_resolve_to_bucket_and_key() {
        assert_eq!(r("127.0.0.1:9000", "/").unwrap(), Target::Service);
        assert_eq!(
            r("127.0.0.1:9000", "/examplebucket/a%20b/c+d.txt").unwrap(),
            obj("examplebucket", "a b/c+d.txt")
        );
        assert_eq!(
            r("localhost", "/other/").unwrap(),
            Target::Bucket("other".into())
        );
        assert_eq!(r("[::1]:80", "/x/k").unwrap(), obj("x", "k"));
        assert_eq!(
            r("examplebucket.localhost:1234", "/k").unwrap(),
            obj("examplebucket", "k")
        );
        assert_eq!(
            r("nosuch.oss-cn-hangzhou.aliyuncs.com", "/k").unwrap(),
            obj("nosuch", "k")
        );
        assert_eq!(
            r("media.example.com", "/dir/k").unwrap(),
            obj("examplebucket", "dir/k")
        );
        assert_eq!(
            r("media.example.com", "/").unwrap(),
            Target::Bucket("examplebucket".into())
        );
        assert_eq!(r("", "/b/k").unwrap(), obj("b", "k"));
        assert_eq!(
            r("h", "/examplebucket//k").unwrap_err().code,
            "InvalidObjectName"
        );
        let long = format!("/examplebucket/{}", "a".repeat(1024));
        assert_eq!(r("h", &long).unwrap_err().code, "InvalidObjectName");
    }

    #[test]
    fn queries_decode_plus_as_space_and_bare_names_as_empty() {
        assert_eq!(
            parse_query(Some("append&position=0&x=a+b%2B&&=v")),
            vec![
                ("append".to_owned(), String::new()),
                ("position".to_owned(), "0".to_owned()),
                ("x".to_owned(), "a b+".to_owned()),
                (String::new(), "v".to_owned()),
            ]
        );
        assert!(parse_query(None).is_empty());
    }
}

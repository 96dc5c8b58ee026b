//! Requests as plain data: a method, a bucket and key, decoded query pairs and headers.

use std::fmt;

/// The HTTP methods the OSS object operations use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// GetObject.
    Get,
    /// PutObject.
    Put,
    /// AppendObject, SealAppendObject.
    Post,
    /// HeadObject.
    Head,
    /// DeleteObject.
    Delete,
    /// CORS preflight (emulator side only).
    Options,
}

impl Method {
    /// The upper-case method name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Put => "PUT",
            Self::Post => "POST",
            Self::Head => "HEAD",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
        }
    }

    /// Parses a method name, case-insensitively.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Get,
            Self::Put,
            Self::Post,
            Self::Head,
            Self::Delete,
            Self::Options,
        ]
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ordered header list with case-insensitive lookup; names keep the case they were given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    /// An empty list.
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// The value of `name`, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name` to `value`, replacing every earlier value of the same name.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.remove(&name);
        self.0.push((name, value.into()));
    }

    /// Sets `name` only when it is not present yet (a caller's header wins over a default).
    pub fn set_default(&mut self, name: &str, value: impl Into<String>) {
        if !self.contains(name) {
            self.0.push((name.to_owned(), value.into()));
        }
    }

    /// Removes every value of `name`, returning the first one.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let mut removed = None;
        self.0.retain_mut(|(k, v)| {
            if k.eq_ignore_ascii_case(name) {
                removed.get_or_insert_with(|| std::mem::take(v));
                false
            } else {
                true
            }
        });
        removed
    }

    /// The pairs in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many pairs there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut h = Self::new();
        for (k, v) in iter {
            h.0.push((k.into(), v.into()));
        }
        h
    }
}

/// A request to OSS before it has a URL: what the signers and the endpoint resolver work on.
///
/// `query` holds decoded pairs; an empty value is a bare flag such as `append` (sent as `?append`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The HTTP method.
    pub method: Method,
    /// The bucket, or `None` for a service-level request.
    pub bucket: Option<String>,
    /// The object key (decoded, no leading `/`), or `None` for a bucket-level request.
    pub key: Option<String>,
    /// Decoded query pairs in the order they are sent.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: Headers,
}

impl Request {
    /// A request with no query and no headers.
    pub fn new(method: Method, bucket: Option<&str>, key: Option<&str>) -> Self {
        Self {
            method,
            bucket: bucket.map(str::to_owned),
            key: key.map(str::to_owned),
            query: Vec::new(),
            headers: Headers::new(),
        }
    }

    /// The first value of query parameter `name`.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_case_insensitive_and_replace() {
        let mut h = Headers::new();
        h.set("Content-Type", "a");
        h.set("content-type", "b");
        h.set_default("CONTENT-TYPE", "c");
        assert_eq!(h.get("Content-Type"), Some("b"));
        assert_eq!(h.len(), 1);
        assert_eq!(h.remove("CONTENT-type"), Some("b".into()));
        assert!(h.is_empty());
    }

    #[test]
    fn methods_round_trip() {
        for m in [
            Method::Get,
            Method::Put,
            Method::Post,
            Method::Head,
            Method::Delete,
            Method::Options,
        ] {
            assert_eq!(Method::parse(&m.to_string().to_lowercase()), Some(m));
        }
        assert_eq!(Method::parse("PATCH"), None);
    }
}

//! Test support: an in-process emulator, a small blocking HTTP/1.1 client, and OSS signing through the core.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use oss_append::encode::{uri_encode, url_encode_key};
use oss_append::sign::{presign_request, sign_request, SigningConfig, SigningVersion};
use oss_append::{Credentials, Method, Request, SigningTime};
use oss_emulator::config::{DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET};
use oss_emulator::{Config, RunningServer};

pub const BUCKET: &str = "examplebucket";
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

/// Starts an emulator with default settings (fresh temporary data dir).
pub fn start() -> RunningServer {
    start_with(|_| {})
}

/// Starts an emulator after `tweak` adjusted the defaults.
pub fn start_with(tweak: impl FnOnce(&mut Config)) -> RunningServer {
    let mut c = Config::default();
    tweak(&mut c);
    RunningServer::start(c).expect("the emulator starts")
}

/// A response as read off the wire.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The XML error document: the body, or the base64 `x-oss-err` header of a bodiless answer.
    pub fn error_xml(&self) -> String {
        if self.body.is_empty() {
            if let Some(b64) = self.header("x-oss-err") {
                return String::from_utf8(STANDARD.decode(b64).expect("x-oss-err is base64"))
                    .expect("x-oss-err is UTF-8");
            }
        }
        self.text()
    }

    /// A field of the error document.
    pub fn field(&self, name: &str) -> Option<String> {
        let xml = self.error_xml();
        let doc = oss_append::xml::parse_flat(xml.as_bytes()).ok()?;
        doc.get(name).map(str::to_owned)
    }

    pub fn code(&self) -> Option<String> {
        self.field("Code")
    }

    pub fn next_position(&self) -> Option<u64> {
        self.header("x-oss-next-append-position")?.parse().ok()
    }

    pub fn crc(&self) -> Option<u64> {
        self.header("x-oss-hash-crc64ecma")?.parse().ok()
    }

    /// Asserts status and error code together, with the body in the message.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            (self.status, self.code().as_deref()),
            (status, Some(code)),
            "{}",
            self.error_xml()
        );
        self
    }

    #[track_caller]
    pub fn expect_ok(&self) -> &Self {
        assert!(
            (200..300).contains(&self.status),
            "status {}: {}",
            self.status,
            self.error_xml()
        );
        self
    }
}

/// How the client failed to get a response.
#[derive(Debug)]
pub enum NoResponse {
    /// The server closed or reset the connection.
    Closed(String),
    /// The read timed out.
    TimedOut,
}

/// The raw parts of a request to put on the wire.
#[derive(Debug, Clone)]
pub struct Raw {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Writes `raw` on a fresh connection and reads one response.
pub fn exchange(addr: SocketAddr, raw: &Raw) -> Result<Resp, NoResponse> {
    exchange_with_timeout(addr, raw, IO_TIMEOUT)
}

pub fn exchange_with_timeout(
    addr: SocketAddr,
    raw: &Raw,
    timeout: Duration,
) -> Result<Resp, NoResponse> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(timeout)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    write_request(&mut s, raw);
    read_response(&mut s, raw.method == "HEAD")
}

pub fn write_request(s: &mut TcpStream, raw: &Raw) {
    let mut head = format!("{} {} HTTP/1.1\r\n", raw.method, raw.target);
    for (k, v) in &raw.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !raw.headers.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")
    }) {
        head.push_str(&format!("Content-Length: {}\r\n", raw.body.len()));
    }
    head.push_str("\r\n");
    // A server that answers early may close before the body is written; the response still counts.
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(&raw.body);
    let _ = s.flush();
}

fn map_err(e: std::io::Error) -> NoResponse {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => NoResponse::TimedOut,
        _ => NoResponse::Closed(e.to_string()),
    }
}

/// Reads one response (skipping `100 Continue`).
pub fn read_response(s: &mut TcpStream, head: bool) -> Result<Resp, NoResponse> {
    let mut r = BufReader::new(s);
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).map_err(map_err)?;
        if n == 0 {
            return Err(NoResponse::Closed("EOF before the status line".into()));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| NoResponse::Closed(format!("bad status line {line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            let n = r.read_line(&mut h).map_err(map_err)?;
            if n == 0 {
                return Err(NoResponse::Closed("EOF in headers".into()));
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').expect("header line");
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
        if status == 100 {
            continue;
        }
        let mut resp = Resp {
            status,
            headers,
            body: Vec::new(),
        };
        if head || status == 204 || status == 304 {
            return Ok(resp);
        }
        if let Some(len) = resp.header("content-length") {
            let len: usize = len.parse().expect("content-length");
            resp.body = vec![0; len];
            r.read_exact(&mut resp.body).map_err(map_err)?;
        } else if resp
            .header("transfer-encoding")
            .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
        {
            loop {
                let mut size = String::new();
                r.read_line(&mut size).map_err(map_err)?;
                let n = usize::from_str_radix(size.trim(), 16).expect("chunk size");
                let mut chunk = vec![0; n + 2];
                r.read_exact(&mut chunk).map_err(map_err)?;
                if n == 0 {
                    break;
                }
                resp.body.extend_from_slice(&chunk[..n]);
            }
        } else {
            r.read_to_end(&mut resp.body).map_err(map_err)?;
        }
        return Ok(resp);
    }
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The request target (path and query) for `req`, path style.
pub fn target_of(req: &Request) -> String {
    let mut t = String::from("/");
    if let Some(b) = &req.bucket {
        t.push_str(b);
        t.push('/');
    }
    if let Some(k) = &req.key {
        t.push_str(&url_encode_key(k));
    }
    for (i, (k, v)) in req.query.iter().enumerate() {
        t.push(if i == 0 { '?' } else { '&' });
        t.push_str(&uri_encode(k));
        if !v.is_empty() {
            t.push('=');
            t.push_str(&uri_encode(v));
        }
    }
    t
}

/// A signing client.
#[derive(Debug, Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub creds: Credentials,
    pub version: SigningVersion,
    pub region: String,
    /// Added to the local clock when signing, in seconds.
    pub skew_secs: i64,
    /// A `Host` to send instead of the socket address.
    pub host: Option<String>,
}

impl Client {
    pub fn new(server: &RunningServer, version: SigningVersion) -> Self {
        Self::at(server.addr(), version)
    }

    /// A client for an emulator at `addr` (e.g. a spawned binary).
    pub fn at(addr: SocketAddr, version: SigningVersion) -> Self {
        Self {
            addr,
            creds: Credentials::new(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, None)
                .unwrap(),
            version,
            region: "cn-hangzhou".into(),
            skew_secs: 0,
            host: None,
        }
    }

    pub fn v4(server: &RunningServer) -> Self {
        Self::new(server, SigningVersion::V4)
    }

    pub fn v1(server: &RunningServer) -> Self {
        Self::new(server, SigningVersion::V1)
    }

    pub fn with_creds(mut self, ak: &str, sk: &str, token: Option<&str>) -> Self {
        self.creds = Credentials::new(ak, sk, token).unwrap();
        self
    }

    pub fn host(&self) -> String {
        self.host.clone().unwrap_or_else(|| self.addr.to_string())
    }

    pub fn config(&self) -> SigningConfig {
        SigningConfig {
            version: self.version,
            region: self.region.clone(),
            product: "oss".into(),
            additional_headers: vec![],
        }
    }

    pub fn time(&self) -> SigningTime {
        SigningTime::from_unix_seconds(unix_now() + self.skew_secs)
    }

    /// A request for `key` in the default bucket.
    pub fn request(&self, method: Method, key: &str) -> Request {
        let mut r = Request::new(method, Some(BUCKET), Some(key));
        r.headers.set("Host", self.host());
        r
    }

    /// Signs `req` in its headers and turns it into wire form.
    pub fn signed(&self, mut req: Request, body: &[u8]) -> Raw {
        if !req.headers.contains("host") {
            req.headers.set("Host", self.host());
        }
        sign_request(&mut req, &self.creds, self.time(), &self.config()).unwrap();
        to_raw(&req, body)
    }

    /// Presigns `req` for `expires` seconds and turns it into wire form.
    pub fn presigned(&self, mut req: Request, body: &[u8], expires: u64) -> Raw {
        if !req.headers.contains("host") {
            req.headers.set("Host", self.host());
        }
        presign_request(&mut req, &self.creds, self.time(), expires, &self.config()).unwrap();
        to_raw(&req, body)
    }

    /// Signs and sends; panics when no response comes.
    #[track_caller]
    pub fn send(&self, req: Request, body: &[u8]) -> Resp {
        let raw = self.signed(req, body);
        let resp = exchange(self.addr, &raw).expect("a response");
        check_common(&resp);
        resp
    }

    pub fn try_send(&self, req: Request, body: &[u8]) -> Result<Resp, NoResponse> {
        exchange(self.addr, &self.signed(req, body))
    }

    pub fn append_request(&self, key: &str, position: u64) -> Request {
        let mut r = self.request(Method::Post, key);
        r.query.push(("append".into(), String::new()));
        r.query.push(("position".into(), position.to_string()));
        r
    }

    #[track_caller]
    pub fn append(&self, key: &str, position: u64, body: &[u8]) -> Resp {
        self.send(self.append_request(key, position), body)
    }

    #[track_caller]
    pub fn put(&self, key: &str, body: &[u8]) -> Resp {
        self.send(self.request(Method::Put, key), body)
    }

    #[track_caller]
    pub fn get(&self, key: &str) -> Resp {
        self.send(self.request(Method::Get, key), b"")
    }

    #[track_caller]
    pub fn head(&self, key: &str) -> Resp {
        self.send(self.request(Method::Head, key), b"")
    }

    #[track_caller]
    pub fn delete(&self, key: &str) -> Resp {
        self.send(self.request(Method::Delete, key), b"")
    }

    #[track_caller]
    pub fn seal(&self, key: &str, position: u64) -> Resp {
        let mut r = self.request(Method::Post, key);
        r.query.push(("seal".into(), String::new()));
        r.query.push(("position".into(), position.to_string()));
        self.send(r, b"")
    }
}

pub fn to_raw(req: &Request, body: &[u8]) -> Raw {
    Raw {
        method: req.method.as_str().to_owned(),
        target: target_of(req),
        headers: req
            .headers
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        body: body.to_vec(),
    }
}

/// Every OSS response carries these.
#[track_caller]
pub fn check_common(r: &Resp) {
    let id = r.header("x-oss-request-id").expect("x-oss-request-id");
    assert_eq!(id.len(), 24, "{id}");
    assert!(r.header("date").is_some(), "Date");
    assert_eq!(r.header("server"), Some("AliyunOSS"));
}

/// Control-plane call: JSON in, JSON out.
pub fn control(
    server: &RunningServer,
    method: &str,
    path: &str,
    json: &str,
) -> (u16, serde_json::Value) {
    let raw = Raw {
        method: method.into(),
        target: format!("/__emulator__{path}"),
        headers: vec![
            ("Host".into(), server.addr().to_string()),
            ("Content-Type".into(), "application/json".into()),
            ("X-Emulator-Token".into(), server.control_token().into()),
        ],
        body: json.as_bytes().to_vec(),
    };
    let r = exchange(server.addr(), &raw).expect("control plane answers");
    let v = serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null);
    (r.status, v)
}

/// Bytes that differ from part to part.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(seed as u32 % 31) as u8
                ^ seed
        })
        .collect()
}

pub fn md5_b64(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    STANDARD.encode(Md5::digest(data))
}

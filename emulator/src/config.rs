//! Emulator settings and the command line that fills them.

use std::net::IpAddr;
use std::path::PathBuf;

use crate::versions::Versioning;

/// The access key id accepted by default (a documented test value, not a secret).
pub const DEFAULT_ACCESS_KEY_ID: &str = "emulator-access-key-id";
/// The access key secret accepted by default (a documented test value, not a secret).
pub const DEFAULT_ACCESS_KEY_SECRET: &str = "emulator-access-key-secret";
/// The bucket that exists by default.
pub const DEFAULT_BUCKET: &str = "examplebucket";
/// The region id used in V4 scopes by default.
pub const DEFAULT_REGION: &str = "cn-hangzhou";
/// OSS's size limit for appendable objects (and the default for every object here): 5 GiB.
pub const DEFAULT_MAX_OBJECT_SIZE: u64 = 5 << 30;
/// The longest modelled latency accepted, in milliseconds (a minute).
pub const MAX_LATENCY_MS: u64 = 60_000;
/// The headers a browser may read by default (the CORS rule a careful bucket owner sets up).
pub const DEFAULT_EXPOSE_HEADERS: &[&str] = &[
    "ETag",
    "x-oss-request-id",
    "x-oss-next-append-position",
    "x-oss-hash-crc64ecma",
    "x-oss-version-id",
    "x-oss-delete-marker",
    "x-oss-object-type",
    "x-oss-err",
];

/// Which signature versions the emulator accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// Only `OSS ak:sig` headers and V1 presigned URLs.
    V1,
    /// Only `OSS4-HMAC-SHA256` headers and V4 presigned URLs.
    V4,
    /// Both.
    Any,
}

impl AuthMode {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "v1" => Some(Self::V1),
            "v4" => Some(Self::V4),
            "any" => Some(Self::Any),
            _ => None,
        }
    }

    /// Whether V1 signatures are accepted.
    pub fn allows_v1(self) -> bool {
        matches!(self, Self::V1 | Self::Any)
    }

    /// Whether V4 signatures are accepted.
    pub fn allows_v4(self) -> bool {
        matches!(self, Self::V4 | Self::Any)
    }
}

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    /// The address to listen on.
    pub bind: IpAddr,
    /// The port; 0 picks a free one.
    pub port: u16,
    /// The default bucket (also the one a cname host maps to).
    pub bucket: String,
    /// Further buckets.
    pub extra_buckets: Vec<String>,
    /// The access key id accepted at start.
    pub access_key_id: String,
    /// Its secret.
    pub access_key_secret: String,
    /// The STS token that must accompany it, if any.
    pub sts_token: Option<String>,
    /// The region id for V4 scopes (`cn-hangzhou`; an `oss-` prefix is dropped).
    pub region: String,
    /// Where objects live; `None` means a fresh temporary directory removed at exit.
    pub data_dir: Option<PathBuf>,
    /// The largest object size accepted, in bytes.
    pub max_object_size: u64,
    /// Accepted signature versions.
    pub auth: AuthMode,
    /// `Access-Control-Expose-Headers`; empty means the header is not sent.
    pub cors_expose: Vec<String>,
    /// How long a request body may stall before the request fails with RequestTimeout, in milliseconds.
    pub body_timeout_ms: u64,
    /// Whether to fsync data and metadata on every commit (slower; survives power loss, not only crashes).
    pub fsync: bool,
    /// The token every control-plane request must carry in `X-Emulator-Token`.
    pub control_token: String,
    /// Origins whose pages may call the control plane (CORS); empty (the default) sends no CORS headers there.
    pub control_origins: Vec<String>,
    /// The most connections served at once; further ones wait in the listen backlog.
    pub max_connections: usize,
    /// The versioning status every bucket starts with.
    pub versioning: Versioning,
    /// Milliseconds every answer is held: a modelled round trip (benchmarks and tests only).
    pub latency_ms: u64,
    /// Bytes per second at which request bytes are taken in, shared by all connections; 0: unpaced.
    pub upload_rate: u64,
}

/// The most connections served at once by default.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// A fresh control token: 32 hex digits from the OS's random number generator.
///
/// # Panics
/// When the OS has no random number generator to offer.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random number generator");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `token` can travel in a header: 1 to 256 visible ASCII characters.
pub fn is_token(token: &str) -> bool {
    (1..=256).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_graphic())
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            bucket: DEFAULT_BUCKET.to_owned(),
            extra_buckets: Vec::new(),
            access_key_id: DEFAULT_ACCESS_KEY_ID.to_owned(),
            access_key_secret: DEFAULT_ACCESS_KEY_SECRET.to_owned(),
            sts_token: None,
            region: DEFAULT_REGION.to_owned(),
            data_dir: None,
            max_object_size: DEFAULT_MAX_OBJECT_SIZE,
            auth: AuthMode::Any,
            cors_expose: DEFAULT_EXPOSE_HEADERS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            body_timeout_ms: 60_000,
            fsync: false,
            control_token: random_token(),
            control_origins: Vec::new(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            versioning: Versioning::Off,
            latency_ms: 0,
            upload_rate: 0,
        }
    }
}

/// The `--help` text.
pub const USAGE: &str = "\
oss-emulator: a local Alibaba Cloud OSS stand-in for append uploads

USAGE: oss-emulator [OPTIONS]

OPTIONS:
  --port <n>                 port to listen on; 0 picks a free one [default: 0]
  --bind <ip>                address to listen on [default: 127.0.0.1]
  --bucket <name>            default bucket (cname hosts map to it) [default: examplebucket]
  --extra-bucket <name>      another bucket; repeat for more
  --access-key-id <id>       accepted access key id [default: emulator-access-key-id]
  --access-key-secret <s>    its secret [default: emulator-access-key-secret]
  --sts-token <token>        require this STS token with that key [default: none]
  --region <id>              region for V4 scopes [default: cn-hangzhou]
  --data-dir <path>          where objects live [default: a fresh temporary directory]
  --max-object-size <bytes>  size limit per object; k/m/g suffixes (binary) allowed [default: 5g]
  --auth v1|v4|any           accepted signature versions [default: any]
  --cors-expose <list>|none  comma-separated Access-Control-Expose-Headers, or none
                             [default: ETag,x-oss-request-id,x-oss-next-append-position,
                              x-oss-hash-crc64ecma,x-oss-version-id,x-oss-delete-marker,
                              x-oss-object-type,x-oss-err]
  --body-timeout-ms <ms>     a request body that stalls this long fails with RequestTimeout [default: 60000]
  --fsync                    fsync data, metadata and the directory on every commit
  --versioning <status>      enabled|suspended: every bucket is versioned [default: never enabled]
  --control-token <token>    the token control-plane requests carry in X-Emulator-Token
                             [default: 32 random hex digits, printed at start]
  --control-origin <origin>  a page origin (e.g. http://127.0.0.1:8000) allowed to call the control
                             plane from a browser; repeat for more [default: none, no CORS there]
  --max-connections <n>      connections served at once; more wait to be accepted [default: 512]
  --latency-ms <ms>          hold every answer (preflights too) this long: a modelled round trip [default: 0]
  --upload-rate <bytes/s>    take request bytes in at this rate, all connections together; k/m/g
                             suffixes (binary) allowed; 0 is unpaced [default: 0]
  -h, --help                 print this help

The first line printed is `listening on http://<ip>:<port>`, the second `control token: <token>`.";

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    /// Run the server.
    Run(Box<Config>),
    /// Print the usage.
    Help,
}

impl Config {
    /// Parses command-line arguments (without the program name).
    ///
    /// # Errors
    /// A message naming the offending flag or value.
    pub fn from_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
        let mut cfg = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            if flag == "-h" || flag == "--help" {
                return Ok(Command::Help);
            }
            if flag == "--fsync" {
                cfg.fsync = true;
                continue;
            }
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                "--port" => {
                    let v = value()?;
                    cfg.port = v
                        .parse()
                        .map_err(|_| format!("--port: {v:?} is not a port number"))?;
                }
                "--bind" => {
                    let v = value()?;
                    cfg.bind = v
                        .parse()
                        .map_err(|_| format!("--bind: {v:?} is not an IP address"))?;
                }
                "--bucket" => cfg.bucket = checked_bucket(&value()?)?,
                "--extra-bucket" => {
                    let b = checked_bucket(&value()?)?;
                    cfg.extra_buckets.push(b);
                }
                "--access-key-id" => cfg.access_key_id = non_empty(&flag, value()?)?,
                "--access-key-secret" => cfg.access_key_secret = non_empty(&flag, value()?)?,
                "--sts-token" => cfg.sts_token = Some(non_empty(&flag, value()?)?),
                "--region" => {
                    let v = non_empty(&flag, value()?)?;
                    cfg.region = v.strip_prefix("oss-").unwrap_or(&v).to_owned();
                }
                "--data-dir" => cfg.data_dir = Some(PathBuf::from(value()?)),
                "--max-object-size" => {
                    let v = value()?;
                    cfg.max_object_size = parse_size(&v).ok_or_else(|| {
                        format!("--max-object-size: {v:?} is not a size (e.g. 5368709120 or 5g)")
                    })?;
                }
                "--auth" => {
                    let v = value()?;
                    cfg.auth = AuthMode::parse(&v)
                        .ok_or_else(|| format!("--auth: {v:?} is not one of v1, v4, any"))?;
                }
                "--cors-expose" => {
                    let v = value()?;
                    cfg.cors_expose = if v.trim().eq_ignore_ascii_case("none") {
                        Vec::new()
                    } else {
                        v.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect()
                    };
                }
                "--body-timeout-ms" => {
                    let v = value()?;
                    cfg.body_timeout_ms = v.parse().ok().filter(|ms| *ms > 0).ok_or_else(|| {
                        format!("--body-timeout-ms: {v:?} is not a positive number")
                    })?;
                }
                "--control-token" => {
                    let v = value()?;
                    if !is_token(&v) {
                        return Err(
                            "--control-token: use 1 to 256 visible ASCII characters (no spaces)"
                                .into(),
                        );
                    }
                    cfg.control_token = v;
                }
                "--control-origin" => {
                    let v = value()?;
                    let origin = v.trim().trim_end_matches('/');
                    let host = origin
                        .strip_prefix("http://")
                        .or_else(|| origin.strip_prefix("https://"));
                    let valid =
                        host.is_some_and(|h| !h.is_empty() && !h.contains('/')) && is_token(origin);
                    if !valid {
                        return Err(format!(
                            "--control-origin: {v:?} is not an origin like http://127.0.0.1:8000"
                        ));
                    }
                    cfg.control_origins.push(origin.to_owned());
                }
                "--max-connections" => {
                    let v = value()?;
                    cfg.max_connections = v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("--max-connections: {v:?} is not a positive number")
                    })?;
                }
                "--versioning" => {
                    let v = value()?;
                    cfg.versioning = Versioning::parse(&v).ok_or_else(|| {
                        format!("--versioning: {v:?} is not one of enabled, suspended")
                    })?;
                }
                "--latency-ms" => {
                    let v = value()?;
                    cfg.latency_ms = v
                        .parse()
                        .ok()
                        .filter(|ms| *ms <= MAX_LATENCY_MS)
                        .ok_or_else(|| {
                            format!("--latency-ms: {v:?} is not a number of milliseconds from 0 to {MAX_LATENCY_MS}")
                        })?;
                }
                "--upload-rate" => {
                    let v = value()?;
                    cfg.upload_rate = parse_size(&v).ok_or_else(|| {
                        format!("--upload-rate: {v:?} is not a rate in bytes per second (e.g. 1250000 or 2m)")
                    })?;
                }
                other => return Err(format!("unknown option {other:?}; see --help")),
            }
        }
        Ok(Command::Run(Box::new(cfg)))
    }

    /// Every bucket, the default first.
    pub fn buckets(&self) -> Vec<String> {
        let mut all = vec![self.bucket.clone()];
        for b in &self.extra_buckets {
            if !all.contains(b) {
                all.push(b.clone());
            }
        }
        all
    }
}

fn non_empty(flag: &str, v: String) -> Result<String, String> {
    let t = v.trim();
    if t.is_empty() {
        Err(format!("{flag} must not be empty"))
    } else {
        Ok(t.to_owned())
    }
}

fn checked_bucket(name: &str) -> Result<String, String> {
    if is_bucket_name(name) {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "{name:?} is not a bucket name: 3-63 characters, lower-case letters, digits and '-', \
             starting and ending with a letter or digit"
        ))
    }
}

/// Whether `name` follows OSS's bucket naming rules.
pub fn is_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Parses `1234`, `64k`, `8m`, `5g` (binary multiples).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_lowercase();
    let (digits, shift) = match t.strip_suffix(['k', 'm', 'g', 't']) {
        Some(d) => (
            d,
            match t.as_bytes()[t.len() - 1] {
                b'k' => 10,
                b'm' => 20,
                b'g' => 30,
                _ => 40,
            },
        ),
        None => (t.as_str(), 0),
    };
    let n: u64 = digits.parse().ok()?;
    n.checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        match Config::from_args(args.iter().map(|s| (*s).to_owned()))? {
            Command::Run(c) => Ok(*c),
            Command::Help => Err("help".into()),
        }
    }

    #[test]
    fn flags_override_defaults() {
        let c = parse(&[
            "--port",
            "9000",
            "--bucket=media",
            "--extra-bucket",
            "other",
            "--region",
            "oss-cn-shanghai",
            "--auth",
            "v4",
            "--cors-expose",
            "none",
            "--max-object-size",
            "8m",
        ])
        .unwrap();
        assert_eq!(c.port, 9000);
        assert_eq!(c.buckets(), ["media", "other"]);
        assert_eq!(c.region, "cn-shanghai");
        assert_eq!(c.auth, AuthMode::V4);
        assert!(c.cors_expose.is_empty());
        assert_eq!(c.max_object_size, 8 << 20);
        let n = parse(&["--latency-ms", "150", "--upload-rate=2m"]).unwrap();
        assert_eq!((n.latency_ms, n.upload_rate), (150, 2 << 20));
        let d = parse(&[]).unwrap();
        assert_eq!((d.latency_ms, d.upload_rate), (0, 0));
        assert_eq!(d.max_object_size, 5 << 30);
        assert_eq!(d.cors_expose.len(), DEFAULT_EXPOSE_HEADERS.len());
        assert_eq!(d.versioning, Versioning::Off);
        let v = parse(&["--versioning", "enabled"]).unwrap();
        assert_eq!(v.versioning, Versioning::Enabled);
    }

    #[test]
    fn bad_flags_are_named() {
        assert!(parse(&["--port", "x"]).unwrap_err().contains("--port"));
        assert!(parse(&["--bucket", "Bad_Name"])
            .unwrap_err()
            .contains("bucket"));
        assert!(parse(&["--nope"]).unwrap_err().contains("--nope"));
        assert!(parse(&["--auth"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["--versioning", "on"])
            .unwrap_err()
            .contains("enabled, suspended"));
        assert!(parse(&["--latency-ms", "-5"])
            .unwrap_err()
            .contains("--latency-ms"));
        assert!(parse(&["--latency-ms", "60001"])
            .unwrap_err()
            .contains("60000"));
        assert!(parse(&["--upload-rate", "fast"])
            .unwrap_err()
            .contains("--upload-rate"));
        assert_eq!(parse(&["-h"]).unwrap_err(), "help");
    }

    #[test]
    fn control_flags_are_checked() {
        let c = parse(&[
            "--control-token",
            "t0k3n",
            "--control-origin",
            "http://127.0.0.1:8000/",
            "--control-origin=https://app.test",
            "--max-connections",
            "3",
        ])
        .unwrap();
        assert_eq!(c.control_token, "t0k3n");
        assert_eq!(
            c.control_origins,
            ["http://127.0.0.1:8000", "https://app.test"]
        );
        assert_eq!(c.max_connections, 3);
        let d = parse(&[]).unwrap();
        assert_eq!(d.control_token.len(), 32);
        assert_ne!(d.control_token, parse(&[]).unwrap().control_token);
        assert!(d.control_origins.is_empty());
        assert_eq!(d.max_connections, DEFAULT_MAX_CONNECTIONS);
        for bad in [
            &["--control-token", ""][..],
            &["--control-token", "a b"],
            &["--control-origin", "127.0.0.1:8000"],
            &["--control-origin", "http://a.test/path"],
            &["--control-origin", "http://"],
            &["--max-connections", "0"],
        ] {
            assert!(parse(bad).unwrap_err().contains(bad[0]), "{bad:?}");
        }
    }

    #[test]
    fn sizes_take_unit_suffixes_and_bucket_names_follow_oss_rules() {
        assert_eq!(parse_size("5g"), Some(5 << 30));
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("-1"), None);
        assert!(is_bucket_name("examplebucket"));
        assert!(!is_bucket_name("-ab"));
        assert!(!is_bucket_name("ab"));
    }
}

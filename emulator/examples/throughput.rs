//! Append throughput over loopback: appends `--total` bytes in `--part`-sized V4-signed appends and prints MB/s.

// `cargo run -p oss-append-emulator --release --example throughput -- [--total 1g] [--part 8m]
// [--passes 3] [--url http://127.0.0.1:PORT] [--v1]`. Without `--url` the emulator runs in this
// process on a fresh temporary directory. Every response's whole-object CRC is checked against the
// client's. Each pass writes a new object and deletes it afterwards; the first pass also pays for
// the kernel handing out page-cache pages that were never touched before (slow on some VMs), later
// passes show the steady state.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use oss_append::crc64::{combine, crc64};
use oss_append::encode::{uri_encode, url_encode_key};
use oss_append::sign::{sign_request, SigningConfig, SigningVersion};
use oss_append::{Credentials, Method, Request, SigningTime};
use oss_emulator::config::{
    parse_size, DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, DEFAULT_BUCKET, DEFAULT_REGION,
};
use oss_emulator::{Config, RunningServer};

struct Args {
    total: u64,
    part: u64,
    passes: u32,
    url: Option<String>,
    version: SigningVersion,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        total: 1 << 30,
        part: 8 << 20,
        passes: 3,
        url: None,
        version: SigningVersion::V4,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--total" => a.total = parse_size(&value()?).ok_or("bad --total")?,
            "--part" => a.part = parse_size(&value()?).ok_or("bad --part")?,
            "--url" => a.url = Some(value()?),
            "--passes" => a.passes = value()?.parse().map_err(|_| "bad --passes")?,
            "--v1" => a.version = SigningVersion::V1,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if a.part == 0 || a.total == 0 || a.passes == 0 {
        return Err("--total and --part must be positive".into());
    }
    Ok(a)
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("throughput: {e}");
            std::process::exit(2);
        }
    };
    let (server, addr) = match &a.url {
        Some(u) => {
            let hostport = u.trim_start_matches("http://").trim_end_matches('/');
            (
                None,
                hostport
                    .parse::<SocketAddr>()
                    .expect("--url http://ip:port"),
            )
        }
        None => {
            let s = RunningServer::start(Config::default()).expect("start the emulator");
            let addr = s.addr();
            (Some(s), addr)
        }
    };
    let part = pattern(a.part as usize);
    let bench = Bench {
        addr,
        part_crc: crc64(&part),
        part,
        creds: Credentials::new(DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET, None).unwrap(),
        cfg: SigningConfig {
            version: a.version,
            region: DEFAULT_REGION.into(),
            product: "oss".into(),
            additional_headers: vec![],
        },
    };
    let conn = TcpStream::connect(addr).expect("connect");
    conn.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    let mut rates = Vec::new();
    for pass in 1..=a.passes {
        let key = format!("bench/throughput-{}-{pass}.bin", std::process::id());
        let secs = bench.append_all(&mut conn, &mut reader, &key, a.total);
        let rate = a.total as f64 / 1e6 / secs;
        println!(
            "pass {pass}: appended {} bytes in {} parts of {} bytes ({}) in {secs:.3} s: {rate:.0} MB/s",
            a.total,
            a.total.div_ceil(a.part),
            a.part,
            if a.version == SigningVersion::V4 { "V4" } else { "V1" },
        );
        rates.push(rate);
        // Deleting returns the object's page cache to the kernel, so the next pass writes into
        // recycled pages as a long-running emulator does.
        bench.request(&mut conn, &mut reader, Method::Delete, &key, None, b"");
    }
    let best = rates.iter().copied().fold(0.0, f64::max);
    println!(
        "append throughput: first pass {:.0} MB/s, best {best:.0} MB/s over {} passes",
        rates[0],
        rates.len()
    );
    drop(server);
}

struct Bench {
    addr: SocketAddr,
    part: Vec<u8>,
    part_crc: u64,
    creds: Credentials,
    cfg: SigningConfig,
}

impl Bench {
    /// Appends `total` bytes to `key` part by part, checking every response; returns the seconds taken.
    fn append_all(
        &self,
        conn: &mut TcpStream,
        reader: &mut BufReader<TcpStream>,
        key: &str,
        total: u64,
    ) -> f64 {
        let part_len = self.part.len() as u64;
        let mut position = 0u64;
        let mut crc = 0u64;
        let started = Instant::now();
        while position < total {
            let len = part_len.min(total - position) as usize;
            let body = &self.part[..len];
            let (status, next, server_crc) =
                self.request(conn, reader, Method::Post, key, Some(position), body);
            assert_eq!(status, 200, "append at {position} failed");
            let body_crc = if len as u64 == part_len {
                self.part_crc
            } else {
                crc64(body)
            };
            crc = combine(crc, body_crc, len as u64);
            position += len as u64;
            assert_eq!(next, Some(position), "next position");
            assert_eq!(server_crc, Some(crc), "whole-object CRC");
        }
        started.elapsed().as_secs_f64()
    }

    /// Sends one signed request on the kept-alive connection and reads its response.
    fn request(
        &self,
        conn: &mut TcpStream,
        reader: &mut BufReader<TcpStream>,
        method: Method,
        key: &str,
        position: Option<u64>,
        body: &[u8],
    ) -> (u16, Option<u64>, Option<u64>) {
        let mut req = Request::new(method, Some(DEFAULT_BUCKET), Some(key));
        let mut target = format!("/{DEFAULT_BUCKET}/{}", url_encode_key(key));
        if let Some(p) = position {
            req.query.push(("append".into(), String::new()));
            req.query.push(("position".into(), p.to_string()));
            target.push_str(&format!("?append&position={}", uri_encode(&p.to_string())));
            req.headers.set("Content-Type", "application/octet-stream");
        }
        req.headers.set("Host", self.addr.to_string());
        req.headers.set("Content-Length", body.len().to_string());
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        sign_request(
            &mut req,
            &self.creds,
            SigningTime::from_unix_seconds(now),
            &self.cfg,
        )
        .unwrap();
        let mut head = format!("{} {target} HTTP/1.1\r\n", method.as_str());
        for (k, v) in req.headers.iter() {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        conn.write_all(head.as_bytes()).unwrap();
        conn.write_all(body).unwrap();
        read_response(reader, method == Method::Head)
    }
}

fn read_response(r: &mut BufReader<TcpStream>, head: bool) -> (u16, Option<u64>, Option<u64>) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (mut next, mut crc, mut len) = (None, None, 0usize);
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let v = v.trim();
            match k.to_ascii_lowercase().as_str() {
                "x-oss-next-append-position" => next = v.parse().ok(),
                "x-oss-hash-crc64ecma" => crc = v.parse().ok(),
                "content-length" => len = v.parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    let mut body = vec![0; if head { 0 } else { len }];
    r.read_exact(&mut body).unwrap();
    if status != 200 {
        eprintln!("{}", String::from_utf8_lossy(&body));
    }
    (status, next, crc)
}

fn pattern(len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

//! Hardening: the control plane only for its own Host, token and JSON; only its own files; resets that
//! lose no acknowledged write; bounded connections and key tables; fsync of the directory; checked sizes.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use oss_append::crc64::crc64;
use oss_append::Method;

/// A control-plane request with every header given here (none added but Content-Length).
fn control_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let raw = Raw {
        method: method.into(),
        target: format!("/__emulator__{path}"),
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.as_bytes().to_vec(),
    };
    exchange(addr, &raw).expect("the control plane answers")
}

fn object_count(s: &oss_emulator::RunningServer) -> usize {
    control(s, "GET", "/state?md5=0", "").1["buckets"]["examplebucket"]["objects"]
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn the_control_plane_answers_only_its_own_host_with_the_token() {
    let s = start();
    let c = Client::v4(&s);
    c.append("kept", 0, b"data").expect_ok();
    let own = s.addr().to_string();
    let token = s.control_token().to_owned();
    let ok = |host: &str| {
        control_raw(
            s.addr(),
            "GET",
            "/health",
            &[("Host", host), ("X-Emulator-Token", &token)],
            "",
        )
    };
    assert_eq!(ok(&own).status, 200);
    assert_eq!(ok(&format!("localhost:{}", s.addr().port())).status, 200);
    // DNS rebinding: a name the attacker controls, resolving to 127.0.0.1.
    for host in [
        format!("rebind.attacker.example:{}", s.addr().port()),
        "127.0.0.1".to_owned(),
        format!("examplebucket.localhost:{}", s.addr().port()),
    ] {
        let r = ok(&host);
        assert_eq!(r.status, 403, "Host {host}: {}", r.text());
        assert!(r.text().contains("Host"), "{}", r.text());
    }
    // No token, or a wrong one.
    for headers in [
        vec![("Host", own.as_str())],
        vec![("Host", own.as_str()), ("X-Emulator-Token", "guess")],
    ] {
        let r = control_raw(s.addr(), "POST", "/reset", &headers, "");
        assert_eq!(r.status, 401, "{}", r.text());
        assert!(r.text().contains("X-Emulator-Token"), "{}", r.text());
    }
    assert_eq!(object_count(&s), 1, "nothing was reset");
}

#[test]
fn the_control_plane_sends_no_cors_headers_and_takes_only_json_bodies() {
    let s = start();
    let c = Client::v4(&s);
    c.append("kept", 0, b"data").expect_ok();
    let own = s.addr().to_string();
    let token = s.control_token().to_owned();
    // A page on another origin: no Access-Control-* in any answer, and no preflight.
    let r = control_raw(
        s.addr(),
        "GET",
        "/state",
        &[
            ("Host", &own),
            ("X-Emulator-Token", &token),
            ("Origin", "http://evil.test"),
        ],
        "",
    );
    assert_eq!(r.status, 200);
    assert!(
        r.headers
            .iter()
            .all(|(k, _)| !k.to_ascii_lowercase().starts_with("access-control-")),
        "{:?}",
        r.headers
    );
    let pre = control_raw(
        s.addr(),
        "OPTIONS",
        "/reset",
        &[
            ("Host", &own),
            ("Origin", "http://evil.test"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "x-emulator-token"),
        ],
        "",
    );
    assert_ne!(pre.status, 200);
    assert!(
        pre.header("access-control-allow-origin").is_none(),
        "{:?}",
        pre.headers
    );
    // The CORS-simple content types are refused for bodies, even with the token.
    for ct in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let r = control_raw(
            s.addr(),
            "POST",
            "/reset",
            &[
                ("Host", &own),
                ("X-Emulator-Token", &token),
                ("Content-Type", ct),
            ],
            "{}",
        );
        assert_eq!(r.status, 415, "{ct}: {}", r.text());
        assert!(r.text().contains("application/json"), "{}", r.text());
    }
    let r = control_raw(
        s.addr(),
        "POST",
        "/faults",
        &[("Host", &own), ("X-Emulator-Token", &token)],
        r#"{"kind":"delay"}"#,
    );
    assert_eq!(r.status, 415, "a body without a Content-Type: {}", r.text());
    assert_eq!(object_count(&s), 1, "nothing was reset");
    let r = control_raw(
        s.addr(),
        "POST",
        "/faults",
        &[
            ("Host", &own),
            ("X-Emulator-Token", &token),
            ("Content-Type", "application/json; charset=utf-8"),
        ],
        r#"{"kind":"delay","delay_ms":1}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // A body-less POST needs no Content-Type.
    let r = control_raw(
        s.addr(),
        "POST",
        "/reset",
        &[("Host", &own), ("X-Emulator-Token", &token)],
        "",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(object_count(&s), 0);
}

#[test]
fn named_origins_alone_may_call_the_control_plane_from_a_page() {
    let s = start_with(|c| c.control_origins = vec!["http://127.0.0.1:8123".into()]);
    let own = s.addr().to_string();
    let token = s.control_token().to_owned();
    let preflight = |origin: &str| {
        control_raw(
            s.addr(),
            "OPTIONS",
            "/faults",
            &[
                ("Host", &own),
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
                (
                    "Access-Control-Request-Headers",
                    "content-type, x-emulator-token",
                ),
            ],
            "",
        )
    };
    let r = preflight("http://127.0.0.1:8123");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://127.0.0.1:8123")
    );
    assert!(r
        .header("access-control-allow-headers")
        .unwrap()
        .contains("x-emulator-token"));
    let r = preflight("http://127.0.0.1:8124");
    assert_eq!(r.status, 403);
    assert!(r.header("access-control-allow-origin").is_none());
    // The named origin still needs the token.
    let r = control_raw(
        s.addr(),
        "GET",
        "/faults",
        &[("Host", &own), ("Origin", "http://127.0.0.1:8123")],
        "",
    );
    assert_eq!(r.status, 401);
    let r = control_raw(
        s.addr(),
        "GET",
        "/faults",
        &[
            ("Host", &own),
            ("Origin", "http://127.0.0.1:8123"),
            ("X-Emulator-Token", &token),
        ],
        "",
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://127.0.0.1:8123")
    );
}

/// Starts the binary with `args` on a data directory of `dir`; returns the child and its first two
/// stdout lines.
fn spawn_lines(dir: &tempfile::TempDir, args: &[&str]) -> (std::process::Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oss-emulator"))
        .args(args)
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut second).unwrap();
    (child, first, second)
}

#[test]
fn the_token_is_printed_on_its_own_line_after_the_listening_line() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let (mut a, first, second) = spawn_lines(&dirs[0], &["--port", "0"]);
    let (mut b, _, other) = spawn_lines(&dirs[1], &["--port", "0"]);
    a.kill().unwrap();
    b.kill().unwrap();
    let _ = (a.wait(), b.wait());
    assert!(
        first.starts_with("listening on http://127.0.0.1:"),
        "{first:?}"
    );
    let token = second
        .trim_end()
        .strip_prefix("control token: ")
        .expect(&second);
    assert_eq!(token.len(), 32, "{token}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    assert_ne!(second, other, "each start draws a new token");
    let (mut c, first, second) =
        spawn_lines(&dirs[2], &["--port", "0", "--control-token", "my-token"]);
    let addr: SocketAddr = first
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .parse()
        .unwrap();
    let host = addr.to_string();
    let r = control_raw(
        addr,
        "GET",
        "/health",
        &[("Host", &host), ("X-Emulator-Token", "my-token")],
        "",
    );
    c.kill().unwrap();
    let _ = c.wait();
    assert_eq!(second, "control token: my-token\n");
    assert_eq!(r.status, 200);
    let bad = Command::new(env!("CARGO_BIN_EXE_oss-emulator"))
        .args(["--control-token", "has space"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--control-token"));
}

#[test]
fn startup_and_reset_touch_only_the_emulators_own_files() {
    // A directory someone else filled is refused, and left as it was.
    let foreign = tempfile::tempdir().unwrap();
    std::fs::write(foreign.path().join("thesis.data"), b"years of work").unwrap();
    let err = oss_emulator::RunningServer::start(oss_emulator::Config {
        data_dir: Some(foreign.path().to_path_buf()),
        ..Default::default()
    })
    .expect_err("a foreign directory is refused");
    assert!(err.to_string().contains("not empty"), "{err}");
    assert!(
        err.to_string()
            .contains(&foreign.path().display().to_string()),
        "{err}"
    );
    assert_eq!(
        std::fs::read(foreign.path().join("thesis.data")).unwrap(),
        b"years of work"
    );

    // An empty one becomes the emulator's; files others put in it later survive restarts and resets.
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("examplebucket");
    let strangers = [
        "notes.tmp",
        "photo.data",
        "x.meta",
        "README",
        &format!("{}.meta.bak", "a".repeat(64)),
    ];
    {
        let s = start_with(|c| c.data_dir = Some(dir.path().to_path_buf()));
        assert!(dir.path().join(oss_emulator::store::MARKER).is_file());
        for name in strangers {
            std::fs::write(bucket.join(name), name).unwrap();
        }
        Client::v4(&s).append("mine", 0, b"abc").expect_ok();
        s.stop();
    }
    let s = start_with(|c| c.data_dir = Some(dir.path().to_path_buf()));
    let c = Client::v4(&s);
    assert_eq!(c.get("mine").body, b"abc");
    assert_eq!(control(&s, "POST", "/reset", "{}").0, 200);
    c.head("mine").expect_error(404, "NoSuchKey");
    for name in strangers {
        assert_eq!(
            std::fs::read_to_string(bucket.join(name)).unwrap(),
            name,
            "{name}"
        );
    }
    let left: Vec<String> = std::fs::read_dir(&bucket)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !strangers.contains(&n.as_str()))
        .collect();
    assert!(
        left.is_empty(),
        "the emulator's own files are gone: {left:?}"
    );
}

#[test]
fn a_reset_racing_an_append_never_drops_an_acknowledged_append() {
    let s = start();
    let c = Client::v4(&s);
    c.append("race", 0, b"first").expect_ok();
    // An append that is in its body, holding the object's writer lock, when the reset comes.
    let mut raw = c.signed(c.append_request("race", 5), b"");
    raw.headers.push(("Content-Length".into(), "2000".into()));
    let mut conn = TcpStream::connect(s.addr()).unwrap();
    conn.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    write_request(&mut conn, &raw);
    conn.write_all(&[b'x'; 1000]).unwrap();
    let slot = s.state().store.existing_slot(BUCKET, "race").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while slot.writer.try_lock().is_ok() {
        assert!(Instant::now() < deadline, "the append never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    let (addr, token) = (s.addr(), s.control_token().to_owned());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let host = addr.to_string();
        let r = control_raw(
            addr,
            "POST",
            "/reset",
            &[("Host", &host), ("X-Emulator-Token", &token)],
            "",
        );
        let _ = tx.send(r.status);
    });
    // Give the reset time to finish before the body does (it must not wait for it).
    let reset_first = rx.recv_timeout(Duration::from_secs(5));
    conn.write_all(&[b'y'; 1000]).unwrap();
    let answered = read_response(&mut conn, false).expect("the append answers");
    let reset_status = match reset_first {
        Ok(status) => status,
        Err(_) => rx.recv_timeout(IO_TIMEOUT).expect("the reset answers"),
    };
    assert_eq!(reset_status, 200);
    // Whatever the order, a 200 means the bytes are there.
    let h = c.head("race");
    if answered.status == 200 {
        assert_eq!(
            h.next_position(),
            Some(2005),
            "an acknowledged append was lost"
        );
    }
    // The order is: the reset does not wait for the body; the append, begun before it, does not land.
    assert!(
        reset_first.is_ok(),
        "the reset waited for the write in flight"
    );
    answered.expect_error(500, "InternalError");
    h.expect_error(404, "NoSuchKey");
    // Writes after the reset land.
    c.append("race", 0, b"again").expect_ok();
    assert_eq!(c.get("race").body, b"again");
}

#[test]
fn fsync_also_syncs_the_directory_after_each_rename() {
    let s = start_with(|c| c.fsync = true);
    let c = Client::v4(&s);
    let before = s.state().store.dir_syncs();
    c.append("durable", 0, b"abc").expect_ok();
    let after_append = s.state().store.dir_syncs();
    assert!(
        after_append > before,
        "no directory fsync after the append's rename"
    );
    c.delete("durable").expect_ok();
    assert!(
        s.state().store.dir_syncs() > after_append,
        "none after the delete"
    );
    let plain = start();
    Client::v4(&plain).append("k", 0, b"abc").expect_ok();
    assert_eq!(plain.state().store.dir_syncs(), 0, "only with --fsync");
}

/// Sends an append with a chunked body of `total` bytes in 64 KiB chunks; reads the answer.
fn chunked_append(c: &Client, key: &str, position: u64, total: usize) -> Result<Resp, NoResponse> {
    let mut raw = c.signed(c.append_request(key, position), b"");
    raw.headers
        .push(("Transfer-Encoding".into(), "chunked".into()));
    let mut conn = TcpStream::connect(c.addr).unwrap();
    conn.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    write_request(&mut conn, &raw);
    let chunk = pattern(64 << 10, 5);
    let mut sent = 0;
    // The server may answer and close early; the answer still counts.
    while sent < total {
        let n = chunk.len().min(total - sent);
        let mut frame = format!("{n:x}\r\n").into_bytes();
        frame.extend_from_slice(&chunk[..n]);
        frame.extend_from_slice(b"\r\n");
        if conn.write_all(&frame).is_err() {
            break;
        }
        sent += n;
    }
    let _ = conn.write_all(b"0\r\n\r\n");
    read_response(&mut conn, false)
}

#[test]
fn a_lowered_size_limit_refuses_appends_to_objects_already_past_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = pattern(2 << 20, 1);
    {
        let s = start_with(|c| c.data_dir = Some(dir.path().to_path_buf()));
        Client::v4(&s).append("big", 0, &first).expect_ok();
    }
    let s = start_with(|c| {
        c.data_dir = Some(dir.path().to_path_buf());
        c.max_object_size = 1 << 20;
    });
    let c = Client::v4(&s);
    let r =
        chunked_append(&c, "big", 2 << 20, 3 << 20).expect("an answer, not a dropped connection");
    r.expect_error(400, "EntityTooLarge");
    let h = c.head("big");
    assert_eq!(h.next_position(), Some(2 << 20));
    assert_eq!(h.crc(), Some(crc64(&first)));
    // Below the limit, chunked appends still work.
    chunked_append(&c, "small", 0, 100_000).unwrap().expect_ok();
}

#[test]
fn connections_past_the_limit_wait_until_one_closes() {
    let s = start_with(|c| c.max_connections = 2);
    let c = Client::v4(&s);
    let idle: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(s.addr()).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut third = TcpStream::connect(s.addr()).unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    write_request(
        &mut third,
        &c.signed(c.request(Method::Head, "nothing"), b""),
    );
    assert!(
        matches!(read_response(&mut third, true), Err(NoResponse::TimedOut)),
        "a third connection was served past a limit of two"
    );
    drop(idle);
    third.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let r = read_response(&mut third, true).expect("served once a slot is free");
    r.expect_error(404, "NoSuchKey");
}

#[test]
fn refused_requests_do_not_grow_the_key_table() {
    let s = start();
    let c = Client::v4(&s);
    c.append("live", 0, b"abc").expect_ok();
    const REQUESTS: usize = 40_000;
    const THREADS: usize = 4;
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                let mut conn = TcpStream::connect(c.addr).unwrap();
                conn.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                let pad = "k".repeat(400);
                for i in 0..REQUESTS / THREADS {
                    // Position 7 of an object that does not exist: 409, nothing stored.
                    let key = format!("refused/{t}/{i}/{pad}");
                    write_request(&mut conn, &c.signed(c.append_request(&key, 7), b""));
                    let r = read_response(&mut conn, false).expect("an answer");
                    assert_eq!(r.status, 409);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let slots = s.state().store.slot_count();
    assert!(
        slots <= 2048,
        "{slots} slots after {REQUESTS} refused requests"
    );
    assert_eq!(c.get("live").body, b"abc");
    assert_eq!(object_count(&s), 1);
}

#[test]
fn of_several_ranges_only_the_first_is_returned() {
    let s = start();
    let c = Client::v4(&s);
    c.append("ranges", 0, b"0123456789").expect_ok();
    for (range, status, body, content_range) in [
        ("bytes=0-1,4-5", 206, &b"01"[..], Some("bytes 0-1/10")),
        ("bytes=4-5,0-1", 206, b"45", Some("bytes 4-5/10")),
        ("bytes=-3,0-1", 206, b"789", Some("bytes 7-9/10")),
        ("bytes=8-,0-1", 206, b"89", Some("bytes 8-9/10")),
    ] {
        let mut req = c.request(Method::Get, "ranges");
        req.headers.set("Range", range);
        let r = c.send(req, b"");
        assert_eq!(
            (r.status, r.body.as_slice(), r.header("content-range")),
            (status, body, content_range),
            "{range}"
        );
    }
}

//! Bad requests never hurt the server: each gets an answer (or a closed connection), and it keeps serving.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use oss_append::crc64::crc64;
use oss_append::Method;

fn raw_exchange(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let _ = s.write_all(bytes);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn garbage_on_the_wire_is_refused() {
    let s = start();
    let c = Client::v4(&s);
    c.append("ok", 0, b"x").expect_ok();
    for junk in [
        &b"GARBAGE\r\n\r\n"[..],
        b"\x00\x01\x02\x03\r\n\r\n",
        b"GET /examplebucket/ok HTTP/9.9\r\n\r\n",
        b"POST /examplebucket/ok?append&position=1 HTTP/1.1\r\nHost: h\r\nContent-Length: nope\r\n\r\n",
        b"POST /examplebucket/ok?append&position=1 HTTP/1.1\r\nHost: h\r\nContent-Length: -5\r\n\r\n",
        b"POST /examplebucket/ok HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /examplebucket/ok HTTP/1.1\r\nBad Header Line\r\n\r\n",
    ] {
        let answer = raw_exchange(s.addr(), junk);
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
            "{junk:?} -> {answer:?}"
        );
    }
    let long = format!(
        "GET /examplebucket/ok HTTP/1.1\r\nHost: h\r\nX-Long: {}\r\n\r\n",
        "a".repeat(8 << 20)
    );
    let answer = raw_exchange(s.addr(), long.as_bytes());
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 4"),
        "{answer:.80}"
    );
    assert_eq!(c.get("ok").body, b"x");
}

#[test]
fn odd_but_parseable_requests_get_oss_errors() {
    let s = start();
    let c = Client::v4(&s);
    c.append("k", 0, b"abc").expect_ok();
    let r = c.send(
        oss_append::Request::new(Method::Options, Some(BUCKET), Some("k")),
        b"",
    );
    r.expect_error(403, "AccessForbidden");
    let raw = Raw {
        method: "PATCH".into(),
        target: "/examplebucket/k".into(),
        headers: vec![("Host".into(), "h".into())],
        body: vec![],
    };
    exchange(s.addr(), &raw)
        .unwrap()
        .expect_error(405, "MethodNotAllowed");
    let mut post = c.request(Method::Post, "k");
    post.query.push(("uploads-typo".into(), String::new()));
    c.send(post, b"").expect_error(405, "MethodNotAllowed");
    // Keys: bad escapes decode leniently, too long or absolute ones are refused.
    let mut raw = c.signed(c.request(Method::Get, "%zz"), b"");
    raw.target = "/examplebucket/%zz".into();
    exchange(s.addr(), &raw)
        .unwrap()
        .expect_error(404, "NoSuchKey");
    c.get(&"k".repeat(1024))
        .expect_error(400, "InvalidObjectName");
    let mut raw = c.signed(c.request(Method::Get, "k"), b"");
    raw.target = "/examplebucket//k".into();
    exchange(s.addr(), &raw)
        .unwrap()
        .expect_error(400, "InvalidObjectName");
    // A header value that is not UTF-8 is read as Latin-1; the signature still decides.
    let mut raw = c.signed(c.request(Method::Get, "k"), b"");
    raw.headers
        .push(("x-oss-meta-odd".into(), "caf\u{e9}".into()));
    let mut bytes = format!("GET {} HTTP/1.1\r\n", raw.target).into_bytes();
    for (k, v) in &raw.headers {
        bytes.extend_from_slice(k.as_bytes());
        bytes.extend_from_slice(b": ");
        if k == "x-oss-meta-odd" {
            bytes.extend_from_slice(b"caf\xe9");
        } else {
            bytes.extend_from_slice(v.as_bytes());
        }
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"\r\n");
    let answer = raw_exchange(s.addr(), &bytes);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer:.200}");
    assert!(answer.contains("SignatureDoesNotMatch"), "{answer:.400}");
    assert_eq!(c.get("k").body, b"abc");
}

#[test]
fn oversized_bodies_are_refused_unread_stalled_ones_time_out_and_expect_continue_works() {
    let s = start_with(|c| c.body_timeout_ms = 300);
    let c = Client::v4(&s);
    c.append("big", 0, b"abc").expect_ok();
    // A declared 10 GiB body is refused at once, without reading it.
    let mut put = c.request(Method::Put, "huge");
    put.headers.set("Content-Length", (10u64 << 30).to_string());
    let raw = c.signed(put, b"");
    let t = Instant::now();
    let r = exchange(s.addr(), &raw).unwrap();
    r.expect_error(400, "EntityTooLarge");
    assert_eq!(r.header("connection"), Some("close"));
    assert!(t.elapsed() < Duration::from_secs(5));
    let mut app = c.append_request("big", 3);
    app.headers.set("Content-Length", (6u64 << 30).to_string());
    exchange(s.addr(), &c.signed(app, b""))
        .unwrap()
        .expect_error(400, "EntityTooLarge");
    // A body that stalls fails with RequestTimeout and changes nothing.
    let mut raw = c.signed(c.append_request("big", 3), b"");
    raw.headers.push(("Content-Length".into(), "100".into()));
    raw.body = b"only-ten!!".to_vec();
    exchange(s.addr(), &raw)
        .unwrap()
        .expect_error(400, "RequestTimeout");
    assert_eq!(c.head("big").next_position(), Some(3));
    // Expect: 100-continue is honoured.
    let mut raw = c.signed(c.append_request("big", 3), b"");
    raw.headers.push(("Expect".into(), "100-continue".into()));
    raw.headers.push(("Content-Length".into(), "3".into()));
    let mut conn = TcpStream::connect(s.addr()).unwrap();
    conn.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    write_request(&mut conn, &raw);
    let mut interim = [0u8; 25];
    conn.read_exact(&mut interim).unwrap();
    assert!(interim.starts_with(b"HTTP/1.1 100 Continue"), "{interim:?}");
    conn.write_all(b"def").unwrap();
    let r = read_response(&mut conn, false).unwrap();
    r.expect_ok();
    assert_eq!(r.crc(), Some(crc64(b"abcdef")));
}

#[test]
fn errors_keep_the_connection_usable() {
    let s = start();
    let c = Client::v4(&s);
    c.append("ka", 0, b"12345").expect_ok();
    let mut conn = TcpStream::connect(s.addr()).unwrap();
    conn.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    // A 409 with an 1 MiB body, then two more requests on the same connection.
    write_request(
        &mut conn,
        &c.signed(c.append_request("ka", 0), &pattern(1 << 20, 1)),
    );
    read_response(&mut conn, false)
        .unwrap()
        .expect_error(409, "PositionNotEqualToLength");
    write_request(&mut conn, &c.signed(c.append_request("ka", 5), b"678"));
    read_response(&mut conn, false).unwrap().expect_ok();
    write_request(&mut conn, &c.signed(c.request(Method::Head, "ka"), b""));
    let h = read_response(&mut conn, true).unwrap();
    assert_eq!(h.next_position(), Some(8));
    write_request(&mut conn, &c.signed(c.request(Method::Get, "ka"), b""));
    assert_eq!(read_response(&mut conn, false).unwrap().body, b"12345678");
}

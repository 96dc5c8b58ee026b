//! Durability: objects survive restarts, and a crash or a broken upload mid-append leaves the last commit intact.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use oss_append::crc64::crc64;
use oss_append::Method;

#[test]
fn restart_on_the_same_dir_keeps_every_object() {
    let dir = tempfile::tempdir().unwrap();
    let data = pattern(300_000, 7);
    let (before, crc_before) = {
        let s = start_with(|c| c.data_dir = Some(dir.path().to_path_buf()));
        let c = Client::v4(&s);
        let mut first = c.append_request("keep/a", 0);
        first.headers.set("x-oss-meta-who", "me");
        first.headers.set("Content-Type", "audio/ogg");
        c.send(first, &data[..100_000]).expect_ok();
        c.append("keep/a", 100_000, &data[100_000..]).expect_ok();
        c.put("keep/n", b"normal").expect_ok();
        c.append("gone", 0, b"x").expect_ok();
        c.delete("gone").expect_ok();
        c.append("sealed", 0, b"s").expect_ok();
        c.seal("sealed", 1).expect_ok();
        let (_, state) = control(&s, "GET", "/state", "");
        let crc = c.head("keep/a").crc();
        s.stop();
        (state, crc)
    };
    let s = start_with(|c| c.data_dir = Some(dir.path().to_path_buf()));
    let c = Client::v4(&s);
    let h = c.head("keep/a");
    assert_eq!(h.crc(), crc_before);
    assert_eq!(h.header("x-oss-meta-who"), Some("me"));
    assert_eq!(h.header("content-type"), Some("audio/ogg"));
    assert_eq!(c.get("keep/a").body, data);
    assert_eq!(c.get("keep/n").body, b"normal");
    c.head("gone").expect_error(404, "NoSuchKey");
    assert!(c.head("sealed").header("x-oss-sealed-time").is_some());
    let (_, after) = control(&s, "GET", "/state", "");
    assert_eq!(before["buckets"], after["buckets"]);
    c.append("keep/a", 300_000, b"more").expect_ok();
}

fn spawn(dir: &Path) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oss-emulator"))
        .args(["--port", "0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("first line was {line:?}"))
        .parse()
        .unwrap();
    (child, addr)
}

fn data_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir.join("examplebucket"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "data"))
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

#[test]
fn a_crash_mid_append_leaves_the_previous_length_and_crc() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = spawn(dir.path());
    let mut c = Client::at(addr, oss_append::sign::SigningVersion::V4);
    let first = pattern(100_000, 3);
    c.append("crash", 0, &first).expect_ok();
    // Start a 64 MiB append, send 24 MiB, and kill the server once some of it is on disk.
    let body = pattern(64 << 20, 4);
    let mut raw = c.signed(c.append_request("crash", 100_000), b"");
    raw.headers
        .push(("Content-Length".into(), body.len().to_string()));
    let mut s = TcpStream::connect(addr).unwrap();
    write_request(&mut s, &raw);
    s.write_all(&body[..24 << 20]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while data_bytes(dir.path()) <= 100_000 {
        assert!(
            Instant::now() < deadline,
            "the partial append never reached the disk"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(s);
    assert!(
        data_bytes(dir.path()) > 100_000,
        "uncommitted bytes are on disk"
    );
    let (mut child, addr) = spawn(dir.path());
    c.addr = addr;
    c.host = Some(addr.to_string());
    let h = c.head("crash");
    assert_eq!(h.next_position(), Some(100_000));
    assert_eq!(h.crc(), Some(crc64(&first)));
    assert_eq!(c.get("crash").body, first);
    assert_eq!(data_bytes(dir.path()), 100_000, "recovery cut the tail");
    c.append("crash", 100_000, b"after").expect_ok();
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_client_vanishing_mid_body_changes_nothing() {
    let s = start();
    let c = Client::v1(&s);
    c.append("v", 0, b"stable").expect_ok();
    for sent in [0usize, 1, 5000, 200_000] {
        let mut raw = c.signed(c.append_request("v", 6), b"");
        raw.headers.push(("Content-Length".into(), "300000".into()));
        let mut conn = TcpStream::connect(s.addr()).unwrap();
        write_request(&mut conn, &raw);
        conn.write_all(&pattern(sent, 1)).unwrap();
        drop(conn);
    }
    // The server notices the broken bodies on its own time; the object never changes.
    std::thread::sleep(Duration::from_millis(100));
    let h = c.head("v");
    assert_eq!(h.next_position(), Some(6));
    assert_eq!(h.crc(), Some(crc64(b"stable")));
    c.append("v", 6, b"!").expect_ok();
    let mut put = c.request(Method::Put, "p");
    put.headers.set("Content-Length", "1000");
    let mut raw = c.signed(put, b"");
    raw.body = pattern(10, 1);
    let mut conn = TcpStream::connect(s.addr()).unwrap();
    write_request(&mut conn, &raw);
    drop(conn);
    std::thread::sleep(Duration::from_millis(100));
    c.head("p").expect_error(404, "NoSuchKey");
    let (_, state) = control(&s, "GET", "/state", "");
    assert_eq!(
        state["buckets"]["examplebucket"]["objects"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn large_appends_read_back_intact() {
    // Past the writer's page-cache window, so written-back pages are dropped and read from disk.
    let s = start();
    let c = Client::v4(&s);
    let block = pattern(1 << 20, 9);
    let mut part = Vec::with_capacity(20 << 20);
    for i in 0..20u8 {
        part.extend_from_slice(&block);
        let at = part.len() - (1 << 20);
        part[at] = i;
    }
    let mut expected = 0u64;
    for i in 0..5u64 {
        part[1] = i as u8;
        let r = c.append("large", i * part.len() as u64, &part);
        r.expect_ok();
        expected = oss_append::crc64::combine(expected, crc64(&part), part.len() as u64);
        assert_eq!(r.crc(), Some(expected));
    }
    let g = c.get("large");
    assert_eq!(g.body.len(), 100 << 20);
    assert_eq!(crc64(&g.body), expected);
    let mut range = c.request(Method::Get, "large");
    range.headers.set("Range", "bytes=83886080-83886089");
    assert_eq!(c.send(range, b"").body, part[..10]);
}

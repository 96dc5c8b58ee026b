//! Concurrency: racing appends at one position (exactly one wins), and reads that never wait for a write.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::*;
use oss_append::crc64::crc64;

#[test]
fn racing_appends_at_one_position_have_exactly_one_winner() {
    let s = start();
    let c = Client::v4(&s);
    const RACERS: usize = 8;
    const PART: usize = 64 << 10;
    let mut expected = Vec::new();
    for round in 0..4u8 {
        let position = expected.len() as u64;
        let barrier = Arc::new(Barrier::new(RACERS));
        let handles: Vec<_> = (0..RACERS)
            .map(|i| {
                let c = c.clone();
                let barrier = Arc::clone(&barrier);
                let body = pattern(PART, round * 16 + i as u8);
                std::thread::spawn(move || {
                    let raw = c.signed(c.append_request("race", position), &body);
                    barrier.wait();
                    (exchange(c.addr, &raw).expect("a response"), body)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners: Vec<_> = results.iter().filter(|(r, _)| r.status == 200).collect();
        assert_eq!(winners.len(), 1, "round {round}");
        expected.extend_from_slice(&winners[0].1);
        for (r, _) in results.iter().filter(|(r, _)| r.status != 200) {
            r.expect_error(409, "PositionNotEqualToLength");
            assert_eq!(r.next_position(), Some(expected.len() as u64));
        }
        assert_eq!(winners[0].0.crc(), Some(crc64(&expected)));
    }
    assert_eq!(c.get("race").body, expected);
}

#[test]
fn reads_do_not_wait_for_a_slow_append() {
    let s = start();
    let c = Client::v4(&s);
    c.append("slow", 0, b"committed").expect_ok();
    let mut raw = c.signed(c.append_request("slow", 9), b"");
    raw.headers.push(("Content-Length".into(), "2000".into()));
    let mut conn = TcpStream::connect(s.addr()).unwrap();
    conn.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    write_request(&mut conn, &raw);
    conn.write_all(&[b'x'; 1000]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    let h = c.head("slow");
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(h.next_position(), Some(9));
    assert_eq!(c.get("slow").body, b"committed");
    // A second writer waits for the first, then sees its result.
    let c2 = c.clone();
    let racer = std::thread::spawn(move || c2.append("slow", 9, b"other"));
    std::thread::sleep(Duration::from_millis(50));
    conn.write_all(&[b'y'; 1000]).unwrap();
    let r = read_response(&mut conn, false).expect("the slow append answers");
    r.expect_ok();
    assert_eq!(r.next_position(), Some(2009));
    let lost = racer.join().unwrap();
    lost.expect_error(409, "PositionNotEqualToLength");
    assert_eq!(lost.next_position(), Some(2009));
}

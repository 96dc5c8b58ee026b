//! Faults armed through the control plane: lost responses after commit, errors before commit, resets, delays.

mod common;

use std::time::{Duration, Instant};

use common::*;
use oss_append::crc64::crc64;

fn arm(s: &oss_emulator::RunningServer, spec: &str) -> u64 {
    let (status, v) = control(s, "POST", "/faults", spec);
    assert_eq!(status, 200, "{v}");
    v["id"].as_u64().unwrap()
}

#[test]
fn drop_after_commit_applies_and_answers_nothing() {
    let s = start();
    let c = Client::v4(&s);
    c.append("f", 0, b"first").expect_ok();
    arm(
        &s,
        r#"{"kind":"drop_after_commit","op":"append","key":"f"}"#,
    );
    match c.try_send(c.append_request("f", 5), b"-second") {
        Err(NoResponse::Closed(_)) => {}
        other => panic!("expected a closed connection, got {other:?}"),
    }
    let h = c.head("f");
    assert_eq!(h.next_position(), Some(12));
    assert_eq!(h.crc(), Some(crc64(b"first-second")));
    // The retry a client would send now gets the 409 that tells it the append landed.
    let r = c.append("f", 5, b"-second");
    r.expect_error(409, "PositionNotEqualToLength");
    assert_eq!(r.next_position(), Some(12));
    let (_, log) = control(&s, "GET", "/requests", "");
    let dropped = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["fault"] == "drop_after_commit")
        .expect("the dropped request is logged");
    assert_eq!(dropped["status"], 0);
    assert_eq!(dropped["op"], "append");
    assert_eq!(dropped["position"], "5");
}

#[test]
fn error_before_commit_applies_nothing() {
    let s = start();
    let c = Client::v1(&s);
    c.append("e", 0, b"abc").expect_ok();
    arm(
        &s,
        r#"{"kind":"error_before_commit","op":"append","status":503,"count":2}"#,
    );
    for _ in 0..2 {
        let r = c.append("e", 3, b"def");
        r.expect_error(503, "ServiceUnavailable");
        check_common(&r);
    }
    c.append("e", 3, b"def").expect_ok();
    arm(&s, r#"{"kind":"error_before_commit","op":"put"}"#);
    c.put("p", b"x").expect_error(500, "InternalError");
    assert_eq!(c.head("p").status, 404);
    arm(
        &s,
        r#"{"kind":"error_before_commit","op":"head","status":502,"code":"BadGateway"}"#,
    );
    let h = c.head("e");
    h.expect_error(502, "BadGateway");
    assert!(h.header("x-oss-err").is_some());
    assert_eq!(c.get("e").body, b"abcdef");
}

#[test]
fn reset_mid_body_applies_nothing() {
    let s = start();
    let c = Client::v4(&s);
    let first = pattern(10_000, 1);
    c.append("r", 0, &first).expect_ok();
    arm(&s, r#"{"kind":"reset_mid_body","op":"append"}"#);
    let big = pattern(4 << 20, 2);
    match c.try_send(c.append_request("r", 10_000), &big) {
        Err(NoResponse::Closed(_)) => {}
        other => panic!("expected a reset, got {other:?}"),
    }
    let h = c.head("r");
    assert_eq!(h.next_position(), Some(10_000));
    assert_eq!(h.crc(), Some(crc64(&first)));
    arm(
        &s,
        r#"{"kind":"reset_mid_body","op":"put","after_bytes":0}"#,
    );
    assert!(c
        .try_send(c.request(oss_append::Method::Put, "new"), b"abc")
        .is_err());
    assert_eq!(c.head("new").status, 404);
    let (_, state) = control(&s, "GET", "/objects/examplebucket/r", "");
    assert_eq!(state["size"], 10_000);
    c.append("r", 10_000, &big).expect_ok();
    // On a read, the body breaks off halfway.
    arm(&s, r#"{"kind":"reset_mid_body","op":"get","key":"r"}"#);
    assert!(c
        .try_send(c.request(oss_append::Method::Get, "r"), b"")
        .is_err());
    assert_eq!(c.get("r").body.len(), 10_000 + (4 << 20));
}

#[test]
fn delay_answers_late_after_commit() {
    let s = start();
    let c = Client::v4(&s);
    arm(&s, r#"{"kind":"delay","op":"append","delay_ms":400}"#);
    let t = Instant::now();
    c.append("d", 0, b"slow").expect_ok();
    assert!(t.elapsed() >= Duration::from_millis(400));
    arm(&s, r#"{"kind":"delay","op":"append","delay_ms":600}"#);
    let raw = c.signed(c.append_request("d", 4), b"-late");
    match exchange_with_timeout(s.addr(), &raw, Duration::from_millis(150)) {
        Err(NoResponse::TimedOut) => {}
        other => panic!("expected a timeout, got {other:?}"),
    }
    // The append is committed before the delay, so it is visible at once.
    let h = c.head("d");
    assert_eq!(h.next_position(), Some(9));
    assert_eq!(h.crc(), Some(crc64(b"slow-late")));
}

#[test]
fn faults_are_listed_matched_and_disarmed() {
    let s = start();
    let c = Client::v4(&s);
    let id = arm(&s, r#"{"kind":"error_before_commit","key":"only-this"}"#);
    arm(
        &s,
        r#"{"kind":"delay","op":"seal","key_prefix":"logs/","count":3}"#,
    );
    let (_, list) = control(&s, "GET", "/faults", "");
    let faults = list["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 2);
    assert_eq!(faults[0]["remaining"], 1);
    assert_eq!(faults[1]["remaining"], 3);
    c.append("other", 0, b"x").expect_ok();
    assert_eq!(control(&s, "DELETE", &format!("/faults/{id}"), "").0, 200);
    assert_eq!(control(&s, "DELETE", &format!("/faults/{id}"), "").0, 404);
    c.append("only-this", 0, b"x").expect_ok();
    control(&s, "DELETE", "/faults", "");
    assert_eq!(
        control(&s, "GET", "/faults", "").1["faults"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let ids = control(
        &s,
        "POST",
        "/faults",
        r#"[{"kind":"delay","delay_ms":1},{"kind":"drop_after_commit","op":"delete"}]"#,
    )
    .1;
    assert_eq!(ids["ids"].as_array().unwrap().len(), 2);
    for bad in [
        r#"{"kind":"explode"}"#,
        r#"{"kind":"delay","op":"copy"}"#,
        r#"{"kind":"delay","count":0}"#,
        r#"{"kind":"error_before_commit","status":302}"#,
        r#"{"kind":"delay","surprise":true}"#,
        "not json",
    ] {
        let (status, v) = control(&s, "POST", "/faults", bad);
        assert_eq!(status, 400, "{bad}: {v}");
        assert!(v["error"].is_string());
    }
}

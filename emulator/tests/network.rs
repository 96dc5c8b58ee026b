//! The modelled network: every answer held for the latency (preflights and errors too, not the control plane),
//! request bodies taken in at the uplink rate, both set by flags and by the control plane, and OPTIONS in the log.

mod common;

use std::time::{Duration, Instant};

use common::*;
use oss_append::crc64::crc64;

fn preflight(s: &oss_emulator::RunningServer) -> Resp {
    exchange(
        s.addr(),
        &Raw {
            method: "OPTIONS".into(),
            target: "/examplebucket/rec/a.webm?append&position=0".into(),
            headers: vec![
                ("Host".into(), s.addr().to_string()),
                ("Origin".into(), "http://localhost:8080".into()),
                ("Access-Control-Request-Method".into(), "POST".into()),
            ],
            body: vec![],
        },
    )
    .unwrap()
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed())
}

#[test]
fn latency_holds_every_answer_from_the_flag() {
    let s = start_with(|c| c.latency_ms = 300);
    let c = Client::v4(&s);
    let (r, took) = timed(|| c.append("k", 0, b"abc"));
    r.expect_ok();
    assert!(took >= Duration::from_millis(300), "append took {took:?}");
    let (r, took) = timed(|| preflight(&s));
    assert_eq!(r.status, 200);
    assert!(
        took >= Duration::from_millis(300),
        "preflight took {took:?}"
    );
    let (r, took) = timed(|| c.append("k", 0, b"abc"));
    r.expect_error(409, "PositionNotEqualToLength");
    assert!(took >= Duration::from_millis(300), "an error took {took:?}");
    // The control plane is not the modelled network.
    let ((status, v), took) = timed(|| control(&s, "GET", "/network", ""));
    assert_eq!(status, 200);
    assert_eq!(v["latency_ms"], 300);
    assert_eq!(v["upload_rate"], 0);
    assert!(took < Duration::from_millis(300), "control took {took:?}");
}

#[test]
fn the_control_plane_sets_latency_and_rate_and_reset_restores_the_flags() {
    let s = start_with(|c| c.upload_rate = 1 << 20);
    let c = Client::v1(&s);
    let (status, v) = control(&s, "POST", "/network", r#"{"latency_ms":250}"#);
    assert_eq!(status, 200);
    assert_eq!(
        (v["latency_ms"].as_u64(), v["upload_rate"].as_u64()),
        (Some(250), Some(1 << 20))
    );
    let (r, took) = timed(|| c.head("missing"));
    assert_eq!(r.status, 404);
    assert!(took >= Duration::from_millis(250), "{took:?}");

    let (status, v) = control(
        &s,
        "POST",
        "/network",
        r#"{"latency_ms":0,"upload_rate":0}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(
        (v["latency_ms"].as_u64(), v["upload_rate"].as_u64()),
        (Some(0), Some(0))
    );
    let (_, took) = timed(|| c.head("missing"));
    assert!(took < Duration::from_millis(200), "{took:?}");

    for bad in [
        r#"{"latency_ms":-1}"#,
        r#"{"latency":5}"#,
        r#"{"latency_ms":60001}"#,
        "nope",
    ] {
        let (status, v) = control(&s, "POST", "/network", bad);
        assert_eq!(status, 400, "{bad}: {v}");
    }
    let (status, _) = control(&s, "POST", "/reset", "");
    assert_eq!(status, 200);
    let (_, v) = control(&s, "GET", "/network", "");
    assert_eq!(
        (v["latency_ms"].as_u64(), v["upload_rate"].as_u64()),
        (Some(0), Some(1 << 20))
    );
}

#[test]
fn upload_rate_paces_request_bodies() {
    let s = start();
    let c = Client::v4(&s);
    let body = pattern(400_000, 3);
    let (r, fast) = timed(|| c.append("paced", 0, &body));
    r.expect_ok();
    let (status, _) = control(&s, "POST", "/network", r#"{"upload_rate":1000000}"#);
    assert_eq!(status, 200);
    let (r, took) = timed(|| c.append("paced", body.len() as u64, &body));
    r.expect_ok();
    assert_eq!(r.next_position(), Some(800_000));
    let mut whole = body.clone();
    whole.extend_from_slice(&body);
    assert_eq!(r.crc(), Some(crc64(&whole)));
    // 400 kB at 1 MB/s: 0.4 s, where unpaced it took a fraction of that.
    assert!(
        took >= Duration::from_millis(390),
        "paced append took {took:?}"
    );
    assert!(took < Duration::from_secs(5), "paced append took {took:?}");
    assert!(
        fast < Duration::from_millis(300),
        "unpaced append took {fast:?}"
    );
}

#[test]
fn a_fast_uplink_keeps_its_rate_despite_coarse_timers() {
    // 4 MiB at 40 MB/s: 105 ms. Steps of 16 KiB are 0.4 ms apart, finer than the timers wake, so a pacer that
    // lost each wake-up's lateness would take more than twice as long.
    let s = start_with(|c| c.upload_rate = 40_000_000);
    let c = Client::v4(&s);
    let body = pattern(4 << 20, 9);
    let (r, took) = timed(|| c.append("fast", 0, &body));
    r.expect_ok();
    assert!(took >= Duration::from_millis(100), "{took:?}");
    assert!(took < Duration::from_millis(200), "{took:?}");
}

#[test]
fn the_request_log_shows_preflights() {
    let s = start();
    let (status, _) = control(&s, "DELETE", "/requests", "");
    assert_eq!(status, 200);
    assert_eq!(preflight(&s).status, 200);
    Client::v4(&s).append("k", 0, b"x").expect_ok();
    let (_, v) = control(&s, "GET", "/requests", "");
    let log = v["requests"].as_array().unwrap();
    let seen: Vec<(&str, &str)> = log
        .iter()
        .map(|e| (e["method"].as_str().unwrap(), e["op"].as_str().unwrap()))
        .collect();
    assert_eq!(seen, [("OPTIONS", "preflight"), ("POST", "append")]);
    assert_eq!(log[0]["key"], serde_json::Value::Null);
    assert_eq!(log[0]["preflight_key"], "rec/a.webm");
    assert_eq!(log[0]["position"], "0");
    assert_eq!(log[1]["preflight_key"], serde_json::Value::Null);
    assert_eq!(log[0]["status"], 200);
}

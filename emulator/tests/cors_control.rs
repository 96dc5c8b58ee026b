//! CORS as a permissive bucket rule answers it, and the control plane's state, log and reset.

mod common;

use common::*;
use oss_append::crc64::crc64;
use oss_append::Method;

fn preflight(s: &oss_emulator::RunningServer, origin: Option<&str>) -> Resp {
    let mut headers = vec![
        ("Host".to_owned(), s.addr().to_string()),
        (
            "Access-Control-Request-Method".to_owned(),
            "POST".to_owned(),
        ),
        (
            "Access-Control-Request-Headers".to_owned(),
            "authorization, content-type, x-oss-date, x-oss-content-sha256".to_owned(),
        ),
    ];
    if let Some(o) = origin {
        headers.push(("Origin".into(), o.into()));
    }
    exchange(
        s.addr(),
        &Raw {
            method: "OPTIONS".into(),
            target: "/examplebucket/rec/a.webm?append&position=0".into(),
            headers,
            body: vec![],
        },
    )
    .unwrap()
}

#[test]
fn preflight_and_actual_responses_carry_cors_headers() {
    let s = start();
    let r = preflight(&s, Some("http://localhost:8080"));
    assert_eq!(r.status, 200);
    check_common(&r);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:8080")
    );
    assert!(r
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("authorization, content-type, x-oss-date, x-oss-content-sha256")
    );
    assert_eq!(r.header("access-control-max-age"), Some("86400"));
    preflight(&s, None).expect_error(403, "AccessForbidden");
    let c = Client::v4(&s);
    let mut req = c.append_request("cors", 0);
    req.headers.set("Origin", "http://app.test");
    let r = c.send(req, b"x");
    r.expect_ok();
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.test")
    );
    let expose = r.header("access-control-expose-headers").unwrap();
    for h in [
        "ETag",
        "x-oss-request-id",
        "x-oss-next-append-position",
        "x-oss-hash-crc64ecma",
        "x-oss-version-id",
        "x-oss-object-type",
    ] {
        assert!(expose.contains(h), "{expose}");
    }
    // Errors are readable cross-origin too.
    let mut req = c.append_request("cors", 0);
    req.headers.set("Origin", "http://app.test");
    let r = c.send(req, b"x");
    r.expect_error(409, "PositionNotEqualToLength");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.test")
    );
    assert!(r.header("access-control-expose-headers").is_some());
    // Same-origin requests get no CORS headers.
    assert!(c
        .head("cors")
        .header("access-control-allow-origin")
        .is_none());
}

#[test]
fn expose_headers_can_be_switched_off() {
    let s = start_with(|c| c.cors_expose = Vec::new());
    let c = Client::v4(&s);
    let mut req = c.append_request("k", 0);
    req.headers.set("Origin", "http://app.test");
    let r = c.send(req, b"x");
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://app.test")
    );
    assert_eq!(r.header("access-control-expose-headers"), None);
    assert_eq!(
        preflight(&s, Some("http://a")).header("access-control-expose-headers"),
        None
    );
}

#[test]
fn control_state_and_log_show_what_happened_and_reset_clears_it() {
    let s = start();
    let c = Client::v4(&s);
    let mut first = c.append_request("st/a", 0);
    first.headers.set("x-oss-meta-k", "v");
    c.send(first, b"hello ").expect_ok();
    c.append("st/a", 6, b"world").expect_ok();
    c.put("st/n", b"normal").expect_ok();
    let (status, health) = control(&s, "GET", "/health", "");
    assert_eq!((status, health["ok"].as_bool()), (200, Some(true)));
    let (_, state) = control(&s, "GET", "/state", "");
    let objects = state["buckets"]["examplebucket"]["objects"]
        .as_array()
        .unwrap();
    assert_eq!(objects.len(), 2);
    let a = &objects[0];
    assert_eq!(a["key"], "st/a");
    assert_eq!(a["size"], 11);
    assert_eq!(a["type"], "Appendable");
    assert_eq!(a["crc64"], crc64(b"hello world").to_string());
    assert_eq!(a["md5"], "5eb63bbbe01eeed093cb22bb8f5acdc3");
    assert_eq!(a["meta"]["x-oss-meta-k"], "v");
    assert_eq!(objects[1]["type"], "Normal");
    let (_, quick) = control(&s, "GET", "/state?md5=0", "");
    assert!(quick["buckets"]["examplebucket"]["objects"][0]["md5"].is_null());
    let (_, log) = control(&s, "GET", "/requests", "");
    let ops: Vec<&str> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["append", "append", "put"]);
    assert_eq!(control(&s, "GET", "/objects/examplebucket/nope", "").0, 404);
    assert_eq!(control(&s, "GET", "/nowhere", "").0, 404);
    control(&s, "POST", "/faults", r#"{"kind":"delay"}"#);
    control(&s, "POST", "/clock", r#"{"offset_ms": 5000}"#);
    let (status, _) = control(&s, "POST", "/reset", "");
    assert_eq!(status, 200);
    let (_, state) = control(&s, "GET", "/state", "");
    assert!(state["buckets"]["examplebucket"]["objects"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(state["clock_offset_ms"], 0);
    assert!(control(&s, "GET", "/faults", "").1["faults"]
        .as_array()
        .unwrap()
        .is_empty());
    c.head("st/a").expect_error(404, "NoSuchKey");
    c.send(c.request(Method::Get, "st/n"), b"")
        .expect_error(404, "NoSuchKey");
    c.append("st/a", 0, b"again").expect_ok();
}

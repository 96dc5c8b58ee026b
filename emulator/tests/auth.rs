//! Authentication over HTTP: V1/V4 headers and presigned URLs, wrong keys, skew, STS tokens, anonymous requests.

mod common;

use common::*;
use oss_append::Method;
use oss_emulator::AuthMode;

#[test]
fn every_signature_form_is_accepted() {
    let s = start();
    for (i, c) in [Client::v1(&s), Client::v4(&s)].into_iter().enumerate() {
        let key = format!("signed/{i} a+b.txt");
        c.append(&key, 0, b"head").expect_ok();
        let raw = c.presigned(c.append_request(&key, 4), b"-presigned", 60);
        assert!(raw
            .headers
            .iter()
            .all(|(k, _)| !k.eq_ignore_ascii_case("authorization")));
        exchange(s.addr(), &raw).unwrap().expect_ok();
        let raw = c.presigned(c.request(Method::Get, &key), b"", 60);
        let r = exchange(s.addr(), &raw).unwrap();
        assert_eq!(r.body, b"head-presigned");
    }
}

#[test]
fn signature_mismatch_shows_what_the_server_signed() {
    let s = start();
    let v1 = Client::v1(&s).with_creds(oss_emulator::config::DEFAULT_ACCESS_KEY_ID, "wrong", None);
    let r = v1.append("k", 0, b"x");
    r.expect_error(403, "SignatureDoesNotMatch");
    let sts = r.field("StringToSign").unwrap();
    assert!(sts.starts_with("POST\n\n"), "{sts:?}");
    assert!(
        sts.ends_with("/examplebucket/k?append&position=0"),
        "{sts:?}"
    );
    assert!(r
        .field("StringToSignBytes")
        .unwrap()
        .starts_with("50 4F 53 54 0A"));
    assert_eq!(r.field("EC").as_deref(), Some("0002-00000040"));
    let v4 = Client::v4(&s).with_creds(oss_emulator::config::DEFAULT_ACCESS_KEY_ID, "wrong", None);
    let r = v4.append("k", 0, b"x");
    r.expect_error(403, "SignatureDoesNotMatch");
    let cr = r.field("CanonicalRequest").unwrap();
    assert!(
        cr.starts_with("POST\n/examplebucket/k\nappend&position=0\n"),
        "{cr:?}"
    );
    assert!(r
        .field("StringToSign")
        .unwrap()
        .starts_with("OSS4-HMAC-SHA256\n"));
    // A HEAD gets the same error in x-oss-err.
    let h = v4.head("k");
    h.expect_error(403, "SignatureDoesNotMatch");
    assert!(h.body.is_empty());
    // Tampering after signing is caught.
    let good = Client::v4(&s);
    let mut raw = good.signed(good.append_request("k", 0), b"x");
    raw.target = raw.target.replace("position=0", "position=1");
    exchange(s.addr(), &raw)
        .unwrap()
        .expect_error(403, "SignatureDoesNotMatch");
    assert_eq!(good.head("k").status, 404);
}

#[test]
fn anonymous_malformed_and_unknown_key_requests_are_refused() {
    let s = start();
    let raw = Raw {
        method: "GET".into(),
        target: "/examplebucket/k".into(),
        headers: vec![("Host".into(), s.addr().to_string())],
        body: vec![],
    };
    let r = exchange(s.addr(), &raw).unwrap();
    r.expect_error(403, "AccessDenied");
    check_common(&r);
    for bad in [
        "OSS",
        "OSS nocolon",
        "Basic dXNlcjpwYXNz",
        "OSS4-HMAC-SHA256 Credential=a/b",
        "OSS4-HMAC-SHA256 Signature=00",
        "Signature garbage \u{80}\u{ff}",
    ] {
        let mut raw = raw.clone();
        raw.headers.push(("Authorization".into(), bad.into()));
        raw.headers
            .push(("x-oss-date".into(), "20240101T000000Z".into()));
        let r = exchange(s.addr(), &raw).unwrap();
        assert_eq!(r.status, 400, "{bad:?}: {}", r.text());
        assert_eq!(r.code().as_deref(), Some("InvalidArgument"));
    }
    // Control characters are refused by the HTTP layer itself; the server keeps serving.
    let mut ctl = raw.clone();
    ctl.headers
        .push(("Authorization".into(), "OSS \u{1}:\u{2}".into()));
    assert_eq!(exchange(s.addr(), &ctl).unwrap().status, 400);
    let c = Client::v4(&s).with_creds("nobody", "secret", None);
    let r = c.get("k");
    r.expect_error(403, "InvalidAccessKeyId");
    assert_eq!(r.field("OSSAccessKeyId").as_deref(), Some("nobody"));
}

#[test]
fn clock_skew_is_refused_with_the_server_time() {
    let s = start();
    let mut c = Client::v4(&s);
    c.skew_secs = -16 * 60;
    let r = c.append("k", 0, b"x");
    r.expect_error(403, "RequestTimeTooSkewed");
    let server_time = r.field("ServerTime").unwrap();
    let parsed = oss_append::SigningTime::parse_iso8601_extended(&server_time).unwrap();
    assert!(
        (parsed.unix_seconds() - unix_now()).abs() < 5,
        "{server_time}"
    );
    assert_eq!(
        r.field("MaxAllowedSkewMilliseconds").as_deref(),
        Some("900000")
    );
    c.skew_secs = -14 * 60;
    c.append("k", 0, b"x").expect_ok();
    // Shift the server clock instead: correct clients are now skewed, and ServerTime tells by how much.
    let (status, clock) = control(&s, "POST", "/clock", r#"{"offset_ms": 3600000}"#);
    assert_eq!(
        (status, clock["offset_ms"].as_i64()),
        (200, Some(3_600_000))
    );
    let mut v1 = Client::v1(&s);
    let r = v1.append("k", 1, b"y");
    r.expect_error(403, "RequestTimeTooSkewed");
    let server = oss_append::SigningTime::parse_iso8601_extended(&r.field("ServerTime").unwrap())
        .unwrap()
        .unix_seconds();
    let date = oss_append::SigningTime::parse_http_date(r.header("date").unwrap())
        .unwrap()
        .unix_seconds();
    assert!((server - date).abs() <= 1 && (server - unix_now() - 3600).abs() < 5);
    v1.skew_secs = server - unix_now();
    v1.append("k", 1, b"y").expect_ok();
    control(&s, "POST", "/clock", r#"{"shift_ms": -3600000}"#);
    Client::v4(&s).append("k", 2, b"z").expect_ok();
    // Presigned URLs expire by the server's clock.
    let c = Client::v1(&s);
    let raw = c.presigned(c.request(Method::Get, "k"), b"", 30);
    control(&s, "POST", "/clock", r#"{"offset_ms": 60000}"#);
    let r = exchange(s.addr(), &raw).unwrap();
    r.expect_error(403, "AccessDenied");
    assert!(r.field("ServerTime").is_some());
    let c4 = Client::v4(&s);
    let raw = c4.presigned(c4.request(Method::Get, "k"), b"", 30);
    control(&s, "POST", "/clock", r#"{"shift_ms": 60000}"#);
    exchange(s.addr(), &raw)
        .unwrap()
        .expect_error(403, "AccessDenied");
    let (_, c) = control(&s, "POST", "/clock", r#"{"offset_ms": 1, "shift_ms": 1}"#);
    assert!(c["error"].is_string());
}

#[test]
fn sts_tokens_expire_and_refresh() {
    let s = start_with(|c| {
        c.access_key_id = "STS.first".into();
        c.access_key_secret = "first-secret".into();
        c.sts_token = Some("token-1".into());
    });
    let base = Client::v4(&s);
    let no_token = base.clone().with_creds("STS.first", "first-secret", None);
    no_token.get("k").expect_error(403, "InvalidSecurityToken");
    let wrong = base
        .clone()
        .with_creds("STS.first", "first-secret", Some("token-x"));
    wrong.get("k").expect_error(403, "InvalidSecurityToken");
    let first = base
        .clone()
        .with_creds("STS.first", "first-secret", Some("token-1"));
    first.append("k", 0, b"a").expect_ok();
    let first_v1 = Client::v1(&s).with_creds("STS.first", "first-secret", Some("token-1"));
    let raw = first_v1.presigned(first_v1.request(Method::Get, "k"), b"", 60);
    exchange(s.addr(), &raw).unwrap().expect_ok();
    let (status, v) = control(&s, "POST", "/sts/expire", "");
    assert_eq!((status, v["expired"].as_u64()), (200, Some(1)));
    let r = first.append("k", 1, b"b");
    r.expect_error(403, "SecurityTokenExpired");
    let h = first.head("k");
    h.expect_error(403, "SecurityTokenExpired");
    exchange(s.addr(), &raw)
        .unwrap()
        .expect_error(403, "SecurityTokenExpired");
    // The refresh hands out new credentials; the old ones stay expired.
    let (status, _) = control(
        &s,
        "POST",
        "/credentials",
        r#"{"access_key_id":"STS.second","access_key_secret":"second-secret","sts_token":"token-2"}"#,
    );
    assert_eq!(status, 200);
    let second = base
        .clone()
        .with_creds("STS.second", "second-secret", Some("token-2"));
    second.append("k", 1, b"b").expect_ok();
    first.get("k").expect_error(403, "SecurityTokenExpired");
    let (_, listed) = control(&s, "GET", "/credentials", "");
    let text = listed.to_string();
    assert!(
        !text.contains("secret") && !text.contains("token-2"),
        "{text}"
    );
    // Tokens can also run out by the server clock.
    control(
        &s,
        "POST",
        "/credentials",
        r#"{"access_key_id":"STS.third","access_key_secret":"s3","sts_token":"t3","expires_in_secs":60,"replace":true}"#,
    );
    let third = base.clone().with_creds("STS.third", "s3", Some("t3"));
    third.get("k").expect_ok();
    second.get("k").expect_error(403, "InvalidAccessKeyId");
    control(&s, "POST", "/clock", r#"{"shift_ms": 61000}"#);
    let mut third = third;
    third.skew_secs = 61;
    third.get("k").expect_error(403, "SecurityTokenExpired");
    // A reset brings the configured credentials back.
    control(&s, "POST", "/reset", "");
    first.get("k").expect_error(404, "NoSuchKey");
}

#[test]
fn auth_modes_restrict_versions() {
    let s = start_with(|c| c.auth = AuthMode::V4);
    Client::v1(&s).get("k").expect_error(403, "AccessDenied");
    Client::v4(&s).get("k").expect_error(404, "NoSuchKey");
    let s1 = start_with(|c| c.auth = AuthMode::V1);
    Client::v4(&s1).get("k").expect_error(403, "AccessDenied");
    Client::v1(&s1).get("k").expect_error(404, "NoSuchKey");
    // V4 scopes must name the server's region.
    let mut other = Client::v4(&s);
    other.region = "cn-shanghai".into();
    other.get("k").expect_error(400, "InvalidArgument");
}

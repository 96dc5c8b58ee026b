//! Object operations against an in-process emulator: statuses, headers, errors, creation attributes, limits.

mod common;

use common::*;
use oss_append::crc64::crc64;
use oss_append::Method;

#[test]
fn appends_grow_the_object_and_report_whole_object_crc() {
    let s = start();
    let c = Client::v4(&s);
    let parts = [pattern(1000, 1), pattern(1, 2), pattern(70_000, 3)];
    let mut all = Vec::new();
    for p in &parts {
        let r = c.append("rec/a.webm", all.len() as u64, p);
        r.expect_ok();
        all.extend_from_slice(p);
        assert_eq!(r.next_position(), Some(all.len() as u64));
        assert_eq!(r.crc(), Some(crc64(&all)));
        let etag = r.header("etag").unwrap();
        assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
    }
    let h = c.head("rec/a.webm");
    h.expect_ok();
    assert_eq!(h.header("x-oss-object-type"), Some("Appendable"));
    assert_eq!(
        h.header("content-length"),
        Some(all.len().to_string().as_str())
    );
    assert_eq!(h.next_position(), Some(all.len() as u64));
    assert_eq!(h.crc(), Some(crc64(&all)));
    assert_eq!(h.header("x-oss-storage-class"), Some("Standard"));
    assert!(h.header("last-modified").unwrap().ends_with(" GMT"));
    let g = c.get("rec/a.webm");
    assert_eq!(g.status, 200);
    assert_eq!(g.body, all);
    assert_eq!(g.crc(), Some(crc64(&all)));
    assert_eq!(g.header("x-oss-object-type"), Some("Appendable"));
}

#[test]
fn wrong_position_is_409_with_the_length() {
    let s = start();
    let c = Client::v1(&s);
    c.append("k", 0, b"hello").expect_ok();
    for pos in [0, 3, 6, 1 << 40] {
        let r = c.append("k", pos, b"world");
        r.expect_error(409, "PositionNotEqualToLength");
        assert_eq!(r.next_position(), Some(5));
        assert_eq!(r.field("EC").as_deref(), Some("0026-00000016"));
        assert_eq!(r.header("x-oss-ec"), Some("0026-00000016"));
        assert_eq!(
            r.field("RequestId").as_deref(),
            r.header("x-oss-request-id")
        );
        assert!(r.field("HostId").is_some());
        assert_eq!(r.header("content-type"), Some("application/xml"));
    }
    let r = c.append("missing", 7, b"x");
    r.expect_error(409, "PositionNotEqualToLength");
    assert_eq!(r.next_position(), Some(0));
    assert_eq!(c.get("k").body, b"hello");
    assert_eq!(c.head("missing").status, 404);
}

#[test]
fn normal_objects_are_not_appendable() {
    let s = start();
    let c = Client::v4(&s);
    c.put("n", b"abc").expect_ok();
    let r = c.append("n", 3, b"d");
    r.expect_error(409, "ObjectNotAppendable");
    assert_eq!(r.field("EC").as_deref(), Some("0026-00000017"));
    // A Put over an appendable object turns it into a Normal one.
    c.append("a", 0, b"x").expect_ok();
    c.put("a", b"yz").expect_ok();
    let h = c.head("a");
    assert_eq!(h.header("x-oss-object-type"), Some("Normal"));
    assert_eq!(h.header("x-oss-next-append-position"), None);
    c.append("a", 2, b"!")
        .expect_error(409, "ObjectNotAppendable");
}

#[test]
fn zero_byte_appends_create_or_change_nothing() {
    let s = start();
    let c = Client::v4(&s);
    let r = c.append("empty", 0, b"");
    r.expect_ok();
    assert_eq!((r.next_position(), r.crc()), (Some(0), Some(0)));
    let h = c.head("empty");
    assert_eq!(h.header("content-length"), Some("0"));
    assert_eq!(h.header("x-oss-object-type"), Some("Appendable"));
    // position 0 is still right for an empty appendable object.
    let r = c.append("empty", 0, b"abc");
    r.expect_ok();
    let before = r.header("etag").unwrap().to_owned();
    let r = c.append("empty", 3, b"");
    r.expect_ok();
    assert_eq!(r.next_position(), Some(3));
    assert_eq!(r.crc(), Some(crc64(b"abc")));
    assert_eq!(r.header("etag"), Some(before.as_str()));
    assert_eq!(c.get("empty").body, b"abc");
}

#[test]
fn creation_attributes_come_from_the_first_append_only() {
    let s = start();
    let c = Client::v4(&s);
    let mut first = c.append_request("attrs", 0);
    first.headers.set("Content-Type", "video/webm");
    first.headers.set("Cache-Control", "no-cache");
    first
        .headers
        .set("Content-Disposition", "attachment; filename=a.webm");
    first.headers.set("x-oss-meta-author", "alice");
    first.headers.set("x-oss-storage-class", "IA");
    first.headers.set("x-oss-tagging", "a=1&b=2");
    c.send(first, b"one").expect_ok();
    let mut later = c.append_request("attrs", 3);
    later.headers.set("Content-Type", "text/plain");
    later.headers.set("x-oss-meta-author", "mallory");
    later.headers.set("Cache-Control", "max-age=1");
    c.send(later, b"two").expect_ok();
    let h = c.head("attrs");
    assert_eq!(h.header("content-type"), Some("video/webm"));
    assert_eq!(h.header("cache-control"), Some("no-cache"));
    assert_eq!(
        h.header("content-disposition"),
        Some("attachment; filename=a.webm")
    );
    assert_eq!(h.header("x-oss-meta-author"), Some("alice"));
    assert_eq!(h.header("x-oss-storage-class"), Some("IA"));
    assert_eq!(h.header("x-oss-tagging-count"), Some("2"));
    let (_, state) = control(&s, "GET", "/objects/examplebucket/attrs", "");
    assert_eq!(state["meta"]["x-oss-meta-author"], "alice");
    assert_eq!(state["content_type"], "video/webm");
    // Bad creation attributes are refused when they would take effect.
    let mut bad = c.append_request("bad", 0);
    bad.headers.set("x-oss-storage-class", "Gold");
    c.send(bad, b"x").expect_error(400, "InvalidArgument");
    let mut bad = c.append_request("bad", 0);
    bad.headers.set("x-oss-object-acl", "everyone");
    c.send(bad, b"x").expect_error(400, "InvalidArgument");
    let mut bad = c.append_request("bad", 0);
    bad.headers.set("x-oss-server-side-encryption", "KMS");
    bad.headers
        .set("x-oss-server-side-encryption-key-id", "cmk");
    c.send(bad, b"x").expect_error(400, "InvalidArgument");
    let mut sse = c.append_request("sse", 0);
    sse.headers.set("x-oss-server-side-encryption", "AES256");
    c.send(sse, b"x").expect_ok();
    let r = c.append("sse", 1, b"y");
    assert_eq!(r.header("x-oss-server-side-encryption"), Some("AES256"));
    assert_eq!(c.head("bad").status, 404);
}

#[test]
fn a_wrong_or_malformed_content_md5_refuses_the_write() {
    let s = start();
    let c = Client::v1(&s);
    let mut r = c.append_request("md5", 0);
    r.headers.set("Content-MD5", md5_b64(b"right"));
    c.send(r, b"right").expect_ok();
    let mut r = c.append_request("md5", 5);
    r.headers.set("Content-MD5", md5_b64(b"other"));
    c.send(r, b"wrong").expect_error(400, "BadDigest");
    let mut r = c.append_request("md5", 5);
    r.headers.set("Content-MD5", "not-base64!");
    c.send(r, b"x").expect_error(400, "InvalidDigest");
    let mut r = c.request(Method::Put, "p");
    r.headers.set("Content-MD5", md5_b64(b"nope"));
    c.send(r, b"data").expect_error(400, "BadDigest");
    let h = c.head("md5");
    assert_eq!(h.next_position(), Some(5));
    assert_eq!(h.crc(), Some(crc64(b"right")));
    assert_eq!(c.head("p").status, 404);
    let mut r = c.request(Method::Put, "p");
    r.headers.set("Content-MD5", md5_b64(b"data"));
    let put = c.send(r, b"data");
    put.expect_ok();
    assert_eq!(put.header("content-md5"), Some(md5_b64(b"data").as_str()));
}

#[test]
fn writes_past_the_size_limit_are_refused_even_when_chunked() {
    let s = start_with(|c| c.max_object_size = 1000);
    let c = Client::v4(&s);
    c.append("big", 0, &pattern(600, 1)).expect_ok();
    let r = c.append("big", 600, &pattern(401, 2));
    r.expect_error(400, "EntityTooLarge");
    c.append("big", 600, &pattern(400, 2)).expect_ok();
    c.append("big", 1000, b"").expect_ok();
    c.append("big", 1000, b"x")
        .expect_error(400, "EntityTooLarge");
    c.put("p", &pattern(1001, 3))
        .expect_error(400, "EntityTooLarge");
    // A chunked body declares nothing: the limit bites while it streams.
    let mut raw = c.signed(c.append_request("chunked", 0), b"");
    raw.headers
        .push(("Transfer-Encoding".into(), "chunked".into()));
    let chunk = pattern(800, 4);
    let mut body = Vec::new();
    for _ in 0..2 {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(&chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    raw.body = body;
    let r = exchange(s.addr(), &raw).expect("a response");
    r.expect_error(400, "EntityTooLarge");
    assert_eq!(c.head("chunked").status, 404);
    assert_eq!(c.head("big").next_position(), Some(1000));
}

#[test]
fn chunked_appends_are_stored_whole() {
    let s = start();
    let c = Client::v4(&s);
    let mut raw = c.signed(c.append_request("ch", 0), b"");
    raw.headers
        .push(("Transfer-Encoding".into(), "chunked".into()));
    raw.body = b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n".to_vec();
    let r = exchange(s.addr(), &raw).expect("a response");
    r.expect_ok();
    assert_eq!(r.next_position(), Some(5));
    assert_eq!(c.get("ch").body, b"abcde");
}

#[test]
fn a_put_object_reads_back_whole_or_by_range_until_deleted() {
    let s = start();
    let c = Client::v4(&s);
    let data = pattern(1000, 9);
    let mut put = c.request(Method::Put, "dir/a b+c.bin");
    put.headers.set("Content-Type", "application/x-test");
    put.headers.set("x-oss-meta-k", "v");
    let r = c.send(put, &data);
    r.expect_ok();
    let md5_hex: String = {
        use md5::{Digest, Md5};
        Md5::digest(&data)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    };
    assert_eq!(r.header("etag"), Some(format!("\"{md5_hex}\"").as_str()));
    assert_eq!(r.crc(), Some(crc64(&data)));
    let g = c.get("dir/a b+c.bin");
    assert_eq!(g.body, data);
    assert_eq!(g.header("content-type"), Some("application/x-test"));
    assert_eq!(g.header("x-oss-meta-k"), Some("v"));
    assert_eq!(g.header("x-oss-object-type"), Some("Normal"));
    assert_eq!(g.header("accept-ranges"), Some("bytes"));
    let range = |h: &str, standard: bool| {
        let mut r = c.request(Method::Get, "dir/a b+c.bin");
        r.headers.set("Range", h);
        if standard {
            r.headers.set("x-oss-range-behavior", "standard");
        }
        c.send(r, b"")
    };
    let r = range("bytes=10-19", false);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &data[10..20]);
    assert_eq!(r.header("content-range"), Some("bytes 10-19/1000"));
    assert_eq!(r.crc(), Some(crc64(&data)), "the CRC is the whole object's");
    let r = range("bytes=-10", false);
    assert_eq!((r.status, r.body.as_slice()), (206, &data[990..]));
    let r = range("bytes=990-", false);
    assert_eq!((r.status, r.body.len()), (206, 10));
    for ignored in [
        "bytes=500-2000",
        "bytes=1000-",
        "bytes=9-1",
        "lines=1-2",
        "bytes=x-y",
    ] {
        let r = range(ignored, false);
        assert_eq!((r.status, r.body.len()), (200, 1000), "{ignored}");
        assert_eq!(r.header("content-range"), None);
    }
    let r = range("bytes=500-2000", true);
    assert_eq!((r.status, r.body.len()), (206, 500));
    range("bytes=1000-2000", true).expect_error(416, "InvalidRange");
    c.delete("dir/a b+c.bin").expect_ok();
    assert_eq!(
        c.delete("dir/a b+c.bin").status,
        204,
        "deleting nothing is fine"
    );
    let r = c.get("dir/a b+c.bin");
    r.expect_error(404, "NoSuchKey");
    assert_eq!(r.field("EC").as_deref(), Some("0026-00000001"));
    let h = c.head("dir/a b+c.bin");
    assert!(h.body.is_empty());
    h.expect_error(404, "NoSuchKey");
    assert_eq!(h.header("x-oss-ec"), Some("0026-00000001"));
}

#[test]
fn reads_honour_if_match_and_if_none_match() {
    let s = start();
    let c = Client::v4(&s);
    let etag = c.put("c", b"abc").header("etag").unwrap().to_owned();
    let mut r = c.request(Method::Get, "c");
    r.headers.set("If-None-Match", &etag);
    assert_eq!(c.send(r, b"").status, 304);
    let mut r = c.request(Method::Get, "c");
    r.headers.set("If-Match", "\"0000\"");
    c.send(r, b"").expect_error(412, "PreconditionFailed");
    let mut r = c.request(Method::Get, "c");
    r.headers.set("If-Match", &etag);
    assert_eq!(c.send(r, b"").body, b"abc");
}

#[test]
fn sealing_at_the_length_stops_appends_and_keeps_the_sealed_time() {
    let s = start();
    let c = Client::v4(&s);
    c.append("s", 0, b"abc").expect_ok();
    assert_eq!(c.head("s").header("x-oss-sealed-time"), None);
    let r = c.seal("s", 2);
    r.expect_error(409, "PositionNotEqualToLength");
    assert_eq!(r.next_position(), Some(3));
    let r = c.seal("s", 3);
    r.expect_ok();
    let sealed = r.header("x-oss-sealed-time").unwrap().to_owned();
    assert!(sealed.ends_with(" GMT"));
    assert_eq!(
        c.seal("s", 3).header("x-oss-sealed-time"),
        Some(sealed.as_str())
    );
    assert_eq!(
        c.head("s").header("x-oss-sealed-time"),
        Some(sealed.as_str())
    );
    c.append("s", 3, b"d")
        .expect_error(409, "ObjectNotAppendable");
    c.put("n", b"x").expect_ok();
    c.seal("n", 1).expect_error(409, "ObjectNotAppendable");
    c.seal("missing", 0).expect_error(404, "NoSuchKey");
    let mut r = c.request(Method::Post, "s");
    r.query.push(("seal".into(), String::new()));
    c.send(r, b"").expect_error(400, "InvalidArgument");
}

#[test]
fn positions_must_be_decimal() {
    let s = start();
    let c = Client::v4(&s);
    let mut r = c.request(Method::Post, "p");
    r.query.push(("append".into(), String::new()));
    let resp = c.send(r, b"x");
    resp.expect_error(400, "InvalidArgument");
    assert_eq!(resp.field("EC").as_deref(), Some("0016-00000501"));
    for bad in ["abc", "-1", "1e3", "", "99999999999999999999999"] {
        let mut r = c.request(Method::Post, "p");
        r.query.push(("append".into(), String::new()));
        r.query.push(("position".into(), bad.into()));
        let resp = c.send(r, b"x");
        resp.expect_error(400, "InvalidArgument");
        assert_eq!(
            resp.field("EC").as_deref(),
            Some("0016-00000502"),
            "{bad:?}"
        );
    }
    assert_eq!(c.head("p").status, 404);
}

#[test]
fn path_style_virtual_host_and_cname_requests_reach_their_bucket() {
    let s = start_with(|c| c.extra_buckets = vec!["second".into()]);
    let c = Client::v4(&s);
    // Path style, unknown bucket.
    let mut r = c.append_request("k", 0);
    r.bucket = Some("nosuch".into());
    c.send(r, b"x").expect_error(404, "NoSuchBucket");
    // Virtual host: the bucket comes from the Host header.
    let mut vc = c.clone();
    vc.host = Some(format!("second.localhost:{}", s.addr().port()));
    let mut req = vc.append_request("v", 0);
    req.bucket = Some("second".into());
    let mut raw = vc.signed(req, b"vhost");
    raw.target = "/v?append&position=0".into();
    exchange(s.addr(), &raw).unwrap().expect_ok();
    let mut req = c.request(Method::Get, "v");
    req.bucket = Some("second".into());
    assert_eq!(c.send(req, b"").body, b"vhost");
    // Virtual host of an unknown bucket on an OSS-looking endpoint.
    let mut nc = c.clone();
    nc.host = Some("nosuch.oss-cn-hangzhou.aliyuncs.com".into());
    let mut req = nc.request(Method::Get, "v");
    req.bucket = Some("nosuch".into());
    let mut raw = nc.signed(req, b"");
    raw.target = "/v".into();
    exchange(s.addr(), &raw)
        .unwrap()
        .expect_error(404, "NoSuchBucket");
    // A cname host maps to the default bucket.
    let mut cc = c.clone();
    cc.host = Some("media.example.com".into());
    let mut raw = cc.signed(cc.append_request("cn", 0), b"cname");
    raw.target = "/cn?append&position=0".into();
    exchange(s.addr(), &raw).unwrap().expect_ok();
    assert_eq!(c.get("cn").body, b"cname");
}

#[test]
fn bucket_and_service_listings_answer_and_unknown_subresources_are_not_implemented() {
    let s = start();
    let c = Client::v4(&s);
    for k in ["a/1", "a/2", "b", "c/d/e"] {
        c.put(k, k.as_bytes()).expect_ok();
    }
    let mut r = oss_append::Request::new(Method::Get, Some(BUCKET), None);
    r.query.push(("delimiter".into(), "/".into()));
    r.query.push(("max-keys".into(), "2".into()));
    let resp = c.send(r, b"");
    resp.expect_ok();
    let xml = resp.text();
    assert!(
        xml.contains("<CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes>"),
        "{xml}"
    );
    assert!(
        xml.contains("<Key>b</Key>") && xml.contains("<IsTruncated>true</IsTruncated>"),
        "{xml}"
    );
    let mut r = oss_append::Request::new(Method::Get, Some(BUCKET), None);
    r.query.push(("list-type".into(), "2".into()));
    r.query.push(("prefix".into(), "a/".into()));
    let xml = c.send(r, b"").text();
    assert!(
        xml.contains("<KeyCount>2</KeyCount>") && xml.contains("<Type>Normal</Type>"),
        "{xml}"
    );
    let xml = c
        .send(oss_append::Request::new(Method::Get, None, None), b"")
        .text();
    assert!(xml.contains("<Name>examplebucket</Name>"), "{xml}");
    let mut r = oss_append::Request::new(Method::Get, Some(BUCKET), None);
    r.query.push(("location".into(), String::new()));
    assert!(c.send(r, b"").text().contains("oss-cn-hangzhou"));
    let mut r = c.request(Method::Get, "b");
    r.query.push(("acl".into(), String::new()));
    c.send(r, b"").expect_error(501, "NotImplemented");
}

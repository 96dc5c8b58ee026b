//! Versioned buckets: null-versioned appends, frozen appendable versions, delete markers, versionId reads, restarts.

mod common;

use common::*;
use oss_append::crc64::crc64;
use oss_append::{Method, Request};
use oss_emulator::versions::Versioning;

fn with_version(c: &Client, method: Method, key: &str, id: &str) -> Resp {
    let mut r = c.request(method, key);
    r.query.push(("versionId".into(), id.into()));
    c.send(r, b"")
}

fn list_versions(c: &Client) -> String {
    let mut r = Request::new(Method::Get, Some(BUCKET), None);
    r.headers.set("Host", c.host());
    r.query.push(("versions".into(), String::new()));
    let resp = c.send(r, b"");
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.text()
}

#[test]
fn appendable_versions_freeze_under_put_and_delete() {
    let s = start_with(|c| c.versioning = Versioning::Enabled);
    let c = Client::v4(&s);
    let a = c.append("rec.webm", 0, b"hello ");
    a.expect_ok();
    assert_eq!(a.header("x-oss-version-id"), Some("null"));
    let b = c.append("rec.webm", 6, b"world");
    b.expect_ok();
    assert_eq!(b.header("x-oss-version-id"), Some("null"));
    let listed = list_versions(&c);
    assert_eq!(listed.matches("<Version>").count(), 1, "{listed}");
    assert!(listed.contains("<VersionId>null</VersionId><IsLatest>true</IsLatest>"));

    // A put keeps the appendable object as a previous version that can no longer grow.
    let put = c.put("rec.webm", b"normal");
    put.expect_ok();
    let id = put.header("x-oss-version-id").unwrap().to_owned();
    assert_ne!(id, "null");
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let old = with_version(&c, Method::Get, "rec.webm", "null");
    assert_eq!(old.status, 200);
    assert_eq!(old.body, b"hello world");
    assert_eq!(old.header("x-oss-version-id"), Some("null"));
    assert_eq!(old.header("x-oss-object-type"), Some("Appendable"));
    assert_eq!(old.crc(), Some(crc64(b"hello world")));
    let now = c.get("rec.webm");
    assert_eq!(now.body, b"normal");
    assert_eq!(now.header("x-oss-version-id"), Some(id.as_str()));
    c.append("rec.webm", 11, b"!")
        .expect_error(409, "ObjectNotAppendable");
    c.append("rec.webm", 6, b"!")
        .expect_error(409, "ObjectNotAppendable");
    let mut with_id = c.append_request("rec.webm", 11);
    with_id.query.push(("versionId".into(), "null".into()));
    let r = c.send(with_id, b"!");
    r.expect_error(400, "InvalidArgument");
    assert_eq!(r.field("EC").as_deref(), Some("0016-00000504"));

    // A delete adds a marker: the key reads as gone, its versions stay readable.
    let d = c.delete("rec.webm");
    assert_eq!(d.status, 204);
    assert_eq!(d.header("x-oss-delete-marker"), Some("true"));
    let marker = d.header("x-oss-version-id").unwrap().to_owned();
    let gone = c.get("rec.webm");
    gone.expect_error(404, "NoSuchKey");
    assert_eq!(gone.header("x-oss-delete-marker"), Some("true"));
    assert_eq!(gone.header("x-oss-version-id"), Some(marker.as_str()));
    let h = c.head("rec.webm");
    assert_eq!(h.status, 404);
    assert_eq!(h.header("x-oss-delete-marker"), Some("true"));
    assert_eq!(
        with_version(&c, Method::Get, "rec.webm", "null").body,
        b"hello world"
    );
    let on_marker = with_version(&c, Method::Head, "rec.webm", &marker);
    assert_eq!(on_marker.status, 405);
    assert_eq!(on_marker.header("x-oss-delete-marker"), Some("true"));
    with_version(&c, Method::Get, "rec.webm", "CAEQnope").expect_error(404, "NoSuchVersion");
    // Past 0 a marker is not appendable; at 0 a new appendable object starts.
    c.append("rec.webm", 11, b"x")
        .expect_error(409, "ObjectNotAppendable");
    let listed = list_versions(&c);
    assert_eq!(listed.matches("<DeleteMarker>").count(), 1, "{listed}");
    assert_eq!(listed.matches("<Version>").count(), 2, "{listed}");

    // Removing the marker by id brings the put version back.
    let undo = with_version(&c, Method::Delete, "rec.webm", &marker);
    assert_eq!(undo.status, 204);
    assert_eq!(undo.header("x-oss-delete-marker"), Some("true"));
    assert_eq!(c.get("rec.webm").body, b"normal");
    c.delete("rec.webm");
    // x-oss-forbid-overwrite has no effect on a versioned bucket.
    let mut forbid = c.request(Method::Put, "rec.webm");
    forbid.headers.set("x-oss-forbid-overwrite", "true");
    c.send(forbid, b"over").expect_ok();
    c.delete("rec.webm");
    let fresh = c.append("rec.webm", 0, b"again");
    fresh.expect_ok();
    assert_eq!(fresh.header("x-oss-version-id"), Some("null"));
    assert_eq!(c.get("rec.webm").body, b"again");
}

#[test]
fn previous_versions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let start_here = || {
        start_with(|c| {
            c.data_dir = Some(dir.path().to_path_buf());
            c.versioning = Versioning::Enabled;
        })
    };
    let id = {
        let s = start_here();
        let c = Client::v1(&s);
        c.append("k", 0, &pattern(5000, 1)).expect_ok();
        let id = c
            .put("k", b"v2")
            .header("x-oss-version-id")
            .unwrap()
            .to_owned();
        c.delete("k");
        s.stop();
        id
    };
    let s = start_here();
    let c = Client::v1(&s);
    c.get("k").expect_error(404, "NoSuchKey");
    assert_eq!(
        with_version(&c, Method::Get, "k", "null").body,
        pattern(5000, 1)
    );
    assert_eq!(with_version(&c, Method::Get, "k", &id).body, b"v2");
    // Removing every version leaves nothing on disk but the bucket directory.
    let listed = list_versions(&c);
    let marker = listed
        .split("<DeleteMarker><Key>k</Key><VersionId>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_owned();
    for v in [marker.as_str(), id.as_str(), "null"] {
        assert_eq!(with_version(&c, Method::Delete, "k", v).status, 204);
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join(BUCKET)).unwrap().count(),
        0
    );
}

#[test]
fn suspended_buckets_keep_one_null_version() {
    let s = start_with(|c| c.versioning = Versioning::Suspended);
    let c = Client::v4(&s);
    c.append("k", 0, b"abc").expect_ok();
    let p = c.put("k", b"def");
    assert_eq!(p.header("x-oss-version-id"), Some("null"));
    assert_eq!(with_version(&c, Method::Get, "k", "null").body, b"def");
    assert_eq!(list_versions(&c).matches("<Version>").count(), 1);
    // Turned on through the control plane, puts get their own ids again.
    let (status, v) = control(&s, "POST", "/versioning", r#"{"status":"enabled"}"#);
    assert_eq!((status, v["status"].as_str()), (200, Some("enabled")));
    let q = c.put("k", b"ghi");
    assert_ne!(q.header("x-oss-version-id"), Some("null"));
    assert_eq!(list_versions(&c).matches("<Version>").count(), 2);
    let (status, _) = control(&s, "POST", "/versioning", r#"{"status":"off"}"#);
    assert_eq!(status, 400);
}

#[test]
fn unversioned_buckets_answer_without_version_headers() {
    let s = start();
    let c = Client::v4(&s);
    let a = c.append("k", 0, b"abc");
    assert_eq!(a.header("x-oss-version-id"), None);
    let mut forbid = c.request(Method::Put, "k");
    forbid.headers.set("x-oss-forbid-overwrite", "true");
    c.send(forbid, b"x").expect_error(409, "FileAlreadyExists");
    let d = c.delete("k");
    assert_eq!(d.header("x-oss-delete-marker"), None);
    c.get("k").expect_error(404, "NoSuchKey");
}

fn bucket_versioning(c: &Client, method: Method, document: &str) -> Resp {
    let mut r = Request::new(method, Some(BUCKET), None);
    r.headers.set("Host", c.host());
    r.query.push(("versioning".into(), String::new()));
    c.send(r, document.as_bytes())
}

#[test]
fn put_bucket_versioning_turns_versioning_on_and_suspends_it() {
    let s = start();
    let c = Client::v4(&s);
    let status = |c: &Client| bucket_versioning(c, Method::Get, "").text();
    assert!(!status(&c).contains("<Status>"), "{}", status(&c));
    let doc = |status: &str| {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration>\n  <Status>{status}</Status>\n</VersioningConfiguration>")
    };

    bucket_versioning(&c, Method::Put, &doc("Enabled")).expect_ok();
    assert!(
        status(&c).contains("<Status>Enabled</Status>"),
        "{}",
        status(&c)
    );
    let put = c.put("k", b"one");
    assert_ne!(put.header("x-oss-version-id"), None);
    assert_ne!(put.header("x-oss-version-id"), Some("null"));

    bucket_versioning(&c, Method::Put, &doc("Suspended")).expect_ok();
    assert!(
        status(&c).contains("<Status>Suspended</Status>"),
        "{}",
        status(&c)
    );
    assert_eq!(c.put("k", b"two").header("x-oss-version-id"), Some("null"));

    // Refused documents change nothing.
    let bad = [
        (
            "<VersioningConfiguration><Status>Enabled<Status></VersioningConfiguration>",
            "MalformedXML",
            "0012-00000002",
        ),
        (
            "<LifecycleConfiguration><Status>Enabled</Status></LifecycleConfiguration>",
            "MalformedXML",
            "0012-00000002",
        ),
        ("", "MalformedXML", "0012-00000002"),
        (&doc(""), "InvalidArgument", "0012-00000003"),
        (&doc("Stop"), "InvalidArgument", "0012-00000004"),
        (&doc("enabled"), "InvalidArgument", "0012-00000004"),
    ];
    for (document, code, ec) in bad {
        let r = bucket_versioning(&c, Method::Put, document);
        r.expect_error(400, code);
        assert!(
            r.error_xml().contains(&format!("<EC>{ec}</EC>")),
            "{}",
            r.error_xml()
        );
    }
    assert!(
        status(&c).contains("<Status>Suspended</Status>"),
        "{}",
        status(&c)
    );
    // A document over the size a configuration may be is refused too.
    let huge = doc(&"x".repeat(70_000));
    assert_eq!(bucket_versioning(&c, Method::Put, &huge).status, 400);
    assert!(
        status(&c).contains("<Status>Suspended</Status>"),
        "{}",
        status(&c)
    );
}

//! Bucket- and service-level requests that SDK tests lean on: ListObjects (V1/V2), ListBuckets, GetBucketInfo/Location.

use hyper::{Response, StatusCode};
use oss_append::encode::uri_encode_path;
use oss_append::xml::escape;
use oss_append::{Method, Request, SigningTime};

use crate::errors::OssError;
use crate::respond::{empty_response, full, set, Reply};
use crate::state::AppState;
use crate::store::ObjectMeta;
use crate::target::Target;
use crate::versions;

const OWNER_ID: &str = "1000000000000000";

fn xml_response(xml: String) -> Reply {
    let len = xml.len();
    let mut r = Response::new(full(xml));
    set(&mut r, "content-type", "application/xml");
    set(&mut r, "content-length", &len.to_string());
    Reply::Ok(r)
}

fn element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn iso(secs: i64) -> String {
    SigningTime::from_unix_seconds(secs).iso8601_extended()
}

/// The `<Owner>` of every bucket and object: the emulator has one.
fn owner(out: &mut String) {
    out.push_str("<Owner>");
    element(out, "ID", OWNER_ID);
    element(out, "DisplayName", OWNER_ID);
    out.push_str("</Owner>");
}

/// A key or prefix as a listing shows it: URL-encoded when the request asked `encoding-type=url`.
fn key_text(s: &str, url_encode: bool) -> String {
    if url_encode {
        uri_encode_path(s)
    } else {
        s.to_owned()
    }
}

/// The fields every listing carries after its markers, in OSS's order.
fn paging(out: &mut String, max_keys: usize, delimiter: &str, url_encode: bool, truncated: bool) {
    element(out, "MaxKeys", &max_keys.to_string());
    element(out, "Delimiter", delimiter);
    if url_encode {
        element(out, "EncodingType", "url");
    }
    element(out, "IsTruncated", if truncated { "true" } else { "false" });
}

/// Answers a signed request on a bucket or the service root.
pub fn bucket_level(state: &AppState, method: Method, target: &Target, req: &Request) -> Reply {
    match (target, method) {
        (Target::Service, Method::Get) => list_buckets(state),
        (Target::Bucket(b), Method::Get) => {
            if req.query_value("location").is_some() {
                let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
                element(
                    &mut xml,
                    "LocationConstraint",
                    &format!("oss-{}", state.config.region),
                );
                xml_response(xml)
            } else if req.query_value("bucketInfo").is_some() {
                bucket_info(state, b)
            } else if req.query_value("versions").is_some() {
                list_versions(state, b, req)
            } else if req.query_value("versioning").is_some() {
                versioning_status(state)
            } else if let Some((name, _)) = req.query.iter().find(|(k, _)| {
                oss_append::sign::v1::is_signed_subresource(k) && !k.starts_with("x-oss-")
            }) {
                Reply::unread(OssError::not_implemented(&format!(
                    "The bucket {name} sub-resource"
                )))
            } else {
                list_objects(state, b, req).unwrap_or_else(Reply::unread)
            }
        }
        (Target::Bucket(_), Method::Head | Method::Put) if req.query.is_empty() => {
            Reply::Ok(empty_response(StatusCode::OK))
        }
        (Target::Service, _) => Reply::unread(OssError::method_not_allowed(method.as_str())),
        _ => Reply::unread(OssError::not_implemented(&format!(
            "{} on a bucket",
            method.as_str()
        ))),
    }
}

fn list_buckets(state: &AppState) -> Reply {
    let mut xml =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult>");
    owner(&mut xml);
    xml.push_str("<Buckets>");
    for b in state.store.bucket_names() {
        xml.push_str("<Bucket>");
        element(&mut xml, "CreationDate", &iso(0));
        element(
            &mut xml,
            "Location",
            &format!("oss-{}", state.config.region),
        );
        element(&mut xml, "Name", &b);
        element(&mut xml, "Region", &state.config.region);
        element(&mut xml, "StorageClass", "Standard");
        xml.push_str("</Bucket>");
    }
    xml.push_str("</Buckets></ListAllMyBucketsResult>");
    xml_response(xml)
}

fn bucket_info(state: &AppState, bucket: &str) -> Reply {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BucketInfo><Bucket>");
    element(&mut xml, "CreationDate", &iso(0));
    element(
        &mut xml,
        "Location",
        &format!("oss-{}", state.config.region),
    );
    element(&mut xml, "Name", bucket);
    element(&mut xml, "StorageClass", "Standard");
    owner(&mut xml);
    xml.push_str("<AccessControlList>");
    element(&mut xml, "Grant", "private");
    xml.push_str("</AccessControlList></Bucket></BucketInfo>");
    xml_response(xml)
}

/// ListObjects (V1, or V2 with `list-type=2`) over the committed objects, in key order.
fn list_objects(state: &AppState, bucket: &str, req: &Request) -> Result<Reply, OssError> {
    let q = |n: &str| req.query_value(n).unwrap_or("");
    let v2 = q("list-type") == "2";
    let prefix = q("prefix");
    let delimiter = q("delimiter");
    let url_encode = q("encoding-type") == "url";
    let max_keys: usize = match req.query_value("max-keys") {
        None => 100,
        Some(v) => v.parse().ok().filter(|n| *n <= 1000).ok_or_else(|| {
            OssError::invalid_argument("Argument max-keys is invalid.", "max-keys", v)
        })?,
    };
    let marker = if v2 {
        match req.query_value("continuation-token") {
            Some(t) => t,
            None => q("start-after"),
        }
    } else {
        q("marker")
    };
    let objects: Vec<ObjectMeta> = state
        .store
        .slots(bucket)
        .into_iter()
        .filter(|(k, _)| k.starts_with(prefix) && k.as_str() > marker)
        .filter_map(|(_, s)| s.snapshot())
        .collect();
    let mut contents: Vec<&ObjectMeta> = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    let mut last = String::new();
    let mut truncated = false;
    for m in &objects {
        let rolled = (!delimiter.is_empty())
            .then(|| {
                m.key[prefix.len()..]
                    .find(delimiter)
                    .map(|i| m.key[..prefix.len() + i + delimiter.len()].to_owned())
            })
            .flatten();
        if rolled.as_ref().is_some_and(|p| prefixes.last() == Some(p)) {
            continue;
        }
        if contents.len() + prefixes.len() == max_keys {
            truncated = true;
            break;
        }
        match rolled {
            Some(p) => {
                last.clone_from(&p);
                prefixes.push(p);
            }
            None => {
                last.clone_from(&m.key);
                contents.push(m);
            }
        }
    }
    let enc = |s: &str| key_text(s, url_encode);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult>");
    element(&mut xml, "Name", bucket);
    element(&mut xml, "Prefix", &enc(prefix));
    if v2 {
        if let Some(t) = req.query_value("continuation-token") {
            element(&mut xml, "ContinuationToken", t);
        }
        if let Some(s) = req.query_value("start-after") {
            element(&mut xml, "StartAfter", &enc(s));
        }
    } else {
        element(&mut xml, "Marker", &enc(marker));
    }
    paging(&mut xml, max_keys, &enc(delimiter), url_encode, truncated);
    if truncated {
        if v2 {
            element(&mut xml, "NextContinuationToken", &last);
        } else {
            element(&mut xml, "NextMarker", &enc(&last));
        }
    }
    if v2 {
        element(
            &mut xml,
            "KeyCount",
            &(contents.len() + prefixes.len()).to_string(),
        );
    }
    for m in contents {
        xml.push_str("<Contents>");
        element(&mut xml, "Key", &enc(&m.key));
        element(&mut xml, "LastModified", &iso(m.last_modified));
        element(&mut xml, "ETag", &format!("\"{}\"", m.etag));
        element(&mut xml, "Type", m.kind.as_str());
        element(&mut xml, "Size", &m.size.to_string());
        element(&mut xml, "StorageClass", &m.storage_class);
        if !v2 || q("fetch-owner") == "true" {
            owner(&mut xml);
        }
        xml.push_str("</Contents>");
    }
    for p in prefixes {
        xml.push_str("<CommonPrefixes>");
        element(&mut xml, "Prefix", &enc(&p));
        xml.push_str("</CommonPrefixes>");
    }
    xml.push_str("</ListBucketResult>");
    Ok(xml_response(xml))
}

/// ListObjectVersions: `GET /?versions` with prefix, key-marker, version-id-marker, max-keys and
/// encoding-type; keys in order, each key's versions newest first.
fn list_versions(state: &AppState, bucket: &str, req: &Request) -> Reply {
    let q = |n: &str| req.query_value(n).unwrap_or("");
    let prefix = q("prefix");
    let key_marker = q("key-marker");
    let id_marker = q("version-id-marker");
    let url_encode = q("encoding-type") == "url";
    let max_keys: usize = match req.query_value("max-keys") {
        None => 100,
        Some(v) => match v.parse().ok().filter(|n| (1..=1000).contains(n)) {
            Some(n) => n,
            None => {
                return Reply::unread(OssError::invalid_argument(
                    "Argument max-keys is invalid.",
                    "max-keys",
                    v,
                ))
            }
        },
    };
    let enc = |s: &str| key_text(s, url_encode);
    let mut entries: Vec<(ObjectMeta, bool)> = Vec::new();
    for (key, slot) in state.store.slots(bucket) {
        if !key.starts_with(prefix) || key.as_str() < key_marker {
            continue;
        }
        let Some(record) = slot.record() else {
            continue;
        };
        let history: Vec<ObjectMeta> = versions::all(&record).cloned().collect();
        // At the marker key, only the versions after the marker version.
        let skip = if key == key_marker {
            match history.iter().position(|m| versions::id_of(m) == id_marker) {
                Some(at) if !id_marker.is_empty() => at + 1,
                _ => continue,
            }
        } else {
            0
        };
        for (i, mut m) in history.into_iter().enumerate().skip(skip) {
            m.noncurrent = Vec::new();
            entries.push((m, i == 0));
        }
    }
    let truncated = entries.len() > max_keys;
    entries.truncate(max_keys);
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListVersionsResult>");
    element(&mut xml, "Name", bucket);
    element(&mut xml, "Prefix", &enc(prefix));
    element(&mut xml, "KeyMarker", &enc(key_marker));
    element(&mut xml, "VersionIdMarker", id_marker);
    paging(&mut xml, max_keys, "", url_encode, truncated);
    if truncated {
        if let Some((last, _)) = entries.last() {
            element(&mut xml, "NextKeyMarker", &enc(&last.key));
            element(&mut xml, "NextVersionIdMarker", versions::id_of(last));
        }
    }
    for (m, latest) in &entries {
        let tag = if m.delete_marker {
            "DeleteMarker"
        } else {
            "Version"
        };
        xml.push('<');
        xml.push_str(tag);
        xml.push('>');
        element(&mut xml, "Key", &enc(&m.key));
        element(&mut xml, "VersionId", versions::id_of(m));
        element(&mut xml, "IsLatest", if *latest { "true" } else { "false" });
        element(&mut xml, "LastModified", &iso(m.last_modified));
        if !m.delete_marker {
            element(&mut xml, "ETag", &format!("\"{}\"", m.etag));
            element(&mut xml, "Type", m.kind.as_str());
            element(&mut xml, "Size", &m.size.to_string());
            element(&mut xml, "StorageClass", &m.storage_class);
        }
        owner(&mut xml);
        xml.push_str("</");
        xml.push_str(tag);
        xml.push('>');
    }
    xml.push_str("</ListVersionsResult>");
    xml_response(xml)
}

/// PutBucketVersioning: `PUT /?versioning` with `<VersioningConfiguration><Status>Enabled|Suspended`.
/// The emulator keeps one status for every bucket (as `--versioning` does), so this sets it for all.
/// Errors follow OSS's 0012-0000000x pages: a document that is not one, an empty Status, another value.
pub fn put_versioning(state: &AppState, document: &[u8]) -> Reply {
    let doc = match oss_append::xml::parse_flat(document) {
        Ok(doc) if doc.root == "VersioningConfiguration" => doc,
        _ => {
            return Reply::read(
                OssError::new(
                    400,
                    "MalformedXML",
                    "The XML you provided was not well-formed or did not validate against our published schema.",
                )
                .ec("0012-00000002"),
            )
        }
    };
    let chosen = match doc.get("Status").unwrap_or_default().trim() {
        "Enabled" => versions::Versioning::Enabled,
        "Suspended" => versions::Versioning::Suspended,
        other => {
            let (message, ec) = if other.is_empty() {
                (
                    "The Status of the versioning configuration is empty.",
                    "0012-00000003",
                )
            } else {
                (
                    "The Status of the versioning configuration must be Enabled or Suspended.",
                    "0012-00000004",
                )
            };
            return Reply::read(OssError::invalid_argument(message, "Status", other).ec(ec));
        }
    };
    state.versions.set(chosen);
    Reply::Ok(empty_response(StatusCode::OK))
}

/// GetBucketVersioning: `GET /?versioning`.
fn versioning_status(state: &AppState) -> Reply {
    let mut xml =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<VersioningConfiguration>");
    if let Some(s) = state.versions.status().status() {
        element(&mut xml, "Status", s);
    }
    xml.push_str("</VersioningConfiguration>");
    xml_response(xml)
}

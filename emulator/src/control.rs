//! The control plane under `/__emulator__/` (loopback clients, own Host, token, JSON): faults, clock, STS, state, reset.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::Response;
use md5::{Digest, Md5};
use oss_append::encode::percent_decode;
use oss_append::SigningTime;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::FaultSpec;
use crate::respond::{self, json as json_response, RespBody, RespCtx};
use crate::state::{AppState, Credential};
use crate::store::{ObjectKind, ObjectMeta, Slot};
use crate::versions::Versioning;

/// The prefix of the control plane's routes.
pub const CONTROL_PREFIX: &str = "/__emulator__";

fn bad(message: impl Into<String>) -> Response<RespBody> {
    json_response(400, &json!({ "error": message.into() }))
}

fn not_found(message: impl Into<String>) -> Response<RespBody> {
    json_response(404, &json!({ "error": message.into() }))
}

async fn read_json<T: for<'de> Deserialize<'de> + Default>(body: Incoming) -> Result<T, String> {
    let bytes = Limited::new(body, 1 << 20)
        .collect()
        .await
        .map_err(|e| format!("cannot read the body: {e}"))?
        .to_bytes();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("invalid JSON: {e}"))
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockBody {
    offset_ms: Option<i64>,
    shift_ms: Option<i64>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersioningBody {
    status: String,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkBody {
    latency_ms: Option<u64>,
    upload_rate: Option<u64>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpireBody {
    access_key_id: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialBody {
    access_key_id: String,
    access_key_secret: String,
    sts_token: Option<String>,
    expires_in_secs: Option<i64>,
    #[serde(default)]
    replace: bool,
}

/// The request header that carries the control token.
pub const TOKEN_HEADER: &str = "x-emulator-token";

/// Whether `host` (a `Host` header) names the address the connection came in on (`local`), or
/// `localhost` with its port. Anything else (another name, a rebinding DNS name) is refused.
pub fn is_own_host(host: &str, local: SocketAddr) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let port = local.port();
    let ip = match local.ip() {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
        v4 => v4,
    };
    let bare = match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let mut names = vec![format!("{bare}:{port}"), format!("localhost:{port}")];
    if port == 80 {
        names.push(bare);
        names.push("localhost".to_owned());
    }
    names.contains(&host)
}

/// Compares two tokens in time that does not depend on where they differ.
fn same_token(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a request carries a body: a non-zero length or chunked.
fn has_body(headers: &hyper::HeaderMap) -> bool {
    if headers.contains_key(hyper::header::TRANSFER_ENCODING) {
        return true;
    }
    headers
        .get(hyper::header::CONTENT_LENGTH)
        .is_some_and(|v| v.to_str().map_or(true, |v| v.trim() != "0"))
}

/// Whether the `Content-Type` is `application/json` (parameters such as a charset allowed).
fn is_json(headers: &hyper::HeaderMap) -> bool {
    headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// Why a control-plane request is refused before its route is looked at, if it is.
fn refusal(
    state: &AppState,
    peer: SocketAddr,
    local: SocketAddr,
    parts: &hyper::http::request::Parts,
) -> Option<Response<RespBody>> {
    let refuse =
        |status: u16, message: String| Some(json_response(status, &json!({ "error": message })));
    if !is_loopback(peer.ip()) {
        return refuse(
            403,
            "the control plane answers loopback clients only".into(),
        );
    }
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !is_own_host(host, local) {
        return refuse(
            403,
            format!(
                "the control plane answers only requests addressed to the emulator itself \
                 (Host {local} or localhost:{}), not {host:?}",
                local.port()
            ),
        );
    }
    if parts.method == hyper::Method::OPTIONS {
        // Reached only for an origin named with --control-origin; the preflight carries no token.
        return None;
    }
    let token = parts.headers.get(TOKEN_HEADER).map(|v| v.as_bytes());
    if !token.is_some_and(|t| same_token(t, state.config.control_token.as_bytes())) {
        return refuse(
            401,
            "the control plane needs the token the emulator printed at start (`control token: ...`, \
             or --control-token) in the X-Emulator-Token header"
                .into(),
        );
    }
    if has_body(&parts.headers) && !is_json(&parts.headers) {
        return refuse(
            415,
            "a control-plane request body must be JSON, sent with Content-Type: application/json"
                .into(),
        );
    }
    None
}

/// Serves one request under `/__emulator__`: checks peer, Host, token and content type, then the
/// route. CORS headers go only to the origins named with `--control-origin`.
pub async fn serve(
    state: &Arc<AppState>,
    peer: SocketAddr,
    local: SocketAddr,
    parts: &hyper::http::request::Parts,
    body: Incoming,
) -> Response<RespBody> {
    let origin = parts
        .headers
        .get(hyper::header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| {
            state
                .config
                .control_origins
                .iter()
                .any(|a| a.eq_ignore_ascii_case(o))
        })
        .map(str::to_owned);
    let ctx = RespCtx {
        request_id: state.request_id(),
        now_ms: state.now_ms(),
        host_id: String::new(),
        origin,
        is_head: false,
    };
    let resp = match refusal(state, peer, local, parts) {
        Some(refused) => refused,
        None if parts.method == hyper::Method::OPTIONS => match &ctx.origin {
            Some(_) => respond::preflight(Some("content-type, x-emulator-token")),
            None => json_response(
                403,
                &json!({ "error": "the control plane answers no cross-origin requests" }),
            ),
        },
        None => handle(state, peer, parts, body).await,
    };
    respond::finish(resp, &ctx, &[])
}

/// Whether `ip` is a loopback address (IPv4-mapped IPv6 included).
pub fn is_loopback(ip: std::net::IpAddr) -> bool {
    ip.is_loopback()
        || matches!(ip, std::net::IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()))
}

/// Serves one control-plane request.
pub async fn handle(
    state: &Arc<AppState>,
    peer: SocketAddr,
    parts: &hyper::http::request::Parts,
    body: Incoming,
) -> Response<RespBody> {
    if !is_loopback(peer.ip()) {
        return json_response(
            403,
            &json!({ "error": "the control plane answers loopback clients only" }),
        );
    }
    let path = parts.uri.path()[CONTROL_PREFIX.len()..].trim_end_matches('/');
    let query = parts.uri.query().unwrap_or("");
    let method = parts.method.as_str();
    match (method, path) {
        ("GET", "" | "/health") => json_response(
            200,
            &json!({
                "ok": true,
                "buckets": state.store.bucket_names(),
                "default_bucket": state.config.bucket,
                "region": state.config.region,
                "auth": format!("{:?}", state.config.auth).to_lowercase(),
                "max_object_size": state.config.max_object_size,
                "versioning": state.versions.status().status().map(str::to_lowercase),
            }),
        ),
        ("GET", "/state") => {
            let with_md5 = !query.split('&').any(|p| p == "md5=0" || p == "md5=false");
            json_response(200, &dump(state, with_md5).await)
        }
        ("POST", "/reset") => {
            state.store.clear().await;
            state.reset_runtime();
            json_response(200, &json!({ "ok": true }))
        }
        ("GET", "/faults") => {
            let faults = state.faults.lock().unwrap_or_else(|p| p.into_inner());
            json_response(200, &json!({ "faults": faults.list() }))
        }
        ("POST", "/faults") => arm(state, body).await,
        ("DELETE", "/faults") => {
            state
                .faults
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
            json_response(200, &json!({ "ok": true }))
        }
        ("DELETE", p) if p.starts_with("/faults/") => {
            let Ok(id) = p["/faults/".len()..].parse::<u64>() else {
                return bad("the fault id must be a number");
            };
            if state
                .faults
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .disarm(id)
            {
                json_response(200, &json!({ "ok": true }))
            } else {
                not_found(format!("no armed fault {id}"))
            }
        }
        ("GET", "/clock") => clock(state),
        ("POST", "/clock") => {
            let b: ClockBody = match read_json(body).await {
                Ok(b) => b,
                Err(e) => return bad(e),
            };
            match (b.offset_ms, b.shift_ms) {
                (Some(o), None) => state.clock_offset_ms.store(o, Ordering::Relaxed),
                (None, Some(s)) => {
                    state.clock_offset_ms.fetch_add(s, Ordering::Relaxed);
                }
                _ => return bad("send exactly one of offset_ms or shift_ms"),
            }
            clock(state)
        }
        ("GET", "/network") => network(state),
        ("POST", "/network") => {
            let b: NetworkBody = match read_json(body).await {
                Ok(b) => b,
                Err(e) => return bad(e),
            };
            if b.latency_ms
                .is_some_and(|ms| ms > crate::config::MAX_LATENCY_MS)
            {
                return bad(format!(
                    "latency_ms must be from 0 to {}",
                    crate::config::MAX_LATENCY_MS
                ));
            }
            state.network.set(b.latency_ms, b.upload_rate);
            network(state)
        }
        ("POST", "/sts/expire") => {
            let b: ExpireBody = match read_json(body).await {
                Ok(b) => b,
                Err(e) => return bad(e),
            };
            let mut creds = state.credentials.write().unwrap_or_else(|p| p.into_inner());
            let mut expired = 0;
            for c in creds.iter_mut().filter(|c| c.sts_token.is_some()) {
                if b.access_key_id
                    .as_deref()
                    .is_none_or(|a| a == c.access_key_id)
                {
                    c.expired = true;
                    expired += 1;
                }
            }
            json_response(200, &json!({ "expired": expired }))
        }
        ("GET", "/credentials") => credentials(state),
        ("POST", "/credentials") => {
            let b: CredentialBody = match read_json(body).await {
                Ok(b) => b,
                Err(e) => return bad(e),
            };
            if b.access_key_id.trim().is_empty() || b.access_key_secret.trim().is_empty() {
                return bad("access_key_id and access_key_secret are required");
            }
            let now = state.now_ms().div_euclid(1000);
            let cred = Credential {
                access_key_id: b.access_key_id.trim().to_owned(),
                access_key_secret: b.access_key_secret.trim().to_owned(),
                sts_token: b
                    .sts_token
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty()),
                expired: false,
                expires_at: b.expires_in_secs.map(|s| now + s),
            };
            {
                let mut creds = state.credentials.write().unwrap_or_else(|p| p.into_inner());
                if b.replace {
                    creds.clear();
                }
                creds.retain(|c| c.access_key_id != cred.access_key_id);
                creds.push(cred);
            }
            credentials(state)
        }
        ("GET", "/versioning") => versioning(state),
        ("POST", "/versioning") => {
            let b: VersioningBody = match read_json(body).await {
                Ok(b) => b,
                Err(e) => return bad(e),
            };
            match Versioning::parse(&b.status) {
                Some(v) => {
                    state.versions.set(v);
                    versioning(state)
                }
                None => bad("status must be one of enabled, suspended"),
            }
        }
        ("GET", "/requests") => {
            let log = state.log.lock().unwrap_or_else(|p| p.into_inner());
            json_response(200, &json!({ "requests": *log }))
        }
        ("DELETE", "/requests") => {
            state.log.lock().unwrap_or_else(|p| p.into_inner()).clear();
            json_response(200, &json!({ "ok": true }))
        }
        ("GET", p) if p.starts_with("/versions/") => {
            let rest = &p["/versions/".len()..];
            let Some((bucket, key)) = rest.split_once('/') else {
                return bad("use /__emulator__/versions/<bucket>/<key>");
            };
            let key = percent_decode(key, false);
            let record = state
                .store
                .existing_slot(bucket, &key)
                .and_then(|s| s.record());
            let versions: Vec<Value> = record
                .iter()
                .flat_map(crate::versions::all)
                .map(|v| {
                    json!({
                        "version_id": crate::versions::id_of(v),
                        "delete_marker": v.delete_marker,
                        "type": (!v.delete_marker).then(|| v.kind.as_str()),
                        "size": v.size,
                        "crc64": v.crc64.to_string(),
                    })
                })
                .collect();
            json_response(200, &json!({ "versions": versions }))
        }
        ("GET", p) if p.starts_with("/objects/") => {
            let rest = &p["/objects/".len()..];
            let Some((bucket, key)) = rest.split_once('/') else {
                return bad("use /__emulator__/objects/<bucket>/<key>");
            };
            let key = percent_decode(key, false);
            let slot = state.store.existing_slot(bucket, &key);
            match slot.as_ref().and_then(|s| s.snapshot().map(|m| (s, m))) {
                Some((slot, meta)) => {
                    let slot = Arc::clone(slot);
                    json_response(200, &describe(bucket, &slot, &meta, true).await)
                }
                None => not_found(format!("no object {key:?} in {bucket:?}")),
            }
        }
        _ => json_response(
            404,
            &json!({ "error": format!("no control route {method} {CONTROL_PREFIX}{path}; see emulator/README.md") }),
        ),
    }
}

/// The modelled network in force: `{ latency_ms, upload_rate }` (0: none).
fn network(state: &AppState) -> Response<RespBody> {
    json_response(
        200,
        &json!({
            "latency_ms": state.network.latency_ms(),
            "upload_rate": state.network.upload_rate(),
        }),
    )
}

async fn arm(state: &AppState, body: Incoming) -> Response<RespBody> {
    let value: Value = match read_json(body).await {
        Ok(v) => v,
        Err(e) => return bad(e),
    };
    // One spec or a list of them.
    let specs: Vec<FaultSpec> = match value {
        Value::Array(items) => match items
            .into_iter()
            .map(serde_json::from_value)
            .collect::<Result<_, _>>()
        {
            Ok(s) => s,
            Err(e) => return bad(format!("invalid fault: {e}")),
        },
        v => match serde_json::from_value(v) {
            Ok(s) => vec![s],
            Err(e) => return bad(format!("invalid fault: {e}")),
        },
    };
    for s in &specs {
        if let Err(e) = s.validate() {
            return bad(e);
        }
    }
    let mut faults = state.faults.lock().unwrap_or_else(|p| p.into_inner());
    let ids: Vec<u64> = specs.into_iter().map(|s| faults.arm(s)).collect();
    json_response(200, &json!({ "ids": ids, "id": ids.first() }))
}

fn clock(state: &AppState) -> Response<RespBody> {
    let now = state.now_ms();
    json_response(
        200,
        &json!({
            "offset_ms": state.clock_offset_ms.load(Ordering::Relaxed),
            "now_ms": now,
            "now": SigningTime::from_unix_millis(now).iso8601_extended(),
        }),
    )
}

fn versioning(state: &AppState) -> Response<RespBody> {
    json_response(
        200,
        &json!({ "status": state.versions.status().status().map(str::to_lowercase) }),
    )
}

fn credentials(state: &AppState) -> Response<RespBody> {
    let creds = state.credentials.read().unwrap_or_else(|p| p.into_inner());
    let list: Vec<Value> = creds
        .iter()
        .map(|c| {
            json!({
                "access_key_id": c.access_key_id,
                "sts": c.sts_token.is_some(),
                "expired": c.expired,
                "expires_at": c.expires_at,
            })
        })
        .collect();
    json_response(200, &json!({ "credentials": list }))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// MD5 of the committed bytes: from the sidecar for whole writes, read from disk for appendables.
async fn object_md5(slot: &Arc<Slot>, meta: &ObjectMeta) -> Option<String> {
    if let Some(b64) = &meta.content_md5 {
        return STANDARD.decode(b64).ok().map(|b| hex(&b));
    }
    let slot = Arc::clone(slot);
    let size = meta.size;
    tokio::task::spawn_blocking(move || {
        let (m, file) = slot.open_snapshot().ok()??;
        let mut md5 = Md5::new();
        let mut reader = file.take(size.min(m.size));
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = reader.read(&mut buf).ok()?;
            if n == 0 {
                break;
            }
            md5.update(&buf[..n]);
        }
        Some(hex(&md5.finalize()))
    })
    .await
    .ok()
    .flatten()
}

async fn describe(bucket: &str, slot: &Arc<Slot>, m: &ObjectMeta, with_md5: bool) -> Value {
    let meta: serde_json::Map<String, Value> = m
        .headers
        .iter()
        .filter(|(k, _)| k.starts_with("x-oss-meta-"))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let headers: serde_json::Map<String, Value> = m
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "bucket": bucket,
        "key": m.key,
        "size": m.size,
        "type": m.kind.as_str(),
        "appendable": m.kind == ObjectKind::Appendable,
        "crc64": m.crc64.to_string(),
        "md5": if with_md5 { object_md5(slot, m).await } else { None },
        "etag": format!("\"{}\"", m.etag),
        "content_type": m.content_type,
        "storage_class": m.storage_class,
        "acl": m.acl,
        "meta": meta,
        "headers": headers,
        "tagging": m.tagging,
        "last_modified": SigningTime::from_unix_seconds(m.last_modified).http_date(),
        "sealed_time": m.sealed_time.map(|t| SigningTime::from_unix_seconds(t).http_date()),
        "version_id": m.version_id,
    })
}

async fn dump(state: &AppState, with_md5: bool) -> Value {
    let mut buckets = serde_json::Map::new();
    for b in state.store.bucket_names() {
        let mut objects = Vec::new();
        for (_, slot) in state.store.slots(&b) {
            if let Some(m) = slot.snapshot() {
                objects.push(describe(&b, &slot, &m, with_md5).await);
            }
        }
        buckets.insert(b, json!({ "objects": objects }));
    }
    let now = state.now_ms();
    json!({
        "now_ms": now,
        "clock_offset_ms": state.clock_offset_ms.load(Ordering::Relaxed),
        "buckets": buckets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_emulators_own_address_is_a_control_host() {
        let local: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        for ok in [
            "127.0.0.1:4000",
            "localhost:4000",
            "LOCALHOST:4000",
            " 127.0.0.1:4000 ",
        ] {
            assert!(is_own_host(ok, local), "{ok}");
        }
        for no in [
            "",
            "127.0.0.1",
            "127.0.0.1:4001",
            "localhost",
            "attacker.example:4000",
            "examplebucket.localhost:4000",
            "127.0.0.2:4000",
            "[::1]:4000",
        ] {
            assert!(!is_own_host(no, local), "{no}");
        }
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert!(is_own_host("[::1]:80", v6));
        assert!(is_own_host("[::1]", v6));
        assert!(is_own_host("localhost", v6));
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:9".parse().unwrap();
        assert!(is_own_host("127.0.0.1:9", mapped));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token(b"abc", b"abc"));
        assert!(!same_token(b"abc", b"abd"));
        assert!(!same_token(b"abc", b"abcd"));
        assert!(!same_token(b"", b"a"));
    }

    #[test]
    fn only_loopback_peers_drive_the_control_plane() {
        for ok in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(ok.parse().unwrap()), "{ok}");
        }
        for no in [
            "10.0.0.1",
            "192.168.1.2",
            "::ffff:10.0.0.1",
            "fe80::1",
            "0.0.0.0",
        ] {
            assert!(!is_loopback(no.parse().unwrap()), "{no}");
        }
    }
}

//! The HTTP front: connections, addressing (virtual host, path style, cname), authentication, dispatch.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Response;
use hyper_util::rt::{TokioIo, TokioTimer};
use oss_append::{Headers, Method, Request};
use tokio::net::TcpListener;

use crate::auth::{self, AuthContext};
use crate::body;
use crate::config::{is_bucket_name, Config};
use crate::control::{self, CONTROL_PREFIX};
use crate::errors::OssError;
use crate::listing;
use crate::network::PacedStream;
use crate::object::{self, Call};
use crate::respond::{self, set, Reply, RespBody, RespCtx};
use crate::state::{AppState, LogEntry};
use crate::store::Store;
use crate::target::{parse_query, resolve, strip_port, Target};

/// An error answer drains at most this much of an unread body so the connection stays usable.
const DRAIN_LIMIT: u64 = 64 << 20;
/// The most a bucket configuration document (PutBucketVersioning's) may be.
const CONFIG_BODY_LIMIT: usize = 64 << 10;
/// How long a client may take to send request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// The error that makes hyper close a connection without answering.
#[derive(Debug)]
pub struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed on purpose")
    }
}

impl std::error::Error for Closed {}

/// Header values as text: UTF-8 when they are, Latin-1 otherwise (what obs-text bytes mean in HTTP).
fn convert_headers(map: &hyper::HeaderMap) -> Headers {
    map.iter()
        .map(|(k, v)| {
            let text = match std::str::from_utf8(v.as_bytes()) {
                Ok(s) => s.to_owned(),
                Err(_) => v.as_bytes().iter().map(|&b| char::from(b)).collect(),
            };
            (k.as_str().to_owned(), text)
        })
        .collect()
}

/// Object sub-resources the emulator does not implement.
const UNSUPPORTED_OBJECT: &[&str] = &[
    "acl",
    "tagging",
    "symlink",
    "restore",
    "uploads",
    "uploadId",
    "partNumber",
    "x-oss-process",
    "x-oss-async-process",
    "cleanRestoredObject",
    "select",
    "select-meta",
];

/// The operation a request asks for, named as faults and the log name them.
fn classify(method: Method, req: &Request) -> Result<&'static str, OssError> {
    let has = |n: &str| req.query.iter().any(|(k, _)| k == n);
    if let Some((name, _)) = req
        .query
        .iter()
        .find(|(k, _)| UNSUPPORTED_OBJECT.contains(&k.as_str()))
    {
        return Err(OssError::not_implemented(&format!(
            "The {name} sub-resource"
        )));
    }
    Ok(match method {
        Method::Get => "get",
        Method::Head => "head",
        Method::Put => "put",
        Method::Delete => "delete",
        Method::Post if has("append") => "append",
        Method::Post if has("seal") => "seal",
        Method::Post | Method::Options => {
            return Err(OssError::method_not_allowed(method.as_str()))
        }
    })
}

/// Runs the emulator on `listener` until `shutdown` resolves, then closes every connection (their
/// uncommitted writes roll back) and returns once they are gone or two seconds have passed.
///
/// Needs a multi-threaded Tokio runtime: file work runs in `block_in_place`.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // One permit per open connection: past the limit, new connections wait in the listen backlog.
    let slots = Arc::new(tokio::sync::Semaphore::new(state.config.max_connections));
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = Arc::clone(&slots).acquire_owned() => p,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors and the like: back off instead of spinning.
                eprintln!("oss-emulator: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(local) = stream.local_addr() else {
            continue;
        };
        let stream = PacedStream::new(stream, Arc::clone(&state.network));
        let state = Arc::clone(&state);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let svc = service_fn(move |req| handle(Arc::clone(&state), peer, local, req));
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(1 << 20)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = stop.changed() => {}
            }
            drop(stop);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while stop_tx.receiver_count() > 1 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn handle(
    state: Arc<AppState>,
    peer: SocketAddr,
    local: SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<Response<RespBody>, Closed> {
    let (parts, mut body) = req.into_parts();
    let path = parts.uri.path();
    if path
        .strip_prefix(CONTROL_PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    {
        return Ok(control::serve(&state, peer, local, &parts, body).await);
    }
    let host = parts
        .headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or("")
        .to_owned();
    let ctx = RespCtx {
        request_id: state.request_id(),
        now_ms: state.now_ms(),
        host_id: match strip_port(&host) {
            "" => "localhost".to_owned(),
            h => h.to_owned(),
        },
        origin: parts
            .headers
            .get(hyper::header::ORIGIN)
            .and_then(|o| o.to_str().ok())
            .map(str::to_owned),
        is_head: parts.method == hyper::Method::HEAD,
    };
    let mut log = LogEntry {
        request_id: ctx.request_id.clone(),
        method: parts.method.to_string(),
        op: "unknown".to_owned(),
        bucket: None,
        key: None,
        position: None,
        status: 0,
        code: None,
        fault: None,
        preflight_key: None,
    };
    let reply = route(&state, &ctx, &parts, &mut body, &host, &mut log).await;
    let expose = &state.config.cors_expose;
    let result = match reply {
        Reply::Ok(mut resp) => {
            log.status = resp.status().as_u16();
            if !finished(&mut body, &parts.headers).await {
                set(&mut resp, "connection", "close");
            }
            Ok(respond::finish(resp, &ctx, expose))
        }
        Reply::Err { error, drain } => {
            log.status = error.status;
            log.code = Some(error.code.clone());
            let mut resp = respond::error(&error, &ctx);
            let clean = finished(&mut body, &parts.headers).await
                || (drain && drainable(&parts.headers) && {
                    body::drain(&mut body, DRAIN_LIMIT, Duration::from_secs(5)).await
                });
            if !clean {
                set(&mut resp, "connection", "close");
            }
            Ok(respond::finish(resp, &ctx, expose))
        }
        Reply::Close => Err(Closed),
    };
    state.record(log);
    // The modelled round trip, for answers and dropped connections alike.
    state.network.hold_answer().await;
    result
}

fn expects_continue(headers: &hyper::HeaderMap) -> bool {
    headers
        .get(hyper::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// Whether the request body has been read to its end (checked without waiting, and without
/// inviting an upload the client holds back for `100 Continue`).
async fn finished(body: &mut Incoming, headers: &hyper::HeaderMap) -> bool {
    if body.is_end_stream() {
        return true;
    }
    if expects_continue(headers) {
        return false;
    }
    matches!(
        tokio::time::timeout(Duration::ZERO, http_body_util::BodyExt::frame(body)).await,
        Ok(None)
    )
}

/// Whether an unread body may be read to keep the connection: not when the client waits for
/// `100 Continue` (reading would invite the upload) or declared more than [`DRAIN_LIMIT`].
fn drainable(headers: &hyper::HeaderMap) -> bool {
    let expects = expects_continue(headers);
    let declared = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    !expects && declared.is_none_or(|d| d <= DRAIN_LIMIT)
}

async fn route(
    state: &AppState,
    ctx: &RespCtx,
    parts: &hyper::http::request::Parts,
    body: &mut Incoming,
    host: &str,
    log: &mut LogEntry,
) -> Reply {
    let Some(method) = Method::parse(parts.method.as_str()) else {
        return Reply::unread(OssError::method_not_allowed(parts.method.as_str()));
    };
    if method == Method::Options {
        log.op = "preflight".to_owned();
        // Logged with the key and position it precedes, so a log shows which requests paid a preflight.
        if let Ok(Target::Object { key, .. }) = resolve(
            host,
            parts.uri.path(),
            |b| state.store.has_bucket(b),
            &state.config.bucket,
        ) {
            log.preflight_key = Some(key);
        }
        log.position = parse_query(parts.uri.query())
            .into_iter()
            .find(|(k, _)| k == "position")
            .map(|(_, v)| v);
        let wants = parts.headers.get("access-control-request-method");
        if ctx.origin.is_none() || wants.is_none() {
            return Reply::unread(
                OssError::new(
                    403,
                    "AccessForbidden",
                    "CORSResponse: Insufficient information. Origin and Access-Control-Request-Method request headers needed.",
                )
                .ec("0003-00000001"),
            );
        }
        let requested = parts
            .headers
            .get("access-control-request-headers")
            .and_then(|v| v.to_str().ok());
        return Reply::Ok(respond::preflight(requested));
    }
    let target = match resolve(
        host,
        parts.uri.path(),
        |b| state.store.has_bucket(b),
        &state.config.bucket,
    ) {
        Ok(t) => t,
        Err(e) => return Reply::unread(e),
    };
    let (bucket, key) = match &target {
        Target::Service => (None, None),
        Target::Bucket(b) => (Some(b.clone()), None),
        Target::Object { bucket, key } => (Some(bucket.clone()), Some(key.clone())),
    };
    log.bucket.clone_from(&bucket);
    log.key.clone_from(&key);
    let req = Request {
        method,
        bucket: bucket.clone(),
        key: key.clone(),
        query: parse_query(parts.uri.query()),
        headers: convert_headers(&parts.headers),
    };
    log.position = req.query_value("position").map(str::to_owned);
    if let Some(b) = &bucket {
        if !state.store.has_bucket(b) {
            log.op = "bucket".to_owned();
            return Reply::unread(OssError::no_such_bucket(b));
        }
    }
    let op = match (&target, key.is_some()) {
        (Target::Service, _) => "list-buckets",
        (_, false) => "bucket",
        (_, true) => match classify(method, &req) {
            Ok(op) => op,
            Err(e) => return Reply::unread(e),
        },
    };
    log.op = op.to_owned();
    let verified = {
        let creds = state.credentials.read().unwrap_or_else(|p| p.into_inner());
        auth::verify(
            &req,
            &AuthContext {
                credentials: &creds,
                now_ms: ctx.now_ms,
                region: &state.config.region,
                mode: state.config.auth,
            },
        )
    };
    if let Err(e) = verified {
        return Reply::unread(e);
    }
    let (Some(bucket), Some(key)) = (bucket, key) else {
        if method == Method::Put && req.query_value("versioning").is_some() {
            // The one bucket-level call with a body: PutBucketVersioning's document.
            let idle = Duration::from_millis(state.config.body_timeout_ms);
            return match crate::body::collect_small(body, CONFIG_BODY_LIMIT, idle).await {
                Ok(document) => listing::put_versioning(state, &document),
                Err(e) => object::write::body_failure(e, CONFIG_BODY_LIMIT as u64),
            };
        }
        return listing::bucket_level(state, method, &target, &req);
    };
    let fault = state
        .faults
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take(op, &bucket, &key);
    log.fault = fault.as_ref().map(|f| f.kind.as_str().to_owned());
    let call = Call {
        state,
        ctx,
        bucket: &bucket,
        key: &key,
        req: &req,
        fault,
    };
    match object::run(op, &call, body).await {
        Some(reply) => reply,
        None => Reply::unread(OssError::method_not_allowed(method.as_str())),
    }
}

/// Opens the store and builds the shared state; the temporary directory (when no `--data-dir` was
/// given) lives as long as the returned guard.
///
/// # Errors
/// The data directory cannot be prepared.
pub fn prepare(config: Config) -> io::Result<(Arc<AppState>, Option<tempfile::TempDir>, PathBuf)> {
    for b in config.buckets() {
        if !is_bucket_name(&b) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{b:?} is not a bucket name"),
            ));
        }
    }
    let (dir, guard) = match &config.data_dir {
        Some(d) => (d.clone(), None),
        None => {
            let t = tempfile::Builder::new().prefix("oss-emulator-").tempdir()?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    std::fs::create_dir_all(&dir)?;
    let store = Store::open(&dir, &config.buckets(), config.fsync)?;
    Ok((Arc::new(AppState::new(config, store)), guard, dir))
}

/// A server running on its own runtime thread, stopped on [`RunningServer::stop`] or drop.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    data_dir: PathBuf,
    state: Arc<AppState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _temp: Option<tempfile::TempDir>,
}

impl RunningServer {
    /// Starts a server for `config` (a 2-worker runtime on a background thread) and waits until it
    /// listens.
    ///
    /// # Errors
    /// The data directory or the socket cannot be set up.
    pub fn start(config: Config) -> io::Result<Self> {
        crate::datafile::tune_allocator();
        let bind = SocketAddr::new(config.bind, config.port);
        let (state, temp, data_dir) = prepare(config)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("oss-emulator")
            .enable_all()
            .build()?;
        let listener = runtime.block_on(TcpListener::bind(bind))?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let serve_state = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("oss-emulator-main".into())
            .spawn(move || {
                runtime.block_on(serve(listener, serve_state, async {
                    let _ = rx.await;
                }));
                // Connections still open are cut; their writes roll back.
                runtime.shutdown_timeout(Duration::from_secs(2));
            })?;
        Ok(Self {
            addr,
            data_dir,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
            _temp: temp,
        })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ip:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The token control-plane requests carry in `X-Emulator-Token`.
    pub fn control_token(&self) -> &str {
        &self.state.config.control_token
    }

    /// Where objects live.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data_dir
    }

    /// The shared state (for tests that look inside).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stops accepting, cuts open connections and waits for the runtime to end.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

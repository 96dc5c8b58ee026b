//! The `OSS` class: client state (config, credentials, clock offset, known CRCs) and signed exchanges.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use super::js_error::to_js_error;
use super::js_values::describe;
use super::options::JsOptions;
use super::timer::{now_millis, random_unit, settle_within, sleep, Unsettled};
use super::transport::{self, js_message, Body, HttpResponse};
use crate::append::AppendPolicy;
use crate::config::{ClientConfig, ClientOptions};
use crate::credentials::{Credentials, RefreshSchedule};
use crate::error::Error;
use crate::http::Request;
use crate::requests::Call;
use crate::response::check_call_answer;
use crate::retry::{CallRetries, Verdict};
use crate::sign::{sign_for, signature_place, QuerySign, QuerySignInput, SignaturePlace};
use crate::time::SigningTime;

/// An OSS client shaped like ali-oss's: `new OSS({ region, bucket, accessKeyId, ... })`.
#[wasm_bindgen(js_name = OSS)]
pub struct Oss {
    pub(crate) inner: Rc<Inner>,
}

impl std::fmt::Debug for Oss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OSS")
            .field("endpoint", &self.inner.config.endpoint.to_string())
            .field("bucket", &self.inner.config.bucket)
            .field("credentials", &*self.inner.credentials.borrow())
            .finish()
    }
}

/// What every operation of one client shares.
pub(crate) struct Inner {
    pub(crate) config: ClientConfig,
    credentials: RefCell<Credentials>,
    refresher: Option<Function>,
    refresh_schedule: Cell<RefreshSchedule>,
    refreshing: RefCell<Option<Promise>>,
    /// Server time minus local time, learned from RequestTimeTooSkewed.
    clock_offset_ms: Cell<f64>,
    /// Key, length and CRC-64 of objects after this client's own appends, so the next append is verified.
    /// A list: a client appends to a handful of objects, and a map's hashing code would outweigh it.
    known: RefCell<Vec<(String, u64, u64)>>,
    /// The `querySign` option: which appends go as query-signed CORS simple requests.
    query_sign: QuerySign,
}

/// One request/response exchange as ali-oss reports it in `res`.
pub(crate) struct Exchange {
    pub(crate) url: String,
    pub(crate) response: HttpResponse,
}

impl Exchange {
    /// The ali-oss `res` object of this single exchange.
    pub(crate) fn res(&self, started_ms: f64) -> JsValue {
        res_object(&self.response, std::slice::from_ref(&self.url), started_ms)
    }
}

#[wasm_bindgen(js_class = OSS)]
impl Oss {
    /// Checks the options and builds a client; throws an `InvalidArgumentError` naming the bad option.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<Oss, JsValue> {
        Ok(Self {
            inner: Rc::new(Inner::from_js(&options)?),
        })
    }

    /// The bucket this client addresses.
    #[wasm_bindgen(getter)]
    pub fn bucket(&self) -> String {
        self.inner.config.bucket.clone()
    }
}

impl Inner {
    fn from_js(options: &JsValue) -> Result<Self, Error> {
        if options.is_undefined() || options.is_null() {
            return Err(Error::invalid("options", "new OSS() needs an options object with at least bucket, accessKeyId, accessKeySecret and region or endpoint"));
        }
        let o = JsOptions::new(options, "")?;
        let path_style = match o.boolean("pathStyle")? {
            Some(v) => v,
            None => o.boolean("sldEnable")?.unwrap_or(false),
        };
        let client_options = ClientOptions {
            region: o.string("region")?,
            bucket: o.string("bucket")?,
            endpoint: o.string("endpoint")?,
            cname: o.boolean("cname")?.unwrap_or(false),
            secure: o.boolean("secure")?,
            internal: o.boolean("internal")?.unwrap_or(false),
            path_style,
            authorization_v4: o.boolean("authorizationV4")?.unwrap_or(true),
            cloud_box_id: o.string("cloudBoxId")?,
            timeout_ms: o.integer("timeout")?,
            retry_max: o.integer("retryMax")?,
            refresh_sts_token_interval_ms: o.integer("refreshSTSTokenInterval")?,
        };
        let config = ClientConfig::from_options(&client_options)?;
        let id = o.string("accessKeyId")?.unwrap_or_default();
        let secret = o.string("accessKeySecret")?.unwrap_or_default();
        let token = o.string("stsToken")?;
        let credentials = Credentials::new(&id, &secret, token.as_deref())?;
        let query_sign = match o.raw("querySign") {
            None => QuerySign::from_option(QuerySignInput::Absent, "")?,
            Some(v) => {
                let text = v.as_string();
                let given = match (v.as_bool(), text.as_deref()) {
                    (Some(flag), _) => QuerySignInput::Flag(flag),
                    (None, Some(t)) => QuerySignInput::Text(t),
                    (None, None) => QuerySignInput::Other,
                };
                let shown = text
                    .as_deref()
                    .map_or_else(|| describe(&v), crate::validate::preview);
                QuerySign::from_option(given, &shown)?
            }
        };
        let refresh_schedule =
            RefreshSchedule::new(config.refresh_sts_token_interval_ms, now_millis());
        Ok(Self {
            config,
            credentials: RefCell::new(credentials),
            refresher: o.function("refreshSTSToken")?,
            refresh_schedule: Cell::new(refresh_schedule),
            refreshing: RefCell::new(None),
            clock_offset_ms: Cell::new(0.0),
            known: RefCell::new(Vec::new()),
            query_sign,
        })
    }

    pub(crate) fn can_refresh(&self) -> bool {
        self.refresher.is_some()
    }

    /// What bounds this client's appends: OSS's object size limit, `retryMax`, and whether a rejected
    /// token can be refreshed.
    pub(crate) fn append_policy(&self) -> AppendPolicy {
        AppendPolicy::for_client(self.config.retry_max, self.can_refresh())
    }

    /// Now, corrected by what the server told us of its clock.
    pub(crate) fn signing_time(&self) -> SigningTime {
        SigningTime::from_unix_millis((now_millis() + self.clock_offset_ms.get()) as i64)
    }

    /// Keeps `server_time - now` so later signatures use the server's clock.
    pub(crate) fn adopt_server_time(&self, server_time: SigningTime) {
        self.clock_offset_ms
            .set(server_time.unix_seconds() as f64 * 1000.0 - now_millis());
    }

    pub(crate) fn credentials(&self) -> Credentials {
        self.credentials.borrow().clone()
    }

    pub(crate) fn known_crc(&self, key: &str, position: u64) -> Option<u64> {
        self.known
            .borrow()
            .iter()
            .find(|(k, len, _)| k == key && *len == position)
            .map(|(_, _, crc)| *crc)
    }

    pub(crate) fn remember(&self, key: &str, state: Option<(u64, u64)>) {
        let mut known = self.known.borrow_mut();
        known.retain(|(k, _, _)| k != key);
        if let Some((len, crc)) = state {
            known.push((key.to_owned(), len, crc));
        }
    }

    /// Refreshes STS credentials when the interval has passed (ali-oss's time-based refresh).
    pub(crate) async fn refresh_if_due(&self, signal: Option<&AbortSignal>) -> Result<(), Error> {
        if self.refresher.is_some() && self.refresh_schedule.get().is_due(now_millis()) {
            self.refresh(signal).await?;
        }
        Ok(())
    }

    /// Calls `refreshSTSToken` once for all concurrent callers and adopts what it returns. Each caller waits
    /// for it at most the client's `timeout`, and no longer than `signal` allows: a refresh that never settles
    /// fails the calls waiting on it, and the next call asks again.
    pub(crate) async fn refresh(&self, signal: Option<&AbortSignal>) -> Result<(), Error> {
        let Some(refresher) = &self.refresher else {
            return Err(Error::invalid(
                "refreshSTSToken",
                "the credentials were rejected and no refreshSTSToken function was given",
            ));
        };
        let pending = self.refreshing.borrow().clone();
        let promise = match pending {
            Some(p) => p,
            None => {
                let started = refresher
                    .call0(&JsValue::UNDEFINED)
                    .map(|v| Promise::resolve(&v))
                    .unwrap_or_else(|e| Promise::reject(&e));
                *self.refreshing.borrow_mut() = Some(started.clone());
                started
            }
        };
        let outcome = settle_within(&promise, Some(self.config.timeout_ms), signal).await;
        if !matches!(outcome, Err(Unsettled::Aborted(_))) {
            let mut slot = self.refreshing.borrow_mut();
            if slot.as_ref().is_some_and(|p| Object::is(p, &promise)) {
                *slot = None;
            }
        }
        let value = outcome.map_err(|unsettled| match unsettled {
            Unsettled::Aborted(e) => e,
            Unsettled::TimedOut(ms) => Error::Request {
                message: format!(
                    "refreshSTSToken did not settle within {ms} ms (the client's timeout)"
                ),
            },
            Unsettled::Rejected(e) => Error::Request {
                message: format!("refreshSTSToken failed: {}", js_message(&e)),
            },
        })?;
        let fresh = credentials_from_js(&value)?;
        *self.credentials.borrow_mut() = fresh;
        let mut schedule = self.refresh_schedule.get();
        schedule.refreshed(now_millis());
        self.refresh_schedule.set(schedule);
        Ok(())
    }

    /// Signs `request` afresh and sends it; any status comes back as a response.
    ///
    /// The core decides whether the signature goes in the headers or, for an append that needs no header,
    /// in the query (a CORS simple request: no preflight). The exchange's `url` never shows a signature.
    /// Every URL requested is added to `requested` before it is sent: an attempt that got no response
    /// was still made.
    pub(crate) async fn exchange(
        &self,
        mut request: Request,
        body: Body,
        timeout_ms: u64,
        signal: Option<&AbortSignal>,
        requested: Option<&mut Vec<String>>,
    ) -> Result<Exchange, Error> {
        self.refresh_if_due(signal).await?;
        let credentials = self.credentials();
        let place = signature_place(self.query_sign, transport::in_browser(), &request);
        let url = self.config.request_url(&request);
        if let Some(list) = requested {
            list.push(url.clone());
        }
        sign_for(
            place,
            &mut request,
            &credentials,
            self.signing_time(),
            &self.config.signing,
        )?;
        let simple = place == SignaturePlace::Query;
        let sent_url = if simple {
            self.config.request_url(&request)
        } else {
            url.clone()
        };
        let response = transport::send(
            request.method.as_str(),
            &sent_url,
            &request.headers,
            body,
            timeout_ms,
            signal,
            simple,
        )
        .await?;
        Ok(Exchange { url, response })
    }

    /// As [`exchange`](Self::exchange), but a non-2xx status is an error, and failures are retried as
    /// the core's [`CallRetries`] decides for `call`.
    pub(crate) async fn call(
        &self,
        build: &dyn Fn() -> Result<Request, Error>,
        body: &dyn Fn() -> Body,
        timeout_ms: u64,
        signal: Option<&AbortSignal>,
        call: Call,
    ) -> Result<Exchange, Error> {
        let mut retries = CallRetries::new(
            self.config.retry_max,
            self.can_refresh(),
            call.is_idempotent(),
        );
        loop {
            let answer = self
                .exchange(build()?, body(), timeout_ms, signal, None)
                .await
                .and_then(|exchange| {
                    let r = &exchange.response;
                    check_call_answer(r.status, &r.headers, || r.body_bytes())?;
                    Ok(exchange)
                });
            let error = match answer {
                Ok(exchange) => return Ok(exchange),
                Err(e) => e,
            };
            match retries.after(&error, random_unit()) {
                Verdict::Retry { delay_ms } => pause(delay_ms, signal).await?,
                Verdict::AdoptServerTime(t) => self.adopt_server_time(t),
                Verdict::RefreshCredentials => self.refresh(signal).await?,
                Verdict::Fail => return Err(error),
            }
        }
    }
}

/// Reads `{ accessKeyId, accessKeySecret, stsToken }` as `refreshSTSToken` resolves it (ali-oss also
/// accepts capitalized keys and `securityToken`).
fn credentials_from_js(value: &JsValue) -> Result<Credentials, Error> {
    let field = |names: &[&str]| -> Option<String> {
        names.iter().find_map(|n| {
            Reflect::get(value, &JsValue::from_str(n))
                .ok()
                .and_then(|v| v.as_string())
        })
    };
    if !value.is_object() {
        return Err(Error::invalid(
            "refreshSTSToken",
            "it must resolve to { accessKeyId, accessKeySecret, stsToken }",
        ));
    }
    let id = field(&["accessKeyId", "AccessKeyId"]).unwrap_or_default();
    let secret = field(&["accessKeySecret", "AccessKeySecret"]).unwrap_or_default();
    let token = field(&["stsToken", "securityToken", "SecurityToken", "StsToken"]);
    Credentials::new(&id, &secret, token.as_deref()).map_err(|e| match e {
        Error::InvalidArgument { what, reason } => {
            Error::invalid(format!("refreshSTSToken() result: {what}"), reason)
        }
        other => other,
    })
}

#[wasm_bindgen(module = "/src/wasm/shapes.js")]
extern "C" {
    #[wasm_bindgen(js_name = res)]
    fn res_shape(
        status: u16,
        headers: &Object,
        size: u32,
        rt: f64,
        request_urls: Vec<String>,
    ) -> JsValue;
    #[wasm_bindgen(js_name = params)]
    fn params_shape(method: &str, bucket: &str, object: &JsValue, position: &JsValue) -> JsValue;
}

/// The ali-oss `res` object: `{ status, statusCode, headers, size, rt, requestUrls }`.
pub(crate) fn res_object(last: &HttpResponse, request_urls: &[String], started_ms: f64) -> JsValue {
    res_shape(
        last.status,
        &last.headers_object,
        last.body.length(),
        (now_millis() - started_ms).round(),
        request_urls.to_vec(),
    )
}

/// What an operation was asked, for its error's `params`; made into a JS object only if it fails.
pub(crate) struct Params {
    inner: Rc<Inner>,
    method: &'static str,
    name: JsValue,
    position: JsValue,
}

impl Params {
    pub(crate) fn new(inner: &Rc<Inner>, method: &'static str, name: &JsValue) -> Self {
        Self {
            inner: Rc::clone(inner),
            method,
            name: name.clone(),
            position: JsValue::UNDEFINED,
        }
    }

    pub(crate) fn with_position(mut self, position: &JsValue) -> Self {
        self.position = position.clone();
        self
    }

    pub(crate) fn to_js(&self) -> JsValue {
        params_shape(
            self.method,
            &self.inner.config.bucket,
            &self.name,
            &self.position,
        )
    }
}

/// Runs an operation as a JS promise, turning its error into an ali-oss shaped JS error.
pub(crate) fn spawn(
    params: Option<Params>,
    work: impl std::future::Future<Output = Result<JsValue, Error>> + 'static,
) -> Promise {
    // One boxed future type, so the promise plumbing is compiled once rather than once per operation.
    run_as_promise(params, Box::pin(work))
}

fn run_as_promise(
    params: Option<Params>,
    work: std::pin::Pin<Box<dyn std::future::Future<Output = Result<JsValue, Error>>>>,
) -> Promise {
    future_to_promise(async move {
        work.await
            .map_err(|e| to_js_error(&e, params.map(|p| p.to_js()).as_ref()))
    })
}

/// Waits `ms`, unless aborted first: an abort ends the wait at once.
pub(crate) async fn pause(ms: u64, signal: Option<&AbortSignal>) -> Result<(), Error> {
    if ms > 0 {
        sleep(ms, signal).await;
    }
    match signal {
        Some(s) if s.aborted() => Err(Error::Aborted {
            reason: s.reason().as_string(),
        }),
        _ => Ok(()),
    }
}

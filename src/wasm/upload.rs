//! `client.append`: reads the input part by part and carries out what the core's state machine says.

use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::AbortSignal;

use super::client::{res_object, Inner, Oss, Params};
use super::driver::Driver;
use super::join::join;
use super::js_error::to_js_error;
use super::js_values::set;
use super::options::{object_key, JsOptions};
use super::source::{Part, Source};
use super::timer::now_millis;
use super::transport::Body;
use crate::append::AppendSession;
use crate::error::Error;
use crate::headers::X_OSS_VERSION_ID;
use crate::requests::{self, Sending, WriteOptions};
use crate::validate::{self, PartSizes, MAX_OBJECT_SIZE};

#[wasm_bindgen(module = "/src/wasm/shapes.js")]
extern "C" {
    #[wasm_bindgen(js_name = appendResult)]
    fn append_result(
        name: &str,
        url: &str,
        res: &JsValue,
        next_append_position: &str,
        crc64: &str,
        version_id: Option<&str>,
    ) -> JsValue;
}

#[wasm_bindgen(js_class = OSS)]
impl Oss {
    /// Appends `file` to the object `name` at `options.position` (default 0), as one append or, past
    /// `partSize`, as several; every append is checked against the whole-object CRC-64 OSS returns.
    pub fn append(&self, name: JsValue, file: JsValue, options: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        let p = Params::new(&inner, "POST", &name);
        future_to_promise(async move {
            append(inner, name, file, options)
                .await
                .map_err(|(e, reached)| {
                    let js = to_js_error(&e, Some(&p.to_js()));
                    // How far the object got, unless the error already says it from the server (a 409).
                    if let Some((position, crc)) = reached.filter(|_| !e.carries_position()) {
                        set(&js, "nextAppendPosition", position.to_string());
                        set(&js, "crc64", crc.to_string());
                    }
                    js
                })
        })
    }
}

/// Everything `append` reads from its options, checked before anything is sent.
struct AppendOptions {
    position: u64,
    write: WriteOptions,
    part_size: u64,
    progress: Option<Function>,
    signal: Option<AbortSignal>,
    init_crc: Option<u64>,
    timeout_ms: u64,
}

impl AppendOptions {
    fn read(inner: &Inner, options: &JsValue, source: &Source) -> Result<Self, Error> {
        let o = JsOptions::new(options, "options")?;
        let position = match o.integer("position")? {
            Some(p) => validate::parse_position(&p)?,
            None => 0,
        };
        let write = o.write_options(source.mime())?;
        let part_size = PartSizes::from_options(o.integer("partSize")?.as_ref(), None)?.part_size;
        let timeout_ms = o.timeout_ms(inner.config.timeout_ms)?;
        let init_crc = o.init_crc64()?;
        write.check_content_md5(Sending::for_input(source.total(), part_size))?;
        Ok(Self {
            position,
            write,
            part_size,
            progress: o.function("progress")?,
            signal: o.signal("signal")?,
            init_crc,
            timeout_ms,
        })
    }
}

/// A failure comes with how far this call got: the object's length and CRC after its last confirmed part.
type Failure = (Error, Option<(u64, u64)>);

async fn append(
    inner: Rc<Inner>,
    name: JsValue,
    file: JsValue,
    options: JsValue,
) -> Result<JsValue, Failure> {
    let before = |e: Error| (e, None);
    let started = now_millis();
    let key = object_key(&name).map_err(before)?;
    let mut source = Source::from_js(&file).map_err(before)?;
    let opts = AppendOptions::read(&inner, &options, &source).map_err(before)?;
    source.watch(opts.signal.as_ref(), opts.timeout_ms);
    requests::check_append(
        &inner.config.bucket,
        &key,
        opts.position,
        &opts.write,
        source.total(),
        MAX_OBJECT_SIZE,
    )
    .map_err(before)?;
    upload(&inner, key, source, opts, started).await
}

async fn upload(
    inner: &Rc<Inner>,
    key: String,
    mut source: Source,
    opts: AppendOptions,
    started: f64,
) -> Result<JsValue, Failure> {
    let prior = opts
        .init_crc
        .or_else(|| inner.known_crc(&key, opts.position));
    let mut session = AppendSession::new(opts.position, prior, inner.append_policy());
    let mut driver = Driver::new(
        inner,
        &key,
        &opts.write,
        opts.timeout_ms,
        opts.signal.as_ref(),
        opts.progress.as_ref(),
    );
    let total = source.total();
    driver.report_progress(0, total, opts.position, false);

    let outcome = async {
        let mut pending = match source.next_part(opts.part_size).await? {
            None if session.needs_empty_part() => Some(Part {
                body: Body::Empty,
                len: 0,
                crc: 0,
            }),
            first => first,
        };
        while let Some(part) = pending.take() {
            if let Some(s) = opts.signal.as_ref().filter(|s| s.aborted()) {
                return Err(Error::Aborted {
                    reason: s.reason().as_string(),
                });
            }
            // The next part is read and its CRC computed while this one uploads.
            let (done, next) = if part.len == 0 {
                (driver.append_part(&mut session, &part).await, Ok(None))
            } else {
                join(
                    driver.append_part(&mut session, &part),
                    source.next_part(opts.part_size),
                )
                .await
            };
            let done = done?;
            driver.report_progress(session.confirmed(), total, done.next_position, false);
            pending = next?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        source.cancel();
        inner.remember(&key, session.settled());
        return Err((e, session.reached()));
    }
    let (_, crc) = session.settled().ok_or_else(|| {
        let e = Error::InvalidResponse {
            status: 200,
            reason: "no CRC-64 is known for the object".into(),
            request_id: None,
        };
        (e, None)
    })?;
    inner.remember(&key, session.settled());
    driver.report_progress(session.confirmed(), total, session.position(), true);
    let last = driver.last.take().ok_or_else(|| {
        let e = Error::InvalidResponse {
            status: 0,
            reason: "the append finished without a response to report".into(),
            request_id: None,
        };
        (e, session.reached())
    })?;
    Ok(append_result(
        &key,
        &inner.config.object_url(&key),
        &res_object(&last.response, &driver.urls, started),
        &session.position().to_string(),
        &crc.to_string(),
        last.response.headers.get(X_OSS_VERSION_ID),
    ))
}

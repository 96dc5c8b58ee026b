//! Carries one part onto an object: posts, reconciles and retries exactly as the core's state machine says.

use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::AbortSignal;

use super::client::{pause, Exchange, Inner};
use super::source::Part;
use super::timer::random_unit;
use super::transport::Body;
use crate::append::{
    progress_fraction, Action, AppendResponse, AppendSession, Appended, Input, ObjectHead,
    Outgoing, Preparation,
};
use crate::error::Error;
use crate::requests::{self, WriteOptions};

#[wasm_bindgen(module = "/src/wasm/shapes.js")]
extern "C" {
    #[wasm_bindgen(js_name = progressInfo)]
    fn progress_info(loaded: f64, total: JsValue, position: &str) -> JsValue;
}

/// Carries out one part's actions against OSS.
pub(crate) struct Driver<'a> {
    pub(crate) inner: &'a Inner,
    pub(crate) key: &'a str,
    pub(crate) write: &'a WriteOptions,
    pub(crate) timeout_ms: u64,
    pub(crate) signal: Option<&'a AbortSignal>,
    pub(crate) progress: Option<&'a Function>,
    /// Every URL requested, for `res.requestUrls`.
    pub(crate) urls: Vec<String>,
    /// The exchange that settled the last part, for `res`.
    pub(crate) last: Option<Exchange>,
}

impl<'a> Driver<'a> {
    /// A driver for requests on `key`, with no URL recorded yet.
    pub(crate) fn new(
        inner: &'a Inner,
        key: &'a str,
        write: &'a WriteOptions,
        timeout_ms: u64,
        signal: Option<&'a AbortSignal>,
        progress: Option<&'a Function>,
    ) -> Self {
        Self {
            inner,
            key,
            write,
            timeout_ms,
            signal,
            progress,
            urls: Vec::new(),
            last: None,
        }
    }
}

impl Driver<'_> {
    pub(crate) async fn append_part(
        &mut self,
        session: &mut AppendSession,
        part: &Part,
    ) -> Result<Appended, Error> {
        let mut step = session.next_part(part.len, part.crc);
        let mut action = step.start();
        loop {
            let next = match action {
                Ok(Action::Done(done)) => {
                    session.commit(&done);
                    return Ok(done);
                }
                Err(e) => {
                    session.fail(&step);
                    return Err(e);
                }
                Ok(next) => next,
            };
            let Some((preparation, outgoing)) = next.plan() else {
                unreachable!("only Done has no plan")
            };
            let prepared = match preparation {
                Preparation::None => Ok(()),
                Preparation::Wait(ms) => pause(ms, self.signal()).await,
                Preparation::AdoptServerTime(t) => {
                    self.inner.adopt_server_time(t);
                    Ok(())
                }
                Preparation::RefreshCredentials => {
                    if let Err(e) = self.inner.refresh(self.signal()).await {
                        session.fail(&step);
                        return Err(e);
                    }
                    Ok(())
                }
            };
            let input = match (prepared, outgoing) {
                (Err(Error::Aborted { reason }), _) => Input::Abort { reason },
                (Err(e), Outgoing::Post { .. }) => Input::Append(Err(e)),
                (Err(e), Outgoing::Head) => Input::Head(Err(e)),
                (Ok(()), Outgoing::Post { position }) => match self.post(position, part).await {
                    Err(Error::Aborted { reason }) => Input::Abort { reason },
                    answer => Input::Append(answer),
                },
                (Ok(()), Outgoing::Head) => match self.head().await {
                    Err(Error::Aborted { reason }) => Input::Abort { reason },
                    answer => Input::Head(answer),
                },
            };
            action = step.handle(input, random_unit());
        }
    }

    fn signal(&self) -> Option<&AbortSignal> {
        self.signal
    }

    async fn post(&mut self, position: u64, part: &Part) -> Result<AppendResponse, Error> {
        let request =
            requests::append_object(&self.inner.config.bucket, self.key, position, self.write)?;
        let exchange = self
            .inner
            .exchange(
                request,
                part.body.clone(),
                self.timeout_ms,
                self.signal,
                Some(&mut self.urls),
            )
            .await?;
        let r = &exchange.response;
        let answer = AppendResponse::from_answer(r.status, &r.headers, || r.body_bytes());
        self.last = Some(exchange);
        answer
    }

    pub(crate) async fn head(&mut self) -> Result<Option<ObjectHead>, Error> {
        let request = requests::head_object(&self.inner.config.bucket, self.key)?;
        let exchange = self
            .inner
            .exchange(
                request,
                Body::Empty,
                self.timeout_ms,
                self.signal,
                Some(&mut self.urls),
            )
            .await?;
        let r = &exchange.response;
        let answer = ObjectHead::from_answer(r.status, &r.headers);
        // A recovered append reports the response that settled it.
        self.last = Some(exchange);
        answer
    }

    /// Calls the caller's `progress` callback, if any; see [`report_progress`].
    pub(crate) fn report_progress(
        &self,
        loaded: u64,
        total: Option<u64>,
        position: u64,
        finished: bool,
    ) {
        report_progress(self.progress, loaded, total, position, finished);
    }
}

/// Calls `progress(p, { loaded, total, position })`; `total` is null for streams, whose `p` stays 0
/// until the end.
pub(crate) fn report_progress(
    progress: Option<&Function>,
    loaded: u64,
    total: Option<u64>,
    position: u64,
    finished: bool,
) {
    let Some(callback) = progress else { return };
    let fraction = progress_fraction(loaded, total, finished);
    let info = progress_info(
        loaded as f64,
        total.map_or(JsValue::NULL, |t| JsValue::from_f64(t as f64)),
        &position.to_string(),
    );
    // A throwing progress callback must not break the upload.
    let _ = callback.call2(&JsValue::UNDEFINED, &JsValue::from_f64(fraction), &info);
}

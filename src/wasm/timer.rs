//! Timers and the clock through the global scope, so they work in windows, workers and Node alike, and waits
//! bounded by a time or a signal.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use super::js_values::{js_pause, js_within};
use super::transport::aborted;
use crate::error::Error;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> f64 {
    js_sys::Date::now()
}

/// A uniform random number in [0, 1), for retry jitter.
pub(crate) fn random_unit() -> f64 {
    js_sys::Math::random()
}

/// Resolves after `ms` milliseconds, or as soon as `signal` aborts.
pub(crate) async fn sleep(ms: u64, signal: Option<&AbortSignal>) {
    // It never rejects.
    let _ = JsFuture::from(js_pause(ms as f64, signal)).await;
}

/// Why a wait on a promise that may never settle ended without its value.
pub(crate) enum Unsettled {
    /// The time given (in ms) passed first.
    TimedOut(u64),
    /// The signal fired first.
    Aborted(Error),
    /// The promise rejected with this.
    Rejected(JsValue),
}

/// Awaits `promise`, which may never settle (the caller's code made it, or a stream or file behind it stalled),
/// for at most `timeout_ms` when given, and no longer once `signal` fires.
pub(crate) async fn settle_within(
    promise: &js_sys::Promise,
    timeout_ms: Option<u64>,
    signal: Option<&AbortSignal>,
) -> Result<JsValue, Unsettled> {
    JsFuture::from(js_within(promise, timeout_ms.map(|ms| ms as f64), signal))
        .await
        .map_err(|failure| {
            let timed_out = Reflect::get(&failure, &"timedOut".into()).is_ok_and(|t| t.is_truthy());
            if let Some(s) = signal.filter(|s| s.aborted()) {
                Unsettled::Aborted(aborted(s))
            } else if let (true, Some(ms)) = (timed_out, timeout_ms) {
                Unsettled::TimedOut(ms)
            } else {
                Unsettled::Rejected(Reflect::get(&failure, &"error".into()).unwrap_or(failure))
            }
        })
}

/// A one-shot timer that calls `callback` after `ms` unless dropped first.
pub(crate) struct Timeout {
    id: JsValue,
    _callback: Closure<dyn FnMut()>,
}

impl Timeout {
    pub(crate) fn start(ms: u64, callback: impl FnMut() + 'static) -> Self {
        let callback = Closure::<dyn FnMut()>::new(callback);
        let id = set_timeout(callback.as_ref().unchecked_ref(), ms as f64);
        Self {
            id,
            _callback: callback,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

//! Timers and the clock through the global scope, so they work in windows, workers and Node alike.

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

use super::js_values::js_pause;

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

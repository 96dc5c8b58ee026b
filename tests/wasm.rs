//! The JS API from inside wasm, in Node and in headless Chrome, against a running oss-emulator.
//!
//! `OSS_EMULATOR_URL` and `OSS_EMULATOR_TOKEN` (read at compile time) name the emulator and its control token;
//! `make test-wasm` starts one. The same tests run under `wasm-pack test --node` and, with
//! `WASM_BINDGEN_USE_BROWSER=1`, `--headless --chrome` (the page's origin must be one the emulator was started
//! with `--control-origin`, which scripts/test-wasm.sh arranges).
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use oss_append::wasm::{combine_crc64_js, crc64_js, Crc64Js, Oss};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

const ACCESS_KEY_ID: &str = "emulator-access-key-id";
const ACCESS_KEY_SECRET: &str = "emulator-access-key-secret";

fn emulator() -> &'static str {
    env!(
        "OSS_EMULATOR_URL",
        "build the wasm tests with OSS_EMULATOR_URL set to a running oss-emulator"
    )
}

fn js(args: &str, body: &str) -> Function {
    Function::new_with_args(args, body)
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap()
}

fn text(value: &JsValue, key: &str) -> String {
    get(value, key)
        .as_string()
        .unwrap_or_else(|| panic!("{key} is not a string"))
}

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn client(v4: bool) -> Oss {
    Oss::new(options(&[
        ("endpoint", emulator().into()),
        ("region", "cn-hangzhou".into()),
        ("bucket", "examplebucket".into()),
        ("accessKeyId", ACCESS_KEY_ID.into()),
        ("accessKeySecret", ACCESS_KEY_SECRET.into()),
        ("authorizationV4", v4.into()),
        ("timeout", 5000.into()),
    ]))
    .unwrap_or_else(|e| panic!("client: {e:?}"))
}

async fn wait(promise: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

fn unique(prefix: &str) -> String {
    format!(
        "wasm-tests/{prefix}-{}-{}",
        js_sys::Date::now() as u64,
        (js_sys::Math::random() * 1e9) as u64
    )
}

fn bytes(data: &[u8]) -> JsValue {
    Uint8Array::from(data).into()
}

async fn read_back(oss: &Oss, key: &str) -> Vec<u8> {
    let r = wait(oss.get(key.into(), JsValue::UNDEFINED)).await.unwrap();
    get(&r, "content").unchecked_into::<Uint8Array>().to_vec()
}

fn control_token() -> &'static str {
    // Without it only the tests that arm faults fail, not the build, so lints need no token.
    match option_env!("OSS_EMULATOR_TOKEN") {
        Some(token) => token,
        None => panic!(
            "build the wasm tests with OSS_EMULATOR_TOKEN set to the emulator's control token"
        ),
    }
}

/// Arms a fault on the emulator's control plane.
async fn arm(fault: &str) {
    let f = js("url, body, token", "return fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-emulator-token': token } }).then(r => { if (!r.ok) throw new Error('arm: ' + r.status); })");
    let p: Promise = f
        .call3(
            &JsValue::NULL,
            &format!("{}/__emulator__/faults", emulator()).into(),
            &fault.into(),
            &control_token().into(),
        )
        .unwrap()
        .unchecked_into();
    wait(p).await.unwrap();
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[wasm_bindgen_test]
fn crc64_helpers_match_oss() {
    assert_eq!(
        crc64_js(&"123456789".into()).unwrap(),
        "11051210869376104954"
    );
    let mut c = Crc64Js::new(&JsValue::UNDEFINED).unwrap();
    c.update(&bytes(b"foo")).unwrap();
    c.update(&bytes(b"bar")).unwrap();
    assert_eq!(c.digest(), "6001682485122215966");
    assert_eq!(c.length(), 6.0);
    let joined = combine_crc64_js(
        &"10965392271467943256".into(),
        &crc64_js(&"bar".into()).unwrap().into(),
        &3.into(),
    )
    .unwrap();
    assert_eq!(joined, "6001682485122215966");
    assert!(crc64_js(&42.into()).is_err());
}

#[wasm_bindgen_test]
async fn appends_twice_and_reads_back_the_exact_bytes() {
    let oss = client(true);
    let key = unique("twice");
    let (a, b) = (payload(1000, 1), payload(777, 2));
    let r1 = wait(oss.append(key.clone().into(), bytes(&a), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(text(&r1, "nextAppendPosition"), "1000");
    assert_eq!(text(&r1, "name"), key);
    assert_eq!(get(&get(&r1, "res"), "status").as_f64(), Some(200.0));
    let r2 = wait(oss.append(
        key.clone().into(),
        bytes(&b),
        options(&[("position", get(&r1, "nextAppendPosition"))]),
    ))
    .await
    .unwrap();
    assert_eq!(text(&r2, "nextAppendPosition"), "1777");
    let all = [a, b].concat();
    assert_eq!(text(&r2, "crc64"), crc64_js(&bytes(&all)).unwrap());
    assert_eq!(read_back(&oss, &key).await, all);
}

#[wasm_bindgen_test]
async fn a_blob_larger_than_part_size_goes_out_as_several_verified_appends() {
    let oss = client(true);
    let key = unique("blob");
    let data = payload(10_000, 3);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&bytes(&data))).unwrap();
    let seen = js_sys::Array::new();
    let progress = js("seen", "return (p, info) => seen.push(p)")
        .call1(&JsValue::NULL, &seen)
        .unwrap();
    let r = wait(oss.append(
        key.clone().into(),
        blob.into(),
        options(&[("partSize", 4096.into()), ("progress", progress)]),
    ))
    .await
    .unwrap();
    assert_eq!(text(&r, "nextAppendPosition"), "10000");
    assert_eq!(
        js_sys::Array::from(&get(&get(&r, "res"), "requestUrls")).length(),
        3
    );
    let fractions: Vec<f64> = seen.iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(
        fractions.windows(2).all(|w| w[0] <= w[1]),
        "progress went backwards: {fractions:?}"
    );
    assert_eq!(fractions.last(), Some(&1.0));
    assert_eq!(read_back(&oss, &key).await, data);
}

#[wasm_bindgen_test]
async fn a_readable_stream_is_appended_chunk_by_chunk() {
    let oss = client(true);
    let key = unique("stream");
    let make = js(
        "",
        "let i = 0; return new ReadableStream({ pull(c) { if (i === 5) return c.close(); \
         c.enqueue(new Uint8Array(3000).fill(65 + i)); i++; } })",
    );
    let stream = make.call0(&JsValue::NULL).unwrap();
    let r = wait(oss.append(
        key.clone().into(),
        stream,
        options(&[("partSize", 4000.into())]),
    ))
    .await
    .unwrap();
    assert_eq!(text(&r, "nextAppendPosition"), "15000");
    let expected: Vec<u8> = (0..5u8)
        .flat_map(|i| std::iter::repeat_n(65 + i, 3000))
        .collect();
    assert_eq!(read_back(&oss, &key).await, expected);
}

#[wasm_bindgen_test]
async fn v1_signatures_work_too() {
    let oss = client(false);
    let key = unique("v1");
    let r = wait(oss.append(
        key.clone().into(),
        bytes(b"abc"),
        options(&[("position", 0.into())]),
    ))
    .await
    .unwrap();
    assert_eq!(text(&r, "nextAppendPosition"), "3");
    let head = wait(oss.head(key.into(), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(text(&head, "objectType"), "Appendable");
    assert_eq!(text(&head, "nextAppendPosition"), "3");
    assert_eq!(text(&head, "crc64"), crc64_js(&"abc".into()).unwrap());
}

#[wasm_bindgen_test]
async fn a_wrong_position_is_position_not_equal_to_length_with_the_length() {
    let oss = client(true);
    let key = unique("conflict");
    wait(oss.append(key.clone().into(), bytes(b"12345"), JsValue::UNDEFINED))
        .await
        .unwrap();
    let e = wait(oss.append(
        key.into(),
        bytes(b"x"),
        options(&[("position", "2".into())]),
    ))
    .await
    .unwrap_err();
    assert_eq!(text(&e, "name"), "PositionNotEqualToLengthError");
    assert_eq!(text(&e, "code"), "PositionNotEqualToLength");
    assert_eq!(get(&e, "status").as_f64(), Some(409.0));
    assert_eq!(text(&e, "nextAppendPosition"), "5");
    assert!(!text(&e, "requestId").is_empty());
}

#[wasm_bindgen_test]
async fn bad_input_is_refused_with_a_clear_error() {
    let oss = client(true);
    for (name, file, opts, what) in [
        ("", bytes(b"x"), JsValue::UNDEFINED, "name"),
        ("a\nb", bytes(b"x"), JsValue::UNDEFINED, "name"),
        ("ok", 42.into(), JsValue::UNDEFINED, "file"),
        (
            "ok",
            bytes(b"x"),
            options(&[("position", (-1).into())]),
            "position",
        ),
        (
            "ok",
            bytes(b"x"),
            options(&[("position", 1.5.into())]),
            "position",
        ),
        (
            "ok",
            bytes(b"x"),
            options(&[("partSize", 0.into())]),
            "partSize",
        ),
    ] {
        let e = wait(oss.append(name.into(), file, opts)).await.unwrap_err();
        assert_eq!(text(&e, "code"), "InvalidArgument", "{name:?}");
        assert!(
            text(&e, "message").contains(what),
            "{}",
            text(&e, "message")
        );
    }
    assert!(Oss::new(options(&[("bucket", "examplebucket".into())])).is_err());
}

#[wasm_bindgen_test]
async fn a_lost_response_after_commit_is_reconciled_without_a_duplicate() {
    let oss = client(true);
    let key = unique("lost");
    wait(oss.append(key.clone().into(), bytes(b"first-"), JsValue::UNDEFINED))
        .await
        .unwrap();
    arm(&format!(
        r#"{{"kind":"drop_after_commit","op":"append","key":"{key}"}}"#
    ))
    .await;
    let r = wait(oss.append(
        key.clone().into(),
        bytes(b"second"),
        options(&[("position", 6.into())]),
    ))
    .await
    .unwrap();
    assert_eq!(text(&r, "nextAppendPosition"), "12");
    assert_eq!(read_back(&oss, &key).await, b"first-second");
}

#[wasm_bindgen_test]
async fn a_server_error_before_commit_is_sent_again() {
    let oss = client(true);
    let key = unique("5xx");
    arm(&format!(
        r#"{{"kind":"error_before_commit","op":"append","key":"{key}","status":503}}"#
    ))
    .await;
    let r = wait(oss.append(key.clone().into(), bytes(b"payload"), JsValue::UNDEFINED))
        .await
        .unwrap();
    assert_eq!(text(&r, "nextAppendPosition"), "7");
    assert_eq!(read_back(&oss, &key).await, b"payload");
}

#[wasm_bindgen_test]
async fn an_aborted_append_rejects_with_abort_error() {
    let oss = client(true);
    let controller = web_sys::AbortController::new().unwrap();
    controller.abort();
    let e = wait(oss.append(
        unique("abort").into(),
        bytes(b"x"),
        options(&[("signal", controller.signal().into())]),
    ))
    .await
    .unwrap_err();
    assert_eq!(text(&e, "name"), "AbortError");
    assert_eq!(text(&e, "code"), "Aborted");
}

/// Calls `object[method](...args)` on a JS object and awaits the promise it returns.
async fn call(object: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = get(object, method).unchecked_into();
    let result = f.apply(object, &args.iter().collect::<js_sys::Array>())?;
    wait(Promise::resolve(&result)).await
}

#[wasm_bindgen_test]
async fn the_appender_sends_ordered_coalesced_writes_exactly_once() {
    let oss = client(true);
    let key = unique("live");
    let opts = options(&[
        ("minPartSize", 1000.into()),
        ("partSize", 4096.into()),
        ("flushInterval", 50.into()),
    ]);
    let w = wait(oss.open_appender(key.clone().into(), opts))
        .await
        .unwrap();
    let mut expected = Vec::new();
    let mut writes = Vec::new();
    for i in 0..40u8 {
        let chunk = vec![i; 250 + usize::from(i)];
        expected.extend_from_slice(&chunk);
        let value: JsValue = if i % 3 == 0 {
            web_sys::Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&bytes(&chunk)))
                .unwrap()
                .into()
        } else {
            bytes(&chunk)
        };
        let f: Function = get(&w, "write").unchecked_into();
        writes.push(Promise::resolve(&f.call1(&w, &value).unwrap()));
    }
    for p in writes {
        wait(p).await.unwrap();
    }
    assert_eq!(text(&w, "position"), expected.len().to_string());
    let closed = call(&w, "close", &[]).await.unwrap();
    assert_eq!(
        text(&closed, "nextAppendPosition"),
        expected.len().to_string()
    );
    assert_eq!(text(&closed, "crc64"), crc64_js(&bytes(&expected)).unwrap());
    assert_eq!(read_back(&oss, &key).await, expected);
    let e = call(&w, "write", &[bytes(b"late")]).await.unwrap_err();
    assert!(
        text(&e, "message").contains("closed"),
        "{}",
        text(&e, "message")
    );
    assert_eq!(
        read_back(&oss, &key).await.len(),
        expected.len(),
        "a refused write changes nothing"
    );
}

#[wasm_bindgen_test]
async fn resume_continues_an_object_and_pipes_a_stream() {
    let oss = client(true);
    let key = unique("resume");
    wait(oss.append(key.clone().into(), bytes(b"0123456789"), JsValue::UNDEFINED))
        .await
        .unwrap();
    let w = wait(oss.open_appender(
        key.clone().into(),
        options(&[("position", "resume".into())]),
    ))
    .await
    .unwrap();
    assert_eq!(text(&w, "position"), "10");
    assert_eq!(text(&w, "crc64"), crc64_js(&"0123456789".into()).unwrap());
    let stream = js(
        "",
        "let i = 0; return new ReadableStream({ pull(c) { if (i === 4) return c.close(); \
         c.enqueue(new Uint8Array(5000).fill(97 + i)); i++; } })",
    )
    .call0(&JsValue::NULL)
    .unwrap();
    call(&stream, "pipeTo", &[get(&w, "writable")])
        .await
        .unwrap();
    let mut expected = b"0123456789".to_vec();
    for i in 0..4u8 {
        expected.extend(std::iter::repeat_n(97 + i, 5000));
    }
    assert_eq!(read_back(&oss, &key).await, expected);
}

#[wasm_bindgen_test]
async fn resume_refuses_a_normal_object_and_starts_a_missing_one_at_zero() {
    let oss = client(true);
    let key = unique("normal");
    wait(oss.put(key.clone().into(), bytes(b"normal"), JsValue::UNDEFINED))
        .await
        .unwrap();
    let e = wait(oss.open_appender(key.into(), options(&[("position", "resume".into())])))
        .await
        .unwrap_err();
    assert_eq!(text(&e, "code"), "ObjectNotAppendable");
    let fresh = unique("fresh");
    let w = wait(oss.open_appender(
        fresh.clone().into(),
        options(&[("position", "resume".into())]),
    ))
    .await
    .unwrap();
    assert_eq!(text(&w, "position"), "0");
    call(&w, "write", &[bytes(b"new")]).await.unwrap();
    call(&w, "close", &[]).await.unwrap();
    assert_eq!(read_back(&oss, &fresh).await, b"new");
}

#[wasm_bindgen_test]
async fn an_aborted_appender_rejects_pending_writes_and_keeps_what_landed() {
    let oss = client(true);
    let key = unique("abort-live");
    let w = wait(oss.open_appender(key.clone().into(), options(&[("minPartSize", 0.into())])))
        .await
        .unwrap();
    call(&w, "write", &[bytes(b"kept")]).await.unwrap();
    // Held back by a large minPartSize and a long interval, the second write is still buffered at abort.
    let held = options(&[
        ("position", "resume".into()),
        ("minPartSize", 1_000_000.into()),
        ("flushInterval", 60_000.into()),
    ]);
    let slow = wait(oss.open_appender(key.clone().into(), held))
        .await
        .unwrap();
    let f: Function = get(&slow, "write").unchecked_into();
    let pending = Promise::resolve(&f.call1(&slow, &bytes(b"never")).unwrap());
    call(&slow, "abort", &["stop".into()]).await.unwrap();
    let e = wait(pending).await.unwrap_err();
    assert_eq!(text(&e, "name"), "AbortError");
    assert_eq!(read_back(&oss, &key).await, b"kept");
}

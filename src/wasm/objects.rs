//! The companions an append workflow needs: head, get, put, delete, sealAppend and presigned URLs.

use std::rc::Rc;

use js_sys::{Object, Promise};
use wasm_bindgen::prelude::*;
use web_sys::Blob;

use super::client::{spawn, Exchange, Inner, Oss, Params};
use super::js_values::set;
use super::options::{integer_input, object_key, scalar_text, JsOptions};
use super::source::Source;
use super::timer::now_millis;
use super::transport::Body;
use crate::crc64;
use crate::error::Error;
use crate::http::{Method, Request};
use crate::requests::{self, Call, PresignOptions, RangeInput};
use crate::response::{HeadResponse, WriteResponse};
use crate::sign::{presign_request, SigningConfig, SigningVersion};
use crate::validate;

/// What head, get and delete share: the key and options read, then a signed request without a body,
/// retried as the core decides for `call`.
async fn bodiless_call(
    inner: &Inner,
    name: &JsValue,
    o: &JsOptions<'_>,
    call: Call,
    build: &dyn Fn(&str, &str) -> Result<Request, Error>,
) -> Result<(String, Exchange), Error> {
    let key = object_key(name)?;
    let timeout = o.timeout_ms(inner.config.timeout_ms)?;
    let signal = o.signal("signal")?;
    let bucket = &inner.config.bucket;
    let exchange = inner
        .call(
            &|| build(bucket, &key),
            &|| Body::Empty,
            timeout,
            signal.as_ref(),
            call,
        )
        .await?;
    Ok((key, exchange))
}

#[wasm_bindgen(js_class = OSS)]
impl Oss {
    /// HeadObject: `{ status, meta, res, objectType, nextAppendPosition, crc64, versionId }`;
    /// `options.versionId` reads that version.
    pub fn head(&self, name: JsValue, options: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        let p = Params::new(&inner, "HEAD", &name);
        spawn(Some(p), async move {
            let started = now_millis();
            let o = JsOptions::new(&options, "options")?;
            let version = o.string("versionId")?;
            let (key, exchange) = bodiless_call(&inner, &name, &o, Call::Head, &|bucket, key| {
                requests::with_version_id(requests::head_object(bucket, key)?, version.as_deref())
            })
            .await?;
            let head =
                HeadResponse::from_headers(exchange.response.status, &exchange.response.headers)?;
            let result = Object::new();
            set(&result, "status", exchange.response.status);
            let meta = Object::new();
            for (k, v) in &head.meta {
                set(&meta, k, v.as_str());
            }
            set(&result, "meta", meta);
            set(&result, "res", exchange.res(started));
            set(
                &result,
                "objectType",
                head.object_type
                    .as_ref()
                    .map_or(JsValue::NULL, |t| t.as_str().into()),
            );
            let next = head.next_append_position.map(|n| n.to_string());
            set(
                &result,
                "nextAppendPosition",
                next.map_or(JsValue::UNDEFINED, JsValue::from),
            );
            set(
                &result,
                "crc64",
                head.crc64
                    .map_or(JsValue::UNDEFINED, |c| c.to_string().into()),
            );
            set_version_id(&result, head.version_id.as_deref());
            // Only the current version is what the next append continues.
            if let (Some(state), None) = (head.append_continuation(), &version) {
                inner.remember(&key, Some(state));
            }
            Ok(result.into())
        })
    }

    /// GetObject: `{ content, res }`, `content` a Uint8Array. `options.range`: `'bytes=0-99'`, `'0-99'`,
    /// `'100-'` or `{ start, end }` (end inclusive). `options.versionId` reads that version.
    pub fn get(&self, name: JsValue, options: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        let p = Params::new(&inner, "GET", &name);
        spawn(Some(p), async move {
            let started = now_millis();
            let o = JsOptions::new(&options, "options")?;
            let range = o
                .raw("range")
                .map(|r| requests::read_range(&range_input(&r)?))
                .transpose()?;
            let version = o.string("versionId")?;
            let (_, exchange) = bodiless_call(&inner, &name, &o, Call::Get, &|bucket, key| {
                requests::with_version_id(
                    requests::get_object(bucket, key, range)?,
                    version.as_deref(),
                )
            })
            .await?;
            let result = Object::new();
            set(&result, "content", exchange.response.body.clone());
            set(&result, "res", exchange.res(started));
            Ok(result.into())
        })
    }

    /// DeleteObject: `{ res, versionId, deleteMarker }` (the last two on versioned buckets);
    /// `options.versionId` removes that version for good.
    pub fn delete(&self, name: JsValue, options: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        let p = Params::new(&inner, "DELETE", &name);
        spawn(Some(p), async move {
            let started = now_millis();
            let o = JsOptions::new(&options, "options")?;
            let version = o.string("versionId")?;
            let (key, exchange) = bodiless_call(&inner, &name, &o, Call::Delete, &|bucket, key| {
                requests::with_version_id(requests::delete_object(bucket, key)?, version.as_deref())
            })
            .await?;
            inner.remember(&key, None);
            let written =
                WriteResponse::from_headers(exchange.response.status, &exchange.response.headers)?;
            let result = Object::new();
            set(&result, "res", exchange.res(started));
            set_version_id(&result, written.version_id.as_deref());
            if written.delete_marker {
                set(&result, "deleteMarker", true);
            }
            Ok(result.into())
        })
    }

    /// PutObject (a Normal object) in one request: `{ name, url, res, crc64, versionId }`; the CRC-64 OSS returns is
    /// checked against the bytes sent.
    pub fn put(&self, name: JsValue, file: JsValue, options: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        let p = Params::new(&inner, "PUT", &name);
        spawn(Some(p), async move {
            let started = now_millis();
            let key = object_key(&name)?;
            let mut source = Source::from_js(&file)?;
            let o = JsOptions::new(&options, "options")?;
            let write = o.write_options(source.mime())?;
            let timeout = o.timeout_ms(inner.config.timeout_ms)?;
            let signal = o.signal("signal")?;
            source.watch(signal.as_ref(), timeout);
            let bucket = inner.config.bucket.clone();
            requests::check_put(
                &bucket,
                &key,
                &write,
                source.total(),
                validate::MAX_OBJECT_SIZE,
            )?;
            let (body, crc, length) = whole_body(source, &file).await?;
            let exchange = inner
                .call(
                    &|| requests::put_object(&bucket, &key, &write),
                    &|| body.clone(),
                    timeout,
                    signal.as_ref(),
                    Call::Put,
                )
                .await?;
            let written =
                WriteResponse::from_headers(exchange.response.status, &exchange.response.headers)?;
            inner.remember(&key, None);
            written.verify_crc64(crc, length)?;
            let result = Object::new();
            set(&result, "name", key.as_str());
            set(&result, "url", inner.config.object_url(&key));
            set(&result, "res", exchange.res(started));
            set(&result, "crc64", crc.to_string());
            set_version_id(&result, written.version_id.as_deref());
            Ok(result.into())
        })
    }

    /// SealAppendObject: ends writing at `position` (the object's length). `{ res, sealedTime }`.
    #[wasm_bindgen(js_name = sealAppend)]
    pub fn seal_append(&self, name: JsValue, position: JsValue, options: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        let p = Params::new(&inner, "POST", &name).with_position(&position);
        spawn(Some(p), async move {
            let started = now_millis();
            let key = object_key(&name)?;
            let position = validate::parse_position(&integer_input(&position, "position")?)?;
            let o = JsOptions::new(&options, "options")?;
            let timeout = o.timeout_ms(inner.config.timeout_ms)?;
            let signal = o.signal("signal")?;
            let bucket = inner.config.bucket.clone();
            let exchange = inner
                .call(
                    &|| requests::seal_append_object(&bucket, &key, position),
                    &|| Body::Empty,
                    timeout,
                    signal.as_ref(),
                    Call::Seal,
                )
                .await?;
            let written =
                WriteResponse::from_headers(exchange.response.status, &exchange.response.headers)?;
            let result = Object::new();
            set(&result, "res", exchange.res(started));
            set(
                &result,
                "sealedTime",
                written
                    .sealed_time
                    .map_or(JsValue::UNDEFINED, JsValue::from),
            );
            Ok(result.into())
        })
    }

    /// A V1 presigned URL, as ali-oss's `signatureUrl(name, { method, expires, 'Content-Type', response,
    /// subResource, process, trafficLimit })`.
    #[wasm_bindgen(js_name = signatureUrl)]
    pub fn signature_url(&self, name: JsValue, options: JsValue) -> Result<String, JsValue> {
        Ok(signature_url_v1(&self.inner, &name, &options)?)
    }

    /// As `signatureUrl`, after refreshing STS credentials when they are due.
    #[wasm_bindgen(js_name = asyncSignatureUrl)]
    pub fn async_signature_url(&self, name: JsValue, options: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        spawn(None, async move {
            inner.refresh_if_due(None).await?;
            Ok(signature_url_v1(&inner, &name, &options)?.into())
        })
    }

    /// A V4 presigned URL, as ali-oss's `signatureUrlV4(method, expires, { headers, queries }, name,
    /// additionalHeaders)`; query values `null` are flags such as `append`.
    #[wasm_bindgen(js_name = signatureUrlV4)]
    pub fn signature_url_v4(
        &self,
        method: JsValue,
        expires: JsValue,
        request: JsValue,
        name: JsValue,
        additional_headers: JsValue,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        spawn(None, async move {
            inner.refresh_if_due(None).await?;
            let method = method
                .as_string()
                .and_then(|m| Method::parse(&m))
                .ok_or_else(|| {
                    Error::invalid("method", "expected one of GET, PUT, POST, HEAD, DELETE")
                })?;
            let expires = validate::parse_integer(
                "expires",
                &integer_input(&expires, "expires")?,
                1,
                crate::sign::V4_MAX_EXPIRES_SECONDS,
            )?;
            let key = if name.is_undefined() || name.is_null() {
                None
            } else {
                Some(object_key(&name)?)
            };
            let o = JsOptions::new(&request, "request")?;
            let mut req = Request::new(method, Some(&inner.config.bucket), key.as_deref());
            req.headers = o.headers("headers")?;
            for (k, v) in o.entries("queries")? {
                let v = if v.is_null() || v.is_undefined() {
                    String::new()
                } else {
                    scalar_text(&v, &format!("request.queries.{k}"))?
                };
                req.query.push((k, v));
            }
            let mut config = requests::presign_v4_config(&inner.config.signing)?;
            if !additional_headers.is_undefined() && !additional_headers.is_null() {
                let list: js_sys::Array = additional_headers.dyn_into().map_err(|_| {
                    Error::invalid("additionalHeaders", "expected an array of header names")
                })?;
                config.additional_headers = list.iter().filter_map(|h| h.as_string()).collect();
            }
            presign_request(
                &mut req,
                &inner.credentials(),
                inner.signing_time(),
                expires,
                &config,
            )?;
            Ok(inner.config.request_url(&req).into())
        })
    }
}

fn signature_url_v1(inner: &Inner, name: &JsValue, options: &JsValue) -> Result<String, Error> {
    let key = object_key(name)?;
    let o = JsOptions::new(options, "options")?;
    let asked = PresignOptions {
        method: o.string("method")?,
        expires: o.integer("expires")?,
        content_type: o.string("Content-Type")?,
        content_md5: o.string("Content-MD5")?,
        response: o.pairs("response")?,
        sub_resource: o.pairs("subResource")?,
        process: o.string("process")?,
        traffic_limit: o.integer("trafficLimit")?,
    };
    let (mut req, expires) = requests::presign_v1_request(&inner.config.bucket, &key, &asked)?;
    let config = SigningConfig {
        version: SigningVersion::V1,
        ..inner.config.signing.clone()
    };
    presign_request(
        &mut req,
        &inner.credentials(),
        inner.signing_time(),
        expires,
        &config,
    )?;
    Ok(inner.config.request_url(&req))
}

/// Sets `versionId` when the answer named a version (versioned buckets only, as in ali-oss's headers).
fn set_version_id(result: &Object, version_id: Option<&str>) {
    if let Some(v) = version_id {
        set(result, "versionId", v);
    }
}

/// `options.range` as given, for the core to read.
fn range_input(value: &JsValue) -> Result<RangeInput, Error> {
    if let Some(text) = value.as_string() {
        return Ok(RangeInput::Text(text));
    }
    if value.is_object() {
        let o = JsOptions::new(value, "options.range")?;
        return Ok(RangeInput::Bounds {
            start: o.integer("start")?,
            end: o.integer("end")?,
        });
    }
    Ok(RangeInput::Other)
}

/// The body of a single-request upload with its CRC-64 and length; a stream is gathered into a Blob first.
async fn whole_body(mut source: Source, file: &JsValue) -> Result<(Body, u64, u64), Error> {
    const STEP: u64 = 8 << 20;
    let (mut crc, mut len) = (0, 0);
    let parts = js_sys::Array::new();
    let streaming = source.total().is_none();
    loop {
        let part = match source.next_part(STEP).await {
            Ok(Some(part)) => part,
            Ok(None) => break,
            Err(e) => {
                source.cancel();
                return Err(e);
            }
        };
        // Combining keeps memory flat: each part's own CRC is already known.
        crc = crc64::combine(crc, part.crc, part.len);
        len += part.len;
        if let (true, Body::Bytes(b)) = (streaming, part.body) {
            parts.push(&b);
        }
    }
    let body = if streaming {
        let blob = Blob::new_with_u8_array_sequence(&parts).map_err(|e| Error::Request {
            message: super::transport::js_message(&e),
        })?;
        Body::Blob(blob)
    } else if let Some(blob) = file.dyn_ref::<Blob>() {
        Body::Blob(blob.clone())
    } else {
        match Source::from_js(file)? {
            Source::Bytes { bytes, .. } => Body::Bytes(bytes),
            _ => Body::Empty,
        }
    };
    Ok((body, crc, len))
}

//! The official V1 and V4 signing vectors, one test per case id.

use std::collections::BTreeSet;

use oss_append::encode::{uri_encode, url_encode_key};
use oss_append::sign::{self, v1, v4, SigningConfig, SigningVersion};
use oss_append::{Credentials, Method, Request, SigningTime};
use serde_json::Value;

fn load(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/vectors/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}")) {
        Value::Array(cases) => cases,
        other => panic!("{path}: expected an array, got {other}"),
    }
}

fn case(file: &str, id: &str) -> Value {
    load(file)
        .into_iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{file} has no case {id}"))
}

fn ids(file: &str) -> BTreeSet<String> {
    load(file)
        .iter()
        .map(|c| c["id"].as_str().expect("case id").to_owned())
        .collect()
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string: {v}"))
}

fn opt_text<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get(field).and_then(Value::as_str)
}

fn int(v: &Value, field: &str) -> i64 {
    v[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} is not an integer: {v}"))
}

/// The request a case describes, before signing.
fn request(input: &Value) -> Request {
    let method = Method::parse(text(input, "method")).expect("known method");
    let mut req = Request::new(method, opt_text(input, "bucket"), opt_text(input, "key"));
    for pair in input["query_decoded"].as_array().expect("query_decoded") {
        let k = pair[0].as_str().expect("query name");
        let v = pair[1].as_str().expect("query value");
        req.query.push((k.to_owned(), v.to_owned()));
    }
    for (k, v) in input["headers"].as_object().expect("headers") {
        req.headers
            .set(k.as_str(), v.as_str().expect("header value"));
    }
    req
}

fn credentials(input: &Value) -> Credentials {
    Credentials::new(
        text(input, "access_key_id"),
        text(input, "access_key_secret"),
        opt_text(input, "security_token"),
    )
    .expect("valid credentials")
}

fn config(input: &Value, version: SigningVersion) -> SigningConfig {
    SigningConfig {
        version,
        region: opt_text(input, "region")
            .unwrap_or("cn-hangzhou")
            .to_owned(),
        product: opt_text(input, "product").unwrap_or("oss").to_owned(),
        additional_headers: input
            .get("additional_headers")
            .and_then(Value::as_array)
            .map(|names| {
                names
                    .iter()
                    .map(|n| n.as_str().expect("header name").to_owned())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Checks that the query parameters the signer added are exactly `expected`, with their values.
fn assert_added_query(id: &str, before: &Request, after: &Request, expected: &Value) {
    let expected = expected.as_object().expect("query params object");
    let added: Vec<&(String, String)> = after
        .query
        .iter()
        .filter(|pair| !before.query.contains(pair))
        .collect();
    let added_names: BTreeSet<&str> = added.iter().map(|(k, _)| k.as_str()).collect();
    let expected_names: BTreeSet<&str> = expected.keys().map(String::as_str).collect();
    assert_eq!(added_names, expected_names, "{id}: added query names");
    assert_eq!(
        added.len(),
        expected.len(),
        "{id}: a parameter was repeated"
    );
    for (k, v) in expected {
        assert_eq!(
            after.query_value(k),
            v.as_str(),
            "{id}: query parameter {k}"
        );
    }
}

fn assert_headers_set(id: &str, req: &Request, expected: &Value) {
    for (k, v) in expected.as_object().expect("headers_set_by_signer") {
        assert_eq!(req.headers.get(k), v.as_str(), "{id}: header {k}");
    }
}

/// `k=v&...` with strict percent-encoding, in the given order.
fn query_string<'a>(pairs: impl IntoIterator<Item = &'a (String, String)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", uri_encode(k), uri_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn run_v1(id: &str) {
    let c = case("v1-vectors.json", id);
    let (input, expected) = (&c["input"], &c["expected"]);
    let creds = credentials(input);
    let cfg = config(input, SigningVersion::V1);
    let before = request(input);
    let mut req = before.clone();

    let (date_slot, signature) = match text(input, "auth_mode") {
        "header" => {
            let date = text(input, "date");
            let time = SigningTime::parse_http_date(date).expect("case date");
            sign::sign_request(&mut req, &creds, time, &cfg).expect("sign");
            assert_eq!(
                req.headers.get("x-oss-date"),
                Some(date),
                "{id}: x-oss-date"
            );
            assert_eq!(
                req.headers.get("Authorization"),
                Some(text(expected, "authorization")),
                "{id}: authorization"
            );
            let signature = text(expected, "authorization")
                .rsplit_once(':')
                .expect("OSS ak:signature")
                .1
                .to_owned();
            (date.to_owned(), signature)
        }
        "query" => {
            let expires_at = int(input, "expires_unix");
            // Any signing time works: V1 signs only the absolute expiry.
            let lifetime = 900;
            let time = SigningTime::from_unix_seconds(expires_at - lifetime);
            sign::presign_request(&mut req, &creds, time, lifetime as u64, &cfg).expect("presign");
            assert_added_query(id, &before, &req, &expected["query_params_decoded"]);
            assert!(!req.headers.contains("Authorization"), "{id}");
            if let Some(url) = opt_text(expected, "signed_url") {
                let (scheme, rest) = url.split_once("://").expect("absolute URL");
                let host = rest.split('/').next().expect("host");
                let mut sorted: Vec<&(String, String)> = req.query.iter().collect();
                sorted.sort();
                let key = url_encode_key(req.key.as_deref().expect("object key"));
                assert_eq!(
                    format!("{scheme}://{host}/{key}?{}", query_string(sorted)),
                    url,
                    "{id}: signed URL"
                );
            }
            let signature = req.query_value("Signature").expect("Signature").to_owned();
            (expires_at.to_string(), signature)
        }
        other => panic!("{id}: unknown auth_mode {other}"),
    };

    // What a verifier recomputes from the request as sent.
    let string_to_sign = v1::string_to_sign(&req, &date_slot);
    assert_eq!(
        string_to_sign,
        text(expected, "string_to_sign"),
        "{id}: string to sign"
    );
    let computed = v1::signature(text(input, "access_key_secret"), &string_to_sign);
    assert_eq!(computed, text(expected, "signature"), "{id}: signature");
    assert_eq!(signature, computed, "{id}: signature sent");
}

fn run_v4(id: &str) {
    let c = case("v4-vectors.json", id);
    let (input, expected) = (&c["input"], &c["expected"]);
    let creds = credentials(input);
    let cfg = config(input, SigningVersion::V4);
    let before = request(input);
    let mut req = before.clone();
    let time = SigningTime::from_unix_seconds(int(input, "sign_time_unix"));
    let datetime = text(input, "sign_time_iso8601");
    assert_eq!(time.iso8601_basic(), datetime, "{id}: sign time");

    let presign = text(input, "auth_mode").starts_with("query");
    if presign {
        let lifetime = int(input, "expiration_unix") - int(input, "sign_time_unix");
        sign::presign_request(&mut req, &creds, time, lifetime as u64, &cfg).expect("presign");
        assert_eq!(req.headers, before.headers, "{id}: presign leaves headers");
        if let Some(params) = expected.get("presign_query_params_decoded") {
            assert_added_query(id, &before, &req, params);
        }
        if let Some(qs) = opt_text(expected, "presign_query_string") {
            assert_eq!(query_string(&req.query), qs, "{id}: query string");
        }
    } else {
        sign::sign_request(&mut req, &creds, time, &cfg).expect("sign");
        assert_eq!(
            req.headers.get("Authorization"),
            Some(text(expected, "authorization")),
            "{id}: authorization"
        );
        if let Some(set) = expected.get("headers_set_by_signer") {
            assert_headers_set(id, &req, set);
        }
        assert_eq!(
            req.headers.get("x-oss-date"),
            Some(datetime),
            "{id}: x-oss-date"
        );
    }

    // What a verifier recomputes from the request as sent.
    let additional = v4::effective_additional_headers(&req, &cfg.additional_headers);
    let canonical = v4::canonical_request(&req, &additional);
    assert_eq!(
        canonical,
        text(expected, "canonical_request"),
        "{id}: canonical request"
    );
    let scope = v4::scope(&time.date_stamp(), &cfg.region, &cfg.product);
    let string_to_sign = v4::string_to_sign(datetime, &scope, &canonical);
    assert_eq!(
        string_to_sign,
        text(expected, "string_to_sign"),
        "{id}: string to sign"
    );
    let key = v4::signing_key(
        text(input, "access_key_secret"),
        &time.date_stamp(),
        &cfg.region,
        &cfg.product,
    );
    let signature = v4::signature(&key, &string_to_sign);
    assert_eq!(signature, text(expected, "signature"), "{id}: signature");
    if presign {
        assert_eq!(
            req.query_value("x-oss-signature"),
            Some(signature.as_str()),
            "{id}"
        );
    } else {
        let authorization =
            v4::authorization(creds.access_key_id(), &scope, &additional, &signature);
        assert_eq!(authorization, text(expected, "authorization"), "{id}");
    }
}

/// One `#[test]` per case in module `$module`, named after the case id, plus the list of ids covered. The module
/// names the behaviour, so a test reads `the_v1_signature_matches_the_vendor_vector::v1_presign_versionId`.
macro_rules! vector_tests {
    ($module:ident, $list:ident, $runner:ident: $($id:ident),+ $(,)?) => {
        const $list: &[&str] = &[$(stringify!($id)),+];
        mod $module {
            $(
                // Test names are the case ids verbatim, mixed case included.
                #[allow(non_snake_case)]
                #[test]
                fn $id() {
                    super::$runner(stringify!($id));
                }
            )+
        }
    };
}

vector_tests! {
    the_v1_signature_matches_the_vendor_vector, V1_CASES, run_v1:
    v1_header_put_object,
    v1_header_put_acl_subresource,
    v1_header_bucket_resourceGroup_custom_subresource,
    v1_header_bucket_sorted_subresources,
    v1_presign_versionId,
    v1_presign_token_plus_in_key,
    v1_presign_token_with_special_chars,
    v1_presign_oss_header_and_response_param,
}

vector_tests! {
    the_v4_signature_matches_the_vendor_vector, V4_CASES, run_v4:
    v4_auth_header,
    v4_auth_header_token,
    v4_auth_header_additional,
    v4_auth_header_additional_filtered,
    v4_auth_header_cloudbox,
    v4_auth_header_complex_meta,
    v4_presign,
    v4_presign_token,
    v4_presign_additional,
    v4_presign_cloudbox_additional,
    v4_presign_cloudbox_additional_filtered,
    v4_reqsign_header_additional_content_headers,
    v4_reqsign_presign_host_additional,
}

#[test]
fn every_vendor_vector_has_a_test() {
    let listed =
        |cases: &[&str]| -> BTreeSet<String> { cases.iter().map(|s| (*s).to_owned()).collect() };
    assert_eq!(ids("v1-vectors.json"), listed(V1_CASES));
    assert_eq!(ids("v4-vectors.json"), listed(V4_CASES));
    assert_eq!((V1_CASES.len(), V4_CASES.len()), (8, 13));
}

//! Input checks: every accepted form, and every refusal saying what was wrong.

use super::names::BUCKET_RULE;
use super::numbers::{GIB, MIB};
use super::*;
use crate::error::Error;

fn invalid_parts(e: Error) -> (String, String) {
    match e {
        Error::InvalidArgument { what, reason } => (what, reason),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

#[test]
fn positions_in_every_form() {
    let ok: [(IntegerInput, u64); 12] = [
        (0u64.into(), 0),
        (IntegerInput::Number(-0.0), 0),
        (1234u64.into(), 1234),
        (MAX_POSITION.into(), MAX_POSITION),
        ("0".into(), 0),
        ("  42 ".into(), 42),
        ("007".into(), 7),
        ("-0".into(), 0),
        ("5368709120".into(), MAX_POSITION),
        (IntegerInput::BigInt("99".into()), 99),
        (IntegerInput::BigInt("5368709120".into()), MAX_POSITION),
        (IntegerInput::Number(3.0), 3),
    ];
    for (input, want) in ok {
        assert_eq!(parse_position(&input), Ok(want), "{input:?}");
    }
}

#[test]
fn bad_positions_say_what_was_wrong_and_what_is_accepted() {
    let cases: [(IntegerInput, &str); 16] = [
        (IntegerInput::Number(f64::NAN), "NaN is not a number"),
        (
            IntegerInput::Number(f64::INFINITY),
            "Infinity is over the limit",
        ),
        (
            IntegerInput::Number(f64::NEG_INFINITY),
            "-Infinity is negative",
        ),
        (IntegerInput::Number(-1.0), "-1 is negative"),
        (IntegerInput::Number(1.5), "1.5 is not a whole number"),
        (IntegerInput::Number(1e300), "is over the limit"),
        ((MAX_POSITION + 1).into(), "5368709121 is over the limit"),
        ("".into(), "it is empty"),
        ("   ".into(), "it is empty"),
        ("-5".into(), "'-5' is negative"),
        ("1e3".into(), "'1e3' is not a whole number"),
        ("1.0".into(), "'1.0' is not a whole number"),
        ("0x10".into(), "'0x10' is not a number"),
        ("+5".into(), "'+5' is not a number"),
        (
            IntegerInput::BigInt("123456789012345678901234567890".into()),
            "'123456789012345678901234567890' is over the limit",
        ),
        ("abc".into(), "'abc' is not a number"),
    ];
    for (input, problem) in cases {
        let (what, reason) = invalid_parts(parse_position(&input).unwrap_err());
        assert_eq!(what, "position");
        assert!(reason.contains(problem), "{input:?}: {reason}");
        assert!(
            reason.ends_with(
                "a whole number from 0 to 5368709120 (5 GiB) is accepted, as a number, a decimal \
                 string or a bigint"
            ),
            "{reason}"
        );
    }
}

#[test]
fn huge_input_is_never_echoed_in_full() {
    let junk = "x".repeat(100_000);
    let (_, reason) = invalid_parts(parse_position(&junk.as_str().into()).unwrap_err());
    assert!(reason.len() < 300, "{reason}");
    assert!(reason.contains("(100000 bytes in all)"), "{reason}");
    let (_, reason) = invalid_parts(normalize_key(&"k".repeat(5000)).unwrap_err());
    assert!(
        reason.len() < 300 && reason.contains("is 5000 bytes long"),
        "{reason}"
    );
}

#[test]
fn part_sizes_have_defaults_bounds_and_an_order() {
    assert_eq!(
        PartSizes::from_options(None, None),
        Ok(PartSizes {
            part_size: DEFAULT_PART_SIZE,
            min_part_size: DEFAULT_MIN_PART_SIZE
        })
    );
    assert_eq!(
        PartSizes::default(),
        PartSizes::from_options(None, None).unwrap()
    );
    let small = IntegerInput::from(1000u64);
    assert_eq!(
        PartSizes::from_options(Some(&small), None),
        Ok(PartSizes {
            part_size: 1000,
            min_part_size: 1000
        })
    );
    let zero = IntegerInput::from(0u64);
    assert_eq!(
        PartSizes::from_options(Some(&small), Some(&zero)),
        Ok(PartSizes {
            part_size: 1000,
            min_part_size: 0
        })
    );
    let (what, reason) = invalid_parts(PartSizes::from_options(Some(&zero), None).unwrap_err());
    assert_eq!(what, "options.partSize");
    assert!(
        reason.contains("0 is below the minimum") && reason.contains("from 1 to 4294967295"),
        "{reason}"
    );
    let big = IntegerInput::from(16 * MIB);
    let (what, reason) = invalid_parts(PartSizes::from_options(None, Some(&big)).unwrap_err());
    assert_eq!(what, "options.minPartSize");
    assert_eq!(
        reason,
        "16777216 (16 MiB) is larger than the default partSize, 8388608 (8 MiB); minPartSize must not \
         exceed partSize (raise partSize too)"
    );
    let (_, reason) = invalid_parts(PartSizes::from_options(Some(&small), Some(&big)).unwrap_err());
    assert!(
        reason.contains("larger than options.partSize, 1000"),
        "{reason}"
    );
    let (_, reason) =
        invalid_parts(PartSizes::from_options(Some(&IntegerInput::Number(0.5)), None).unwrap_err());
    assert!(reason.starts_with("0.5 is not a whole number"), "{reason}");
    let too_big = IntegerInput::from(MAX_PART_SIZE + 1);
    assert!(PartSizes::from_options(Some(&too_big), None).is_err());
}

#[test]
fn part_size_stops_where_a_32_bit_body_length_would_wrap() {
    let largest = IntegerInput::from(4_294_967_295u64);
    assert_eq!(
        PartSizes::from_options(Some(&largest), None).map(|p| p.part_size),
        Ok(u64::from(u32::MAX))
    );
    for input in [
        IntegerInput::from(4_294_967_296u64),
        IntegerInput::from(5 * GIB),
        IntegerInput::from("5368709120"),
    ] {
        let (what, reason) =
            invalid_parts(PartSizes::from_options(Some(&input), None).unwrap_err());
        assert_eq!(what, "options.partSize");
        assert!(reason.contains("from 1 to 4294967295"), "{reason}");
    }
    let (what, _) = invalid_parts(
        PartSizes::from_options(Some(&largest), Some(&IntegerInput::from(4_294_967_296u64)))
            .unwrap_err(),
    );
    assert_eq!(what, "options.minPartSize");
}

#[test]
fn part_ranges_are_64_bit_past_4_gib() {
    let total = 5 * GIB;
    let mut at = 0;
    let mut parts = Vec::new();
    while let Some((start, end)) = next_part_range(at, total, MAX_PART_SIZE) {
        assert_eq!(start, at);
        parts.push(end - start);
        at = end;
    }
    assert_eq!(parts, [u64::from(u32::MAX), GIB + 1]);
    assert_eq!(
        next_part_range(4 * GIB, total, 8 * MIB),
        Some((4 * GIB, 4 * GIB + 8 * MIB))
    );
    assert_eq!(next_part_range(total, total, 1), None);
    assert_eq!(
        next_part_range(u64::MAX - 1, u64::MAX, u64::MAX),
        Some((u64::MAX - 1, u64::MAX))
    );
    assert_eq!(
        next_part_range(0, 3, 0),
        Some((0, 1)),
        "a zero part size still moves"
    );
}

#[test]
fn names_with_lone_surrogates_are_refused() {
    let utf16 = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
    assert_eq!(
        decode_name(&utf16("rec/\u{1F600}.webm")).as_deref(),
        Ok("rec/\u{1F600}.webm")
    );
    assert_eq!(decode_name(&[]).as_deref(), Ok(""));
    for (units, problem) in [
        (vec![0x61, 0xD800], "U+D800) at character 2"),
        (vec![0xDC00, 0x61], "U+DC00) at character 1"),
        (vec![0x61, 0xD83D, 0x61], "U+D83D) at character 2"),
        (vec![0xDE00, 0xD83D], "U+DE00) at character 1"),
    ] {
        let (what, reason) = invalid_parts(decode_name(&units).unwrap_err());
        assert_eq!(what, "name");
        assert!(reason.contains(problem), "{reason}");
        assert!(reason.contains("well-formed Unicode"), "{reason}");
    }
}

#[test]
fn headers_refused_by_browsers_or_by_oss_fail_locally() {
    for name in [
        "Expect",
        "keep-alive",
        "Upgrade",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Host",
        "Content-Length",
        "Connection",
        "Cookie",
        "Date",
        "Origin",
        "Referer",
        "Via",
        "Proxy-Authorization",
        "proxy-x",
        "Sec-Fetch-Mode",
        "Accept-Encoding",
        "DNT",
        "X-HTTP-Method-Override",
    ] {
        let (what, reason) = invalid_parts(check_header(name, "1").unwrap_err());
        assert_eq!(what, "options.headers");
        assert!(reason.contains("cannot be set"), "{name}: {reason}");
    }
    assert!(check_header("Content-MD5", "1B2M2Y8AsgTpgAmY2PhCfg==").is_ok());
    assert!(check_header("content-md5", " 1B2M2Y8AsgTpgAmY2PhCfg== ").is_ok());
    for bad in [
        "",
        "abc",
        "1B2M2Y8AsgTpgAmY2PhCfg=",
        "1B2M2Y8AsgTpgAmY2PhCfh==",
        "1B2M2Y8AsgTpgAmY2PhC*g==",
        "1B2M2Y8AsgTpgAmY2PhCfg==x",
        "d41d8cd98f00b204e9800998ecf8427e",
    ] {
        let (_, reason) = invalid_parts(check_header("Content-MD5", bad).unwrap_err());
        assert!(
            reason.contains("base64 of a 16-byte MD5"),
            "{bad:?}: {reason}"
        );
    }
    for good in [
        "Standard",
        "IA",
        "archive",
        "ColdArchive",
        "DeepColdArchive",
    ] {
        assert!(check_header("x-oss-storage-class", good).is_ok(), "{good}");
    }
    let (_, reason) = invalid_parts(check_header("x-oss-storage-class", "Glacier").unwrap_err());
    assert!(
        reason.contains("'Glacier' is not one OSS knows")
            && reason.contains("Standard, IA, Archive"),
        "{reason}"
    );
    let (_, reason) = invalid_parts(check_header("x-oss-object-acl", "public").unwrap_err());
    assert!(reason.contains("private, public-read"), "{reason}");

    let at_limit = "v".repeat(MAX_HEADER_BYTES - "Cache-Control".len());
    assert!(check_header("Cache-Control", &at_limit).is_ok());
    let (_, reason) =
        invalid_parts(check_header("Cache-Control", &format!("{at_limit}v")).unwrap_err());
    assert!(
        reason.contains("takes 8193 bytes") && reason.contains("at most 8192"),
        "{reason}"
    );
    let (what, _) = invalid_parts(check_meta("k", &"v".repeat(MAX_HEADER_BYTES)).unwrap_err());
    assert_eq!(what, "options.meta");

    assert!(check_header_count("options.headers", MAX_USER_HEADERS).is_ok());
    let (_, reason) =
        invalid_parts(check_header_count("options.headers", MAX_USER_HEADERS + 1).unwrap_err());
    assert!(
        reason.contains("65 headers") && reason.contains("at most 64"),
        "{reason}"
    );
}

#[test]
fn durations_accept_numbers_and_units() {
    let ok: [(IntegerInput, u64); 8] = [
        (60_000u64.into(), 60_000),
        ("60000".into(), 60_000),
        ("60s".into(), 60_000),
        ("1.5m".into(), 90_000),
        ("500ms".into(), 500),
        ("1h".into(), 3_600_000),
        (" 2 S ".into(), 2_000),
        (MAX_TIMER_MS.into(), MAX_TIMER_MS),
    ];
    for (input, want) in ok {
        assert_eq!(parse_timeout_ms("timeout", &input), Ok(want), "{input:?}");
    }
    assert_eq!(
        parse_interval_ms("refreshSTSTokenInterval", &0u64.into()),
        Ok(0)
    );
    let bad: [(IntegerInput, &str); 7] = [
        (0u64.into(), "0 is below the minimum"),
        (IntegerInput::Number(f64::NAN), "NaN is not a number"),
        (IntegerInput::Number(-5.0), "-5 is negative"),
        ((MAX_TIMER_MS + 1).into(), "2147483648 is over the limit"),
        ("1000h".into(), "'1000h' is over the limit"),
        ("soon".into(), "'soon' is not a duration"),
        ("1.2.3s".into(), "'1.2.3s' is not a duration"),
    ];
    for (input, problem) in bad {
        let (what, reason) = invalid_parts(parse_timeout_ms("timeout", &input).unwrap_err());
        assert_eq!(what, "timeout");
        assert!(reason.starts_with(problem), "{input:?}: {reason}");
        assert!(
            reason.contains("milliseconds from 1 to 2147483647 are accepted"),
            "{reason}"
        );
    }
}

#[test]
fn large_u64_inputs_stay_exact() {
    assert_eq!(IntegerInput::from(3u64), IntegerInput::Number(3.0));
    assert_eq!(
        IntegerInput::from(u64::MAX),
        IntegerInput::BigInt("18446744073709551615".into())
    );
    let (_, reason) = invalid_parts(parse_position(&u64::MAX.into()).unwrap_err());
    assert!(
        reason.starts_with("18446744073709551615 is over the limit"),
        "{reason}"
    );
}

#[test]
fn integers_report_plain_bounds() {
    assert_eq!(
        parse_integer("retryMax", &3u64.into(), 0, MAX_RETRY_MAX),
        Ok(3)
    );
    let (what, reason) =
        invalid_parts(parse_integer("retryMax", &101u64.into(), 0, MAX_RETRY_MAX).unwrap_err());
    assert_eq!(what, "retryMax");
    assert_eq!(
        reason,
        "101 is over the limit; a whole number from 0 to 100 is accepted, as a number, a decimal \
         string or a bigint"
    );
}

#[test]
fn an_append_past_5_gib_is_object_too_large() {
    assert_eq!(
        check_append_size(0, MAX_OBJECT_SIZE, MAX_OBJECT_SIZE),
        Ok(())
    );
    assert_eq!(
        check_append_size(MAX_OBJECT_SIZE, 0, MAX_OBJECT_SIZE),
        Ok(())
    );
    assert_eq!(
        check_append_size(MAX_OBJECT_SIZE - 1, 2, MAX_OBJECT_SIZE),
        Err(Error::ObjectTooLarge {
            position: MAX_OBJECT_SIZE - 1,
            length: 2,
            limit: MAX_OBJECT_SIZE
        })
    );
    let e = check_append_size(u64::MAX, 1, MAX_OBJECT_SIZE).unwrap_err();
    assert_eq!(e.code(), "ObjectTooLarge");
}

#[test]
fn bucket_names_follow_the_oss_rule_and_say_what_breaks_it() {
    for ok in ["abc", "examplebucket", "a-1-b", "0ab", &"a".repeat(63)] {
        assert_eq!(check_bucket(ok), Ok(()), "{ok}");
    }
    let cases = [
        ("", "it is empty"),
        ("ab", "'ab' has 2 characters"),
        (&"a".repeat(64), "has 64 characters"),
        ("MyBucket", "contains the uppercase letter 'M'"),
        (
            "my_bucket",
            "contains '_', which OSS bucket names never have",
        ),
        ("my.bucket", "'my.bucket' contains '.'"),
        ("my bucket", "contains ' '"),
        ("-abc", "starts or ends with '-'"),
        ("abc-", "starts or ends with '-'"),
        ("bück", "contains 'ü'"),
    ];
    for (name, problem) in cases {
        let (what, reason) = invalid_parts(check_bucket(name).unwrap_err());
        assert_eq!(what, "bucket");
        assert!(reason.contains(problem), "{name}: {reason}");
        assert!(reason.ends_with(BUCKET_RULE), "{reason}");
    }
}

#[test]
fn keys_strip_one_leading_slash() {
    assert_eq!(normalize_key("/a.txt"), Ok("a.txt".to_owned()));
    assert_eq!(
        normalize_key("dir/a b+c.txt"),
        Ok("dir/a b+c.txt".to_owned())
    );
    assert_eq!(normalize_key("中文/ü.webm"), Ok("中文/ü.webm".to_owned()));
    assert_eq!(normalize_key("a/"), Ok("a/".to_owned()));
    assert_eq!(normalize_key("a..b/.c/d."), Ok("a..b/.c/d.".to_owned()));
    let long = "é".repeat(511) + "a";
    assert_eq!(long.len(), MAX_KEY_BYTES);
    assert_eq!(normalize_key(&long), Ok(long.clone()));
    assert_eq!(normalize_key(&format!("/{long}")), Ok(long.clone()));
}

#[test]
fn bad_keys_say_why() {
    let cases = [
        ("", "it is empty"),
        ("/", "'/' is empty once its leading '/' is removed"),
        (
            "//a",
            "'/a' starts with '/' (one leading '/' is removed, not more)",
        ),
        ("\\a", "'\\\\a' starts with a backslash"),
        ("a\nb", "'a\\nb' contains a line break ('\\n') at byte 1"),
        ("a\rb", "contains a line break ('\\r')"),
        ("a\tb", "contains a control character ('\\t') at byte 1"),
        ("a\u{7f}", "contains a control character"),
        ("a/../b", "has a '.' or '..' path segment"),
        ("./a", "has a '.' or '..' path segment"),
        ("a/.", "has a '.' or '..' path segment"),
        ("..", "has a '.' or '..' path segment"),
    ];
    for (name, problem) in cases {
        let (what, reason) = invalid_parts(normalize_key(name).unwrap_err());
        assert_eq!(what, "name");
        assert!(reason.contains(problem), "{name:?}: {reason}");
        assert!(reason.contains("1 to 1023 bytes"), "{reason}");
    }
    let too_long = "a".repeat(MAX_KEY_BYTES + 1);
    let (_, reason) = invalid_parts(normalize_key(&too_long).unwrap_err());
    assert!(reason.contains("is 1024 bytes long"), "{reason}");
}

#[test]
fn headers_and_metadata_the_client_or_oss_would_reject_fail_locally() {
    assert_eq!(check_header("Cache-Control", "no-cache"), Ok(()));
    assert_eq!(check_header("x-oss-object-acl", "private"), Ok(()));
    assert_eq!(check_header("X-OSS-META-Author", "Ann Lee"), Ok(()));
    assert_eq!(check_meta("uid", "1\t2 !~"), Ok(()));
    let cases = [
        (
            check_header("Authorization", "x"),
            "options.headers",
            "'Authorization' cannot be set: the client signs",
        ),
        (
            check_header("content-length", "3"),
            "options.headers",
            "cannot be set: the transport sets it",
        ),
        (
            check_header("X-Oss-Date", "x"),
            "options.headers",
            "cannot be set",
        ),
        (
            check_header("x-oss-security-token", "x"),
            "options.headers",
            "stsToken",
        ),
        (
            check_header("bad name", "x"),
            "options.headers",
            "'bad name' is not a header name",
        ),
        (
            check_header("", "x"),
            "options.headers",
            "'' is not a header name",
        ),
        (
            check_header("Cache-Control", "a\r\nx-evil: 1"),
            "options.headers",
            "contains a line break",
        ),
        (
            check_header("Content-Disposition", "attachment; filename=中"),
            "options.headers",
            "non-ASCII character '中'",
        ),
        (
            check_header("x-oss-meta-my_key", "v"),
            "options.meta",
            "the key 'my_key' contains '_'",
        ),
        (check_meta("", "v"), "options.meta", "a key is empty"),
        (check_meta("a b", "v"), "options.meta", "contains ' '"),
        (
            check_meta("k", "v\n"),
            "options.meta",
            "the value of 'x-oss-meta-k' contains a line break",
        ),
        (
            check_meta("k", "\u{0}"),
            "options.meta",
            "control character '\\0'",
        ),
    ];
    for (result, want_what, problem) in cases {
        let (what, reason) = invalid_parts(result.unwrap_err());
        assert_eq!(what, want_what);
        assert!(reason.contains(problem), "{reason}");
    }
}

#[test]
fn metadata_over_8_kib_in_total_is_refused_with_its_size() {
    let value = "v".repeat(MAX_META_BYTES - "x-oss-meta-a".len());
    assert_eq!(
        check_meta_size([
            ("x-oss-meta-a", value.as_str()),
            ("Cache-Control", "no-cache")
        ]),
        Ok(())
    );
    let (what, reason) = invalid_parts(
        check_meta_size([("x-oss-meta-a", value.as_str()), ("X-Oss-Meta-B", "1")]).unwrap_err(),
    );
    assert_eq!(what, "options.meta");
    assert!(
        reason.contains("take 8205 bytes") && reason.contains("at most 8192"),
        "{reason}"
    );
}

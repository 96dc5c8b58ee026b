//! Client options as the user gives them, checked once into the endpoint, bucket, signing setup and limits.

use crate::endpoint::{
    check_region, is_acceleration_region, region_from_host, standard_region, AddressingStyle,
    Endpoint,
};
use crate::error::Error;
use crate::http::Request;
use crate::sign::{SigningConfig, SigningVersion};
use crate::validate::{
    check_bucket, parse_integer, parse_interval_ms, parse_timeout_ms, preview, IntegerInput,
    MAX_RETRY_MAX,
};

/// Default request timeout, as in ali-oss: 60 s.
pub(crate) const DEFAULT_TIMEOUT_MS: u64 = 60_000;
/// Default number of retries after the first attempt.
pub(crate) const DEFAULT_RETRY_MAX: u32 = 3;
/// Default interval between STS credential refreshes, as in ali-oss: 5 minutes.
pub(crate) const DEFAULT_REFRESH_STS_TOKEN_INTERVAL_MS: u64 = 300_000;
/// The V4 scope product for public OSS.
pub(crate) const PRODUCT_OSS: &str = "oss";
/// The V4 scope product for CloudBox buckets.
pub(crate) const PRODUCT_CLOUDBOX: &str = "oss-cloudbox";

/// The `new OSS({...})` options that shape requests, as plain Rust (credentials are kept elsewhere).
///
/// Empty strings count as absent, as in ali-oss (`if (options.endpoint)`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ClientOptions {
    /// `region`: `oss-cn-hangzhou` or `cn-hangzhou`.
    pub region: Option<String>,
    /// `bucket`.
    pub bucket: Option<String>,
    /// `endpoint`: an `http(s)://host[:port]` URL or a bare host; overrides the region's host.
    pub endpoint: Option<String>,
    /// `cname`: the endpoint is a custom domain bound to the bucket.
    pub cname: bool,
    /// `secure`: the scheme for a region or a bare-host endpoint; unset means HTTPS.
    pub secure: Option<bool>,
    /// `internal`: the region's `-internal` host (ignored with an explicit endpoint, as in ali-oss).
    pub internal: bool,
    /// `pathStyle` (ali-oss `sldEnable`): `/bucket/key` on the endpoint host.
    pub path_style: bool,
    /// `authorizationV4`: V4 signing (the default); `false` selects V1.
    pub authorization_v4: bool,
    /// `cloudBoxId`: sign for a CloudBox bucket (V4 only, with its endpoint).
    pub cloud_box_id: Option<String>,
    /// `timeout` in ms (numbers, or text like `'60s'`); default [`DEFAULT_TIMEOUT_MS`].
    pub timeout_ms: Option<IntegerInput>,
    /// `retryMax`: retries after the first attempt; default [`DEFAULT_RETRY_MAX`].
    pub retry_max: Option<IntegerInput>,
    /// `refreshSTSTokenInterval` in ms; default [`DEFAULT_REFRESH_STS_TOKEN_INTERVAL_MS`].
    pub refresh_sts_token_interval_ms: Option<IntegerInput>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            region: None,
            bucket: None,
            endpoint: None,
            cname: false,
            secure: None,
            internal: false,
            path_style: false,
            authorization_v4: true,
            cloud_box_id: None,
            timeout_ms: None,
            retry_max: None,
            refresh_sts_token_interval_ms: None,
        }
    }
}

/// Checked client settings: every request of a client is built and signed from these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClientConfig {
    /// Where requests go and how the bucket is addressed.
    pub endpoint: Endpoint,
    /// The bucket (always known: V1 and V4 both sign `/bucket/key`, even with a cname).
    pub bucket: String,
    /// Signature version, V4 region and product.
    pub signing: SigningConfig,
    /// Per-request timeout in ms.
    pub timeout_ms: u64,
    /// Retries after the first attempt.
    pub retry_max: u32,
    /// Minimum time between STS credential refreshes, in ms.
    pub refresh_sts_token_interval_ms: u64,
}

/// `Some(text)` unless it is absent or empty.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

impl ClientConfig {
    /// Checks `options` and resolves them.
    ///
    /// - The host is `endpoint` when given, else the region's (`oss-<region>[-internal].aliyuncs.com`); with
    ///   neither it is an error, never a silent default region.
    /// - V4 signs with the bare region (`oss-` stripped). Without `region`, it is read from an
    ///   `oss-<region>[-internal].aliyuncs.com` endpoint, and any other endpoint is an error asking for
    ///   `region` (ali-oss silently signs for cn-hangzhou). A `region` that contradicts such an endpoint is
    ///   an error too.
    /// - `cloudBoxId` signs with product `oss-cloudbox` and the box id as region; it needs V4 and an endpoint.
    /// - The bucket is required, also with `cname` (signatures cover it), and an endpoint that already starts
    ///   with `<bucket>.` on an OSS host is refused (the bucket would be doubled).
    ///
    /// # Errors
    /// `InvalidArgument` naming the option at fault.
    pub(crate) fn from_options(options: &ClientOptions) -> Result<Self, Error> {
        let bucket = match given(&options.bucket) {
            Some(bucket) => bucket,
            None if options.cname => {
                return Err(Error::invalid(
                    "bucket",
                    "it is missing; with cname: true OSS still needs the name of the bucket bound to the \
                     domain, because signatures cover /<bucket>/<key>",
                ))
            }
            None => {
                return Err(Error::invalid(
                    "bucket",
                    "it is missing; pass the bucket name, e.g. bucket: 'examplebucket'",
                ))
            }
        };
        check_bucket(bucket)?;
        if options.cname && options.path_style {
            return Err(Error::invalid(
                "pathStyle",
                "pathStyle puts the bucket in the path, but a cname domain is bound to its bucket already; \
                 set only one of cname and pathStyle",
            ));
        }
        let style = if options.cname {
            AddressingStyle::Cname
        } else if options.path_style {
            AddressingStyle::Path
        } else {
            AddressingStyle::VirtualHosted
        };
        let region = given(&options.region);
        if let Some(region) = region {
            check_region(region)?;
        }
        let endpoint = match (given(&options.endpoint), region) {
            (Some(endpoint), _) => Endpoint::parse(endpoint, options.secure, style)?,
            (None, Some(region)) => {
                Endpoint::for_region(region, options.internal, options.secure, style)?
            }
            (None, None) => {
                return Err(Error::invalid(
                    "region",
                    "neither region nor endpoint is given; pass region, e.g. region: 'oss-cn-hangzhou', \
                     or endpoint, e.g. endpoint: 'https://oss-cn-hangzhou.aliyuncs.com'",
                ))
            }
        };
        if style == AddressingStyle::VirtualHosted {
            let doubled = endpoint
                .host()
                .strip_prefix(bucket)
                .and_then(|rest| rest.strip_prefix('.'))
                .filter(|rest| rest.ends_with(".aliyuncs.com"));
            if let Some(rest) = doubled {
                return Err(Error::invalid(
                    "endpoint",
                    format!(
                        "{} already starts with the bucket name, which the client adds itself; pass \
                         endpoint: '{}://{rest}' (or set cname: true if the domain is bound to the bucket)",
                        preview(endpoint.host()),
                        endpoint.scheme().as_str()
                    ),
                ));
            }
        }
        let signing = signing_config(options, region, &endpoint)?;
        let timeout_ms = match &options.timeout_ms {
            Some(input) => parse_timeout_ms("timeout", input)?,
            None => DEFAULT_TIMEOUT_MS,
        };
        let retry_max = match &options.retry_max {
            // The bound keeps the value far inside u32.
            Some(input) => parse_integer("retryMax", input, 0, MAX_RETRY_MAX)? as u32,
            None => DEFAULT_RETRY_MAX,
        };
        let refresh_sts_token_interval_ms = match &options.refresh_sts_token_interval_ms {
            Some(input) => parse_interval_ms("refreshSTSTokenInterval", input)?,
            None => DEFAULT_REFRESH_STS_TOKEN_INTERVAL_MS,
        };
        Ok(Self {
            endpoint,
            bucket: bucket.to_owned(),
            signing,
            timeout_ms,
            retry_max,
            refresh_sts_token_interval_ms,
        })
    }

    /// The URL of `key` in this client's bucket, as ali-oss reports it in `url` (no query).
    pub(crate) fn object_url(&self, key: &str) -> String {
        self.endpoint.object_url(&self.bucket, key)
    }

    /// The URL to send `request` to.
    pub(crate) fn request_url(&self, request: &Request) -> String {
        self.endpoint.request_url(request)
    }
}

/// The signature version, region and product.
fn signing_config(
    options: &ClientOptions,
    region: Option<&str>,
    endpoint: &Endpoint,
) -> Result<SigningConfig, Error> {
    let version = if options.authorization_v4 {
        SigningVersion::V4
    } else {
        SigningVersion::V1
    };
    let config = |region: String, product: &str| SigningConfig {
        version,
        region,
        product: product.to_owned(),
        additional_headers: Vec::new(),
    };
    if let Some(box_id) = given(&options.cloud_box_id) {
        check_cloud_box_id(box_id)?;
        if version == SigningVersion::V1 {
            return Err(Error::invalid(
                "cloudBoxId",
                "CloudBox buckets accept only V4 signatures; remove authorizationV4: false",
            ));
        }
        if given(&options.endpoint).is_none() {
            return Err(Error::invalid(
                "cloudBoxId",
                "a CloudBox bucket needs its endpoint; pass endpoint, e.g. \
                 'https://<cloudBoxId>.<region>.oss-cloudbox.aliyuncs.com'",
            ));
        }
        return Ok(config(box_id.to_owned(), PRODUCT_CLOUDBOX));
    }
    let from_host = region_from_host(endpoint.host());
    let region = match (region, from_host) {
        (Some(region), _) if version == SigningVersion::V4 && is_acceleration_region(region) => {
            return Err(Error::invalid(
                "region",
                format!(
                    "{} is the global acceleration endpoint, not a region, and V4 signs with the bucket's \
                     region; pass the bucket's region, e.g. region: 'cn-hangzhou', with endpoint: \
                     'https://{region}.aliyuncs.com'",
                    preview(region)
                ),
            ));
        }
        (Some(region), Some(host_region))
            if version == SigningVersion::V4
                && given(&options.endpoint).is_some()
                && standard_region(region) != host_region =>
        {
            return Err(Error::invalid(
                "region",
                format!(
                    "{} does not match the endpoint {}, which is in {host_region}, and V4 signatures \
                     would be rejected; pass the bucket's region and endpoint, or leave region out",
                    preview(region),
                    preview(endpoint.host())
                ),
            ));
        }
        (Some(region), _) => standard_region(region).to_owned(),
        (None, Some(host_region)) => host_region,
        (None, None) if version == SigningVersion::V1 => String::new(),
        (None, None) => {
            return Err(Error::invalid(
                "region",
                format!(
                    "V4 signatures name the bucket's region, and it cannot be read from the endpoint {}; \
                     pass region, e.g. region: 'cn-hangzhou' (or authorizationV4: false for V1 signing)",
                    preview(endpoint.host())
                ),
            ));
        }
    };
    Ok(config(region, PRODUCT_OSS))
}

/// Checks a `cloudBoxId`: letters, digits, `-` and `_` (ids look like `cb-f8z7yvzgwfkl9q0h****`).
fn check_cloud_box_id(id: &str) -> Result<(), Error> {
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(Error::invalid(
            "cloudBoxId",
            format!(
                "{} contains '{}'; a CloudBox id such as 'cb-f8z7yvzgwfkl9q0h' is accepted (letters, digits, \
                 '-' and '_')",
                preview(id),
                c.escape_debug()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(region: Option<&str>, endpoint: Option<&str>) -> ClientOptions {
        ClientOptions {
            region: region.map(str::to_owned),
            endpoint: endpoint.map(str::to_owned),
            bucket: Some("examplebucket".to_owned()),
            ..ClientOptions::default()
        }
    }

    fn invalid(result: Result<ClientConfig, Error>) -> (String, String) {
        match result {
            Err(Error::InvalidArgument { what, reason }) => (what, reason),
            other => panic!("expected InvalidArgument, got {other:?}"),
        }
    }

    #[test]
    fn a_region_and_bucket_alone_give_v4_signing_and_ali_oss_defaults() {
        let config = ClientConfig::from_options(&options(Some("oss-cn-hangzhou"), None)).unwrap();
        assert_eq!(config.bucket, "examplebucket");
        assert_eq!(
            config.signing,
            SigningConfig {
                version: SigningVersion::V4,
                region: "cn-hangzhou".into(),
                product: "oss".into(),
                additional_headers: vec![],
            }
        );
        assert_eq!(config.timeout_ms, 60_000);
        assert_eq!(config.retry_max, 3);
        assert_eq!(config.refresh_sts_token_interval_ms, 300_000);
        assert_eq!(
            config.object_url("dir/a b+c.txt"),
            "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/dir/a%20b%2Bc.txt"
        );
    }

    /// (region, endpoint, flags, object URL of `a/b.txt`); flags are `cname`, `path`, `internal`,
    /// `http` (secure: false) and `https` (secure: true).
    #[test]
    fn every_addressing_combination_gives_the_exact_url() {
        let hz = Some("cn-hangzhou");
        let sh = Some("cn-shanghai");
        let cases = [
            (
                Some("oss-cn-hangzhou"),
                None,
                "",
                "https://examplebucket.oss-cn-hangzhou.aliyuncs.com",
            ),
            (
                hz,
                None,
                "",
                "https://examplebucket.oss-cn-hangzhou.aliyuncs.com",
            ),
            (
                hz,
                None,
                "internal",
                "https://examplebucket.oss-cn-hangzhou-internal.aliyuncs.com",
            ),
            (
                hz,
                None,
                "http",
                "http://examplebucket.oss-cn-hangzhou.aliyuncs.com",
            ),
            (
                hz,
                None,
                "path",
                "https://oss-cn-hangzhou.aliyuncs.com/examplebucket",
            ),
            (
                hz,
                None,
                "path internal http",
                "http://oss-cn-hangzhou-internal.aliyuncs.com/examplebucket",
            ),
            (
                None,
                Some("https://oss-cn-shanghai.aliyuncs.com"),
                "",
                "https://examplebucket.oss-cn-shanghai.aliyuncs.com",
            ),
            (
                None,
                Some("oss-cn-shanghai.aliyuncs.com"),
                "http",
                "http://examplebucket.oss-cn-shanghai.aliyuncs.com",
            ),
            // internal does not change an explicit endpoint (as in ali-oss); the URL's scheme beats secure.
            (
                None,
                Some("oss-cn-shanghai.aliyuncs.com"),
                "internal",
                "https://examplebucket.oss-cn-shanghai.aliyuncs.com",
            ),
            (
                None,
                Some("https://oss-cn-shanghai.aliyuncs.com"),
                "http",
                "https://examplebucket.oss-cn-shanghai.aliyuncs.com",
            ),
            (
                None,
                Some("https://oss-cn-shanghai-internal.aliyuncs.com"),
                "path",
                "https://oss-cn-shanghai-internal.aliyuncs.com/examplebucket",
            ),
            (
                sh,
                Some("https://static.example.com"),
                "cname",
                "https://static.example.com",
            ),
            (
                sh,
                Some("static.example.com"),
                "cname internal http",
                "http://static.example.com",
            ),
            (
                hz,
                Some("http://127.0.0.1:9000"),
                "",
                "http://127.0.0.1:9000/examplebucket",
            ),
            (
                hz,
                Some("http://127.0.0.1:9000"),
                "path https",
                "http://127.0.0.1:9000/examplebucket",
            ),
            (
                hz,
                Some("127.0.0.1:9000"),
                "http",
                "http://127.0.0.1:9000/examplebucket",
            ),
            (hz, Some("10.0.0.5"), "cname http", "http://10.0.0.5"),
            (
                hz,
                Some("localhost:9000"),
                "http",
                "http://localhost:9000/examplebucket",
            ),
            (
                hz,
                Some("https://[::1]:9443/"),
                "",
                "https://[::1]:9443/examplebucket",
            ),
        ];
        for (region, endpoint, flags, want) in cases {
            let flag = |name: &str| flags.split(' ').any(|f| f == name);
            let opts = ClientOptions {
                cname: flag("cname"),
                path_style: flag("path"),
                internal: flag("internal"),
                secure: match (flag("http"), flag("https")) {
                    (true, _) => Some(false),
                    (_, true) => Some(true),
                    _ => None,
                },
                ..options(region, endpoint)
            };
            let config =
                ClientConfig::from_options(&opts).unwrap_or_else(|e| panic!("{opts:?}: {e}"));
            assert_eq!(
                config.object_url("a/b.txt"),
                format!("{want}/a/b.txt"),
                "{opts:?}"
            );
        }
    }

    #[test]
    fn v4_region_rules() {
        let region_of = |opts: &ClientOptions| {
            ClientConfig::from_options(opts)
                .map(|c| c.signing.region)
                .unwrap_or_else(|e| panic!("{opts:?}: {e}"))
        };
        let ok = [
            (Some("oss-cn-hangzhou"), None, "cn-hangzhou"),
            (Some("cn-hangzhou"), None, "cn-hangzhou"),
            (Some("vpc100-oss-cn-beijing"), None, "cn-beijing"),
            (
                None,
                Some("https://oss-cn-shanghai.aliyuncs.com"),
                "cn-shanghai",
            ),
            (
                None,
                Some("oss-ap-southeast-1-internal.aliyuncs.com"),
                "ap-southeast-1",
            ),
            (
                Some("cn-shanghai"),
                Some("https://oss-cn-shanghai.aliyuncs.com"),
                "cn-shanghai",
            ),
            (
                Some("oss-cn-shanghai"),
                Some("https://oss-cn-shanghai-internal.aliyuncs.com"),
                "cn-shanghai",
            ),
            (
                Some("cn-hangzhou"),
                Some("http://127.0.0.1:9000"),
                "cn-hangzhou",
            ),
            (
                Some("cn-hangzhou"),
                Some("https://oss-accelerate.aliyuncs.com"),
                "cn-hangzhou",
            ),
        ];
        for (region, endpoint, want) in ok {
            assert_eq!(
                region_of(&options(region, endpoint)),
                want,
                "{region:?} {endpoint:?}"
            );
        }
        let local = Some("http://127.0.0.1:9000");
        let shanghai = Some("https://oss-cn-shanghai.aliyuncs.com");
        let bad = [
            (
                None,
                local,
                "cannot be read from the endpoint '127.0.0.1'; pass region",
            ),
            (
                None,
                Some("https://cdn.example.com"),
                "cannot be read from the endpoint 'cdn.example.com'",
            ),
            (
                None,
                Some("oss-accelerate.aliyuncs.com"),
                "cannot be read from the endpoint",
            ),
            (
                Some("cn-hangzhou"),
                shanghai,
                "'cn-hangzhou' does not match the endpoint",
            ),
            (
                Some("oss-cn-beijing"),
                shanghai,
                "'oss-cn-shanghai.aliyuncs.com', which is in cn-shanghai",
            ),
            (
                Some("oss-accelerate"),
                None,
                "is the global acceleration endpoint, not a region",
            ),
            (None, None, "neither region nor endpoint is given"),
            (Some(""), Some(""), "neither region nor endpoint is given"),
        ];
        for (region, endpoint, problem) in bad {
            let (what, reason) = invalid(ClientConfig::from_options(&options(region, endpoint)));
            assert_eq!(what, "region");
            assert!(
                reason.contains(problem),
                "{region:?} {endpoint:?}: {reason}"
            );
        }
    }

    #[test]
    fn v1_needs_no_region() {
        let v1 = |region: Option<&str>, endpoint: Option<&str>| {
            let opts = ClientOptions {
                authorization_v4: false,
                ..options(region, endpoint)
            };
            ClientConfig::from_options(&opts).unwrap().signing
        };
        let s = v1(None, Some("http://127.0.0.1:9000"));
        assert_eq!((s.version, s.region.as_str()), (SigningVersion::V1, ""));
        assert_eq!(
            v1(None, Some("oss-cn-beijing.aliyuncs.com")).region,
            "cn-beijing"
        );
        // V1 does not sign the region, so a mismatch is not worth refusing.
        assert_eq!(
            v1(Some("cn-hangzhou"), Some("oss-cn-beijing.aliyuncs.com")).region,
            "cn-hangzhou"
        );
        assert_eq!(v1(Some("oss-accelerate"), None).region, "accelerate");
    }

    #[test]
    fn a_cloud_box_signs_with_its_id_and_needs_its_endpoint_and_v4() {
        let opts = ClientOptions {
            cloud_box_id: Some("cb-f8z7yvzgwfkl9q0h".into()),
            ..options(
                Some("cn-hangzhou"),
                Some("https://cb-f8z7yvzgwfkl9q0h.cn-hangzhou.oss-cloudbox.aliyuncs.com"),
            )
        };
        let config = ClientConfig::from_options(&opts).unwrap();
        assert_eq!(
            (
                config.signing.region.as_str(),
                config.signing.product.as_str()
            ),
            ("cb-f8z7yvzgwfkl9q0h", "oss-cloudbox")
        );
        assert_eq!(
            config.object_url("k"),
            "https://examplebucket.cb-f8z7yvzgwfkl9q0h.cn-hangzhou.oss-cloudbox.aliyuncs.com/k"
        );
        let cases = [
            (
                ClientOptions {
                    endpoint: None,
                    ..opts.clone()
                },
                "needs its endpoint",
            ),
            (
                ClientOptions {
                    authorization_v4: false,
                    ..opts.clone()
                },
                "only V4 signatures",
            ),
            (
                ClientOptions {
                    cloud_box_id: Some("cb/1".into()),
                    ..opts.clone()
                },
                "'cb/1' contains '/'",
            ),
        ];
        for (opts, problem) in cases {
            let (what, reason) = invalid(ClientConfig::from_options(&opts));
            assert_eq!(what, "cloudBoxId");
            assert!(reason.contains(problem), "{reason}");
        }
    }

    #[test]
    fn a_missing_bucket_or_an_impossible_style_says_what_to_pass() {
        let no_bucket = ClientOptions {
            bucket: None,
            ..options(Some("cn-hangzhou"), None)
        };
        let (what, reason) = invalid(ClientConfig::from_options(&no_bucket));
        assert_eq!(
            (what.as_str(), reason.as_str()),
            (
                "bucket",
                "it is missing; pass the bucket name, e.g. bucket: 'examplebucket'"
            )
        );
        let cname = ClientOptions {
            bucket: Some(String::new()),
            cname: true,
            ..options(Some("cn-hangzhou"), Some("cdn.example.com"))
        };
        let (what, reason) = invalid(ClientConfig::from_options(&cname));
        assert_eq!(what, "bucket");
        assert!(
            reason.contains("with cname: true OSS still needs"),
            "{reason}"
        );
        let bad = ClientOptions {
            bucket: Some("Bad_Bucket".into()),
            ..options(Some("cn-hangzhou"), None)
        };
        assert_eq!(invalid(ClientConfig::from_options(&bad)).0, "bucket");
        let both = ClientOptions {
            cname: true,
            path_style: true,
            ..options(Some("cn-hangzhou"), Some("cdn.example.com"))
        };
        let (what, reason) = invalid(ClientConfig::from_options(&both));
        assert_eq!(what, "pathStyle");
        assert!(
            reason.contains("set only one of cname and pathStyle"),
            "{reason}"
        );
        let doubled = options(
            None,
            Some("https://examplebucket.oss-cn-hangzhou.aliyuncs.com"),
        );
        let (what, reason) = invalid(ClientConfig::from_options(&doubled));
        assert_eq!(what, "endpoint");
        assert!(
            reason.contains("already starts with the bucket name")
                && reason.contains("endpoint: 'https://oss-cn-hangzhou.aliyuncs.com'"),
            "{reason}"
        );
        // The same host is fine as a cname (V4 then needs the region: the host is no region host).
        let as_cname = ClientOptions {
            cname: true,
            region: Some("cn-hangzhou".into()),
            ..doubled.clone()
        };
        assert_eq!(
            ClientConfig::from_options(&as_cname)
                .unwrap()
                .object_url("k"),
            "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/k"
        );
        let bad_region = options(Some("CN"), None);
        assert_eq!(invalid(ClientConfig::from_options(&bad_region)).0, "region");
        let bad_endpoint = options(Some("cn-hangzhou"), Some("ftp://x"));
        assert_eq!(
            invalid(ClientConfig::from_options(&bad_endpoint)).0,
            "endpoint"
        );
    }

    #[test]
    fn timeouts_retries_and_refresh_intervals_are_read_and_bounded() {
        let with = |timeout: Option<IntegerInput>,
                    retry: Option<IntegerInput>,
                    refresh: Option<IntegerInput>| {
            ClientConfig::from_options(&ClientOptions {
                timeout_ms: timeout,
                retry_max: retry,
                refresh_sts_token_interval_ms: refresh,
                ..options(Some("cn-hangzhou"), None)
            })
        };
        let c = with(Some("90s".into()), Some(0u64.into()), Some(0u64.into())).unwrap();
        assert_eq!(
            (c.timeout_ms, c.retry_max, c.refresh_sts_token_interval_ms),
            (90_000, 0, 0)
        );
        let c = with(
            Some(1u64.into()),
            Some("100".into()),
            Some(IntegerInput::Number(60_000.0)),
        )
        .unwrap();
        assert_eq!(
            (c.timeout_ms, c.retry_max, c.refresh_sts_token_interval_ms),
            (1, 100, 60_000)
        );
        let cases = [
            (
                with(Some(0u64.into()), None, None),
                "timeout",
                "0 is below the minimum",
            ),
            (
                with(Some(IntegerInput::Number(f64::NAN)), None, None),
                "timeout",
                "NaN is not a number",
            ),
            (
                with(Some(3e9.into()), None, None),
                "timeout",
                "3000000000 is over the limit",
            ),
            (
                with(None, Some(IntegerInput::Number(-1.0)), None),
                "retryMax",
                "-1 is negative",
            ),
            (
                with(None, Some(IntegerInput::Number(2.5)), None),
                "retryMax",
                "2.5 is not a whole number",
            ),
            (
                with(None, Some(101u64.into()), None),
                "retryMax",
                "101 is over the limit",
            ),
            (
                with(None, None, Some(IntegerInput::Number(-1.0))),
                "refreshSTSTokenInterval",
                "-1 is negative",
            ),
        ];
        for (result, want_what, problem) in cases {
            let (what, reason) = invalid(result);
            assert_eq!(what, want_what);
            assert!(reason.starts_with(problem), "{reason}");
        }
    }

    #[test]
    fn request_urls_go_through_the_endpoint() {
        let opts = options(Some("cn-hangzhou"), Some("http://127.0.0.1:9000"));
        let config = ClientConfig::from_options(&opts).unwrap();
        let mut req = Request::new(crate::http::Method::Post, Some("examplebucket"), Some("k"));
        req.query.push(("append".into(), String::new()));
        req.query.push(("position".into(), "5".into()));
        assert_eq!(
            config.request_url(&req),
            "http://127.0.0.1:9000/examplebucket/k?append&position=5"
        );
    }
}

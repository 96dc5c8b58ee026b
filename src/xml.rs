//! Bounded XML helpers: escaping, a flat `<Root><Child>text</Child></Root>` reader, OSS error bodies.

use crate::error::ServiceError;
use crate::strings;

/// Hard limits for [`parse_flat_with`]; input past any of them is rejected, never partly read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest document accepted, in bytes.
    pub max_bytes: usize,
    /// The most children the root may have.
    pub max_children: usize,
    /// The deepest element nesting accepted (the root is depth 1, its children depth 2).
    pub max_depth: usize,
}

impl Default for Limits {
    /// 64 KiB, 256 children, depth 8: far above any OSS error body, far below anything harmful.
    fn default() -> Self {
        Self {
            max_bytes: 64 * 1024,
            max_children: 256,
            max_depth: 8,
        }
    }
}

/// Why a document was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed XML: {0}")]
pub struct XmlError(String);

impl XmlError {
    fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }

    /// What was wrong, without the `malformed XML:` prefix.
    pub fn reason(&self) -> &str {
        &self.0
    }
}

/// A document of one root element whose children hold text: the shape of every OSS error body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlatDocument {
    /// The root element's local name (any namespace prefix removed), e.g. `Error`.
    pub root: String,
    /// Each child's local name and decoded text, in document order.
    pub children: Vec<(String, String)>,
}

impl FlatDocument {
    /// The text of the first child called `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.children
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Escapes `text` for element content or an attribute value.
///
/// `&`, `<`, `>`, `"`, `'` become entities and `\r` becomes `&#13;` (it would otherwise be read back as
/// `\n`). Characters that XML 1.0 forbids even as references (most C0 controls, U+FFFE, U+FFFF) become
/// U+FFFD, so the output is always well-formed.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// Whether XML 1.0 allows `c` in a document.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// Whether `name` can be written as an element name.
fn is_element_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let start_ok =
        |c: char| c.is_ascii_alphabetic() || c == '_' || (!c.is_ascii() && c.is_alphabetic());
    start_ok(first)
        && !name.as_bytes().contains(&b':')
        && chars.all(|c| {
            start_ok(c)
                || c.is_ascii_digit()
                || c == '-'
                || c == '.'
                || (!c.is_ascii() && c.is_alphanumeric())
        })
}

/// Parses a flat document with the [default limits](Limits::default).
pub fn parse_flat(xml: &[u8]) -> Result<FlatDocument, XmlError> {
    parse_flat_with(xml, &Limits::default())
}

/// Parses `<Root><Child>text</Child>...</Root>`: UTF-8, entities and CDATA decoded, whitespace between
/// elements ignored, comments and processing instructions skipped, attributes ignored.
///
/// Child text is kept exactly (line ends normalised as XML requires). A child that itself holds
/// elements gets their text concatenated and trimmed, so an unexpected nested detail does not make a
/// whole error body unreadable. A DOCTYPE is refused outright: no entity is ever defined by the
/// document, so entity-expansion attacks have nothing to expand.
pub fn parse_flat_with(xml: &[u8], limits: &Limits) -> Result<FlatDocument, XmlError> {
    if xml.len() > limits.max_bytes {
        return Err(XmlError::new(format!(
            "the document is {} bytes, over the {}-byte limit",
            xml.len(),
            limits.max_bytes
        )));
    }
    let text = std::str::from_utf8(xml)
        .map_err(|e| XmlError::new(format!("not UTF-8 (invalid byte at {})", e.valid_up_to())))?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut state = FlatReader {
        limits,
        doc: FlatDocument::default(),
        seen_root: false,
        depth: 0,
        child: None,
    };
    // Qualified names of the open elements, to match end tags; bounded by `max_depth`.
    let mut open: Vec<&str> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let at = text.len() - rest.len();
        let Some(markup) = rest.strip_prefix('<') else {
            let end = rest.find('<').unwrap_or(rest.len());
            state.text(&decode_text(&rest[..end], at)?)?;
            rest = &rest[end..];
            continue;
        };
        rest = if let Some(body) = markup.strip_prefix("!--") {
            split_at_marker(body, "-->", "comment", at)?.1
        } else if let Some(body) = markup.strip_prefix("![CDATA[") {
            let (content, after) = split_at_marker(body, "]]>", "CDATA section", at)?;
            state.text(&normalize_line_ends(content))?;
            after
        } else if markup.starts_with("!DOCTYPE") {
            return Err(XmlError::new(
                "DOCTYPE declarations are not accepted (no entities may be defined)",
            ));
        } else if markup.starts_with('!') {
            return Err(XmlError::new(format!("unknown markup `<!` (at byte {at})")));
        } else if let Some(body) = markup.strip_prefix('?') {
            split_at_marker(body, "?>", "processing instruction", at)?.1
        } else if let Some(body) = markup.strip_prefix('/') {
            let (name, after) = split_at_marker(body, ">", "end tag", at)?;
            let name = name.trim_end_matches(is_xml_whitespace);
            match open.pop() {
                Some(expected) if expected == name => state.close(),
                Some(expected) => {
                    return Err(XmlError::new(format!(
                        "ill-formed document: expected </{}>, found </{}> (at byte {at})",
                        clip(expected),
                        clip(name)
                    )))
                }
                None => {
                    return Err(XmlError::new(format!(
                        "ill-formed document: </{}> closes nothing (at byte {at})",
                        clip(name)
                    )))
                }
            }
            after
        } else {
            let (tag, after) = split_start_tag(markup, at)?;
            let (tag, empty) = match tag.strip_suffix('/') {
                Some(tag) => (tag, true),
                None => (tag, false),
            };
            // Attributes, if any, follow the name after whitespace; they are ignored.
            let name = tag.split(is_xml_whitespace).next().unwrap_or_default();
            if name.is_empty() || name.as_bytes().contains(&b'/') {
                return Err(XmlError::new(format!(
                    "a tag without a valid name (at byte {at})"
                )));
            }
            state.open(name.split_once(':').map_or(name, |(_prefix, local)| local))?;
            if empty {
                state.close();
            } else {
                open.push(name);
            }
            after
        };
    }
    state.finish()
}

/// Splits `s` at the first `marker`: what comes before it and what follows it.
fn split_at_marker<'a>(
    s: &'a str,
    marker: &str,
    what: &str,
    at: usize,
) -> Result<(&'a str, &'a str), XmlError> {
    strings::find(s, marker)
        .map(|i| (&s[..i], &s[i + marker.len()..]))
        .ok_or_else(|| XmlError::new(format!("unclosed {what} (at byte {at})")))
}

/// Splits a start tag (after its `<`) at the `>` that ends it, skipping quoted attribute values.
fn split_start_tag(s: &str, at: usize) -> Result<(&str, &str), XmlError> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => return Ok((&s[..i], &s[i + 1..])),
            (None, _) => {}
        }
    }
    Err(XmlError::new(format!("unclosed start tag (at byte {at})")))
}

/// Character data with its references resolved and its line ends normalised, as XML 1.0 reads it.
fn decode_text(raw: &str, at: usize) -> Result<String, XmlError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '\r']) {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if rest.as_bytes()[i] == b'\r' {
            out.push('\n');
            rest = after.strip_prefix('\n').unwrap_or(after);
            continue;
        }
        let Some(end) = after.find(';') else {
            return Err(XmlError::new(format!(
                "`&` starts no reference (at byte {})",
                at + raw.len() - rest.len() + i
            )));
        };
        out.push(resolve_reference(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The character `&name;` stands for: one of the five predefined entities or a character reference.
fn resolve_reference(name: &str) -> Result<char, XmlError> {
    let predefined = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    };
    if let Some(c) = predefined {
        return Ok(c);
    }
    let Some(number) = name.strip_prefix('#') else {
        return Err(XmlError::new(format!("undefined entity &{};", clip(name))));
    };
    let (digits, radix) = match number.strip_prefix('x') {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    Some(digits)
        .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_digit(radix)))
        .and_then(|d| u32::from_str_radix(d, radix).ok())
        .and_then(char::from_u32)
        .filter(|&c| c != '\0')
        .ok_or_else(|| XmlError::new(format!("invalid character reference &{};", clip(name))))
}

/// `\r\n` and a lone `\r` become `\n`, as XML 1.0 reads line ends.
fn normalize_line_ends(raw: &str) -> String {
    let mut lines = raw.split('\r');
    let mut out = lines.next().unwrap_or_default().to_owned();
    for line in lines {
        out.push('\n');
        out.push_str(line.strip_prefix('\n').unwrap_or(line));
    }
    out
}

/// The parser's position in a flat document.
struct FlatReader<'a> {
    limits: &'a Limits,
    doc: FlatDocument,
    seen_root: bool,
    /// Open elements: 1 inside the root, 2 inside a child.
    depth: usize,
    /// The child being read: its name, its text so far, and whether it holds elements.
    child: Option<(String, String, bool)>,
}

impl FlatReader<'_> {
    fn open(&mut self, name: &str) -> Result<(), XmlError> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(XmlError::new(format!(
                "elements nested deeper than {} levels",
                self.limits.max_depth
            )));
        }
        match self.depth {
            1 if self.seen_root => {
                return Err(XmlError::new(format!(
                    "a second root element <{}>",
                    clip(name)
                )))
            }
            1 => {
                self.seen_root = true;
                self.doc.root = name.to_owned();
            }
            2 => {
                if self.doc.children.len() >= self.limits.max_children {
                    return Err(XmlError::new(format!(
                        "more than {} children in <{}>",
                        self.limits.max_children,
                        clip(&self.doc.root)
                    )));
                }
                self.child = Some((name.to_owned(), String::new(), false));
            }
            _ => {
                if let Some(child) = &mut self.child {
                    child.2 = true;
                }
            }
        }
        Ok(())
    }

    fn close(&mut self) {
        // Unmatched end tags are rejected before this, so every close follows an open.
        if self.depth == 2 {
            if let Some((name, text, nested)) = self.child.take() {
                let text = if nested { text.trim().to_owned() } else { text };
                self.doc.children.push((name, text));
            }
        }
        self.depth = self.depth.saturating_sub(1);
    }

    fn text(&mut self, text: &str) -> Result<(), XmlError> {
        match &mut self.child {
            Some((_, buf, _)) if self.depth >= 2 => {
                buf.push_str(text);
                Ok(())
            }
            _ if text.chars().all(is_xml_whitespace) => Ok(()),
            _ => Err(XmlError::new(if self.depth == 0 {
                "text outside the root element"
            } else {
                "text directly inside the root element"
            })),
        }
    }

    fn finish(self) -> Result<FlatDocument, XmlError> {
        if !self.seen_root {
            return Err(XmlError::new(
                "no root element (empty or truncated document)",
            ));
        }
        if self.depth > 0 {
            let open = self.child.as_ref().map_or(&self.doc.root, |c| &c.0);
            return Err(XmlError::new(format!(
                "truncated: <{}> is not closed",
                clip(open)
            )));
        }
        Ok(self.doc)
    }
}

fn is_xml_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// At most 80 characters of `s`, for error messages that quote the input.
fn clip(s: &str) -> String {
    const MAX: usize = 80;
    match s.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_owned(),
    }
}

/// Renders an OSS error body in OSS's layout, every value escaped:
///
/// ```text
/// <?xml version="1.0" encoding="UTF-8"?>
/// <Error>
///   <Code>…</Code>
///   <Message>…</Message>
///   <RequestId>…</RequestId>
///   <HostId>…</HostId>
///   <ServerTime>…</ServerTime>      (when known)
///   <StringToSign>…</StringToSign>  (each detail, in order)
///   <EC>…</EC>
/// </Error>
/// ```
///
/// `RequestId`, `HostId` and `EC` are written only when known. Details whose names cannot be element
/// names, or that repeat a field written above, are left out. [`parse_flat`] reads the result back.
pub fn error_document(error: &ServiceError) -> String {
    const FIELDS: [&str; 6] = ["Code", "Message", "RequestId", "HostId", "ServerTime", "EC"];
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n");
    let mut element = |name: &str, value: &str| {
        out.push_str("  <");
        out.push_str(name);
        out.push('>');
        out.push_str(&escape(value));
        out.push_str("</");
        out.push_str(name);
        out.push_str(">\n");
    };
    element("Code", &error.code);
    element("Message", &error.message);
    if let Some(id) = &error.request_id {
        element("RequestId", id);
    }
    if let Some(host) = &error.host_id {
        element("HostId", host);
    }
    if let Some(time) = &error.server_time {
        element("ServerTime", time);
    }
    for (name, value) in &error.details {
        if is_element_name(name) && !FIELDS.contains(&name.as_str()) {
            element(name, value);
        }
    }
    if let Some(ec) = &error.ec {
        element("EC", ec);
    }
    out.push_str("</Error>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::XorShift;

    fn children(doc: &FlatDocument) -> Vec<(&str, &str)> {
        doc.children
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn line_ends_normalise_as_the_std_replacements_do() {
        for raw in [
            "",
            "a",
            "\r",
            "\n",
            "\r\n",
            "\n\r",
            "\r\r\n",
            "a\r\nb\rc\n\rd",
            "\r\n\r\n\r",
        ] {
            assert_eq!(
                normalize_line_ends(raw),
                raw.replace("\r\n", "\n").replace('\r', "\n"),
                "{raw:?}"
            );
        }
    }

    fn reason(xml: &[u8]) -> String {
        parse_flat(xml).expect_err("must be rejected").to_string()
    }

    #[test]
    fn escape_covers_markup_quotes_cr_and_illegal_characters() {
        assert_eq!(
            escape("a<b>&\"c'\r\n\td\u{1}\u{FFFF}中"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#13;\n\td\u{FFFD}\u{FFFD}中"
        );
        assert_eq!(escape(""), "");
    }

    #[test]
    fn reads_entities_cdata_comments_whitespace_and_namespaces() {
        let xml = "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- lead -->\n\
            <oss:Error xmlns:oss=\"http://doc.oss-cn-hangzhou.aliyuncs.com\" a='1'>\r\n  \
            <Code>A&amp;B &lt;&gt;&quot;&apos; &#x4E2D;&#25991;&#13;</Code>\n  \
            <Message><![CDATA[raw <b>&amp;</b>]]> and <!-- c --> text</Message>\n  \
            <?pi ignored?><Empty/><Blank></Blank>\n  <Lines>one\r\ntwo</Lines>\n\
            </oss:Error>\n<!-- trail -->\n";
        let doc = parse_flat(xml.as_bytes()).unwrap();
        assert_eq!(doc.root, "Error");
        assert_eq!(
            children(&doc),
            [
                ("Code", "A&B <>\"' 中文\r"),
                ("Message", "raw <b>&amp;</b> and  text"),
                ("Empty", ""),
                ("Blank", ""),
                ("Lines", "one\ntwo"),
            ]
        );
        assert_eq!(doc.get("Empty"), Some(""));
        assert_eq!(doc.get("Missing"), None);
    }

    #[test]
    fn empty_root_and_nested_children() {
        let doc = parse_flat(b"<Error/>").unwrap();
        assert_eq!((doc.root.as_str(), doc.children.len()), ("Error", 0));
        let doc = parse_flat(b"<R><A>\n  <B>x</B>\n  <C>y<D/></C>\n</A><E>e</E></R>").unwrap();
        assert_eq!(children(&doc), [("A", "x\n  y"), ("E", "e")]);
    }

    #[test]
    fn rejects_malformed_input_with_clear_reasons() {
        let cases: [(&[u8], &str); 14] = [
            (b"", "no root element"),
            (b"   \n", "no root element"),
            (b"<Error><Code>x</Code>", "truncated: <Error> is not closed"),
            (b"<Error><Code>x", "truncated: <Code> is not closed"),
            (b"<Error><Code>x</Cod></Error>", "ill-formed"),
            (b"<Error></Error><Error/>", "a second root element <Error>"),
            (b"Not Found", "text outside the root element"),
            (
                b"<Error>junk<Code/></Error>",
                "text directly inside the root element",
            ),
            (
                b"<Error>&amp;</Error>",
                "text directly inside the root element",
            ),
            (b"<E><C>&nbsp;</C></E>", "undefined entity &nbsp;"),
            (b"<E><C>&#0;</C></E>", "invalid character reference &#0;"),
            (b"<E><C>a & b</C></E>", "malformed XML"),
            (b"<E><C>\xff</C></E>", "not UTF-8 (invalid byte at 6)"),
            (b"<E><C attr=\"x></C></E>", "malformed XML"),
        ];
        for (xml, want) in cases {
            let got = reason(xml);
            assert!(
                got.contains(want),
                "{:?}: {got}",
                String::from_utf8_lossy(xml)
            );
        }
    }

    #[test]
    fn hostile_documents_hit_limits_not_resources() {
        let laughs = concat!(
            "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">",
            "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">",
            "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>",
            "<Error><Code>&lol3;</Code></Error>"
        );
        assert!(reason(laughs.as_bytes()).contains("DOCTYPE"));
        // Without a DOCTYPE the entity is simply unknown.
        assert!(reason(b"<Error><Code>&lol3;</Code></Error>").contains("undefined entity"));

        let deep = "<a>".repeat(100_000);
        assert!(reason(deep.as_bytes()).contains("over the 65536-byte limit"));
        let deep = format!("{}{}", "<a>".repeat(9), "</a>".repeat(9));
        assert!(reason(deep.as_bytes()).contains("nested deeper than 8 levels"));
        let eight = format!("{}x{}", "<a>".repeat(8), "</a>".repeat(8));
        assert!(parse_flat(eight.as_bytes()).is_ok());

        let many = format!("<R>{}</R>", "<C/>".repeat(257));
        assert!(reason(many.as_bytes()).contains("more than 256 children in <R>"));
        let ok = format!("<R>{}</R>", "<C/>".repeat(256));
        assert_eq!(parse_flat(ok.as_bytes()).unwrap().children.len(), 256);

        let tight = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(parse_flat_with(b"<Error></Error>", &tight)
            .unwrap_err()
            .reason()
            .contains("15 bytes, over the 10-byte limit"));

        // Quoted names are clipped, so a huge name cannot make a huge message.
        let name = "N".repeat(1000);
        let second = format!("<a/><{name}/>");
        assert!(reason(second.as_bytes()).len() < 200);
    }

    fn sample_error() -> ServiceError {
        ServiceError {
            status: 403,
            code: "SignatureDoesNotMatch".into(),
            message:
                "The request signature we calculated does not match the signature you provided. \
                      Check your key and signing method."
                    .into(),
            request_id: Some("65DA19AE09E59839308E9C36".into()),
            host_id: Some("examplebucket.oss-cn-hangzhou.aliyuncs.com".into()),
            ec: Some("0002-00000040".into()),
            server_time: None,
            next_append_position: None,
            crc64: None,
            details: vec![
                ("OSSAccessKeyId".into(), "LTAI5tExampleKeyId".into()),
                (
                    "StringToSign".into(),
                    "POST\n\n\nWed, 28 Dec 2022 10:27:41 GMT\n/b/k?append&position=0".into(),
                ),
            ],
        }
    }

    #[test]
    fn error_document_has_oss_layout() {
        let mut e = sample_error();
        e.details[1].1 = "a<&>\"'b".into();
        e.server_time = Some("2024-01-02T03:04:05.000Z".into());
        assert_eq!(
            error_document(&e),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  \
             <Code>SignatureDoesNotMatch</Code>\n  \
             <Message>The request signature we calculated does not match the signature you provided. \
             Check your key and signing method.</Message>\n  \
             <RequestId>65DA19AE09E59839308E9C36</RequestId>\n  \
             <HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>\n  \
             <ServerTime>2024-01-02T03:04:05.000Z</ServerTime>\n  \
             <OSSAccessKeyId>LTAI5tExampleKeyId</OSSAccessKeyId>\n  \
             <StringToSign>a&lt;&amp;&gt;&quot;&apos;b</StringToSign>\n  \
             <EC>0002-00000040</EC>\n</Error>\n"
        );
        let minimal = ServiceError {
            status: 404,
            code: "NoSuchKey".into(),
            message: "The specified key does not exist.".into(),
            ..ServiceError::default()
        };
        assert_eq!(
            error_document(&minimal),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>NoSuchKey</Code>\n  \
             <Message>The specified key does not exist.</Message>\n</Error>\n"
        );
    }

    #[test]
    fn error_document_round_trips_through_the_parser() {
        let mut e = sample_error();
        e.details
            .push(("Weird".into(), " lead & trail \r\n\t<x> ]]> 中 ".into()));
        e.details.push(("Empty".into(), String::new()));
        e.details.push(("bad name".into(), "dropped".into()));
        e.details.push(("Code".into(), "duplicate, dropped".into()));
        let doc = parse_flat(error_document(&e).as_bytes()).unwrap();
        assert_eq!(doc.root, "Error");
        assert_eq!(
            children(&doc),
            [
                ("Code", e.code.as_str()),
                ("Message", e.message.as_str()),
                ("RequestId", "65DA19AE09E59839308E9C36"),
                ("HostId", "examplebucket.oss-cn-hangzhou.aliyuncs.com"),
                ("OSSAccessKeyId", "LTAI5tExampleKeyId"),
                ("StringToSign", e.details[1].1.as_str()),
                ("Weird", " lead & trail \r\n\t<x> ]]> 中 "),
                ("Empty", ""),
                ("EC", "0002-00000040"),
            ]
        );
    }

    #[test]
    fn never_panics_on_truncated_mutated_or_random_input() {
        let doc = error_document(&sample_error()).into_bytes();
        for end in 0..doc.len() - 1 {
            // Every prefix short of `</Error>` ends inside the root element: never a document.
            assert!(parse_flat(&doc[..end]).is_err(), "prefix of {end} bytes");
        }
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let alphabet = b"<>/&;#x!-[]?=\"' \nabAB01CDATA";
        for round in 0..20_000 {
            let len = (rng.next() % 96) as usize;
            let input: Vec<u8> = if round % 2 == 0 {
                (0..len).map(|_| rng.next() as u8).collect()
            } else {
                (0..len)
                    .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
                    .collect()
            };
            let _ = parse_flat(&input);
            let mut mutated = doc.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() % mutated.len() as u64) as usize;
                mutated[at] = alphabet[(rng.next() % alphabet.len() as u64) as usize];
            }
            let _ = parse_flat(&mutated);
        }
    }
}

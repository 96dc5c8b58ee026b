//! Content-Type from an object key's extension: a compact table of common web, media, document and archive types.

/// The Content-Type for a file extension (without the dot, any case), or `None` when it is not in the table.
///
/// Values follow the `mime` package that ali-oss uses, except where browsers and current RFCs settled on
/// another name (`.js` is `text/javascript`, RFC 9239).
pub(crate) fn from_extension(ext: &str) -> Option<&'static str> {
    // No extension in the table is longer than this; longer input cannot match and is not lower-cased.
    const LONGEST: usize = 8;
    if ext.is_empty() || ext.len() > LONGEST {
        return None;
    }
    let lower = ext.to_ascii_lowercase();
    extensions()
        .iter()
        .find(|(e, _)| *e == lower)
        .map(|(_, content_type)| *content_type)
}

/// Every `(extension, type)` pair of [`TYPES`], split out on first use: every append looks its key up, and
/// comparing against short words is many times cheaper than rescanning the text.
fn extensions() -> &'static [(&'static str, &'static str)] {
    static PAIRS: std::sync::OnceLock<Vec<(&str, &str)>> = std::sync::OnceLock::new();
    PAIRS.get_or_init(|| {
        let mut pairs = Vec::new();
        for line in TYPES.split_terminator('\n') {
            let mut words = line.split(' ');
            let content_type = words.next().unwrap_or_default();
            pairs.extend(words.map(|ext| (ext, content_type)));
        }
        pairs
    })
}

/// One line per Content-Type: the type, then its extensions (lower case), separated by spaces. Text
/// rather than a `match`, whose string comparisons compile to several times the size in wasm.
const TYPES: &str = concat!(
    // Video
    "video/webm webm\n",
    "video/mp4 mp4 m4v mp4v mpg4\n",
    "video/quicktime mov qt\n",
    "video/x-matroska mkv\n",
    "video/x-msvideo avi\n",
    "video/ogg ogv\n",
    "video/mpeg mpeg mpg\n",
    "video/mp2t ts m2ts\n",
    "video/3gpp 3gp\n",
    "video/x-flv flv\n",
    "video/x-ms-wmv wmv\n",
    "application/vnd.apple.mpegurl m3u8\n",
    "application/dash+xml mpd\n",
    // Audio
    "audio/webm weba\n",
    "audio/mp4 m4a mp4a\n",
    "audio/mpeg mp3\n",
    "audio/ogg ogg oga opus spx\n",
    "audio/wav wav\n",
    "audio/flac flac\n",
    "audio/aac aac\n",
    "audio/midi mid midi\n",
    "audio/amr amr\n",
    // Images
    "image/png png\n",
    "image/jpeg jpg jpeg jpe\n",
    "image/gif gif\n",
    "image/svg+xml svg svgz\n",
    "image/webp webp\n",
    "image/avif avif\n",
    "image/heic heic\n",
    "image/heif heif\n",
    "image/bmp bmp\n",
    "image/vnd.microsoft.icon ico\n",
    "image/tiff tif tiff\n",
    // Text and web
    "text/plain txt text log conf ini\n",
    "text/html html htm shtml\n",
    "text/css css\n",
    "text/javascript js mjs cjs\n",
    "text/csv csv\n",
    "text/tab-separated-values tsv\n",
    "text/markdown md markdown\n",
    "text/vtt vtt\n",
    "application/x-subrip srt\n",
    "text/yaml yaml yml\n",
    "application/xml xml\n",
    "application/json json map\n",
    "application/ld+json jsonld\n",
    "application/x-ndjson ndjson\n",
    "application/wasm wasm\n",
    // Documents
    "application/pdf pdf\n",
    "application/rtf rtf\n",
    "application/msword doc\n",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document docx\n",
    "application/vnd.ms-excel xls\n",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet xlsx\n",
    "application/vnd.ms-powerpoint ppt\n",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation pptx\n",
    "application/vnd.oasis.opendocument.text odt\n",
    "application/vnd.oasis.opendocument.spreadsheet ods\n",
    "application/epub+zip epub\n",
    // Archives
    "application/zip zip\n",
    "application/gzip gz tgz\n",
    "application/x-tar tar\n",
    "application/x-bzip2 bz2\n",
    "application/x-xz xz\n",
    "application/zstd zst\n",
    "application/x-7z-compressed 7z\n",
    "application/vnd.rar rar\n",
    // Fonts
    "font/woff woff\n",
    "font/woff2 woff2\n",
    "font/ttf ttf\n",
    "font/otf otf\n",
    // Binary
    "application/octet-stream bin exe dll iso dmg\n",
);

/// The Content-Type for an object key (or a file name) from its last extension, or `None`.
///
/// Only the last path segment counts, and as in Node's `path.extname` a leading dot does not start an
/// extension: `rec/a.webm` and `a.tar.gz` have one, `.gz`, `dir.d/file` and `file.` do not.
pub(crate) fn from_key(key: &str) -> Option<&'static str> {
    // Byte searches: `str`'s backward search adds to the wasm for two ASCII characters.
    let base = &key[key
        .bytes()
        .rposition(|b| b == b'/')
        .map_or(0, |slash| slash + 1)..];
    match base.bytes().rposition(|b| b == b'.') {
        Some(dot) if dot > 0 => from_extension(&base[dot + 1..]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_by_their_last_extension() {
        let cases = [
            ("rec/a.webm", Some("video/webm")),
            ("a.mp4", Some("video/mp4")),
            ("voice.m4a", Some("audio/mp4")),
            ("song.MP3", Some("audio/mpeg")),
            ("a.ogg", Some("audio/ogg")),
            ("a.wav", Some("audio/wav")),
            ("data.json", Some("application/json")),
            ("notes.txt", Some("text/plain")),
            ("index.HTML", Some("text/html")),
            ("site.css", Some("text/css")),
            ("app.js", Some("text/javascript")),
            ("p.png", Some("image/png")),
            ("p.JPG", Some("image/jpeg")),
            ("p.jpeg", Some("image/jpeg")),
            ("p.gif", Some("image/gif")),
            ("p.svg", Some("image/svg+xml")),
            ("doc.pdf", Some("application/pdf")),
            ("a.zip", Some("application/zip")),
            ("a.tar.gz", Some("application/gzip")),
            ("t.csv", Some("text/csv")),
            ("logs/2024-01-01.log", Some("text/plain")),
            ("x.wasm", Some("application/wasm")),
            ("a.woff2", Some("font/woff2")),
            ("unknown.xyz", None),
            ("noext", None),
            (".gz", None),
            ("dir/.hidden", None),
            ("dir.d/file", None),
            ("file.", None),
            ("a.verylongextension", None),
            ("", None),
            ("dir/", None),
        ];
        for (key, want) in cases {
            assert_eq!(from_key(key), want, "{key}");
        }
    }

    #[test]
    fn every_extension_in_the_table_names_its_own_type_and_no_prefix_matches() {
        for line in TYPES.lines() {
            let mut words = line.split(' ');
            let content_type = words.next().unwrap();
            assert!(content_type.contains('/'), "{line}");
            for ext in words {
                assert!(ext.len() <= 8 && ext == ext.to_ascii_lowercase(), "{ext}");
                assert_eq!(from_extension(ext), Some(content_type), "{ext}");
                // Parts of an extension or of a type are not extensions.
                if !TYPES.contains(&format!(" {} ", &ext[..ext.len() - 1]))
                    && !TYPES.contains(&format!(" {}\n", &ext[..ext.len() - 1]))
                {
                    assert_eq!(from_extension(&ext[..ext.len() - 1]), None, "{ext}");
                }
            }
            for part in content_type.split(['/', '+', '.', '-']) {
                if !TYPES.contains(&format!(" {part} ")) && !TYPES.contains(&format!(" {part}\n")) {
                    assert_eq!(from_extension(part), None, "{part}");
                }
            }
        }
    }

    #[test]
    fn extensions_are_case_insensitive() {
        assert_eq!(from_extension("WebM"), Some("video/webm"));
        assert_eq!(from_extension("webm"), from_extension("WEBM"));
        assert_eq!(from_extension(""), None);
        assert_eq!(from_extension("é"), None);
    }
}

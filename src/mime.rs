//! Content-Type from an object key's extension: a compact table of common web, media, document and archive types.

/// The Content-Type for a file extension (without the dot, any case), or `None` when it is not in the table.
///
/// Values follow the `mime` package that ali-oss uses, except where browsers and current RFCs settled on
/// another name (`.js` is `text/javascript`, RFC 9239).
pub fn from_extension(ext: &str) -> Option<&'static str> {
    // No extension in the table is longer than this; longer input cannot match and is not lower-cased.
    const LONGEST: usize = 8;
    if ext.is_empty() || ext.len() > LONGEST {
        return None;
    }
    let lower = ext.to_ascii_lowercase();
    Some(match lower.as_str() {
        // Video
        "webm" => "video/webm",
        "mp4" | "m4v" | "mp4v" | "mpg4" => "video/mp4",
        "mov" | "qt" => "video/quicktime",
        "mkv" => "video/x-matroska",
        "avi" => "video/x-msvideo",
        "ogv" => "video/ogg",
        "mpeg" | "mpg" => "video/mpeg",
        "ts" | "m2ts" => "video/mp2t",
        "3gp" => "video/3gpp",
        "flv" => "video/x-flv",
        "wmv" => "video/x-ms-wmv",
        "m3u8" => "application/vnd.apple.mpegurl",
        "mpd" => "application/dash+xml",
        // Audio
        "weba" => "audio/webm",
        "m4a" | "mp4a" => "audio/mp4",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" | "opus" | "spx" => "audio/ogg",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "aac" => "audio/aac",
        "mid" | "midi" => "audio/midi",
        "amr" => "audio/amr",
        // Images
        "png" => "image/png",
        "jpg" | "jpeg" | "jpe" => "image/jpeg",
        "gif" => "image/gif",
        "svg" | "svgz" => "image/svg+xml",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "bmp" => "image/bmp",
        "ico" => "image/vnd.microsoft.icon",
        "tif" | "tiff" => "image/tiff",
        // Text and web
        "txt" | "text" | "log" | "conf" | "ini" => "text/plain",
        "html" | "htm" | "shtml" => "text/html",
        "css" => "text/css",
        "js" | "mjs" | "cjs" => "text/javascript",
        "csv" => "text/csv",
        "tsv" => "text/tab-separated-values",
        "md" | "markdown" => "text/markdown",
        "vtt" => "text/vtt",
        "srt" => "application/x-subrip",
        "yaml" | "yml" => "text/yaml",
        "xml" => "application/xml",
        "json" | "map" => "application/json",
        "jsonld" => "application/ld+json",
        "ndjson" => "application/x-ndjson",
        "wasm" => "application/wasm",
        // Documents
        "pdf" => "application/pdf",
        "rtf" => "application/rtf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "epub" => "application/epub+zip",
        // Archives
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "tar" => "application/x-tar",
        "bz2" => "application/x-bzip2",
        "xz" => "application/x-xz",
        "zst" => "application/zstd",
        "7z" => "application/x-7z-compressed",
        "rar" => "application/vnd.rar",
        // Fonts
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        // Binary
        "bin" | "exe" | "dll" | "iso" | "dmg" => "application/octet-stream",
        _ => return None,
    })
}

/// The Content-Type for an object key (or a file name) from its last extension, or `None`.
///
/// Only the last path segment counts, and as in Node's `path.extname` a leading dot does not start an
/// extension: `rec/a.webm` and `a.tar.gz` have one, `.gz`, `dir.d/file` and `file.` do not.
pub fn from_key(key: &str) -> Option<&'static str> {
    let base = key.rsplit('/').next().unwrap_or(key);
    match base.rfind('.') {
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
    fn extensions_are_case_insensitive() {
        assert_eq!(from_extension("WebM"), Some("video/webm"));
        assert_eq!(from_extension("webm"), from_extension("WEBM"));
        assert_eq!(from_extension(""), None);
        assert_eq!(from_extension("é"), None);
    }
}

//! Input checks with messages that say what was wrong and what is accepted: names, positions, sizes, headers.

mod headers;
mod names;
mod numbers;
#[cfg(test)]
mod tests;

pub(crate) use headers::*;
pub(crate) use names::*;
pub(crate) use numbers::*;

/// A short, escaped, quoted rendering of user input for error messages; long input is cut so that a
/// huge value never ends up in a message.
pub(crate) fn preview(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut out = String::from("'");
    let mut chars = text.chars();
    for c in chars.by_ref().take(MAX_CHARS) {
        out.extend(c.escape_debug());
    }
    out.push('\'');
    if chars.next().is_some() {
        out.push_str(&format!("… ({} bytes in all)", text.len()));
    }
    out
}

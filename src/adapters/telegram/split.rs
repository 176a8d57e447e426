//! Long texts in parts Telegram accepts: a message holds at most 4 096 characters, a caption
//! 1 024 (<https://core.telegram.org/bots/api#sendmessage>). Telegram counts UTF-16 code units
//! (its entity offsets do), so isobot does too. A text is cut after the last line break that
//! fits; a single line longer than a part is cut at the last space, else anywhere (never inside
//! a character).

/// Longest message text.
pub const TEXT_MAX: usize = 4096;
/// Longest media caption.
pub const CAPTION_MAX: usize = 1024;

/// Length as Telegram counts it.
pub fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `text` in parts of at most `max` UTF-16 units (`max` at least 2). A text that fits is one
/// part; an empty text is one empty part.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let max = max.max(2);
    let mut parts = Vec::new();
    let mut rest = text;
    while units(rest) > max {
        let end = byte_limit(rest, max);
        let head = &rest[..end];
        // Prefer a line break, then a space, inside the part (not at its very start).
        let cut = head
            .rfind('\n')
            .filter(|&i| i > 0)
            .map(|i| (i, i + 1))
            .or_else(|| head.rfind(' ').filter(|&i| i > 0).map(|i| (i, i + 1)))
            .unwrap_or((end, end));
        parts.push(rest[..cut.0].to_string());
        rest = &rest[cut.1..];
    }
    parts.push(rest.to_string());
    parts
}

/// The byte length of the longest prefix of `s` that is at most `max` UTF-16 units.
fn byte_limit(s: &str, max: usize) -> usize {
    let mut count = 0;
    for (i, c) in s.char_indices() {
        count += c.len_utf16();
        if count > max {
            return i;
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_table() {
        let cases: Vec<(&str, usize, Vec<&str>)> = vec![
            ("short", 10, vec!["short"]),
            ("", 10, vec![""]),
            ("exactly10!", 10, vec!["exactly10!"]),
            (
                "line one\nline two\nline three",
                18,
                vec!["line one\nline two", "line three"],
            ),
            ("aaaa bbbb cccc", 10, vec!["aaaa bbbb", "cccc"]),
            ("abcdefghijklmnop", 5, vec!["abcde", "fghij", "klmno", "p"]),
            // Emoji are two units each; never split inside one.
            ("😀😀😀", 4, vec!["😀😀", "😀"]),
            ("😀😀😀", 3, vec!["😀", "😀", "😀"]),
            ("\nabc", 2, vec!["\na", "bc"]),
            ("ab\n\ncd", 3, vec!["ab", "\ncd"]),
        ];
        for (text, max, want) in cases {
            let got = split(text, max);
            assert_eq!(got, want, "{text:?} / {max}");
            assert!(got.iter().all(|p| units(p) <= max.max(2)), "{got:?}");
        }
    }

    #[test]
    fn a_long_text_keeps_every_line() {
        let line = "x".repeat(100);
        let text = vec![line.as_str(); 100].join("\n");
        let parts = split(&text, TEXT_MAX);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| units(p) <= TEXT_MAX));
        assert_eq!(
            parts.join("\n"),
            text,
            "only the line breaks at the cuts are gone"
        );
        assert!(parts.iter().all(|p| p.lines().all(|l| l == line)));
    }
}

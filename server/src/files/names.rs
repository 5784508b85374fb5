//! Step 1: the uploader's file name becomes safe metadata. Path parts, control characters, characters
//! that are special to file systems and reserved device names go (the `sanitize-filename` crate), and so
//! do invisible and direction-changing characters (which can make `exe.txt` display as `txt.exe`); the
//! name keeps one extension (inner dots become `_`, so `x.jpg.html` stays an `html` file) and at most
//! [`MAX_NAME_CHARS`] characters and [`MAX_NAME_BYTES`] bytes. The extension must then be on the
//! allow-list. The name is normalised (NFKC) first: compatibility forms such as the full-width
//! `．．／` become `../` before the path parts are taken, not after, on someone else's disk.

use app::model::{file_type_of, FileType, FILE_TYPES};

use super::{Rejection, Step};

/// The longest name kept (the extension included).
pub const MAX_NAME_CHARS: usize = 120;
/// The most bytes of UTF-8 a name keeps: what most file systems allow.
pub const MAX_NAME_BYTES: usize = 255;

/// Zero-width, joiner, direction and other format characters that change how a name reads.
fn invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// The name as Moth keeps it, or a rejection when nothing usable is left.
pub fn sanitise(raw: &str) -> Result<String, Rejection> {
    use unicode_normalization::UnicodeNormalization;
    let normalised: String = raw.nfkc().collect();
    // The last path part only, whichever separator the client used.
    let base = normalised.rsplit(['/', '\\']).next().unwrap_or_default();
    let visible: String = base.chars().filter(|c| !invisible(*c) && !c.is_control()).collect();
    let options = sanitize_filename::Options { truncate: false, windows: true, replacement: "" };
    let cleaned = sanitize_filename::sanitize_with_options(visible, options);
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let (stem, extension) = match cleaned.rsplit_once('.') {
        Some((stem, extension)) => (stem.replace('.', "_"), extension.to_ascii_lowercase()),
        None => (cleaned.clone(), String::new()),
    };
    let stem = stem.trim_matches([' ', '_', '-']).to_owned();
    if extension.is_empty() || extension.chars().any(|c| !c.is_ascii_alphanumeric()) {
        return Err(not_allowed());
    }
    let room = MAX_NAME_CHARS.saturating_sub(extension.len() + 1);
    let room_bytes = MAX_NAME_BYTES.saturating_sub(extension.len() + 1);
    let mut bytes = 0;
    let stem: String = stem
        .chars()
        .take(room)
        .take_while(|c| {
            bytes += c.len_utf8();
            bytes <= room_bytes
        })
        .collect();
    let stem = if stem.is_empty() { "file".to_owned() } else { stem };
    Ok(format!("{stem}.{extension}"))
}

/// The allowed type of a sanitised name.
pub fn allowed_type(name: &str) -> Result<&'static FileType, Rejection> {
    file_type_of(name).ok_or_else(not_allowed)
}

fn not_allowed() -> Rejection {
    let allowed: Vec<&str> = FILE_TYPES.iter().map(|t| t.extension).collect();
    Rejection::new(Step::Name, format!("This type of file is not accepted. Allowed: {}.", allowed.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_plain_ones() {
        assert_eq!(sanitise("../../etc/passwd.txt").expect("a name"), "passwd.txt");
        assert_eq!(sanitise("C:\\Users\\x\\report.PDF").expect("a name"), "report.pdf");
        assert_eq!(sanitise("a\r\nb\u{0}.png").expect("a name"), "ab.png");
        assert_eq!(sanitise("invoice\u{202E}gnp.exe.txt").expect("a name"), "invoicegnp_exe.txt");
        assert_eq!(sanitise("x.jpg.html").expect("a name"), "x_jpg.html");
        assert!(sanitise("CON.txt").map_or(true, |n| !n.to_ascii_lowercase().starts_with("con.")));
        assert_eq!(sanitise(&format!("{}.png", "a".repeat(1000))).expect("a name").chars().count(), MAX_NAME_CHARS);
        assert!(sanitise("noextension").is_err());
        // Full-width dots and slash: NFKC makes them a path, so they are a path and go.
        assert_eq!(sanitise("．．／．．／evil.txt").expect("a name"), "evil.txt");
        assert_eq!(sanitise("ｒｅｐｏｒｔ．ＰＤＦ").expect("a name"), "report.pdf");
        // 120 CJK characters are 360 bytes: cut at 255 bytes, on a character boundary.
        let long = sanitise(&format!("{}.txt", "漢".repeat(200))).expect("a name");
        assert!(long.len() <= MAX_NAME_BYTES && long.rsplit_once('.').is_some_and(|(_, e)| e == "txt"), "{long}");
        assert_eq!(long.chars().count(), (MAX_NAME_BYTES - 4) / 3 + 4);
        assert!(allowed_type(&sanitise("x.jpg.html").expect("a name")).is_err());
        assert!(allowed_type(&sanitise("shot.png").expect("a name")).is_ok());
    }
}

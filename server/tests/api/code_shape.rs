//! House rules that clippy cannot check: no function body in `app/src` or `server/src` (tests aside)
//! is longer than 80 lines. Clippy's `too_many_lines` skips Leptos `#[component]` functions (their
//! bodies come from a macro), which is where long functions grow.

const MAX_LINES: usize = 80;

fn rust_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `(name, first line, length)` of every function in `text` outside `#[cfg(test)]` modules: from
/// its `fn` line to the closing brace at the same indentation.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let tests_start = lines.iter().position(|l| l.trim() == "#[cfg(test)]").unwrap_or(lines.len());
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate().take(tests_start) {
        let trimmed = line.trim_start();
        let Some(rest) = [
            "pub fn ",
            "fn ",
            "pub async fn ",
            "async fn ",
            "pub(crate) fn ",
            "pub(crate) async fn ",
            "pub(super) fn ",
        ]
        .iter()
        .find_map(|p| trimmed.strip_prefix(p)) else {
            continue;
        };
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let indent = line.len() - trimmed.len();
        // The body opens on the signature's last line; a declaration without a body ends with `;`.
        let Some(open) =
            (i..lines.len()).find(|&j| lines[j].trim_end().ends_with('{') || lines[j].trim_end().ends_with(';'))
        else {
            continue;
        };
        if lines[open].trim_end().ends_with(';') {
            continue;
        }
        let close = (open + 1..lines.len()).find(|&j| {
            lines[j].len() - lines[j].trim_start().len() == indent && lines[j].trim_start().starts_with('}')
        });
        if let Some(close) = close {
            found.push((name, i + 1, close - i + 1));
        }
    }
    found
}

#[test]
fn no_function_is_longer_than_eighty_lines() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&root.join("app/src"), &mut files);
    rust_files(&root.join("server/src"), &mut files);
    assert!(files.len() > 40, "found only {} source files", files.len());
    let mut long = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source");
        for (name, line, length) in functions(&text) {
            if length > MAX_LINES {
                long.push(format!("{}:{line} {name}: {length} lines", file.display()));
            }
        }
    }
    assert!(long.is_empty(), "functions over {MAX_LINES} lines:\n{}", long.join("\n"));
}

#[test]
fn the_length_check_sees_a_long_function() {
    let body = "    let x = 1;\n".repeat(90);
    let text = format!("fn short() {{\n}}\n\n#[component]\nfn Long() -> impl IntoView {{\n{body}}}\n");
    let found = functions(&text);
    assert_eq!(found.iter().map(|(n, _, l)| (n.as_str(), *l)).collect::<Vec<_>>(), [("short", 2), ("Long", 92)]);
}

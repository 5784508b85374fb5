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

// ---- No circles between modules, no arrows down-to-up between floors ----

/// A module's path within its crate (`["db", "issues", "list"]`), from its file.
fn module_of(src: &std::path::Path, file: &std::path::Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("inside src").with_extension("");
    let mut path: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(path.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        path.pop();
    }
    path
}

/// The paths a file names through `crate::` and `super::` (in `use` trees and in code), resolved to
/// paths from the crate's root. Comments are skipped.
fn named_paths(module: &[String], is_mod_file: bool, text: &str) -> Vec<Vec<String>> {
    let code: String = text
        .lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    for (start, _) in code.match_indices("crate::").chain(code.match_indices("super::")) {
        if start > 0 && code[..start].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
            continue; // `$crate::`, `server::crate::` or the tail of `super::super::`
        }
        let mut base: Vec<String> = if code[start..].starts_with("crate::") {
            Vec::new()
        } else {
            // `super` of `a/b.rs` is `a`; of `a/b/mod.rs` (module `a::b`) also `a`.
            let mut base = module.to_vec();
            let _ = is_mod_file;
            base.pop();
            base
        };
        let mut rest = &code[start + code[start..].find("::").map_or(0, |i| i + 2)..];
        while let Some(tail) = rest.strip_prefix("super::") {
            base.pop();
            rest = tail;
        }
        expand(&base, rest, &mut found);
    }
    found
}

/// Expands a `use` tree (or a plain path) that starts at `rest`, below `base`.
fn expand(base: &[String], rest: &str, found: &mut Vec<Vec<String>>) {
    let mut path = base.to_vec();
    let mut rest = rest;
    loop {
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if name.is_empty() {
            if let Some(group) = rest.strip_prefix('{') {
                for item in top_level_items(group) {
                    expand(&path, item.trim(), found);
                }
            }
            break;
        }
        path.push(name.clone());
        rest = &rest[name.len()..];
        match rest.strip_prefix("::") {
            Some(tail) => rest = tail,
            None => break,
        }
    }
    found.push(path);
}

/// The comma-separated items of a `{...}` group (whose `{` is already taken), up to its `}`.
fn top_level_items(group: &str) -> Vec<&str> {
    let (mut depth, mut from, mut items) = (0_usize, 0, Vec::new());
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[from..i]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    items
}

/// The module graph of one crate: an arrow from each module to each other module it names, except
/// between a module and its own ancestors or descendants (a module and its parts are one unit).
/// Only modules that name another are keys.
fn module_graph(src: &std::path::Path) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: std::collections::BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    let mut arrows = std::collections::BTreeSet::<(String, String)>::new();
    for file in &files {
        let module = module_of(src, file);
        let is_mod = file.file_name().is_some_and(|n| n == "mod.rs");
        let text = std::fs::read_to_string(file).expect("source");
        for path in named_paths(&module, is_mod, &text) {
            // The longest prefix of the path that is a module.
            let Some(target) = (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains(p)) else {
                continue;
            };
            let related = target.starts_with(&module) || module.starts_with(&target);
            if !related {
                // Seen from their nearest common parent: a folder and everything in it is one unit,
                // so `a::b::c` naming `a::d` is an arrow `a::b` -> `a::d`.
                let common = module.iter().zip(&target).take_while(|(x, y)| x == y).count();
                arrows.insert((module[..=common].join("::"), target[..=common].join("::")));
            }
        }
    }
    let mut graph = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    for (from, to) in arrows {
        graph.entry(from).or_default().insert(to);
    }
    graph
}

/// The circles of a graph: each group of two or more modules that reach one another.
fn circles(graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>) -> Vec<Vec<String>> {
    let reaches = |from: &str| {
        let mut seen = std::collections::BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(m) = stack.pop() {
            for next in graph.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reach: std::collections::BTreeMap<&String, _> = graph.keys().map(|m| (m, reaches(m))).collect();
    let mut groups: Vec<Vec<String>> = Vec::new();
    for m in graph.keys() {
        if groups.iter().any(|g| g.contains(m)) || !reach[m].contains(m) {
            continue;
        }
        let group: Vec<String> =
            graph.keys().filter(|o| reach[m].contains(*o) && reach[*o].contains(m)).cloned().collect();
        groups.push(group);
    }
    groups
}

/// The floors of the server, lowest first: a module may name modules of its own floor or below,
/// never above. Rules and values at the bottom; the data layer; settings and the machinery a request
/// uses (files, mail, bans); the service and the long-running subsystems it drives (backups,
/// exports); the router, the command line and start-up on top. A new top-level module must be
/// given a floor here (the test fails until it is).
const SERVER_FLOORS: [&[&str]; 5] = [
    &["actor", "policy", "markdown", "clock", "digest", "metrics", "spreadsheet", "access_token", "signed", "machine"],
    &["db"],
    &["config", "files", "mail", "bans", "password", "error", "cluster"],
    &["backup", "export", "service", "notify", "webhooks", "sso"],
    &["http", "cli", "startup", "sweeper"],
];

fn floor_of(module: &str) -> Option<usize> {
    let top = module.split("::").next().unwrap_or_default();
    SERVER_FLOORS.iter().position(|floor| floor.contains(&top))
}

/// Top-level modules of the server with no floor (`lib` and `main`, the crate's roots, aside).
fn without_floor(graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>) -> Vec<String> {
    graph
        .iter()
        .flat_map(|(from, to)| std::iter::once(from).chain(to))
        .filter(|m| !m.is_empty() && floor_of(m).is_none())
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn no_module_names_another_in_a_circle_or_a_floor_above_its_own() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut problems = Vec::new();
    for src in ["app/src", "server/src"] {
        let graph = module_graph(&root.join(src));
        assert!(graph.len() > 5, "{src}: found only {} modules naming others", graph.len());
        for circle in circles(&graph) {
            problems.push(format!("{src}: a circle: {}", circle.join(" <-> ")));
        }
        if src == "server/src" {
            for module in without_floor(&graph) {
                problems.push(format!("{src}: {module} has no floor in SERVER_FLOORS"));
            }
            for (from, targets) in &graph {
                for to in targets {
                    if let (Some(a), Some(b)) = (floor_of(from), floor_of(to)) {
                        if b > a {
                            problems.push(format!("{src}: {from} (floor {a}) names {to} (floor {b})"));
                        }
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "module graph:\n{}", problems.join("\n"));
}

#[test]
fn the_graph_check_sees_a_circle_and_resolves_use_trees() {
    let found = named_paths(
        &["db".to_owned(), "issues".to_owned()],
        false,
        "use super::{scope::Statement, Db};\nuse crate::{files::{store, crypto::Keys}, actor::Actor};",
    );
    let found: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    for expected in ["db::scope::Statement", "db::Db", "files::store", "files::crypto::Keys", "actor::Actor"] {
        assert!(found.contains(&expected.to_owned()), "{expected} in {found:?}");
    }
    let graph = [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec!["a"])]
        .into_iter()
        .map(|(m, to)| (m.to_owned(), to.into_iter().map(str::to_owned).collect()))
        .collect();
    assert_eq!(circles(&graph), vec![vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]]);
}

/// Every line of `server/src`: `(its file's path from there, its line number, its text)`.
fn server_source_lines() -> Vec<(String, usize, String)> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut lines = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("inside src").to_string_lossy().into_owned();
        let text = std::fs::read_to_string(file).expect("source");
        lines.extend(text.lines().enumerate().map(|(n, line)| (relative.clone(), n + 1, line.to_owned())));
    }
    assert!(lines.len() > 10_000, "read only {} lines of server/src", lines.len());
    lines
}

/// Every 500 of the server is logged once with its cause: its internal errors become one only
/// through `error::internal` or `ServiceError` (both in `error.rs`, both logging), and only the
/// router's answer for a session `tower-sessions` could not save (which it logs) is made elsewhere.
#[test]
fn every_internal_error_is_made_where_it_is_logged() {
    let unlogged: Vec<String> = server_source_lines()
        .into_iter()
        .filter(|(file, _, line)| {
            let made_here = line.contains("AppError::internal()") || line.contains("ErrorCode::Internal");
            let allowed = file == "error.rs" || (file == "http/mod.rs" && line.contains("ErrorCode::Internal"));
            made_here && !allowed
        })
        .map(|(file, n, line)| format!("server/src/{file}:{n}: {}", line.trim()))
        .collect();
    assert!(unlogged.is_empty(), "500s made outside error.rs, perhaps not logged:\n{}", unlogged.join("\n"));
}

/// A request's transaction begins only through `Db::begin_write`, which begins it in a
/// task of their own so that a cancelled request cannot leave a pooled connection inside a
/// transaction. The doors that begin on a connection they hold themselves (the group-commit writer,
/// the statistics refresh, the backup dump) run in tasks no request cancels.
#[test]
fn every_pooled_transaction_begins_through_the_data_layer() {
    let beside: Vec<String> = server_source_lines()
        .into_iter()
        .filter(|(file, _, line)| (line.contains("pool().begin") || line.contains("pool.begin")) && file != "db/mod.rs")
        .map(|(file, n, line)| format!("server/src/{file}:{n}: {}", line.trim()))
        .collect();
    assert!(beside.is_empty(), "transactions begun on the pool beside Db::begin_write:\n{}", beside.join("\n"));
}

//! The pipeline as data, and a test that holds the code to it: every module may import only
//! from its own stage and from earlier ones (the bottom layer first), never from a later one.
//! The book's "How gob is built" page (docs/src/internals.md) describes each stage in this order.

/// Stages in pipeline order. A module of stage `i` may import from stages `0..=i`.
const STAGES: &[&[&str]] = &[
    // The bottom layer: leaf types and helpers, then every fact about the go command.
    &["base"],
    &["go"],
    // A client of Remote Execution API servers (the remote cache, remote test runs).
    &["reapi"],
    // Programs go itself starts (GOCACHEPROG, -exec, -vettool); they import only the bottom.
    &["cacheprog", "testexec", "vettool"],
    &["manifest"],
    &["workspace"],
    &["budget"],
    &["plan"],
    &["exec"],
    &["runners"],
    &["report", "analyze"],
    // The boundary: the command line and the error every command ends with.
    &["cli", "error"],
    &["commands"],
    &["main"],
];

/// The stage of a top-level module name.
fn stage_of(module: &str) -> Option<usize> {
    STAGES.iter().position(|s| s.contains(&module))
}

/// The top-level module of a file under `src/` (`plan/test.rs` → `plan`, `cli.rs` → `cli`).
fn module_of(relative: &std::path::Path) -> String {
    let first = relative.components().next().unwrap();
    let name = first.as_os_str().to_string_lossy();
    name.trim_end_matches(".rs").to_string()
}

/// Every top-level module a file's code names as `crate::X` (tests included).
fn imports(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn imports_flow_one_way_through_the_stages() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = module_of(relative);
        if module == "layers" {
            continue;
        }
        let own = stage_of(&module)
            .unwrap_or_else(|| panic!("{}: module `{module}` is in no stage", relative.display()));
        let text = std::fs::read_to_string(file).unwrap();
        for used in imports(&text) {
            let Some(theirs) = stage_of(&used) else {
                continue;
            };
            if theirs > own {
                wrong.push(format!("{} → crate::{used}", relative.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports from an earlier stage to a later one:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_top_level_module_is_in_a_stage() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).unwrap().flatten() {
        let module = module_of(std::path::Path::new(&entry.file_name()));
        assert!(
            module == "layers" || stage_of(&module).is_some(),
            "src/{module} is in no stage of src/layers.rs"
        );
    }
}

/// The module path of a file under `src/` (`plan/test.rs` → `plan::test`, `plan/mod.rs` →
/// `plan`, `main.rs` → ``).
fn module_path(relative: &std::path::Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "main")) {
        parts.pop();
    }
    parts
}

/// The file under `src` that holds the longest prefix of module path `path`, if any.
fn file_of(src: &std::path::Path, path: &[String]) -> Option<std::path::PathBuf> {
    (1..=path.len()).rev().find_map(|n| {
        let dir = src.join(path[..n].join("/"));
        [dir.with_extension("rs"), dir.join("mod.rs")]
            .into_iter()
            .find(|f| f.is_file())
    })
}

/// The module paths a file's text names through `crate::` and `super::` (brace groups
/// expanded), each as absolute segments.
fn named_paths(text: &str, own: &[String]) -> Vec<Vec<String>> {
    let ident = |s: &str| -> usize {
        s.char_indices()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
            .map_or(s.len(), |(i, _)| i)
    };
    // Expands `a::b::{c, d::e}` at the start of `rest` into paths below `base`.
    fn expand(
        rest: &str,
        base: Vec<String>,
        ident: &dyn Fn(&str) -> usize,
        out: &mut Vec<Vec<String>>,
    ) {
        let mut path = base;
        let mut rest = rest;
        loop {
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 0;
                let mut start = 0;
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            expand(group[start..i].trim(), path.clone(), ident, out);
                            return;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            expand(group[start..i].trim(), path.clone(), ident, out);
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                return;
            }
            let n = ident(rest);
            if n == 0 {
                break;
            }
            path.push(rest[..n].to_string());
            match rest[n..].strip_prefix("::") {
                Some(more) => rest = more,
                None => break,
            }
        }
        out.push(path);
    }
    let mut out = Vec::new();
    let parent = own[..own.len().saturating_sub(1)].to_vec();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut rest = text;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            expand(rest, base.clone(), &ident, &mut out);
        }
    }
    out
}

#[test]
fn no_two_files_import_each_other_even_through_others() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let index: std::collections::HashMap<&std::path::PathBuf, usize> =
        files.iter().enumerate().map(|(i, f)| (f, i)).collect();
    let mut edges: Vec<std::collections::BTreeSet<usize>> = vec![Default::default(); files.len()];
    for (i, file) in files.iter().enumerate() {
        let relative = file.strip_prefix(&src).unwrap();
        let own = module_path(relative);
        let text = std::fs::read_to_string(file).unwrap();
        // A file's inline test module is the file itself; its tests may use anything.
        let text = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or(&text);
        for path in named_paths(text, &own) {
            if let Some(target) = file_of(&src, &path)
                && let Some(&j) = index.get(&target)
                && j != i
            {
                edges[i].insert(j);
            }
        }
    }
    let circles = strongly_connected(&edges);
    let names: Vec<String> = circles
        .iter()
        .map(|c| {
            let files: Vec<String> = c
                .iter()
                .map(|&i| files[i].strip_prefix(&src).unwrap().display().to_string())
                .collect();
            files.join(" ↔ ")
        })
        .collect();
    assert!(
        names.is_empty(),
        "files that import each other:\n{}",
        names.join("\n")
    );
}

/// The strongly connected components of more than one node (Tarjan).
fn strongly_connected(edges: &[std::collections::BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        edges: &'a [std::collections::BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in s.edges[v].clone().iter() {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                _ => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let n = edges.len();
    let mut state = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if state.index[v].is_none() {
            visit(&mut state, v);
        }
    }
    state.out
}

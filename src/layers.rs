//! The pipeline as data, and a test that holds the code to it: every module may import only
//! from its own stage and from earlier ones (the bottom layer first), never from a later one.
//! README.md's Layout section describes each stage in this order.

/// Stages in pipeline order. A module of stage `i` may import from stages `0..=i`.
const STAGES: &[&[&str]] = &[
    // The bottom layer: leaf types and helpers, then every fact about the go command.
    &["base"],
    &["go"],
    // A client of Remote Execution API servers (the remote cache, remote test runs).
    &["reapi"],
    // Programs go itself starts (GOCACHEPROG, -exec); they import only the bottom.
    &["cacheprog", "testexec"],
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

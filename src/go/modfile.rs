//! The directories a `go.mod` or `go.work` points go at: a `replace` whose target is a
//! directory (`replace example.com/x => ../x`) and a `use` of a module dir. go reads those
//! modules' files as it reads the workspace's, wherever they are.
//!
//! A target is a directory when it is `.`, `..`, or starts with `./`, `../` or `/`
//! (`modfile.IsDirectoryPath` in golang.org/x/mod/modfile/rule.go); anything else is a module
//! path with a version. Paths may be quoted (`"…"` or `` `…` ``); `//` starts a comment.

/// The directory paths `text` (a go.mod or go.work) names in `replace` and `use`
/// directives, as written (relative to the file's dir unless absolute).
pub fn local_dirs(text: &str) -> Vec<String> {
    let mut dirs = Vec::new();
    let mut block: Option<&str> = None;
    for line in text.lines() {
        let line = strip_comment(line).trim();
        if line.is_empty() {
            continue;
        }
        if block.is_some() && line == ")" {
            block = None;
            continue;
        }
        let (verb, rest) = match block {
            Some(verb) => (verb, line),
            None => match line.split_once(char::is_whitespace) {
                Some((verb, rest)) => (verb, rest.trim()),
                None => continue,
            },
        };
        if block.is_none() && rest == "(" {
            block = Some(verb);
            continue;
        }
        let target = match verb {
            "use" => Some(rest),
            "replace" => rest.split_once("=>").map(|(_, right)| right.trim()),
            _ => None,
        };
        if let Some(target) = target {
            let words = words(target);
            // A replacement with a version is a module, not a dir.
            if words.len() == 1 && is_directory_path(&words[0]) {
                dirs.push(words[0].clone());
            }
        }
    }
    dirs
}

/// Whether a replacement or `use` target names a directory.
fn is_directory_path(path: &str) -> bool {
    path == "."
        || path == ".."
        || path.starts_with("./")
        || path.starts_with("../")
        || path.starts_with('/')
}

/// `line` without its `//` comment (outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut previous = '\0';
    for (i, c) in line.char_indices() {
        match quote {
            Some('"') if c == '"' && previous != '\\' => quote = None,
            Some('`') if c == '`' => quote = None,
            Some(_) => {}
            None if c == '"' || c == '`' => quote = Some(c),
            None if c == '/' && line[i + 1..].starts_with('/') => return &line[..i],
            None => {}
        }
        previous = c;
    }
    line
}

/// The words of a directive's arguments, quotes removed.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (word, after) = match rest.chars().next() {
            Some(q @ ('"' | '`')) => match rest[1..].find(q) {
                Some(end) => (rest[1..1 + end].replace("\\\"", "\""), &rest[end + 2..]),
                None => (rest[1..].to_string(), ""),
            },
            _ => match rest.find(char::is_whitespace) {
                Some(end) => (rest[..end].to_string(), &rest[end..]),
                None => (rest.to_string(), ""),
            },
        };
        words.push(word);
        rest = after.trim_start();
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacements_by_a_dir_and_uses_are_found_in_both_forms() {
        let gomod = "module example.com/app\n\ngo 1.22\n\n\
            replace example.com/lib => ../lib // local copy\n\
            replace example.com/pinned v1.0.0 => example.com/fork v1.2.0\n\
            replace (\n\texample.com/a => ./third_party/a\n\texample.com/b v1.0.0 => /abs/b\n\
            \texample.com/c => example.com/c2 v0.1.0\n)\n\
            require example.com/lib v0.0.0\n";
        assert_eq!(local_dirs(gomod), ["../lib", "./third_party/a", "/abs/b"]);
        let gowork = "go 1.22\n\nuse .\nuse (\n\t./svc\n\t\"../other module\"\n)\n";
        assert_eq!(local_dirs(gowork), [".", "./svc", "../other module"]);
    }

    #[test]
    fn module_paths_comments_and_other_directives_are_not_dirs() {
        let gomod = "module x\n// replace a => ../commented\nrequire (\n\tb v1.0.0 // => ../no\n)\n\
            exclude c v1.0.0\nreplace d => e v1.0.0\nreplace f => `./quoted dir`\n\
            replace g => \"https://x//y\"\n";
        assert_eq!(local_dirs(gomod), ["./quoted dir"]);
    }
}

//! What `go list` reads of a Go source file that is not a test file: its header (build
//! constraints, the package clause, the imports and the comments among them, a cgo preamble
//! included) and, when it imports `embed`, its `//go:embed` lines. go/build reads nothing
//! else of such a file (`readGoInfo` in `go/build/read.go`: it stops at the first token after
//! the imports; `go list -test` parses test files whole, so they are not covered here). Two
//! versions of a file with equal [`as_listed`] parts give go list the same answer.
//!
//! The scan follows go/build's import reader. Where it meets what that reader calls a syntax
//! error (or a NUL byte), the whole file counts, as go/build then reads the whole file too:
//! the part returned is never smaller than what go reads.

use crate::base::text::contains_bytes;

/// The bytes of `source` that `go list` reads (a superset: the header through the imports,
/// with the comments after them, and every later line that mentions `go:embed` when the
/// header mentions `embed`).
pub fn as_listed(source: &[u8]) -> Vec<u8> {
    let Some(end) = header_end(source) else {
        return source.to_vec();
    };
    let (header, rest) = source.split_at(end);
    let mut listed = header.to_vec();
    if contains_bytes(header, b"embed") {
        for line in rest.split(|b| *b == b'\n') {
            if contains_bytes(line, b"go:embed") {
                listed.push(b'\n');
                listed.extend_from_slice(line);
            }
        }
    }
    listed
}

/// Where the first token after the imports starts (the file's length when there is none);
/// `None` where go/build's reader would stop on a syntax error.
fn header_end(source: &[u8]) -> Option<usize> {
    if source.contains(&0) {
        return None;
    }
    let mut scan = Scan { src: source, at: 0 };
    scan.keyword(b"package")?;
    scan.ident()?;
    while scan.peek()? == Some(b'i') {
        scan.keyword(b"import")?;
        if scan.peek()? == Some(b'(') {
            scan.at += 1;
            while scan.peek()? != Some(b')') {
                scan.import_spec()?;
            }
            scan.at += 1;
        } else {
            scan.import_spec()?;
        }
    }
    scan.peek()?;
    Some(scan.at)
}

/// A position in a source file.
struct Scan<'a> {
    src: &'a [u8],
    at: usize,
}

impl Scan<'_> {
    /// Skips spaces, semicolons and comments; the next byte (`Some(None)` at the end), or
    /// `None` for an unterminated comment or a lone `/`.
    fn peek(&mut self) -> Option<Option<u8>> {
        loop {
            match self.src.get(self.at) {
                Some(b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b';') => self.at += 1,
                Some(b'/') => match self.src.get(self.at + 1) {
                    Some(b'/') => {
                        let line_end = self.src[self.at..].iter().position(|b| *b == b'\n');
                        self.at = line_end.map_or(self.src.len(), |n| self.at + n);
                    }
                    Some(b'*') => {
                        let body = &self.src[self.at + 2..];
                        let close = body.windows(2).position(|w| w == b"*/")?;
                        self.at += 2 + close + 2;
                    }
                    _ => return None,
                },
                other => return Some(other.copied()),
            }
        }
    }

    /// An identifier (letters, digits, `_`, and any non-ASCII byte, as go/build allows).
    fn ident(&mut self) -> Option<&[u8]> {
        let first = self.peek()??;
        if !(first.is_ascii_alphabetic() || first == b'_' || first >= 0x80) {
            return None;
        }
        let start = self.at;
        while self
            .src
            .get(self.at)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b >= 0x80)
        {
            self.at += 1;
        }
        Some(&self.src[start..self.at])
    }

    fn keyword(&mut self, word: &[u8]) -> Option<()> {
        (self.ident()? == word).then_some(())
    }

    /// One import: an optional name (an identifier, `.` or `_`) and a quoted path.
    fn import_spec(&mut self) -> Option<()> {
        match self.peek()?? {
            b'.' => self.at += 1,
            b'"' | b'`' => {}
            _ => {
                self.ident()?;
            }
        }
        match self.peek()?? {
            b'`' => {
                let close = self.src[self.at + 1..].iter().position(|b| *b == b'`')?;
                self.at += 1 + close + 1;
            }
            b'"' => {
                self.at += 1;
                loop {
                    match *self.src.get(self.at)? {
                        b'"' => break,
                        b'\n' => return None,
                        b'\\' => self.at += 2,
                        _ => self.at += 1,
                    }
                }
                self.at += 1;
            }
            _ => return None,
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(source: &str) -> String {
        String::from_utf8(as_listed(source.as_bytes())).unwrap()
    }

    const FILE: &str = "//go:build linux\n\n// Package a does.\npackage a\n\nimport (\n\t\"fmt\"\n\tx \"strings\" // why\n)\nimport _ `os`\n\n// F is.\nfunc F() { fmt.Println(x.ToUpper(\"import z\")) }\n";

    #[test]
    fn the_header_runs_through_the_imports_and_the_comments_after_them() {
        let header = listed(FILE);
        assert!(
            header.ends_with("import _ `os`\n\n// F is.\n"),
            "{header:?}"
        );
        let body_edited = FILE.replace("x.ToUpper", "x.ToLower");
        assert_eq!(listed(&body_edited), header);
        let appended = format!("{FILE}\nfunc G() {{}}\nimport \"net\"\n");
        assert_eq!(listed(&appended), header, "go stops at the first func");
    }

    #[test]
    fn every_part_go_reads_changes_what_is_listed() {
        let header = listed(FILE);
        for edit in [
            FILE.replace("linux", "darwin"),
            FILE.replace("package a", "package b"),
            FILE.replace("\"fmt\"", "\"fmt\"\n\t\"net\""),
            FILE.replace("x \"strings\"", "y \"strings\""),
            FILE.replace("_ `os`", "_ `os/exec`"),
        ] {
            assert_ne!(listed(&edit), header, "{edit}");
        }
    }

    #[test]
    fn embed_lines_anywhere_count_when_the_file_imports_embed() {
        let file = "package a\n\nimport _ \"embed\"\n\n//go:embed a.txt\nvar s string\n";
        let listed_now = listed(file);
        assert!(listed_now.contains("//go:embed a.txt"));
        assert_ne!(listed(&file.replace("a.txt", "b.txt")), listed_now);
        assert_eq!(
            listed(&file.replace("var s", "var t")),
            listed_now,
            "the variable's name is not go list's business"
        );
        let without =
            "package a\n\nimport \"fmt\"\n\nvar v = 1\n\n//go:embed a.txt\nvar s = fmt.Sprint()\n";
        assert!(!listed(without).contains("go:embed"));
    }

    #[test]
    fn what_go_reads_as_a_syntax_error_makes_the_whole_file_count() {
        for broken in [
            "package a\nimport \"fmt\nfunc F() {}\n",
            "package a\n/* never closed\nfunc F() {}\n",
            "package a\nimport (\n\t\"fmt\"\nfunc F() {}\n",
            "package\n",
            "package a\nimport fmt\nfunc F() {}\n",
            "package a\nimpart \"fmt\"\nfunc F() {}\n",
            "package a\nfunc F() { _ = 0 }\x00\n",
        ] {
            assert_eq!(listed(broken), broken);
        }
    }

    #[test]
    fn comments_and_strings_that_look_like_code_do_not_end_the_header() {
        let file =
            "package a\n\n/*\nfunc F() {}\n*/\nimport (\n\t\"a/b\" // )\n\t`c/d`\n)\n\nvar v = 1\n";
        let header = listed(file);
        assert!(header.contains("`c/d`"), "{header:?}");
        assert!(!header.contains("var v"));
        let escaped = "package a\nimport \"a\\\"b\"\nimport \"c\"\nvar v = 1\n";
        assert!(listed(escaped).contains("import \"c\""));
        assert_eq!(listed("package a"), "package a", "a file of a header only");
    }

    /// The base of the differential test: a doc comment, a constraint, imports (embed among
    /// them) and a body with an embed directive below a declaration (past the header).
    const BASE: &str = "//go:build !never\n\n// Package p is generated.\npackage p\n\nimport (\n\t_ \"embed\"\n\t\"m/dep\"\n)\n\nconst c0 = 0\n\n//go:embed data.txt\nvar data string\n\n// F uses dep.\nfunc F() string { return dep.Name + data }\n";

    /// Edits of [`BASE`]: (what it replaces, with what).
    const EDITS: &[(&str, &str)] = &[
        ("dep.Name + data", "data + dep.Name"),
        ("// F uses dep.\n", "// F uses dep, twice.\n"),
        ("}\n", "}\n\nfunc G() {}\n"),
        ("}\n", "}\n\nvar s = \"import \\\"net\\\"\"\n"),
        ("}\n", "}\n\nfunc H() { syntax error here\n"),
        ("}\n", "}\n\nimport \"os\"\n"),
        ("var data string", "var text string"),
        ("//go:embed data.txt", "//go:embed *.txt"),
        (
            "//go:embed data.txt\n",
            "//go:embed data.txt\n//go:embed other.txt\n",
        ),
        ("\t\"m/dep\"\n", "\t\"m/dep\"\n\t\"os\"\n"),
        ("\t\"m/dep\"\n", "\td \"m/dep\"\n"),
        ("\t_ \"embed\"\n", ""),
        ("package p", "package q"),
        ("!never", "never"),
        ("// Package p is generated.", "// Package p is written."),
        ("import (", "/* c */ import ("),
        (")\n\nconst c0", ")\n\nimport \"os\"\n\nconst c0"),
        ("\n\n// F uses", "\n\nconst c = 1\n\n// F uses"),
    ];

    /// What go lists of `m/p` and its test closure with `a.go` as `text`.
    fn go_lists(dir: &std::path::Path, text: &str) -> Vec<u8> {
        std::fs::write(dir.join("p/a.go"), text).unwrap();
        let fields = "ImportPath,Name,Doc,Dir,Imports,Deps,GoFiles,IgnoredGoFiles,EmbedPatterns,EmbedFiles,TestGoFiles,XTestGoFiles,TestImports,Error,DepsErrors";
        let mut out = Vec::new();
        for extra in [&[][..], &["-deps", "-test"][..]] {
            let listed = std::process::Command::new("go")
                .args(["list", "-e"])
                .args(extra)
                .arg(format!("-json={fields}"))
                .arg("./p")
                .current_dir(dir)
                .env("GOTOOLCHAIN", "local")
                .env("GOPROXY", "off")
                .env("GOFLAGS", "")
                .output()
                .expect("go on PATH");
            assert!(listed.status.success(), "{listed:?}");
            out.extend(listed.stdout);
        }
        out
    }

    /// The oracle is go: any two versions of a file with equal listed parts, go lists alike.
    #[test]
    fn versions_with_equal_listed_parts_are_listed_alike_by_go() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        for (path, text) in [
            ("go.mod", "module m\n\ngo 1.22\n"),
            ("dep/dep.go", "package dep\n\nconst Name = \"dep\"\n"),
            ("p/data.txt", "data"),
            ("p/other.txt", "other"),
            (
                "p/a_test.go",
                "package p\n\nimport \"testing\"\n\nfunc TestF(t *testing.T) { F() }\n",
            ),
        ] {
            std::fs::create_dir_all(dir.join(path).parent().unwrap()).unwrap();
            std::fs::write(dir.join(path), text).unwrap();
        }
        let mut by_listed: std::collections::BTreeMap<Vec<u8>, (String, Vec<u8>)> =
            Default::default();
        let mut alike = 0;
        for (from, to) in [("", "")].iter().chain(EDITS) {
            assert!(BASE.contains(from), "{from:?}");
            let text = BASE.replacen(from, to, 1);
            let go = go_lists(dir, &text);
            match by_listed.get(&as_listed(text.as_bytes())) {
                Some((first, listed)) => {
                    assert!(
                        *listed == go,
                        "equal listed parts, but go lists these apart:\n{first}\n---\n{text}"
                    );
                    alike += 1;
                }
                None => {
                    by_listed.insert(as_listed(text.as_bytes()), (text, go));
                }
            }
        }
        assert!(alike >= 6, "too few edits kept the listed part: {alike}");
    }
}

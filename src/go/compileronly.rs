//! Whether a Go file may hold an error that only the compiler reports, and that go vet's
//! type check (go/types, which cmd/compile's types2 is generated alongside) does not: what
//! the compiler's front end checks beyond types are its directives (`//go:embed` without the
//! `embed` import or on the wrong var, `//go:linkname` without `unsafe`, a misplaced
//! `//go:noinline`, …) and, in a package with no assembly or cgo (`-complete`), a function
//! declared without a body. A file with neither cannot fail `go test`'s compile where it
//! passes vet's type check, so `gob check` compiles only the tested packages that have such a
//! file. The scan is conservative: anything it cannot read for sure counts.
//!
//! Not seen: what the back end rejects from types alone (a type larger than the address
//! space, a stack frame over 1 GB), which go/types accepts.

use crate::base::text::{contains_bytes, find_bytes};

/// Whether `source` has a compiler directive (other than `//go:build` and `//go:generate`,
/// which the compiler ignores) or a function declared without a body.
pub fn may_fail_only_in_compiler(source: &[u8]) -> bool {
    has_directive(source) || has_bodyless_func(&code_only(source))
}

/// Directives go reads before the compiler and the compiler ignores.
const IGNORED_DIRECTIVES: [&[u8]; 2] = [b"build", b"generate"];

fn has_directive(source: &[u8]) -> bool {
    if contains_bytes(source, b"//export ") || contains_bytes(source, b"/*go:") {
        return true;
    }
    let mut rest = source;
    while let Some(at) = find_bytes(rest, b"//go:") {
        let after = &rest[at + 5..];
        let word_end = after
            .iter()
            .position(|b| !b.is_ascii_alphanumeric() && *b != b'_')
            .unwrap_or(after.len());
        let word = &after[..word_end];
        let ends = matches!(
            after.get(word_end),
            None | Some(b' ' | b'\t' | b'\r' | b'\n')
        );
        if !(IGNORED_DIRECTIVES.contains(&word) && ends) {
            return true;
        }
        rest = after;
    }
    false
}

/// `source` with the text of comments, strings and runes blanked (newlines kept, and a
/// block comment spanning lines leaves one, as the Go scanner counts it).
fn code_only(source: &[u8]) -> Vec<u8> {
    let mut code = Vec::with_capacity(source.len());
    let mut i = 0;
    let blank = |code: &mut Vec<u8>, text: &[u8]| {
        code.extend(text.iter().map(|&b| if b == b'\n' { b'\n' } else { b' ' }));
    };
    while i < source.len() {
        let rest = &source[i..];
        let end = if rest.starts_with(b"//") {
            rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())
        } else if rest.starts_with(b"/*") {
            find_bytes(&rest[2..], b"*/").map_or(rest.len(), |e| e + 4)
        } else if rest[0] == b'`' {
            rest[1..]
                .iter()
                .position(|&b| b == b'`')
                .map_or(rest.len(), |e| e + 2)
        } else if rest[0] == b'"' || rest[0] == b'\'' {
            quoted_len(rest)
        } else {
            code.push(rest[0]);
            i += 1;
            continue;
        };
        blank(&mut code, &rest[..end]);
        i += end;
    }
    code
}

/// The length of the string or rune literal at the start of `text` (to the end of the line
/// when it is not closed there).
fn quoted_len(text: &[u8]) -> usize {
    let quote = text[0];
    let mut i = 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'\n' => return i,
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Whether a declaration starting with `func` (at the start of a line, or after a `;`) ends
/// without a body (a newline or `;` where Go inserts a semicolon, before any `{` that is not
/// a `struct` or `interface` type's), or runs off the end of the file.
fn has_bodyless_func(code: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = find_bytes(&code[from..], b"func").map(|p| from + p) {
        from = at + 4;
        let word = (at == 0 || !is_ident(code[at - 1]))
            && !code.get(at + 4).copied().is_some_and(is_ident);
        let before = code[..at]
            .iter()
            .rev()
            .find(|b| !matches!(b, b' ' | b'\t'))
            .copied();
        let starts_declaration = matches!(before, None | Some(b'\n' | b';'));
        if word && starts_declaration && !has_body(code, at + 4) {
            return true;
        }
    }
    false
}

/// Whether the signature from `at` is followed by a body.
fn has_body(code: &[u8], at: usize) -> bool {
    let (mut parens, mut brackets, mut braces) = (0i32, 0i32, 0i32);
    let mut last = b'c'; // the `c` of `func`: an identifier
    for i in at..code.len() {
        let b = code[i];
        let nested = parens > 0 || brackets > 0 || braces > 0;
        match b {
            b'(' => parens += 1,
            b')' => parens -= 1,
            b'[' => brackets += 1,
            b']' => brackets -= 1,
            b'{' if !nested && !after_type_keyword(&code[..i]) => return true,
            b'{' => braces += 1,
            b'}' => braces -= 1,
            b';' if !nested => return false,
            b'\n' if !nested && (is_ident(last) || matches!(last, b')' | b']' | b'}')) => {
                return false;
            }
            _ => {}
        }
        if !b.is_ascii_whitespace() {
            last = b;
        }
    }
    false
}

/// Whether `code` ends with `struct` or `interface` (before blanks): a `{` after it opens a
/// type, not a body.
fn after_type_keyword(code: &[u8]) -> bool {
    let trimmed = code.trim_ascii_end();
    let start = trimmed
        .iter()
        .rposition(|&b| !is_ident(b))
        .map_or(0, |p| p + 1);
    matches!(&trimmed[start..], b"struct" | b"interface")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flagged(source: &str) -> bool {
        may_fail_only_in_compiler(source.as_bytes())
    }

    #[test]
    fn functions_with_bodies_and_ignored_directives_need_no_compiler() {
        let ok = [
            "//go:build integ\n\npackage p\n\nfunc F() {}\n",
            "package p\n\n//go:generate stringer -type=T\nfunc F() int {\n\treturn 1\n}\n",
            "package p\n\nfunc New(\n\taddr string,\n\tport int,\n) (*T, error) {\n\treturn nil, nil\n}\n",
            "package p\n\nfunc G[T interface{ ~int }](x T) struct{ a int } {\n\treturn struct{ a int }{}\n}\n",
            "package p\n\nfunc H() map[string]struct{} { return nil }\n",
            "package p\n\nvar fs = []func() int{\n\tfunc() int { return 1 },\n}\n",
            "package p\n\n// A comment: func noBody() and more\nfunc F() {}\n",
            "package p\n\nconst s = \"func x()\"\nconst r = `\nfunc y()\n`\nfunc F() {}\n",
            "package p\n\nfunc (t *T) M(f func(int) int) func() { return nil }\n",
            "package p\n\nfunction := 1\n",
        ];
        for source in ok {
            assert!(!flagged(source), "{source}");
        }
    }

    #[test]
    fn compiler_directives_and_functions_without_bodies_need_it() {
        let needs = [
            "package p\n\nfunc noBody()\n",
            "package p\n\nfunc noBody() int // {\n",
            "package p\n\nfunc noBody(x struct{})\n",
            "package p\n\nfunc noBody() interface{ M() }\n",
            "package p\n\nfunc a() {}; func b()\n",
            "package p\n\nfunc noBody(\n\tx int,\n) (int, error)\n",
            "package p\n\nfunc noBody[T any]()\n\nfunc F() {}\n",
            "package p\n\nimport \"embed\"\n\n//go:embed x.txt\nvar s string\n",
            "package p\n\n//go:noinline\nfunc F() {}\n",
            "package p\n\n//go:linkname f runtime.f\nfunc f()\n",
            "package p\n\n//go:buildx\n",
            "package p\n\n//export F\nfunc F() {}\n",
            "package p\n\nfunc unfinished(",
        ];
        for source in needs {
            assert!(flagged(source), "{source}");
        }
    }
}

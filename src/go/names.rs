//! The file names the go command gives executables and test binaries.
//!
//! `(*Package).DefaultExecName` → `exeFromImportPath` (cmd/go/internal/load/pkg.go): the last
//! import-path element, or the one before it when the last is a major version `vN` (N ≥ 2),
//! golang.org/issue/24667. Test binaries are `DefaultExecName + ".test"`
//! (cmd/go/internal/test/test.go `testBinaryName`).

/// The name `go build` gives the main package at `import_path` (module mode).
pub fn default_exec_name(import_path: &str) -> &str {
    let mut elems = import_path.rsplit('/');
    let last = elems.next().unwrap_or(import_path);
    if last != import_path && is_version_element(last) {
        elems.next().unwrap_or(last)
    } else {
        last
    }
}

/// The file name go gives the test binary of the package at `import_path`.
pub fn test_binary_name(import_path: &str) -> String {
    format!("{}.test", default_exec_name(import_path))
}

/// `v2`, `v3`, … but not `v0`, `v1` or `v01`.
fn is_version_element(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 2 || b[0] != b'v' || b[1] == b'0' || (b[1] == b'1' && b.len() == 2) {
        return false;
    }
    b[1..].iter().all(u8::is_ascii_digit)
}

/// The executable suffix for a target OS (`.exe` on windows).
pub fn exe_suffix(goos: &str) -> &'static str {
    if goos == "windows" { ".exe" } else { "" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_version_suffix_is_skipped() {
        assert_eq!(default_exec_name("example.com/mesh/cmd/gamma/v2"), "gamma");
        assert_eq!(default_exec_name("example.com/mesh/cmd/alpha"), "alpha");
        assert_eq!(default_exec_name("example.com/x/v1"), "v1");
        assert_eq!(default_exec_name("example.com/x/v02"), "v02");
        assert_eq!(default_exec_name("example.com/x/v10"), "x");
        assert_eq!(default_exec_name("v2"), "v2");
        assert_eq!(default_exec_name("hello"), "hello");
    }

    #[test]
    fn test_binaries_are_named_after_the_default_name() {
        assert_eq!(test_binary_name("m/tests/security/api"), "api.test");
        assert_eq!(test_binary_name("m/svc/v3"), "svc.test");
    }

    #[test]
    fn windows_gets_exe() {
        assert_eq!(exe_suffix("windows"), ".exe");
        assert_eq!(exe_suffix("linux"), "");
    }
}

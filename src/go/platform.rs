//! The machine as Go names it (`GOOS`/`GOARCH`, cmd/dist's list: `go tool dist list`), for
//! telling whether test binaries built elsewhere can run here.

/// Go's name for the OS Rust calls `os` (`std::env::consts::OS`).
pub fn goos(os: &str) -> &str {
    match os {
        "macos" => "darwin",
        other => other,
    }
}

/// Go's name for the architecture Rust calls `arch` (`std::env::consts::ARCH`), with its
/// byte order where Go's name depends on it.
pub fn goarch(arch: &str, little_endian: bool) -> &str {
    match (arch, little_endian) {
        ("x86_64", _) => "amd64",
        ("x86", _) => "386",
        ("aarch64", _) => "arm64",
        ("powerpc64", true) => "ppc64le",
        ("powerpc64", false) => "ppc64",
        ("mips64", true) => "mips64le",
        ("mips", true) => "mipsle",
        ("loongarch64", _) => "loong64",
        (other, _) => other,
    }
}

/// This machine's `(GOOS, GOARCH)`.
pub fn host() -> (String, String) {
    let os = goos(std::env::consts::OS).to_string();
    let arch = goarch(std::env::consts::ARCH, cfg!(target_endian = "little")).to_string();
    (os, arch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_names_map_to_go_names() {
        assert_eq!(goos("linux"), "linux");
        assert_eq!(goos("macos"), "darwin");
        assert_eq!(goarch("x86_64", true), "amd64");
        assert_eq!(goarch("aarch64", true), "arm64");
        assert_eq!(goarch("powerpc64", true), "ppc64le");
        assert_eq!(goarch("riscv64", true), "riscv64");
    }

    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[test]
    fn this_machine_is_linux_amd64() {
        assert_eq!(host(), ("linux".to_string(), "amd64".to_string()));
    }
}

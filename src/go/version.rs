//! The installed Go's version as `go env GOVERSION` / `go version` report it, and the oldest
//! release gob supports.

use serde::Serialize;

/// A Go release as `major.minor.patch` plus the text it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GoVersion {
    /// 1 for every Go so far.
    pub major: u32,
    /// The release (26 for go1.26.8).
    pub minor: u32,
    /// The patch level (0 for release candidates).
    pub patch: u32,
    /// As reported, e.g. `go1.26.8`.
    pub raw: String,
}

impl GoVersion {
    /// Parses `go1.26.8`, `go1.21rc2`, `go1.19` or `devel go1.27-abc…`.
    pub fn parse(text: &str) -> Option<GoVersion> {
        let start = text.find("go1.")?;
        let raw: String = text[start..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        let numbers = &raw[2..];
        let mut parts = numbers
            .split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = if numbers.contains("rc") || numbers.contains("beta") {
            0
        } else {
            parts.next().and_then(|p| p.parse().ok()).unwrap_or(0)
        };
        Some(GoVersion {
            major,
            minor,
            patch,
            raw,
        })
    }

    /// True when this Go is at least `1.minor`.
    pub fn at_least(&self, minor: u32) -> bool {
        self.major > 1 || (self.major == 1 && self.minor >= minor)
    }
}

/// The oldest Go release gob supports (its test binaries' flags and `go list` fields all
/// exist by then; older releases are untested).
pub const MIN_MINOR: u32 = 18;

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> GoVersion {
        GoVersion::parse(s).unwrap()
    }

    #[test]
    fn parses_release_rc_and_devel() {
        assert_eq!((v("go1.26.8").minor, v("go1.26.8").patch), (26, 8));
        assert_eq!((v("go1.21rc2").minor, v("go1.21rc2").patch), (21, 0));
        assert_eq!(v("go version go1.19.8 linux/amd64").raw, "go1.19.8");
        assert_eq!(v("devel go1.27-abcdef Tue").minor, 27);
        assert!(GoVersion::parse("garbage").is_none());
    }
}

//! Publishing a staged binary to `out_dir/<name>`: copy to a temp name beside the target,
//! then rename, so a failed or interrupted publish never leaves a half-written binary.
//!
//! go touches the mtime of a target it did not relink (work/exec.go), so "changed" is decided
//! by content: equal size and equal Go build ID ([`crate::go::buildid`]), or, for a file
//! without one, equal bytes.

use std::fs;
use std::io::{self, BufRead};
use std::path::Path;

use crate::go::buildid::build_id;

/// What publishing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// The target was written.
    Updated,
    /// The target already held this build.
    UpToDate,
}

/// Publishes `staged` at `target`.
pub fn publish(staged: &Path, target: &Path) -> io::Result<Published> {
    if target.is_file() && same_build(staged, target)? {
        return Ok(Published::UpToDate);
    }
    crate::base::paths::replace_atomically(target, |temp| fs::copy(staged, temp).map(drop))?;
    Ok(Published::Updated)
}

/// True when `a` and `b` hold the same build.
fn same_build(a: &Path, b: &Path) -> io::Result<bool> {
    if fs::metadata(a)?.len() != fs::metadata(b)?.len() {
        return Ok(false);
    }
    match (build_id(a)?, build_id(b)?) {
        (Some(x), Some(y)) => Ok(x == y),
        _ => same_bytes(a, b),
    }
}

fn same_bytes(a: &Path, b: &Path) -> io::Result<bool> {
    let (mut a, mut b) = (
        io::BufReader::new(fs::File::open(a)?),
        io::BufReader::new(fs::File::open(b)?),
    );
    loop {
        let (x, y) = (a.fill_buf()?, b.fill_buf()?);
        if x.is_empty() || y.is_empty() {
            return Ok(x.is_empty() && y.is_empty());
        }
        let n = x.len().min(y.len());
        if x[..n] != y[..n] {
            return Ok(false);
        }
        a.consume(n);
        b.consume(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishes_once_then_reports_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        let staged = dir.path().join("staged");
        let target = dir.path().join("out");
        fs::write(&staged, b"binary v1").unwrap();
        assert_eq!(publish(&staged, &target).unwrap(), Published::Updated);
        assert_eq!(fs::read(&target).unwrap(), b"binary v1");
        assert_eq!(publish(&staged, &target).unwrap(), Published::UpToDate);
        fs::write(&staged, b"binary v2").unwrap();
        assert_eq!(publish(&staged, &target).unwrap(), Published::Updated);
        assert_eq!(fs::read(&target).unwrap(), b"binary v2");
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn build_ids_decide_when_present() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        fs::write(&a, b"ELF\xff Go build ID: \"act/one\"\n \xffcode-A").unwrap();
        fs::write(&b, b"ELF\xff Go build ID: \"act/one\"\n \xffcode-B").unwrap();
        assert!(
            same_build(&a, &b).unwrap(),
            "equal build IDs mean the same build"
        );
        fs::write(&b, b"ELF\xff Go build ID: \"act/two\"\n \xffcode-A").unwrap();
        assert!(!same_build(&a, &b).unwrap());
        fs::write(&a, b"no id").unwrap();
        fs::write(&b, b"no id").unwrap();
        assert!(same_build(&a, &b).unwrap());
        fs::write(&b, b"no ix").unwrap();
        assert!(!same_build(&a, &b).unwrap());
    }

    #[test]
    fn a_failed_publish_leaves_the_old_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        fs::write(&target, b"old").unwrap();
        assert!(publish(&dir.path().join("missing"), &target).is_err());
        assert_eq!(fs::read(&target).unwrap(), b"old");
    }
}

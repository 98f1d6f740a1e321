//! Publishing a staged binary to `out_dir/<name>`: copy to a temp name beside the target,
//! then rename, so a failed or interrupted publish never leaves a half-written binary.
//!
//! go touches the mtime of a target it did not relink (work/exec.go), so "changed" is decided
//! by content: equal size and equal Go build ID (its content ID half is a hash of the
//! binary), or, for a file without one, equal bytes. The linker stores the build ID in an ELF
//! note (`Go\0\0`, tag 4) near the start of ELF files, and as `\xff Go build ID: "…"` at the
//! start of the text segment elsewhere (cmd/internal/buildid/note.go).

use std::fs;
use std::io::{self, BufRead, Read};
use std::path::Path;

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

/// Where the linker's build ID is looked for: the text segment starts within the first
/// pages of ELF, Mach-O and PE files alike.
const BUILD_ID_WINDOW: u64 = 64 * 1024;
const BUILD_ID_MARKER: &[u8] = b"\xff Go build ID: \"";

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

/// The Go build ID near the start of `path`, if it has one.
pub fn build_id(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    fs::File::open(path)?
        .take(BUILD_ID_WINDOW)
        .read_to_end(&mut head)?;
    Ok(elf_note_build_id(&head).or_else(|| text_build_id(&head)))
}

/// The build ID from a little-endian ELF note: name size 4, value size, tag 4, `Go\0\0`.
fn elf_note_build_id(head: &[u8]) -> Option<Vec<u8>> {
    const NAME: &[u8] = b"Go\0\0";
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(head.get(at..at + 4)?.try_into().ok()?))
    };
    (12..head.len().saturating_sub(4))
        .filter(|&at| &head[at..at + 4] == NAME)
        .find_map(|at| {
            let (name_size, value_size, tag) = (word(at - 12)?, word(at - 8)?, word(at - 4)?);
            let value = head.get(at + 4..at + 4 + value_size as usize)?;
            (name_size == 4 && tag == 4 && !value.is_empty()).then(|| value.to_vec())
        })
}

/// The build ID from the `\xff Go build ID: "…"` marker.
fn text_build_id(head: &[u8]) -> Option<Vec<u8>> {
    let start = head
        .windows(BUILD_ID_MARKER.len())
        .position(|w| w == BUILD_ID_MARKER)
        .map(|p| p + BUILD_ID_MARKER.len())?;
    head[start..]
        .iter()
        .position(|&c| c == b'"')
        .map(|len| head[start..start + len].to_vec())
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
    fn the_elf_note_build_id_is_found() {
        let id = b"a5kpu8dwFflmYydZXk7W/DAjaMmVlcrlG_k_6aWsE";
        let mut file = vec![0x7f, b'E', b'L', b'F'];
        file.extend_from_slice(&[0; 100]);
        file.extend_from_slice(&4u32.to_le_bytes());
        file.extend_from_slice(&(id.len() as u32).to_le_bytes());
        file.extend_from_slice(&4u32.to_le_bytes());
        file.extend_from_slice(b"Go\0\0");
        file.extend_from_slice(id);
        assert_eq!(elf_note_build_id(&file).as_deref(), Some(&id[..]));
        assert_eq!(elf_note_build_id(b"Go\0\0 too short"), None);
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

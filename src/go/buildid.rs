//! The Go build ID of a linked binary: its content ID half is a hash of the binary, so equal
//! IDs mean the same build. The linker stores it in an ELF note (`Go\0\0`, tag 4) near the
//! start of ELF files, and as `\xff Go build ID: "…"` at the start of the text segment
//! elsewhere (cmd/internal/buildid/note.go).

use std::fs;
use std::io::{self, Read};
use std::path::Path;

/// Where the linker's build ID is looked for: the text segment starts within the first
/// pages of ELF, Mach-O and PE files alike.
const BUILD_ID_WINDOW: u64 = 64 * 1024;
const BUILD_ID_MARKER: &[u8] = b"\xff Go build ID: \"";

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

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! go's error output comes in blocks, each headed by the package it is about (`# import/path`,
//! or `# import/path [p.test]` for a test variant), as `go build`, `go vet` and `go test`
//! print them (cmd/go/internal/work/exec.go `showOutput`). Two runs over overlapping
//! packages (`gob check`'s rounds, one per tag set) find the same errors; a block printed
//! once need not be printed again.

use std::collections::HashSet;

/// The lines of the blocks of `lines` that `seen` does not hold yet, which are then added
/// to it, in their order. A block runs from a `# ` line to the next; lines before the first
/// header make a block of their own.
pub fn unseen(lines: &[String], seen: &mut HashSet<String>) -> Vec<String> {
    let mut blocks: Vec<&[String]> = Vec::new();
    let mut start = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("# ") && i > start {
            blocks.push(&lines[start..i]);
            start = i;
        }
    }
    if start < lines.len() {
        blocks.push(&lines[start..]);
    }
    blocks
        .into_iter()
        .filter(|block| seen.insert(block.join("\n")))
        .flat_map(|block| block.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn a_block_seen_in_an_earlier_run_is_left_out() {
        let mut seen = HashSet::new();
        let first = lines("# m/a\na.go:1:1: bad\n# m/b\nb.go:2:2: worse\n");
        assert_eq!(unseen(&first, &mut seen), first);
        let second = lines("# m/b\nb.go:2:2: worse\n# m/c\nc.go:3:3: new\n");
        assert_eq!(unseen(&second, &mut seen), lines("# m/c\nc.go:3:3: new\n"));
    }

    #[test]
    fn the_same_header_with_other_errors_is_another_block() {
        let mut seen = HashSet::new();
        unseen(&lines("# m/a\na.go:1:1: bad\n"), &mut seen);
        let other = lines("# m/a\na.go:9:9: other\n");
        assert_eq!(unseen(&other, &mut seen), other);
    }

    #[test]
    fn lines_before_any_header_are_a_block_too() {
        let mut seen = HashSet::new();
        let text = lines("go: warning\n# m/a\na.go:1:1: bad\n");
        assert_eq!(unseen(&text, &mut seen), text);
        assert_eq!(
            unseen(&lines("go: warning\n"), &mut seen),
            Vec::<String>::new()
        );
    }
}

//! go's text coverage profile (`-coverprofile`, `-test.coverprofile`, `go tool covdata
//! textfmt`): a `mode:` line, then one line per block, `file:L.C,L.C statements count`
//! (cmd/go/internal/test/cover.go appends each package's lines; golang.org/x/tools/cover
//! parses them). Merging counts each block once: counts add in `count` and `atomic` mode and
//! are or'ed in `set` mode, so a retried package or a shard never doubles a statement.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A counter mode (`-covermode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// Did the block run.
    Set,
    /// How often it ran.
    Count,
    /// How often, counted atomically (the mode `-race` needs).
    Atomic,
}

impl Mode {
    /// The mode's name as go writes it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Set => "set",
            Mode::Count => "count",
            Mode::Atomic => "atomic",
        }
    }

    /// The mode named `name`.
    pub fn parse(name: &str) -> Option<Mode> {
        match name {
            "set" => Some(Mode::Set),
            "count" => Some(Mode::Count),
            "atomic" => Some(Mode::Atomic),
            _ => None,
        }
    }
}

/// Where a block is: its file (as go names it: import path and file name) and its span.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Block {
    /// `example.com/m/pkg/file.go`.
    pub file: String,
    /// First line.
    pub start_line: u32,
    /// First column.
    pub start_col: u32,
    /// Last line.
    pub end_line: u32,
    /// Last column.
    pub end_col: u32,
}

/// A block's statements and how often it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Statements in the block.
    pub statements: u32,
    /// Times it ran (0 or 1 in `set` mode).
    pub count: u64,
}

/// A whole profile, each block once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The counter mode.
    pub mode: Mode,
    /// Every block, in file and position order.
    pub blocks: BTreeMap<Block, Counts>,
}

impl Profile {
    /// An empty profile in `mode`.
    pub fn new(mode: Mode) -> Profile {
        Profile {
            mode,
            blocks: BTreeMap::new(),
        }
    }

    /// Parses a profile; the error names the line. Blocks named twice (go appends one
    /// package's blocks once per test binary that covers it) are merged.
    pub fn parse(text: &str) -> Result<Profile, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, first) = lines.next().ok_or("empty: no `mode:` line")?;
        let mode = first
            .strip_prefix("mode: ")
            .and_then(|m| Mode::parse(m.trim()))
            .ok_or_else(|| format!("line 1: `{first}` is not `mode: set|count|atomic`"))?;
        let mut profile = Profile::new(mode);
        for (index, line) in lines {
            // A concatenation of profiles repeats the mode line: it must agree.
            if let Some(other) = line.strip_prefix("mode: ") {
                if Mode::parse(other.trim()) != Some(mode) {
                    return Err(format!(
                        "line {}: mode `{}` differs from the first line's `{}`",
                        index + 1,
                        other.trim(),
                        mode.name()
                    ));
                }
                continue;
            }
            let (block, counts) = parse_block(line)
                .ok_or_else(|| format!("line {}: `{line}` is not a coverage block", index + 1))?;
            profile.add(block, counts)?;
        }
        Ok(profile)
    }

    /// Adds one block's counts: a new block, or more runs of one it has.
    pub fn add(&mut self, block: Block, counts: Counts) -> Result<(), String> {
        let mode = self.mode;
        match self.blocks.get_mut(&block) {
            None => {
                self.blocks.insert(block, counts);
            }
            Some(have) if have.statements != counts.statements => {
                return Err(format!(
                    "{}:{}.{}: {} statements in one profile, {} in another (built from different sources?)",
                    block.file,
                    block.start_line,
                    block.start_col,
                    have.statements,
                    counts.statements
                ));
            }
            Some(have) => {
                have.count = match mode {
                    Mode::Set => u64::from(have.count > 0 || counts.count > 0),
                    Mode::Count | Mode::Atomic => have.count.saturating_add(counts.count),
                };
            }
        }
        Ok(())
    }

    /// Merges `other` into this profile; both must have the same mode.
    pub fn merge(&mut self, other: Profile) -> Result<(), String> {
        if other.mode != self.mode {
            return Err(format!(
                "mode `{}` cannot merge with mode `{}`",
                other.mode.name(),
                self.mode.name()
            ));
        }
        for (block, counts) in other.blocks {
            self.add(block, counts)?;
        }
        Ok(())
    }

    /// The profile as go writes it, blocks in file and position order.
    pub fn render(&self) -> String {
        let mut out = format!("mode: {}\n", self.mode.name());
        for (b, c) in &self.blocks {
            let _ = writeln!(
                out,
                "{}:{}.{},{}.{} {} {}",
                b.file, b.start_line, b.start_col, b.end_line, b.end_col, c.statements, c.count
            );
        }
        out
    }

    /// Covered and total statements of each package (a file's import path without its name).
    pub fn packages(&self) -> BTreeMap<&str, Totals> {
        let mut packages: BTreeMap<&str, Totals> = BTreeMap::new();
        for (block, counts) in &self.blocks {
            packages
                .entry(package_of(&block.file))
                .or_default()
                .add(counts);
        }
        packages
    }

    /// Covered and total statements of the whole profile.
    pub fn total(&self) -> Totals {
        let mut total = Totals::default();
        for counts in self.blocks.values() {
            total.add(counts);
        }
        total
    }
}

/// Covered statements of a file, a package or a profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Statements in blocks that ran.
    pub covered: u64,
    /// All statements.
    pub statements: u64,
}

impl Totals {
    fn add(&mut self, counts: &Counts) {
        self.statements += u64::from(counts.statements);
        if counts.count > 0 {
            self.covered += u64::from(counts.statements);
        }
    }

    /// The covered share in percent, as go prints it (0 statements: 0%).
    pub fn percent(&self) -> f64 {
        match self.statements {
            0 => 0.0,
            n => 100.0 * self.covered as f64 / n as f64,
        }
    }
}

/// The package of a profile's file name: `example.com/m/pkg/file.go` → `example.com/m/pkg`.
pub fn package_of(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(package, _)| package)
}

/// `file:L.C,L.C statements count`.
fn parse_block(line: &str) -> Option<(Block, Counts)> {
    let mut fields = line.rsplitn(3, ' ');
    let count = fields.next()?.parse().ok()?;
    let statements = fields.next()?.parse().ok()?;
    let place = fields.next()?;
    let (file, span) = place.rsplit_once(':')?;
    let (start, end) = span.split_once(',')?;
    let position = |text: &str| -> Option<(u32, u32)> {
        let (line, col) = text.split_once('.')?;
        Some((line.parse().ok()?, col.parse().ok()?))
    };
    let (start_line, start_col) = position(start)?;
    let (end_line, end_col) = position(end)?;
    if file.is_empty() {
        return None;
    }
    let block = Block {
        file: file.to_string(),
        start_line,
        start_col,
        end_line,
        end_col,
    };
    Some((block, Counts { statements, count }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: &str =
        "mode: set\nm/a/a.go:3.14,5.2 1 1\nm/a/a.go:7.1,9.2 2 0\nm/b/b.go:1.1,2.2 3 0\n";

    #[test]
    fn parses_and_renders_go_text_profiles() {
        let profile = Profile::parse(A).unwrap();
        assert_eq!(profile.mode, Mode::Set);
        assert_eq!(profile.blocks.len(), 3);
        assert_eq!(profile.render(), A);
        let total = profile.total();
        assert_eq!((total.covered, total.statements), (1, 6));
        assert_eq!(profile.packages()["m/a"].statements, 3);
        assert_eq!(profile.packages()["m/b"].covered, 0);
    }

    #[test]
    fn a_file_name_with_spaces_and_colons_parses() {
        let text = "mode: count\nm/a b/c:d.go:1.2,3.4 5 6\n";
        let profile = Profile::parse(text).unwrap();
        let block = profile.blocks.keys().next().unwrap();
        assert_eq!(block.file, "m/a b/c:d.go");
        assert_eq!(profile.render(), text);
    }

    #[test]
    fn repeated_blocks_count_once_with_their_runs_combined() {
        // go appends a -coverpkg package's blocks once per test binary.
        let set = Profile::parse("mode: set\nm/a.go:1.1,2.2 4 1\nm/a.go:1.1,2.2 4 0\n").unwrap();
        assert_eq!(set.blocks.values().next().unwrap().count, 1);
        assert_eq!(set.total().statements, 4);
        let count =
            Profile::parse("mode: count\nm/a.go:1.1,2.2 4 3\nmode: count\nm/a.go:1.1,2.2 4 2\n")
                .unwrap();
        assert_eq!(count.blocks.values().next().unwrap().count, 5);
    }

    #[test]
    fn bad_profiles_are_refused_with_the_line() {
        let error = |text: &str| Profile::parse(text).unwrap_err();
        assert!(error("").contains("empty"));
        assert!(error("mode: often\n").contains("line 1"));
        assert!(error("mode: set\nm/a.go:1.1 1 1\n").contains("line 2"));
        assert!(error("mode: set\nmode: count\n").contains("differs"));
        assert!(
            error("mode: set\nm/a.go:1.1,2.2 1 1\nm/a.go:1.1,2.2 2 1\n").contains("statements")
        );
        let mut set = Profile::new(Mode::Set);
        assert!(set.merge(Profile::new(Mode::Atomic)).is_err());
    }

    fn profiles() -> impl Strategy<Value = Vec<Vec<(u8, u8, u64)>>> {
        // Up to 4 profiles over 6 possible blocks (file, line) with statements by block.
        prop::collection::vec(prop::collection::vec((0u8..2, 0u8..3, 0u64..4), 0..8), 1..4)
    }

    fn build(mode: Mode, parts: &[(u8, u8, u64)]) -> Profile {
        let mut profile = Profile::new(mode);
        for (file, line, count) in parts {
            let block = Block {
                file: format!("m/f{file}.go"),
                start_line: u32::from(*line),
                start_col: 1,
                end_line: u32::from(*line),
                end_col: 9,
            };
            let count = if mode == Mode::Set {
                count.min(&1)
            } else {
                count
            };
            let counts = Counts {
                statements: u32::from(*line) + 1,
                count: *count,
            };
            profile.add(block, counts).unwrap();
        }
        profile
    }

    proptest! {
        #[test]
        fn merging_keeps_each_block_once_in_any_order(parts in profiles(), count in any::<bool>()) {
            let mode = if count { Mode::Count } else { Mode::Set };
            let merge = |order: &mut dyn Iterator<Item = &Vec<(u8, u8, u64)>>| {
                let mut merged = Profile::new(mode);
                for p in order {
                    merged.merge(build(mode, p)).unwrap();
                }
                merged
            };
            let forward = merge(&mut parts.iter());
            let backward = merge(&mut parts.iter().rev());
            prop_assert_eq!(&forward, &backward);
            // Statements are the distinct blocks' whatever the runs; a rendered merge reads back.
            let distinct: std::collections::BTreeSet<(u8, u8)> =
                parts.iter().flatten().map(|(f, l, _)| (*f, *l)).collect();
            let statements: u64 = distinct.iter().map(|(_, l)| u64::from(*l) + 1).sum();
            prop_assert_eq!(forward.total().statements, statements);
            prop_assert_eq!(Profile::parse(&forward.render()).unwrap(), forward.clone());
            if count {
                let runs: u64 = parts.iter().flatten().map(|(_, _, c)| c).sum();
                prop_assert_eq!(forward.blocks.values().map(|c| c.count).sum::<u64>(), runs);
            }
        }
    }
}

//! `gob help` and `gob man`: help for a command (clap's, as `--help` prints it), the reference
//! topics (the manifest's tables, environment variables, exit codes) printed from the same
//! markdown the book is built from, and the man pages clap_mangen writes from the clap
//! definitions.

use std::path::Path;

use clap::CommandFactory;

use crate::cli::{Cli, HelpArgs, ManArgs};
use crate::error::GobError;

/// The manifest reference: one `## ` section per table.
const MANIFEST: &str = include_str!("../../docs/src/reference/manifest.md");
/// The reference pages that are one topic each: (topic, text).
const PAGES: &[(&str, &str)] = &[
    (
        "environment",
        include_str!("../../docs/src/reference/environment.md"),
    ),
    (
        "exit-codes",
        include_str!("../../docs/src/reference/exit-codes.md"),
    ),
];

/// Runs `gob help [TOPIC...]`.
pub fn run(args: &HelpArgs) -> Result<(), GobError> {
    let words: Vec<&str> = args.topic.iter().map(String::as_str).collect();
    let mut command = Cli::command();
    // Built, so a subcommand's usage line names its parents (`gob cover merge`).
    command.build();
    if let [topic] = words.as_slice()
        && let Some(text) = page(topic)
    {
        print!("{}", plain(text));
        return Ok(());
    }
    match words.as_slice() {
        [] => print_clap_help(&mut command),
        ["topics"] => print!("{}", topics_list()),
        ["manifest"] => print!("{}", plain(MANIFEST)),
        ["manifest", table] => match manifest_section(MANIFEST, table) {
            Some(text) => print!("{}", plain(text)),
            None => return Err(unknown(&words)),
        },
        _ => match subcommand(&mut command, &words) {
            Some(found) => print_clap_help(found),
            None => return Err(unknown(&words)),
        },
    }
    Ok(())
}

/// Runs `gob man`: gob.1 on stdout, or every page into a dir.
pub fn man(args: &ManArgs) -> Result<(), GobError> {
    let command = Cli::command();
    let io = |path: &Path, source| GobError::Io {
        action: "cannot write the man page",
        path: path.to_path_buf(),
        source,
    };
    match &args.out_dir {
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(command)
                .render(&mut out)
                .map_err(|e| io(Path::new("-"), e))
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            clap_mangen::generate_to(command, dir).map_err(|e| io(dir, e))
        }
    }
}

fn print_clap_help(command: &mut clap::Command) {
    // Printing to a closed pipe ends the process quietly (SIGPIPE is default here).
    let _ = command.print_long_help();
}

/// The subcommand a path of words names (`["cover", "merge"]`), if any.
fn subcommand<'c>(command: &'c mut clap::Command, words: &[&str]) -> Option<&'c mut clap::Command> {
    let Some((first, rest)) = words.split_first() else {
        return Some(command);
    };
    let found = command.find_subcommand_mut(first)?;
    subcommand(found, rest)
}

fn page(topic: &str) -> Option<&'static str> {
    PAGES
        .iter()
        .find(|(name, _)| *name == topic)
        .map(|(_, text)| *text)
}

fn unknown(words: &[&str]) -> GobError {
    GobError::Usage(format!(
        "no command or help topic `{}`\n{}",
        words.join(" "),
        topics_list()
    ))
}

/// What `gob help topics` prints.
fn topics_list() -> String {
    let mut out = String::from("help topics (gob help TOPIC), besides every command:\n");
    out.push_str("  manifest            every key of gobuild.toml\n");
    for (name, table, _) in manifest_sections(MANIFEST) {
        out.push_str(&format!("  manifest {name:<10} the keys of {table}\n"));
    }
    for (name, text) in PAGES {
        let title = text.lines().next().unwrap_or("").trim_start_matches("# ");
        out.push_str(&format!("  {name:<19} {title}\n"));
    }
    out
}

/// The manifest reference's sections: (name, table, text). A `## ` heading names its table in
/// backticks (`` ## `[test.NAME]`: test suites `` is the section `test`).
fn manifest_sections(text: &str) -> Vec<(&str, &str, &str)> {
    let starts: Vec<usize> = text.match_indices("\n## ").map(|(at, _)| at + 1).collect();
    starts
        .iter()
        .enumerate()
        .filter_map(|(i, &start)| {
            let end = starts.get(i + 1).copied().unwrap_or(text.len());
            let section = &text[start..end];
            let heading = section.lines().next()?;
            let table = heading.split('`').nth(1)?;
            let name = table.trim_matches(['[', ']']).split('.').next()?;
            Some((name, table, section))
        })
        .collect()
}

fn manifest_section<'t>(text: &'t str, table: &str) -> Option<&'t str> {
    let table = table.trim_matches(['[', ']']);
    manifest_sections(text)
        .into_iter()
        .find(|(name, _, _)| *name == table)
        .map(|(_, _, section)| section)
}

/// Markdown as terminal text: code fences dropped, the rest as written.
fn plain(markdown: &str) -> String {
    markdown
        .lines()
        .filter(|line| !line.starts_with("```"))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_manifest_table_is_a_topic() {
        let names: Vec<&str> = manifest_sections(MANIFEST)
            .iter()
            .map(|(n, _, _)| *n)
            .collect();
        assert_eq!(
            names,
            [
                "workspace",
                "build",
                "binary",
                "test",
                "task",
                "cache",
                "exec"
            ]
        );
        let test = manifest_section(MANIFEST, "[test]").unwrap();
        assert!(test.contains("retries"), "{test}");
        assert!(
            !test.contains("[task."),
            "a section ends at the next: {test}"
        );
    }

    #[test]
    fn plain_drops_fences_only() {
        assert_eq!(plain("a\n```toml\nx = 1\n```\nb"), "a\nx = 1\nb\n");
    }

    #[test]
    fn commands_are_found_by_their_words() {
        let mut command = Cli::command();
        assert_eq!(
            subcommand(&mut command, &["cover", "merge"]).map(|c| c.get_name().to_string()),
            Some("merge".to_string())
        );
        assert!(subcommand(&mut Cli::command(), &["nope"]).is_none());
    }
}

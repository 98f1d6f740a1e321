//! Coverage reports from a merged profile: the terminal summary (least covered package
//! first), the `gob-coverage` event, a GitHub step summary table, and Cobertura XML (the
//! coverage-04 DTD GitLab and Jenkins read: a package per Go package, a class per file, a
//! line per source line a block covers, its hits the most any of those blocks ran).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::base::events::{GobEvent, PackageCoverage};
use crate::base::text::xml_escape;
use crate::go::coverprofile::{Profile, Totals, package_of};

/// Packages the terminal lists by name; the rest are counted.
pub const LISTED: usize = 20;

/// Packages, least covered first (ties by path).
fn least_covered(profile: &Profile) -> Vec<(&str, Totals)> {
    let mut packages: Vec<(&str, Totals)> = profile.packages().into_iter().collect();
    packages.sort_by(|a, b| a.1.percent().total_cmp(&b.1.percent()).then(a.0.cmp(b.0)));
    packages
}

fn share(totals: &Totals) -> String {
    format!(
        "{:.1}% ({}/{})",
        totals.percent(),
        totals.covered,
        totals.statements
    )
}

/// The terminal's summary: the total, then the least covered packages.
pub fn summary(profile: &Profile, path: &str) -> String {
    let packages = least_covered(profile);
    let mut out = format!(
        "coverage: {} of statements in {} -> {path}",
        share(&profile.total()),
        crate::base::text::plural(packages.len(), "package"),
    );
    let width = packages
        .iter()
        .take(LISTED)
        .map(|(p, _)| p.len())
        .max()
        .unwrap_or(0);
    for (package, totals) in packages.iter().take(LISTED) {
        let _ = write!(out, "\n  {package:width$}  {}", share(totals));
    }
    if packages.len() > LISTED {
        let _ = write!(
            out,
            "\n  ... {} more (go tool cover -func={path})",
            packages.len() - LISTED
        );
    }
    out
}

/// The `gob-coverage` event: every package's totals and the summary the terminal shows.
pub fn event(profile: &Profile, path: &str) -> GobEvent {
    let total = profile.total();
    GobEvent::Coverage {
        profile: path.to_string(),
        mode: profile.mode.name().to_string(),
        covered: total.covered,
        statements: total.statements,
        percent: round(total.percent()),
        packages: least_covered(profile)
            .into_iter()
            .map(|(package, t)| PackageCoverage {
                package: package.to_string(),
                covered: t.covered,
                statements: t.statements,
                percent: round(t.percent()),
            })
            .collect(),
        summary: summary(profile, path),
    }
}

fn round(percent: f64) -> f64 {
    (percent * 10.0).round() / 10.0
}

/// A Markdown table for `GITHUB_STEP_SUMMARY`: the total, then every package, least covered
/// first.
pub fn markdown(profile: &Profile) -> String {
    let mut out = format!(
        "### Coverage: {:.1}% of statements\n\n| Package | Covered | Statements | % |\n|---|---:|---:|---:|\n",
        profile.total().percent()
    );
    for (package, t) in least_covered(profile) {
        let _ = writeln!(
            out,
            "| `{package}` | {} | {} | {:.1} |",
            t.covered,
            t.statements,
            t.percent()
        );
    }
    out
}

/// Cobertura XML of `profile`; `dirs` maps each package to its dir relative to `source`
/// (the workspace dir), where the classes' file names start.
pub fn cobertura(
    profile: &Profile,
    dirs: &BTreeMap<String, String>,
    source: &str,
    timestamp: u64,
) -> String {
    let mut files: BTreeMap<&str, BTreeMap<&str, BTreeMap<u32, u64>>> = BTreeMap::new();
    for (block, counts) in &profile.blocks {
        let lines = files
            .entry(package_of(&block.file))
            .or_default()
            .entry(&block.file)
            .or_default();
        for line in block.start_line..=block.end_line.max(block.start_line) {
            let hits = lines.entry(line).or_default();
            *hits = (*hits).max(counts.count);
        }
    }
    let rate = |lines: &mut dyn Iterator<Item = u64>| {
        let (mut hit, mut all) = (0u64, 0u64);
        for hits in lines {
            all += 1;
            hit += u64::from(hits > 0);
        }
        (hit, all)
    };
    let ratio = |(hit, all): (u64, u64)| match all {
        0 => "0".to_string(),
        _ => format!("{:.4}", hit as f64 / all as f64),
    };
    let everything = rate(
        &mut files
            .values()
            .flat_map(|f| f.values())
            .flat_map(|l| l.values().copied()),
    );
    let mut out = String::from("<?xml version=\"1.0\" ?>\n");
    out.push_str(
        "<!DOCTYPE coverage SYSTEM \"http://cobertura.sourceforge.net/xml/coverage-04.dtd\">\n",
    );
    let _ = writeln!(
        out,
        "<coverage line-rate=\"{}\" branch-rate=\"0\" lines-covered=\"{}\" lines-valid=\"{}\" branches-covered=\"0\" branches-valid=\"0\" complexity=\"0\" version=\"gob {}\" timestamp=\"{timestamp}\">",
        ratio(everything),
        everything.0,
        everything.1,
        env!("CARGO_PKG_VERSION"),
    );
    let _ = writeln!(
        out,
        "  <sources>\n    <source>{}</source>\n  </sources>\n  <packages>",
        xml_escape(source)
    );
    for (package, package_files) in &files {
        let lines = rate(&mut package_files.values().flat_map(|l| l.values().copied()));
        let _ = writeln!(
            out,
            "    <package name=\"{}\" line-rate=\"{}\" branch-rate=\"0\" complexity=\"0\">\n      <classes>",
            xml_escape(package),
            ratio(lines)
        );
        let dir = dirs.get(*package).map(String::as_str);
        for (file, lines) in package_files {
            let name = file.rsplit('/').next().unwrap_or(file);
            let filename = match dir {
                Some("") | Some(".") => name.to_string(),
                Some(dir) => format!("{dir}/{name}"),
                None => file.to_string(),
            };
            let _ = writeln!(
                out,
                "        <class name=\"{}\" filename=\"{}\" line-rate=\"{}\" branch-rate=\"0\" complexity=\"0\">\n          <methods/>\n          <lines>",
                xml_escape(name),
                xml_escape(&filename),
                ratio(rate(&mut lines.values().copied()))
            );
            for (number, hits) in lines {
                let _ = writeln!(
                    out,
                    "            <line number=\"{number}\" hits=\"{hits}\"/>"
                );
            }
            out.push_str("          </lines>\n        </class>\n");
        }
        out.push_str("      </classes>\n    </package>\n");
    }
    out.push_str("  </packages>\n</coverage>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str =
        "mode: count\nm/a/a.go:3.14,5.2 2 3\nm/a/a.go:5.2,7.2 1 0\nm/b/b&c.go:1.1,1.9 4 0\n";

    #[test]
    fn the_summary_lists_the_least_covered_package_first() {
        let profile = Profile::parse(PROFILE).unwrap();
        let text = summary(&profile, "cover.out");
        assert!(
            text.starts_with("coverage: 28.6% (2/7) of statements in 2 packages -> cover.out"),
            "{text}"
        );
        let b = text.find("m/b").unwrap();
        assert!(b < text.find("m/a").unwrap(), "{text}");
        let GobEvent::Coverage {
            packages, percent, ..
        } = event(&profile, "cover.out")
        else {
            panic!()
        };
        assert_eq!(percent, 28.6);
        assert_eq!(packages[0].package, "m/b");
        assert!(markdown(&profile).contains("| `m/a` | 2 | 3 | 66.7 |"));
    }

    #[test]
    fn cobertura_has_a_class_per_file_and_a_line_per_covered_source_line() {
        let profile = Profile::parse(PROFILE).unwrap();
        let dirs = BTreeMap::from([("m/a".to_string(), "pkg/a".to_string())]);
        let xml = cobertura(&profile, &dirs, "/ws", 7);
        let doc = roxmltree::Document::parse_with_options(
            &xml,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            },
        )
        .unwrap();
        let classes: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("class"))
            .map(|n| n.attribute("filename").unwrap().to_string())
            .collect();
        assert_eq!(classes, ["pkg/a/a.go", "m/b/b&c.go"]);
        let hits = |line: &str| {
            doc.descendants()
                .filter(|n| n.has_tag_name("line"))
                .find(|n| n.attribute("number") == Some(line))
                .and_then(|n| n.attribute("hits"))
                .map(str::to_string)
        };
        // Line 5 ends one block that ran 3 times and starts one that never ran.
        assert_eq!(hits("5").as_deref(), Some("3"));
        assert_eq!(hits("6").as_deref(), Some("0"));
        let root = doc.root_element();
        assert_eq!(root.attribute("lines-valid"), Some("6"));
        assert_eq!(root.attribute("lines-covered"), Some("3"));
    }
}

//! `[test.NAME]` suites: reading and validating them.

use std::collections::BTreeMap;
use std::time::Duration;

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::{Located, Problem, TableReader};

/// A test binary's timeout unless the suite sets one (go test's default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// One `[test.NAME]` suite.
#[derive(Debug, Clone, Default)]
pub struct SuiteSpec {
    /// The suite's name (the key after `test.`).
    pub name: String,
    /// Go package patterns.
    pub packages: Vec<Located<String>>,
    /// Globs on package dirs relative to the workspace dir.
    pub exclude: GlobSet,
    /// Build tags.
    pub tags: Vec<String>,
    /// Integration suite: test binaries run one at a time.
    pub integ: bool,
    /// Per test binary; default 10m.
    pub timeout: Duration,
    /// Extra environment for the test binaries.
    pub env: BTreeMap<String, String>,
    /// Arguments passed to the test binaries.
    pub args: Vec<String>,
    /// Build with `-race`.
    pub race: bool,
    /// Build with `-cover`.
    pub cover: bool,
    /// Packages coverage counts (`-coverpkg`); empty: each package under test counts itself.
    pub coverpkg: Vec<String>,
    /// With a coverage profile: build the manifest's binaries with `-cover` for the tests to
    /// start (`GOB_BIN_DIR`), and count what they ran (`GOCOVERDIR`).
    pub cover_binaries: bool,
    /// Which vet checks go test runs.
    pub vet: Vet,
    /// How many times a failed test is run again (0: never).
    pub retries: u32,
    /// A test that failed and then passed fails the suite (`flaky = "fail"`); by default it
    /// passes and is reported as flaky.
    pub flaky_fails: bool,
    /// Remote execution may reuse the result of an identical earlier run of a test binary
    /// (same binary, inputs, env and args) from the action cache (`cache_results = true`).
    pub cache_results: bool,
    /// Globs (relative to the workspace dir) of files the tests read at run time that go
    /// cannot know of; a change to one selects the whole suite under `--since`.
    pub inputs: GlobSet,
    /// Globs (relative to the workspace dir) of files a test archive carries besides each
    /// package's testdata (fixtures that live elsewhere).
    pub include: GlobSet,
    /// A test still running after this long is reported as slow (again at every further
    /// period).
    pub slow: Option<Duration>,
    /// Integration suites: a package whose recorded time exceeds this is split into groups
    /// of its top-level tests of about this duration (units of remote runs and shards).
    pub split: Option<Duration>,
    /// Tasks run before the suite.
    pub before: Vec<Located<String>>,
    /// Services started (and ready) before its first test runs, stopped after it.
    pub services: Vec<Located<String>>,
}

/// The most retries a suite may ask for.
pub const MAX_RETRIES: u64 = 100;

pub use crate::go::vet::Vet;

pub(super) fn read_suites(top: &mut TableReader, problems: &mut Vec<Problem>) -> Vec<SuiteSpec> {
    let Some((table, _)) = top.table("test", problems) else {
        return Vec::new();
    };
    let mut suites = Vec::new();
    for (key, value) in table.iter() {
        let name = key.get_ref().to_string();
        let Some(suite_table) = value.get_ref().as_table() else {
            problems.push(
                Problem::new(
                    value.span(),
                    format!("`test.{name}` must be a table describing a suite"),
                    "expected a table",
                )
                .with_help(format!("write it as [test.{name}] with packages = [...]")),
            );
            continue;
        };
        if !super::is_plain_name(&name) {
            problems.push(
                Problem::new(
                    key.span(),
                    format!("suite name `{name}` must be a plain name"),
                    "not a plain name",
                )
                .with_help(format!(
                    "it names the dir {}/<suite>; use letters, digits, - and _",
                    crate::base::state::TEST_BIN_DIR
                )),
            );
            continue;
        }
        let mut reader = TableReader::new(suite_table, format!("[test.{name}]"), key.span());
        let packages = reader.string_list("packages", problems);
        let exclude = reader.string_list("exclude", problems).unwrap_or_default();
        let inputs = reader.string_list("inputs", problems).unwrap_or_default();
        let include = reader.string_list("include", problems).unwrap_or_default();
        let tags = reader.string_list("tags", problems).unwrap_or_default();
        let integ = reader.bool("integ", problems).unwrap_or(false);
        let timeout = reader
            .string("timeout", problems)
            .and_then(|t| parse_duration_key(&format!("[test.{name}]"), "timeout", &t, problems))
            .unwrap_or(DEFAULT_TIMEOUT);
        let env = reader.string_map("env", problems).unwrap_or_default();
        let args = reader.string_list("args", problems).unwrap_or_default();
        let race = reader.bool("race", problems).unwrap_or(false);
        let cover = reader.bool("cover", problems).unwrap_or(false);
        let coverpkg = reader.string_list("coverpkg", problems).unwrap_or_default();
        let cover_binaries = reader
            .located_bool("cover_binaries", problems)
            .map(|l| {
                if l.value && !integ {
                    problems.push(
                        Problem::new(
                            l.span.clone(),
                            format!("[test.{name}] cover_binaries needs an integration suite (integ = true)"),
                            "unit suite",
                        )
                        .with_help("go test points a unit test's GOCOVERDIR at a dir of its own, so what the binaries ran would be lost; gob runs an integration suite's tests itself"),
                    );
                }
                l.value
            })
            .unwrap_or(false);
        let vet = match reader.string("vet", problems) {
            None => Vet::Default,
            Some(v) if v.value == "off" => Vet::Off,
            Some(v) => Vet::Checks(v.value),
        };
        let table_name = format!("[test.{name}]");
        let retries = reader.count("retries", problems).and_then(|r| {
            if r.value > MAX_RETRIES {
                problems.push(Problem::new(
                    r.span,
                    format!(
                        "{table_name} retries = {} is more than {MAX_RETRIES}",
                        r.value
                    ),
                    "too many retries",
                ));
                return None;
            }
            u32::try_from(r.value).ok()
        });
        let flaky_fails = match reader.string("flaky", problems) {
            None => false,
            Some(v) if v.value == "pass" => false,
            Some(v) if v.value == "fail" => true,
            Some(v) => {
                problems.push(
                    Problem::new(
                        v.span,
                        format!("{table_name} flaky `{}` is not \"pass\" or \"fail\"", v.value),
                        "pass or fail",
                    )
                    .with_help("\"pass\" (the default): a test that passes on a retry passes, reported as flaky; \"fail\": it fails the suite"),
                );
                false
            }
        };
        let cache_results = reader.bool("cache_results", problems).unwrap_or(false);
        let slow = reader
            .string("slow", problems)
            .and_then(|t| parse_duration_key(&table_name, "slow", &t, problems));
        let split_key = reader.string("split", problems);
        let split = split_key.and_then(|t| {
            let span = t.span.clone();
            let split = parse_duration_key(&table_name, "split", &t, problems)?;
            if !integ {
                problems.push(
                    Problem::new(
                        span,
                        format!("{table_name} split needs an integration suite (integ = true)"),
                        "unit suite",
                    )
                    .with_help("a unit suite's packages run in one go test call, which runs each package once; gob splits the test binaries it runs itself"),
                );
                return None;
            }
            Some(split)
        });
        let before = reader.string_list("before", problems).unwrap_or_default();
        let services = reader.string_list("services", problems).unwrap_or_default();
        reader.finish(problems);
        let packages = packages.unwrap_or_else(|| {
            vec![Located {
                value: "./...".to_string(),
                span: key.span(),
            }]
        });
        if packages.is_empty() {
            problems.push(Problem::new(
                key.span(),
                format!("[test.{name}] packages is empty"),
                "no packages",
            ));
        }
        let exclude_set = build_globset(&table_name, "exclude", &exclude, problems);
        let inputs = build_globset(&table_name, "inputs", &inputs, problems);
        let include = build_globset(&table_name, "include", &include, problems);
        suites.push(SuiteSpec {
            name,
            packages,
            exclude: exclude_set,
            tags: tags.into_iter().map(|l| l.value).collect(),
            integ,
            timeout,
            env,
            args: args.into_iter().map(|l| l.value).collect(),
            race,
            cover,
            coverpkg: coverpkg.into_iter().map(|l| l.value).collect(),
            cover_binaries,
            vet,
            retries: retries.unwrap_or(0),
            flaky_fails,
            inputs,
            include,
            slow,
            cache_results,
            split,
            before,
            services,
        });
    }
    suites
}

/// The globs of `key` in `table` as one set; every invalid glob is a located problem.
pub(super) fn build_globset(
    table: &str,
    key: &str,
    globs: &[Located<String>],
    problems: &mut Vec<Problem>,
) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        match Glob::new(&glob.value) {
            Ok(g) => {
                builder.add(g);
                // `integration/**` means the tree, so it drops the dir `integration` too
                // (a glob's `/**` alone matches only what is below).
                if let Some(dir) = glob.value.strip_suffix("/**")
                    && let Ok(dir) = Glob::new(dir)
                {
                    builder.add(dir);
                }
            }
            Err(e) => problems.push(Problem::new(
                glob.span.clone(),
                format!(
                    "{table} {key} glob `{}` is invalid: {}",
                    glob.value,
                    e.kind()
                ),
                "bad glob",
            )),
        }
    }
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}

/// Parses a duration `key` of `table` (e.g. `timeout` of `[test.unit]`), or records why it
/// is not one.
pub(super) fn parse_duration_key(
    table: &str,
    key: &str,
    text: &Located<String>,
    problems: &mut Vec<Problem>,
) -> Option<Duration> {
    let parsed = crate::go::duration::parse_go_duration(&text.value);
    if parsed.is_none() {
        problems.push(
            Problem::new(
                text.span.clone(),
                format!("{table} {key} `{}` is not a duration", text.value),
                "not a duration",
            )
            .with_help(
                "write it as go does: \"90s\", \"10m\", \"1h30m\" (more than 0, at most 2562047h)",
            ),
        );
    }
    parsed
}

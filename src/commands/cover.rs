//! Coverage of a `gob test` run (`--coverprofile`, `--cover-html`, `--cover-xml`): a fresh
//! fragments dir, the instrumented binaries of `cover_binaries` suites, and, when the run
//! ends, one merged profile with its reports. Also `gob cover merge`, which joins the
//! profiles of shard machines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::base::state::COVER_DIR;
use crate::cli::{CoverArgs, CoverCommand, TestArgs};
use crate::commands::context::{Context, write_file as write};
use crate::error::GobError;
use crate::exec::{Outcome, run_merged};
use crate::go::coverprofile::{Mode, Profile};
use crate::manifest::{Manifest, SuiteSpec};
use crate::plan::GoCommand;
use crate::plan::cover::fragments_dir;
use crate::plan::test::{TestPlanContext, plan_untested};
use crate::report::{Reporter, coverage};
use crate::runners::Events;
use crate::runners::cover::Fragments;
use crate::workspace::gotool::GoTool;

/// The coverage a run writes.
pub struct Coverage {
    /// The counter mode of every instrumented build.
    pub mode: Mode,
    /// Where runs write their fragments.
    pub fragments: Fragments,
    profile: PathBuf,
    html: Option<PathBuf>,
    xml: Option<PathBuf>,
    workspace_dir: PathBuf,
    /// go (for `go list`) and the environment of its planned calls (none in a run from an
    /// archive).
    go: Option<(GoTool, BTreeMap<String, String>)>,
}

/// The counter mode test binaries are built with: with a profile (or `--cover`, for an
/// archive), the run's mode; `None` when the run counts nothing.
pub fn mode(args: &TestArgs, suites: &[&SuiteSpec]) -> Result<Option<Mode>, GobError> {
    let wanted = args.cover
        || args.coverprofile.is_some()
        || args.cover_html.is_some()
        || args.cover_xml.is_some();
    if !wanted {
        return Ok(None);
    }
    let asked = args.covermode.as_deref().map(parse_mode).transpose()?;
    crate::plan::cover::run_mode(asked, suites)
        .map(Some)
        .map_err(GobError::Usage)
}

/// A run with nothing to run still leaves the profile it was asked for (empty), so that a
/// shard that selects nothing does not break the merge after it.
pub fn nothing_covered(args: &TestArgs, mode: Option<Mode>) -> Result<(), GobError> {
    match (&args.coverprofile, mode, args.dry_run) {
        (Some(path), Some(mode), false) => write(path, Profile::new(mode).render().as_bytes()),
        _ => Ok(()),
    }
}

/// Where the run's profile goes: `--coverprofile`, or `.gob/cover/coverage.out` when only
/// its HTML or Cobertura form is asked for; `None` without a profile.
pub fn profile_path(args: &TestArgs, workspace_dir: &Path) -> Option<PathBuf> {
    match &args.coverprofile {
        Some(path) => Some(path.clone()),
        None if args.cover_html.is_some() || args.cover_xml.is_some() => {
            Some(workspace_dir.join(COVER_DIR).join("coverage.out"))
        }
        None => None,
    }
}

/// `--covermode`'s value.
fn parse_mode(name: &str) -> Result<Mode, GobError> {
    Mode::parse(name)
        .ok_or_else(|| GobError::Usage(format!("--covermode `{name}` is not set, count or atomic")))
}

impl Coverage {
    /// The coverage `args` ask for in `workspace_dir` (`None`: no profile), its fragments dir
    /// emptied of an earlier run's.
    pub fn start(
        args: &TestArgs,
        mode: Option<Mode>,
        workspace_dir: &Path,
    ) -> Result<Option<Coverage>, GobError> {
        let Some(mode) = mode else { return Ok(None) };
        let Some(profile) = profile_path(args, workspace_dir) else {
            return Ok(None);
        };
        for dir in [fragments_dir(workspace_dir), covdata_dir(workspace_dir)] {
            crate::base::paths::refuse_symlinks(workspace_dir, &dir)
                .and_then(|()| crate::base::paths::remove_tree(&dir))
                .and_then(|()| std::fs::create_dir_all(&dir))
                .map_err(|source| GobError::Io {
                    action: "cannot prepare",
                    path: dir.clone(),
                    source,
                })?;
        }
        Ok(Some(Coverage {
            mode,
            fragments: Fragments::new(workspace_dir),
            profile,
            html: args.cover_html.clone(),
            xml: args.cover_xml.clone(),
            workspace_dir: workspace_dir.to_path_buf(),
            go: None,
        }))
    }

    /// The same, converting and reporting with the go of `ctx`.
    pub fn with_go(mut self, ctx: &Context) -> Coverage {
        self.go = Some((ctx.go.clone(), ctx.command_env()));
        self
    }

    /// For a `cover_binaries` suite: builds the manifest's binaries (for this machine) with
    /// coverage into `.gob/cover/bin/`, and gives the suite `GOB_BIN_DIR` (where its tests
    /// find them) and `GOCOVERDIR` (where the binaries write what they ran; an integration
    /// suite's, since go test would point a unit test's elsewhere).
    pub async fn cover_binaries(
        &self,
        manifest: &Manifest,
        ctx: &Context,
        suite: &mut SuiteSpec,
        reporter: &mut Reporter,
    ) -> Result<(), GobError> {
        let bin_dir = self.workspace_dir.join(COVER_DIR).join("bin");
        let cover = super::build::BuildCover {
            mode: self.mode,
            coverpkg: &suite.coverpkg,
        };
        let host = ctx.host_platform();
        let (plan, _) = super::build::make_plan(
            manifest,
            ctx,
            &[],
            Some(&host),
            bin_dir.clone(),
            Some(cover),
        )?;
        super::build::prepare_dirs(&plan, &self.workspace_dir, false)?;
        super::build::build(&plan, reporter).await?;
        let covdata = covdata_dir(&self.workspace_dir).join(&suite.name);
        std::fs::create_dir_all(&covdata).map_err(|source| GobError::Io {
            action: "cannot create",
            path: covdata.clone(),
            source,
        })?;
        suite
            .env
            .insert("GOB_BIN_DIR".into(), bin_dir.display().to_string());
        suite
            .env
            .insert("GOCOVERDIR".into(), covdata.display().to_string());
        Ok(())
    }

    /// Counts the statements of a unit suite's `packages` without test files as go test
    /// would (see [`plan_untested`]).
    pub async fn untested(
        &self,
        suite: &SuiteSpec,
        packages: &[String],
        plan_ctx: &TestPlanContext,
    ) -> Result<(), GobError> {
        let profile = self.fragments.next(&suite.name, Some("untested"));
        match plan_untested(suite, packages, &profile, plan_ctx) {
            Some(command) => {
                self.run(&command, "go test -cover of the packages without tests")
                    .await
            }
            None => Ok(()),
        }
    }

    /// Merges every fragment (and what instrumented binaries wrote) into the profile, writes
    /// the reports asked for, and reports the summary.
    pub async fn finish(&self, reporter: &mut Reporter) -> Result<(), GobError> {
        self.convert_covdata().await?;
        let fragments = files_below(&fragments_dir(&self.workspace_dir));
        let merged = merge_files(Some(Profile::new(self.mode)), &fragments, GobError::Failed)?;
        let profile = merged.unwrap_or_else(|| Profile::new(self.mode));
        write(&self.profile, profile.render().as_bytes())?;
        if let Some(html) = &self.html {
            self.write_html(html).await?;
        }
        if let Some(xml) = &self.xml {
            let dirs = self.package_dirs(&profile);
            let source = self.workspace_dir.display().to_string();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            write(
                xml,
                coverage::cobertura(&profile, &dirs, &source, now).as_bytes(),
            )?;
        }
        if let Ok(summary) = std::env::var("GITHUB_STEP_SUMMARY")
            && !summary.is_empty()
        {
            append(Path::new(&summary), &coverage::markdown(&profile));
        }
        reporter.gob(coverage::event(
            &profile,
            &self.profile.display().to_string(),
        ));
        Ok(())
    }

    /// Each package of `profile` with its dir relative to the workspace, as go lists them
    /// (none without go, or when go cannot list them: Cobertura then names files by import
    /// path).
    fn package_dirs(&self, profile: &Profile) -> BTreeMap<String, String> {
        let packages: Vec<&str> = profile.packages().into_keys().collect();
        let listed = match &self.go {
            Some((go, _)) if !packages.is_empty() => go.list(&packages, &[]).unwrap_or_default(),
            _ => Vec::new(),
        };
        listed
            .into_iter()
            .filter_map(|p| {
                let relative = crate::base::paths::relative_to(&p.dir?, &self.workspace_dir);
                Some((p.import_path, relative.display().to_string()))
            })
            .collect()
    }

    /// `go tool covdata textfmt` of each suite's `GOCOVERDIR` into a fragment.
    async fn convert_covdata(&self) -> Result<(), GobError> {
        let covdata = covdata_dir(&self.workspace_dir);
        let Ok(entries) = std::fs::read_dir(&covdata) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            let written = std::fs::read_dir(&dir).map(|mut d| d.next().is_some());
            if !matches!(written, Ok(true)) {
                continue;
            }
            let suite = entry.file_name().to_string_lossy().into_owned();
            let fragment = self.fragments.next(&suite, Some("binaries"));
            let args = vec![
                "tool".to_string(),
                "covdata".to_string(),
                "textfmt".to_string(),
                format!("-i={}", dir.display()),
                format!("-o={}", fragment.display()),
            ];
            self.go(args, "go tool covdata textfmt").await?;
        }
        Ok(())
    }

    /// `go tool cover -html` of the profile, written atomically.
    async fn write_html(&self, html: &Path) -> Result<(), GobError> {
        let staged = self.workspace_dir.join(COVER_DIR).join("coverage.html");
        let args = vec![
            "tool".to_string(),
            "cover".to_string(),
            format!("-html={}", self.profile.display()),
            "-o".to_string(),
            staged.display().to_string(),
        ];
        self.go(args, "go tool cover -html").await?;
        let bytes = std::fs::read(&staged).map_err(|source| GobError::Io {
            action: "cannot read",
            path: staged.clone(),
            source,
        })?;
        write(html, &bytes)
    }

    /// Runs go with `args` in the workspace; its output is shown only when it fails.
    async fn go(&self, args: Vec<String>, what: &str) -> Result<(), GobError> {
        let (go, env) = self
            .go
            .as_ref()
            .ok_or_else(|| GobError::Failed(format!("{what} needs go")))?;
        let command = GoCommand {
            program: go.program.clone(),
            args,
            env: env.clone(),
            dir: self.workspace_dir.clone(),
        };
        self.run(&command, what).await
    }

    /// Runs `command`; its output is shown only when it fails.
    async fn run(&self, command: &GoCommand, what: &str) -> Result<(), GobError> {
        let mut output = Vec::new();
        let outcome = run_merged(command, |line| output.push(line.to_string())).await?;
        match outcome {
            Outcome::Succeeded => Ok(()),
            Outcome::Interrupted(sig) => Err(GobError::Interrupted(sig)),
            _ => Err(GobError::Failed(format!(
                "{what} failed:\n{}",
                output.join("\n")
            ))),
        }
    }
}

/// Where each `cover_binaries` suite's binaries write their counters.
fn covdata_dir(workspace_dir: &Path) -> PathBuf {
    workspace_dir.join(COVER_DIR).join("covdata")
}

/// Every file below `dir`, in a stable order.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => dirs.push(entry.path()),
                Ok(t) if t.is_file() => files.push(entry.path()),
                _ => {}
            }
        }
    }
    files.sort();
    files
}

/// Appends `text` to the GitHub step summary; a failure is a warning.
fn append(path: &Path, text: &str) {
    use std::io::Write;
    let written = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(error) = written {
        eprintln!(
            "gob: warning: cannot append the coverage table to {}: {error}",
            path.display()
        );
    }
}

/// Reads each of `files` and merges it into `merged` (none: the first file's mode wins); a
/// file that is not a profile, or of another mode, is `bad` with its name.
fn merge_files(
    mut merged: Option<Profile>,
    files: &[PathBuf],
    bad: fn(String) -> GobError,
) -> Result<Option<Profile>, GobError> {
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|source| GobError::Io {
            action: "cannot read",
            path: file.clone(),
            source,
        })?;
        let named = |e: String| bad(format!("{}: {e}", file.display()));
        let profile = Profile::parse(&text).map_err(named)?;
        match &mut merged {
            None => merged = Some(profile),
            Some(merged) => merged.merge(profile).map_err(named)?,
        }
    }
    Ok(merged)
}

/// Runs `gob cover merge FILE... --output FILE`.
pub fn run(args: &CoverArgs) -> Result<(), GobError> {
    let CoverCommand::Merge { files, output } = &args.command;
    let merged = merge_files(None, files, GobError::Usage)?;
    let merged = merged.unwrap_or_else(|| Profile::new(Mode::Set));
    write(output, merged.render().as_bytes())?;
    let total = merged.total();
    eprintln!(
        "gob: merged {} into {}: {:.1}% of {} statements",
        crate::report::plural(files.len(), "profile"),
        output.display(),
        total.percent(),
        total.statements
    );
    Ok(())
}

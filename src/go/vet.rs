//! Which vet checks `go test` runs, and how its flag is spelled (cmd/go/internal/test
//! testflag.go: `-vet=off`, `-vet=LIST`; no flag keeps go's default subset).

/// The `vet` setting of a suite.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Vet {
    /// go's default subset.
    #[default]
    Default,
    /// `-vet=off`.
    Off,
    /// `-vet=LIST`, e.g. "atomic,bool".
    Checks(String),
}

impl Vet {
    /// The go test flag for this setting, if any.
    pub fn flag(&self) -> Option<String> {
        match self {
            Vet::Default => None,
            Vet::Off => Some("-vet=off".to_string()),
            Vet::Checks(list) => Some(format!("-vet={list}")),
        }
    }
}

/// The flags `go test` passes to the vet tool for `package`, from `go test -n` output (cmd/go
/// prints each vet config it writes, `cat >$WORK/bNNN/vet.cfg << 'EOF'` with its `"ID"`, and
/// then the vet tool's command, `…/vet FLAGS $WORK/bNNN/vet.cfg`): `None` when it vets nothing
/// of the package (`-vet=off`). The package's own config is the one that counts: go vets
/// standard-library dependencies with other flags (`-unsafeptr=false`). Asking go keeps gob
/// right for every Go version, whose default set changes (1.21 added `directive` and `slog`,
/// later releases `tests`).
pub fn flags_from_plan(plan: &str, package: &str) -> Option<Vec<String>> {
    let mut ids: std::collections::HashMap<String, String> = Default::default();
    let mut writing: Option<String> = None;
    let own = |id: &str| {
        let base = id.split(" [").next().unwrap_or(id);
        base == package || base.strip_suffix("_test") == Some(package)
    };
    for line in plan.lines() {
        if let Some(config) = line
            .strip_prefix("cat >")
            .and_then(|rest| rest.split(' ').next())
            .filter(|c| c.ends_with("vet.cfg"))
        {
            writing = Some(config.to_string());
            continue;
        }
        if let (Some(config), Some(id)) = (&writing, line.trim().strip_prefix("\"ID\": ")) {
            let id = id.trim_end_matches(',').trim_matches('"');
            ids.insert(config.clone(), id.to_string());
            writing = None;
            continue;
        }
        let Some(words) = crate::go::quoted::split(line) else {
            continue;
        };
        let (Some(tool), Some(config)) =
            (words.iter().position(|w| w.ends_with("/vet")), words.last())
        else {
            continue;
        };
        if config.ends_with("vet.cfg")
            && words.len() > tool + 1
            && ids.get(config).is_some_and(|id| own(id))
        {
            return Some(words[tool + 1..words.len() - 1].to_vec());
        }
    }
    None
}

/// Where go's source defines the checks `go test` runs by default, under GOROOT.
pub const DEFAULT_FLAGS_SOURCE: &str = "src/cmd/go/internal/test/test.go";

/// The flags `go test` passes vet by default, as the go command's own source lists them
/// (`var defaultVetFlags = []string{…}` in [`DEFAULT_FLAGS_SOURCE`]; the commented-out checks
/// are off): what `go test -n` shows, known without running go, whose first call on a cold
/// cache costs ~0.4 s before anything can be vetted. `None` when the source does not say.
pub fn default_flags_from_source(source: &str) -> Option<Vec<String>> {
    let start = source.find("var defaultVetFlags = []string{")?;
    let body = &source[start..];
    let body = &body[..body.find("\n}")?];
    let flags: Vec<String> = body
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|line| !line.starts_with("//"))
        .filter_map(|line| line.strip_prefix('"')?.strip_suffix("\","))
        .filter(|flag| flag.starts_with('-'))
        .map(String::from)
        .collect();
    (!flags.is_empty()).then_some(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_flags_are_read_from_gos_source() {
        let source = "x\nvar defaultVetFlags = []string{\n\t// TODO\n\t// \"-asmdecl\",\n\t\"-atomic\",\n\t\"-bool\",\n\t// \"-unsafeptr\",\n}\n\nfunc f() {}\n";
        assert_eq!(
            default_flags_from_source(source).unwrap(),
            ["-atomic", "-bool"]
        );
        assert_eq!(default_flags_from_source("package test\n"), None);
    }

    /// A config and the vet command for package `id` with `flags`, as `go test -n` prints.
    fn vetted(n: u32, id: &str, flags: &str) -> String {
        format!(
            "cat >$WORK/b{n:03}/vet.cfg << 'EOF' # internal\n{{\n\t\"ID\": \"{id}\",\n\t\"Compiler\": \"gc\"\n}}\nEOF\nTERM='dumb' /usr/lib/go/pkg/tool/linux_amd64/vet {flags}$WORK/b{n:03}/vet.cfg\n"
        )
    }

    #[test]
    fn the_vet_flags_of_the_package_itself_are_read_from_go_test_n() {
        // Go 1.19 prints the standard library's vet (other flags) after the package's own.
        let plan = [
            vetted(87, "m/leaf", "-atomic -bool "),
            vetted(86, "m/a", "-atomic -printf "),
            vetted(6, "internal/goarch", "-unsafeptr=false -unreachable=false "),
        ]
        .concat();
        assert_eq!(
            flags_from_plan(&plan, "m/a").unwrap(),
            ["-atomic", "-printf"]
        );
        let xtest = vetted(3, "m/a_test [m/a.test]", "-tests ");
        assert_eq!(flags_from_plan(&xtest, "m/a").unwrap(), ["-tests"]);
        let all = vetted(1, "m/a [m/a.test]", "");
        assert_eq!(flags_from_plan(&all, "m/a").unwrap(), Vec::<String>::new());
        assert_eq!(flags_from_plan(&plan, "m/other"), None);
        let compile = "cd /x\n/go/pkg/tool/linux_amd64/compile -o a.a\n";
        assert_eq!(flags_from_plan(compile, "m/a"), None);
    }

    #[test]
    fn vet_flags_as_go_test_spells_them() {
        assert_eq!(Vet::Default.flag(), None);
        assert_eq!(Vet::Off.flag().as_deref(), Some("-vet=off"));
        assert_eq!(
            Vet::Checks("atomic,bool".into()).flag().as_deref(),
            Some("-vet=atomic,bool")
        );
    }
}

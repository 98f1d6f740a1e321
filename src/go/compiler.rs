//! How the go command picks the compiler's `-c` (backend compile concurrency), per Go
//! version, from cmd/go/internal/work/gc.go:
//! - Go 1.26+ (`compilerConcurrency`, a token pool): with `-p 1`, -c = GOMAXPROCS; otherwise
//!   each compile gets between min(4, GOMAXPROCS) and GOMAXPROCS. GO19CONCURRENTCOMPILATION is gone.
//! - Go ≤1.25 (`gcBackendConcurrency`): GO19CONCURRENTCOMPILATION=0, or the fieldtrack /
//!   preemptibleloops experiments, force 1; with `-p 1`, GOMAXPROCS; otherwise min(4, GOMAXPROCS).
//!
//! gob never passes `-gcflags=-c=N` itself: gcflags are hashed into action IDs, so it would
//! split the build cache from plain `go build` and between machine sizes.

use serde::Serialize;

use super::version::GoVersion;

/// The range of `-c` values the go command will give compile actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompileConcurrency {
    /// Smallest -c a compile gets.
    pub min: usize,
    /// Largest -c a compile gets.
    pub max: usize,
    /// Why it is forced to 1, when the environment forces it.
    pub forced_by: Option<String>,
}

/// Environment variables that change the -c rule.
#[derive(Debug, Clone, Default)]
pub struct CompileEnv {
    /// `GO19CONCURRENTCOMPILATION`.
    pub go19_concurrent_compilation: Option<String>,
    /// `GOEXPERIMENT`.
    pub goexperiment: Option<String>,
}

/// The -c range for `go` at `version` with `GOMAXPROCS=gomaxprocs` and `-p p`.
pub fn compile_concurrency(
    version: &GoVersion,
    gomaxprocs: usize,
    p: usize,
    env: &CompileEnv,
) -> CompileConcurrency {
    let g = gomaxprocs.max(1);
    let forced = |why: String| CompileConcurrency {
        min: 1,
        max: 1,
        forced_by: Some(why),
    };
    if !version.at_least(26) {
        if env.go19_concurrent_compilation.as_deref() == Some("0") {
            return forced("GO19CONCURRENTCOMPILATION=0".to_string());
        }
        let experiment = env.goexperiment.as_deref().unwrap_or("");
        if let Some(bad) = experiment
            .split(',')
            .find(|e| matches!(*e, "fieldtrack" | "preemptibleloops"))
        {
            return forced(format!("GOEXPERIMENT={bad}"));
        }
        let c = if p == 1 { g } else { g.min(4) };
        return CompileConcurrency {
            min: c,
            max: c,
            forced_by: None,
        };
    }
    let min = if p == 1 { g } else { g.min(4) };
    CompileConcurrency {
        min,
        max: g,
        forced_by: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> GoVersion {
        GoVersion::parse(s).unwrap()
    }

    #[test]
    fn go_1_26_token_pool_ranges_from_min4_to_gomaxprocs() {
        let env = CompileEnv::default();
        let c = compile_concurrency(&v("go1.26.8"), 8, 8, &env);
        assert_eq!((c.min, c.max), (4, 8));
        let c = compile_concurrency(&v("go1.26.8"), 2, 2, &env);
        assert_eq!((c.min, c.max), (2, 2));
        let c = compile_concurrency(&v("go1.26.8"), 8, 1, &env);
        assert_eq!((c.min, c.max), (8, 8));
    }

    #[test]
    fn older_go_caps_at_four_unless_p1_and_honours_go19_switch() {
        let env = CompileEnv::default();
        assert_eq!(compile_concurrency(&v("go1.25.5"), 8, 8, &env).max, 4);
        assert_eq!(compile_concurrency(&v("go1.19.8"), 8, 1, &env).max, 8);
        let off = CompileEnv {
            go19_concurrent_compilation: Some("0".into()),
            ..Default::default()
        };
        let c = compile_concurrency(&v("go1.21.13"), 8, 8, &off);
        assert_eq!(c.max, 1);
        assert_eq!(c.forced_by.as_deref(), Some("GO19CONCURRENTCOMPILATION=0"));
        // Go 1.26 removed the switch: it no longer forces anything.
        assert_eq!(compile_concurrency(&v("go1.26.0"), 8, 8, &off).max, 8);
    }

    #[test]
    fn experiments_that_disable_dash_c_are_reported() {
        let env = CompileEnv {
            goexperiment: Some("loopvar,fieldtrack".into()),
            ..Default::default()
        };
        let c = compile_concurrency(&v("go1.22.0"), 4, 4, &env);
        assert_eq!(c.forced_by.as_deref(), Some("GOEXPERIMENT=fieldtrack"));
    }
}

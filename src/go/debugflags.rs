//! Where `gob analyze` puts go's debug flags: `-debug-actiongraph=FILE` and
//! `-debug-trace=FILE` are build flags (cmd/go/internal/work/build.go `AddBuildFlags`), so they
//! go right after the subcommand, and an `-o DIR` is pointed at a scratch dir so nothing is
//! published.

use std::path::Path;

/// `args` of a `go build` / `go test` call with the action graph and trace written to
/// `graph` and `trace`, and `-o` pointed at `out`.
pub fn with_debug_flags(args: &[String], graph: &Path, trace: &Path, out: &Path) -> Vec<String> {
    let mut with = Vec::with_capacity(args.len() + 2);
    let mut rest = args.iter();
    if let Some(sub) = rest.next() {
        with.push(sub.clone());
    }
    with.push(format!("-debug-actiongraph={}", graph.display()));
    with.push(format!("-debug-trace={}", trace.display()));
    while let Some(arg) = rest.next() {
        with.push(arg.clone());
        if arg == "-o" && rest.next().is_some() {
            with.push(format!("{}/", out.display()));
        }
    }
    with
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_flags_follow_the_subcommand_and_outputs_go_to_scratch() {
        let args: Vec<String> = ["build", "-o", ".gob/build/x-1/", "-trimpath", "./cmd/a"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let with = with_debug_flags(
            &args,
            "/s/g.json".as_ref(),
            "/s/t.json".as_ref(),
            "/s/out".as_ref(),
        );
        assert_eq!(
            with,
            [
                "build",
                "-debug-actiongraph=/s/g.json",
                "-debug-trace=/s/t.json",
                "-o",
                "/s/out/",
                "-trimpath",
                "./cmd/a"
            ]
        );
    }
}

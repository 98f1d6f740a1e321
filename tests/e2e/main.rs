//! End-to-end tests: the real gob binary, the real go, real Go workspaces in temp dirs.

mod affected;
mod analyze;
mod archive_hardening;
mod build;
mod buildbarn;
mod cgroup;
mod check;
mod dry_run;
mod env;
mod environment;
mod fake_reapi;
mod fanout;
mod hardening;
mod manifest_errors;
mod remote_cache;
mod remote_exec;
mod reports;
mod retries;
mod selection;
mod servers;
mod since;
mod since_oracle;
mod stop;
mod support;
mod test2json;
mod test_suites;

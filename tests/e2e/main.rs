//! End-to-end tests: the real gob binary, the real go, real Go workspaces in temp dirs.

mod build;
mod cgroup;
mod check;
mod env;
mod manifest_errors;
mod support;
mod test_suites;

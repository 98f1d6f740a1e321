//! `[cache] remote`: gob's go calls share their build cache through real Bazel HTTP caches on
//! loopback (bazel-remote with AC validation, nginx with WebDAV). A "machine" is a fresh
//! copy of the example workspace in its own dir with its own empty GOCACHE (and so its own
//! empty local store): nothing is shared but the server. Tests of a remote that fails take a
//! machine whose GOCACHE already holds the standard library ([`Machine::seeded`]): the
//! example's own packages still go to the remote, without ~10 CPU-seconds of compiling.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::servers::{NGINX_TOKEN, Server};
use crate::support::{Workspace, old_go, run, run_binary, seeded_gocache};

const BINARIES: [&str; 5] = ["alpha", "beta", "gamma", "server", "tool-server"];
const TOKEN_VAR: &str = "GOB_TEST_CACHE_TOKEN";

/// A workspace copy and its GOCACHE.
struct Machine {
    ws: Workspace,
    gocache: tempfile::TempDir,
}

impl Machine {
    /// A machine with an empty GOCACHE: everything goes through the remote.
    fn new(cache_toml: &str) -> Machine {
        Machine {
            ws: Workspace::repo_example_with(cache_toml),
            gocache: tempfile::tempdir().unwrap(),
        }
    }

    /// A machine whose GOCACHE holds the standard library: the example's packages are cold.
    fn seeded(cache_toml: &str) -> Machine {
        Machine {
            ws: Workspace::repo_example_with(cache_toml),
            gocache: seeded_gocache(),
        }
    }

    fn gob(&self, args: &[&str]) -> Command {
        let mut cmd = self.ws.gob(args);
        cmd.env("GOCACHE", self.gocache.path())
            .env(TOKEN_VAR, format!("Bearer {NGINX_TOKEN}"));
        cmd
    }

    fn binary(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.ws.dir().join("bin").join(name)).unwrap()
    }

    fn check_binaries_run(&self) {
        for name in BINARIES {
            let out = run_binary(&self.ws.dir().join("bin").join(name));
            assert!(!out.is_empty(), "{name} printed nothing");
        }
    }
}

/// The numbers of gob's `remote cache …` summary line.
#[derive(Debug, Default)]
struct Summary {
    remote: u64,
    uploaded: u64,
    puts: u64,
    corrupt: u64,
    line: String,
}

impl Summary {
    fn parse(stderr: &str) -> Summary {
        let line = stderr
            .lines()
            .find(|l| l.starts_with("gob: remote cache ") && l.contains("lookups hit"))
            .unwrap_or_else(|| panic!("no remote cache summary in:\n{stderr}"));
        // The counts follow the URL (whose port is a number too).
        let head = &line[..line.find(" lookups hit").unwrap()];
        let counts_text = &line[head.rfind(": ").unwrap()..];
        let n: Vec<u64> = counts_text
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|w| w.parse().ok())
            .collect();
        let read_only = counts_text.contains("read-only");
        let corrupt = counts_text
            .split("; ")
            .find(|p| p.contains("corrupt"))
            .and_then(|p| p.split(' ').next()?.parse().ok())
            .unwrap_or(0);
        Summary {
            remote: n[2],
            uploaded: if read_only { 0 } else { n[4] },
            puts: if read_only { 0 } else { n[5] },
            corrupt,
            line: line.to_string(),
        }
    }
}

fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("gob: warning: remote cache"))
        .collect()
}

#[test]
fn bazel_remote_gives_a_second_machine_the_first_ones_build() {
    let Some(server) = Server::bazel_remote() else {
        return;
    };
    let cache = format!("[cache]\nremote = \"{}\"\n", server.url);
    let a = Machine::new(&cache);
    let (code, _, stderr) = run(&mut a.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    let first = Summary::parse(&stderr);
    assert_eq!(first.remote, 0, "{}", first.line);
    assert!(
        first.puts > 20,
        "a cold build stores its packages: {}",
        first.line
    );
    assert_eq!(first.uploaded, first.puts, "{}", first.line);
    assert!(warnings(&stderr).is_empty(), "{stderr}");
    let log = server.output();
    assert!(
        log.contains("PUT 200") && log.contains("/ac/") && !log.contains("PUT 400"),
        "bazel-remote validates /ac/ entries and accepted them all:\n{log}"
    );

    let b = Machine::new(&cache);
    assert_ne!(a.ws.dir(), b.ws.dir());
    let (code, _, stderr) = run(&mut b.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    let second = Summary::parse(&stderr);
    // go records each link's (empty) linker output on every link (work/buildid.go), and a
    // few flag probes: everything else B needed came from the remote, nothing was compiled.
    assert!(
        second.puts <= 2 * BINARIES.len() as u64 && second.puts * 10 < first.puts,
        "machine B compiled nothing: {}",
        second.line
    );
    assert!(second.remote > 20, "{}", second.line);
    assert!(server.output().contains("GET 200"));
    b.check_binaries_run();
    for name in BINARIES {
        assert!(
            a.binary(name) == b.binary(name),
            "{name} differs between A and B"
        );
    }

    // Test results are cache entries too: B reuses the results of A's unit tests (built with
    // -trimpath like the binaries, or their cache keys would hold each machine's dir).
    let (code, _, stderr) = run(a.gob(&["test"]).env("GOFLAGS", "-trimpath"));
    assert_eq!(code, 0, "{stderr}");
    assert!(Summary::parse(&stderr).uploaded > 0, "{stderr}");
    let (code, stdout, stderr) = run(b.gob(&["test"]).env("GOFLAGS", "-trimpath"));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("(cached)"),
        "B's unit tests came from A's results:\n{stdout}{stderr}"
    );
    assert!(Summary::parse(&stderr).remote > 0, "{stderr}");
}

/// The cacheprog answers a warm lookup from the record alone and leaves checking the body to
/// go (which compares size or hash on every read): bodies deleted from the local store are
/// compiled again, never handed to the linker, and the store is whole again afterwards.
#[test]
fn local_bodies_that_went_missing_are_rebuilt_not_used() {
    let Some(server) = Server::bazel_remote() else {
        return;
    };
    let a = Machine::new(&format!("[cache]\nremote = \"{}\"\n", server.url));
    let (code, _, stderr) = run(&mut a.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    let before: Vec<Vec<u8>> = BINARIES.iter().map(|name| a.binary(name)).collect();
    let bodies = a.gocache.path().join("gob").join("o");
    let mut removed = 0;
    for shard in std::fs::read_dir(&bodies).unwrap().flatten() {
        for body in std::fs::read_dir(shard.path()).unwrap().flatten() {
            std::fs::remove_file(body.path()).unwrap();
            removed += 1;
        }
    }
    assert!(removed > 20, "{removed} bodies in {}", bodies.display());
    for dir in ["bin", ".gob/build"] {
        let _ = std::fs::remove_dir_all(a.ws.dir().join(dir));
    }

    let (code, _, stderr) = run(&mut a.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    let rebuilt = Summary::parse(&stderr);
    assert!(
        rebuilt.puts > 20,
        "the packages were compiled again: {}",
        rebuilt.line
    );
    a.check_binaries_run();
    for (name, old) in BINARIES.iter().zip(&before) {
        assert!(&a.binary(name) == old, "{name} differs after the rebuild");
    }
    let (code, _, stderr) = run(&mut a.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    let warm = Summary::parse(&stderr);
    assert!(
        warm.puts * 10 < rebuilt.puts,
        "the store is whole again: {}",
        warm.line
    );
}

#[test]
fn nginx_webdav_entries_that_are_corrupt_are_ignored_and_repaired() {
    let Some(server) = Server::nginx() else {
        return;
    };
    let cache = format!(
        "[cache]\nremote = \"{}\"\nauth_env = \"{TOKEN_VAR}\"\n",
        server.url
    );
    let a = Machine::new(&cache);
    let (code, _, stderr) = run(&mut a.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    let first = Summary::parse(&stderr);
    assert!(
        first.uploaded > 20 && first.uploaded == first.puts,
        "{}",
        first.line
    );

    // Truncate the largest blob, and overwrite one action record with garbage.
    let blob = server
        .files("cas")
        .into_iter()
        .max_by_key(|p| p.metadata().unwrap().len())
        .unwrap();
    let blob_size = blob.metadata().unwrap().len();
    let truncated = std::fs::read(&blob).unwrap()[..(blob_size / 2) as usize].to_vec();
    std::fs::write(&blob, truncated).unwrap();
    let record = server.files("ac").into_iter().next().unwrap();
    std::fs::write(&record, b"not an ActionResult at all").unwrap();

    let b = Machine::new(&cache);
    let (code, _, stderr) = run(&mut b.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    let second = Summary::parse(&stderr);
    assert!(
        second.corrupt >= 2,
        "both damaged entries were seen: {}",
        second.line
    );
    assert!(second.remote > 20, "the rest still hit: {}", second.line);
    assert!(
        second.puts >= 2,
        "the damaged ones were rebuilt: {}",
        second.line
    );
    assert!(
        warnings(&stderr).is_empty(),
        "corrupt entries do not turn the remote off"
    );
    b.check_binaries_run();
    assert_eq!(
        blob.metadata().unwrap().len(),
        blob_size,
        "the rebuilt output was uploaded over the truncated blob"
    );
}

#[test]
fn read_only_downloads_but_never_uploads() {
    let Some(server) = Server::nginx() else {
        return;
    };
    let a = Machine::seeded(&format!("[cache]\nauth_env = \"{TOKEN_VAR}\"\n"));
    let (code, stdout, stderr) = run(a
        .gob(&["build", "--json"])
        .env("GOB_REMOTE_CACHE", &server.url)
        .env("GOB_REMOTE_CACHE_READ_ONLY", "1"));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        Summary::parse(&stderr).line.contains("read-only"),
        "{stderr}"
    );
    let event = crate::support::events(&stdout, "gob-remote-cache")
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no gob-remote-cache event:\n{stdout}"));
    assert_eq!(event["Url"], server.url.as_str());
    // The standard library is local; the example's packages (and links) were asked for.
    assert!(event["Misses"].as_u64().unwrap() >= 8, "{event}");
    assert!(event["LocalHits"].as_u64().unwrap() > 100, "{event}");
    assert_eq!(event["Uploads"], 0);
    assert!(server.files("cas").is_empty() && server.files("ac").is_empty());
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(
        log.contains("\"GET /ac/") && !log.contains("\"PUT "),
        "{log}"
    );
    a.check_binaries_run();
}

#[test]
fn a_remote_that_refuses_the_credentials_is_dropped_with_one_warning() {
    let Some(server) = Server::nginx() else {
        return;
    };
    let a = Machine::seeded(&format!(
        "[cache]\nremote = \"{}\"\nauth_env = \"{TOKEN_VAR}\"\n",
        server.url
    ));
    let (code, _, stderr) = run(a.gob(&["build"]).env_remove(TOKEN_VAR));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("[cache] auth_env {TOKEN_VAR} is not set")),
        "{stderr}"
    );
    let warned = warnings(&stderr);
    assert_eq!(warned.len(), 1, "{stderr}");
    assert!(warned[0].contains("HTTP 401"), "{stderr}");
    assert!(
        Summary::parse(&stderr)
            .line
            .contains("remote not used after")
    );
    a.check_binaries_run();
}

#[test]
fn a_remote_killed_mid_build_leaves_the_build_to_the_local_cache() {
    let Some(mut server) = Server::bazel_remote() else {
        return;
    };
    let cache = format!("[cache]\nremote = \"{}\"\n", server.url);
    let a = Machine::new(&cache);
    let stderr_path = a.gocache.path().join("gob.stderr");
    let mut gob = a
        .gob(&["build"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while server.output().matches("PUT 200").count() < 10 {
        assert!(
            gob.try_wait().unwrap().is_none(),
            "the build ended before 10 uploads"
        );
        assert!(Instant::now() < deadline, "no uploads in 120s");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill();
    let status = gob.wait().unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(status.success(), "{stderr}");
    assert_eq!(warnings(&stderr).len(), 1, "one warning:\n{stderr}");
    assert!(
        Summary::parse(&stderr)
            .line
            .contains("remote not used after"),
        "{stderr}"
    );
    a.check_binaries_run();

    // The next build with the server gone: still fine, from the local cache.
    let (code, _, stderr) = run(&mut a.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(warnings(&stderr).len() <= 1, "{stderr}");
}

#[test]
fn a_stalled_remote_costs_one_timeout() {
    let Some(server) = Server::nginx() else {
        return;
    };
    server.signal(libc::SIGSTOP);
    let a = Machine::seeded(&format!(
        "[cache]\nremote = \"{}\"\nauth_env = \"{TOKEN_VAR}\"\ntimeout = \"1s\"\n",
        server.url
    ));
    let (code, _, stderr) = run(&mut a.gob(&["build"]));
    assert_eq!(code, 0, "{stderr}");
    let warned = warnings(&stderr);
    assert_eq!(warned.len(), 1, "{stderr}");
    assert!(warned[0].contains("timed out"), "{stderr}");
    a.check_binaries_run();
}

#[test]
fn env_warns_about_each_problem_of_the_setup() {
    let ws = Workspace::repo_example_with(
        "[cache]\nremote = \"http://127.0.0.1:9\"\nauth_env = \"GOB_TEST_UNSET_TOKEN\"\n",
    );
    let (code, stdout, stderr) = run(ws
        .gob(&["env"])
        .env("GOCACHEPROG", "/usr/bin/other-cacheprog")
        .env_remove("GOB_TEST_UNSET_TOKEN"));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("warning: [cache] auth_env GOB_TEST_UNSET_TOKEN is not set"),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning: your GOCACHEPROG (/usr/bin/other-cacheprog) is replaced"),
        "{stdout}"
    );
}

#[test]
fn env_shows_the_gocacheprog_and_old_go_builds_without_it() {
    let ws = Workspace::repo_example_with(
        "[cache]\nremote = \"http://127.0.0.1:9\"\nread_only = true\n",
    );
    let (code, stdout, stderr) = run(&mut ws.gob(&["env"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(
            "remote cache      http://127.0.0.1:9 (read-only; from gobuild.toml [cache])"
        ),
        "{stdout}"
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("GOCACHEPROG"))
        .unwrap();
    assert!(
        line.contains(" cacheprog --dir ") && line.contains("--read-only"),
        "{line}"
    );
    let Some(old_go) = old_go() else {
        return;
    };
    let (code, stdout, _) = run(ws.gob(&["env"]).env("GOB_GO", &old_go));
    assert_eq!(code, 0);
    assert!(
        !stdout.lines().any(|l| l.starts_with("GOCACHEPROG")),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning: the remote cache needs Go 1.24 or newer"),
        "{stdout}"
    );
}

/// TLS (ring, gob's one crypto provider) on both paths: HTTPS to the Bazel HTTP cache (the
/// system's roots: `SSL_CERT_FILE` here) and grpcs:// with `ca_file`, against bazel-remote
/// serving a certificate of a CA made for the test; an unknown CA is one warning.
#[test]
fn tls_to_the_remote_cache_over_https_and_grpcs() {
    let Some((server, https, ca)) = Server::bazel_remote_tls() else {
        return;
    };
    let grpcs = format!(
        "[cache]\nremote = \"{}\"\nca_file = \"{}\"\n",
        server.url,
        ca.display()
    );
    let over_https = format!("[cache]\nremote = \"{https}\"\ntimeout = \"5s\"\n");
    for (what, toml, cert_file) in [
        ("grpcs:// with ca_file", grpcs.as_str(), None),
        (
            "https:// with SSL_CERT_FILE",
            over_https.as_str(),
            Some(&ca),
        ),
    ] {
        let m = Machine::seeded(toml);
        let mut cmd = m.gob(&["build", "alpha"]);
        if let Some(file) = cert_file {
            cmd.env("SSL_CERT_FILE", file);
        }
        let (code, _, stderr) = run(&mut cmd);
        assert_eq!(code, 0, "{what}: {stderr}");
        assert!(warnings(&stderr).is_empty(), "{what}: {stderr}");
        let summary = Summary::parse(&stderr);
        assert!(summary.puts > 0, "{what}: {}", summary.line);
        assert_eq!(summary.uploaded, summary.puts, "{what}: {}", summary.line);
    }
    // The certificate is checked: without the CA the remote is off, with one warning.
    let m = Machine::seeded(&over_https);
    let (code, _, stderr) = run(m.gob(&["build", "alpha"]).env("SSL_CERT_FILE", "/dev/null"));
    assert_eq!(code, 0, "{stderr}");
    let warned = warnings(&stderr);
    assert_eq!(warned.len(), 1, "{stderr}");
    assert!(warned[0].to_lowercase().contains("certificate"), "{stderr}");
}

/// The REAPI gRPC path, against bazel-remote's gRPC port.
mod grpc {
    use super::*;
    use base64::Engine;

    #[test]
    fn a_second_machine_gets_the_first_ones_build_over_grpc() {
        let Some(server) = Server::bazel_remote_grpc(None) else {
            return;
        };
        let cache = format!("[cache]\nremote = \"{}\"\n", server.url);
        let a = Machine::new(&cache);
        let (code, _, stderr) = run(&mut a.gob(&["build"]));
        assert_eq!(code, 0, "{stderr}");
        let first = Summary::parse(&stderr);
        assert!(first.puts > 20, "{}", first.line);
        assert_eq!(first.uploaded, first.puts, "{}", first.line);
        assert!(warnings(&stderr).is_empty(), "{stderr}");
        let stored = server.stored_files();
        assert!(
            stored
                .iter()
                .any(|f| f.to_string_lossy().contains("/ac.v2/")),
            "{stored:?}"
        );
        let b = Machine::new(&cache);
        let started = Instant::now();
        let (code, _, stderr) = run(&mut b.gob(&["build"]));
        let warm = started.elapsed();
        assert_eq!(code, 0, "{stderr}");
        let second = Summary::parse(&stderr);
        assert!(second.remote > 20, "{}", second.line);
        assert!(
            second.puts * 10 < first.puts,
            "B compiled nothing: {}",
            second.line
        );
        b.check_binaries_run();
        for name in BINARIES {
            assert!(a.binary(name) == b.binary(name), "{name} differs");
        }
        eprintln!("machine B over gRPC: {warm:?}");
    }

    #[test]
    fn a_grpc_remote_that_is_down_is_one_warning() {
        let m = Machine::seeded("[cache]\nremote = \"grpc://127.0.0.1:1\"\ntimeout = \"2s\"\n");
        let (code, _, stderr) = run(&mut m.gob(&["build"]));
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(warnings(&stderr).len(), 1, "{stderr}");
        m.check_binaries_run();
    }

    #[test]
    fn read_only_over_grpc_uploads_nothing() {
        let Some(server) = Server::bazel_remote_grpc(None) else {
            return;
        };
        let m = Machine::seeded(&format!(
            "[cache]\nremote = \"{}\"\nread_only = true\n",
            server.url
        ));
        let (code, _, stderr) = run(&mut m.gob(&["build"]));
        assert_eq!(code, 0, "{stderr}");
        assert!(
            Summary::parse(&stderr).line.contains("read-only"),
            "{stderr}"
        );
        let stored = server.stored_files();
        assert!(
            !stored
                .iter()
                .any(|f| f.to_string_lossy().contains("/ac.v2/")),
            "{stored:?}"
        );
    }

    #[test]
    fn a_required_auth_header_is_sent_as_grpc_metadata() {
        // htpasswd's {SHA} form: base64 of SHA-1("pw").
        let htpasswd = "gob:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM=\n";
        let Some(server) = Server::bazel_remote_grpc(Some(htpasswd)) else {
            return;
        };
        let cache = format!(
            "[cache]\nremote = \"{}\"\nauth_env = \"GOB_TEST_GRPC_AUTH\"\nauth_header = \"authorization\"\n",
            server.url
        );
        let token = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("gob:pw")
        );
        let m = Machine::new(&cache);
        let (code, _, stderr) = run(m.gob(&["build"]).env("GOB_TEST_GRPC_AUTH", &token));
        assert_eq!(code, 0, "{stderr}");
        let summary = Summary::parse(&stderr);
        assert!(summary.uploaded > 20, "{}", summary.line);
        let wrong = Machine::seeded(&cache);
        let (code, _, stderr) = run(wrong
            .gob(&["build"])
            .env("GOB_TEST_GRPC_AUTH", "Basic bm9wZTpubw=="));
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(warnings(&stderr).len(), 1, "{stderr}");
        assert!(warnings(&stderr)[0].contains("Unauthenticated"), "{stderr}");
    }
}

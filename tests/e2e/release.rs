//! The release that tools/dist.sh builds (`.ci/run` runs it before the tests): the tarball's
//! binary is static, runs with an empty environment and names the commit it was built from;
//! install.sh installs it from an HTTP server on loopback after checking its checksum, and
//! installs nothing from a tampered tarball. Outside CI a missing or stale dist/ skips the
//! tests with a message; in CI (CI set) it fails them.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{copy_dir, repo, run};

const TARGET: &str = "x86_64-unknown-linux-gnu";

/// The commit `gob --version` must name: the checkout's, as build.rs and dist.sh record it.
fn head_commit() -> String {
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(repo())
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// dist/'s tarball for this machine, unpacked into a temp dir: (tarball, unpacked dir).
fn unpacked() -> Option<(PathBuf, tempfile::TempDir, PathBuf)> {
    let skip = |message: String| {
        assert!(std::env::var_os("CI").is_none(), "CI must have {message}");
        eprintln!("skipped: {message}");
        None
    };
    let dist = repo().join("dist");
    let tarball = std::fs::read_dir(&dist).ok().and_then(|entries| {
        entries
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(&format!("-{TARGET}.tar.gz")))
    });
    let Some(tarball) = tarball else {
        return skip(format!(
            "no release tarball in {} (run tools/dist.sh)",
            dist.display()
        ));
    };
    let tmp = tempfile::tempdir().unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(tmp.path())
        .status()
        .unwrap();
    assert!(status.success(), "cannot unpack {}", tarball.display());
    let name = tarball
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace(".tar.gz", "");
    let dir = tmp.path().join(name);
    let version = Command::new(dir.join("gob"))
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout).to_string();
    if !version.contains(&head_commit()) {
        return skip(format!(
            "{} is stale ({}), HEAD is {} (run tools/dist.sh)",
            tarball.display(),
            version.trim(),
            head_commit()
        ));
    }
    Some((tarball, tmp, dir))
}

#[test]
fn release_binary_is_static_and_runs_with_an_empty_environment() {
    let Some((_, _tmp, dir)) = unpacked() else {
        return;
    };
    let gob = dir.join("gob");
    let ldd = Command::new("ldd").arg(&gob).output().unwrap();
    let said =
        String::from_utf8_lossy(&ldd.stdout).to_string() + &String::from_utf8_lossy(&ldd.stderr);
    // A static PIE: "statically linked" (a non-PIE static binary: "not a dynamic executable").
    assert!(
        said.contains("statically linked") || said.contains("not a dynamic executable"),
        "ldd: {said}"
    );

    let version = Command::new(&gob)
        .arg("--version")
        .env_clear()
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout).to_string();
    let expected = format!("gob {} ({})", env!("CARGO_PKG_VERSION"), head_commit());
    assert_eq!(version.trim(), expected);

    let help = Command::new(&gob)
        .args(["help", "manifest", "test"])
        .env_clear()
        .output()
        .unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("retries = 0"));

    // It does its job with nothing but go on PATH.
    let work = tempfile::tempdir().unwrap();
    copy_dir(
        &repo().join("examples/mesh"),
        &work.path().join("examples/mesh"),
    );
    std::fs::copy(
        repo().join("gobuild.toml"),
        work.path().join("gobuild.toml"),
    )
    .unwrap();
    let go_dir = crate::support::which_go().parent().unwrap().to_path_buf();
    let (code, _, stderr) = run(Command::new(&gob)
        .arg("build")
        .current_dir(work.path())
        .env_clear()
        .env("PATH", &go_dir)
        .env("HOME", work.path())
        .env(
            "GOCACHE",
            std::env::var("GOCACHE").unwrap_or_else(|_| go_env("GOCACHE")),
        )
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("built 5 binaries"), "{stderr}");

    let man = std::fs::read_to_string(dir.join("man/gob.1")).unwrap();
    assert!(man.contains(".TH gob 1"), "{}", &man[..200.min(man.len())]);
    assert!(dir.join("man/gob-test.1").exists());
    for file in [
        "completions/gob.bash",
        "completions/_gob",
        "completions/gob.fish",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
    ] {
        assert!(dir.join(file).exists(), "the tarball lacks {file}");
    }
}

fn go_env(key: &str) -> String {
    let out = Command::new("go").args(["env", key]).output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Serves `root`'s files over HTTP on loopback (GET only, one connection at a time), as a
/// release mirror would; returns its base URL.
fn serve(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let file = root.join(path.trim_start_matches('/'));
            let mut stream = &stream;
            let _ = match std::fs::read(&file).ok().filter(|_| !path.contains("..")) {
                Some(body) => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|_| stream.write_all(&body)),
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    url
}

/// A mirror holding the release as GitHub lays it out: latest/download/F and download/TAG/F.
fn mirror(tarball: &Path, tamper: bool) -> (tempfile::TempDir, String) {
    let www = tempfile::tempdir().unwrap();
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    let sums = std::fs::read_to_string(repo().join("dist/SHA256SUMS")).unwrap();
    for dir in ["latest/download".to_string(), format!("download/{tag}")] {
        let dir = www.path().join(dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut bytes = std::fs::read(tarball).unwrap();
        if tamper {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x55;
        }
        std::fs::write(dir.join(tarball.file_name().unwrap()), bytes).unwrap();
        std::fs::write(dir.join("SHA256SUMS"), &sums).unwrap();
    }
    let url = serve(www.path().to_path_buf());
    (www, url)
}

fn install(url: &str, home: &Path, version: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new("sh");
    cmd.arg(repo().join("install.sh"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("GOB_DOWNLOAD_URL", url);
    if let Some(version) = version {
        cmd.env("GOB_VERSION", version);
    }
    run(&mut cmd)
}

#[test]
fn install_sh_checks_the_checksum_and_installs_from_a_mirror() {
    let Some((tarball, _tmp, _)) = unpacked() else {
        return;
    };
    let (_www, url) = mirror(&tarball, false);
    for version in [None, Some(format!("v{}", env!("CARGO_PKG_VERSION")))] {
        let home = tempfile::tempdir().unwrap();
        let (code, stdout, stderr) = install(&url, home.path(), version.as_deref());
        assert_eq!(code, 0, "{stdout}{stderr}");
        let gob = home.path().join(".local/bin/gob");
        assert!(
            stdout.contains(&format!("installed gob {}", env!("CARGO_PKG_VERSION"))),
            "{stdout}"
        );
        assert!(stdout.contains("is not on PATH"), "{stdout}");
        let out = Command::new(&gob).arg("--version").output().unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains(&head_commit()));
        assert!(home.path().join(".local/share/man/man1/gob.1").exists());
        assert!(
            home.path()
                .join(".local/share/bash-completion/completions/gob")
                .exists()
        );
    }

    let (_bad, bad_url) = mirror(&tarball, true);
    let home = tempfile::tempdir().unwrap();
    let (code, _, stderr) = install(&bad_url, home.path(), None);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert!(
        !home.path().join(".local/bin/gob").exists(),
        "a tampered tarball was installed"
    );

    let home = tempfile::tempdir().unwrap();
    let (code, _, stderr) = install(&url, home.path(), Some("v9.9.9"));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("cannot download"), "{stderr}");
}

//! Hardening of test archives, one regression test per defect a hostile review found (each
//! named after what broke): extraction never touches a user's files or leaves the
//! extraction dir, never trips on what an earlier run left, respects the umask, takes a lock;
//! archives hold what the tests read (links, go.work modules elsewhere); a foreign or broken
//! binary or a bloated index fails cleanly. Archives are made by gob from
//! tests/fixtures/affected, then rewritten entry by entry where a hostile one is needed.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Workspace, gob_command, run};

const MANIFEST: &str = "[test.integ]\npackages = [\"./pkga\", \"./pkgb\", \"./pkgc\"]\ninteg = true\ninclude = [\"config/*.yaml\"]\n";

/// A workspace and the archive gob wrote of it (`t.tar.zst` in a dir of its own).
struct Archived {
    ws: Workspace,
    out: tempfile::TempDir,
}

impl Archived {
    fn new() -> Archived {
        Archived::of(Workspace::fixture("affected", MANIFEST))
    }

    fn of(ws: Workspace) -> Archived {
        let out = tempfile::tempdir().unwrap();
        let path = out.path().join("t.tar.zst");
        let (code, _, stderr) =
            run(&mut ws.gob(&["test", "--integ", "--archive", path.to_str().unwrap()]));
        assert_eq!(code, 0, "{stderr}");
        Archived { ws, out }
    }

    fn path(&self) -> PathBuf {
        self.out.path().join("t.tar.zst")
    }
}

/// One entry of an archive.
struct Entry {
    header: tar::Header,
    name: String,
    data: Vec<u8>,
}

fn entries(archive: &Path) -> Vec<Entry> {
    let file = std::fs::File::open(archive).unwrap();
    let mut tar = tar::Archive::new(zstd::Decoder::new(file).unwrap());
    tar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut data).unwrap();
            if let Ok(Some(target)) = e.link_name() {
                data = target.display().to_string().into_bytes();
            }
            Entry {
                header: e.header().clone(),
                name,
                data,
            }
        })
        .collect()
}

fn write_entries(archive: &Path, entries: &[Entry]) {
    let file = std::fs::File::create(archive).unwrap();
    let mut tar = tar::Builder::new(zstd::Encoder::new(file, 1).unwrap());
    for e in entries {
        let mut header = e.header.clone();
        match header.entry_type() {
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = String::from_utf8(e.data.clone()).unwrap();
                tar.append_link(&mut header, &e.name, target).unwrap();
            }
            _ => {
                header.set_size(e.data.len() as u64);
                tar.append_data(&mut header, &e.name, e.data.as_slice())
                    .unwrap();
            }
        }
    }
    tar.into_inner().unwrap().finish().unwrap();
}

/// A link entry (`kind` Symlink or Link) at `name` to `target`.
fn link(kind: tar::EntryType, name: &str, target: &str) -> Entry {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(0o777);
    header.set_size(0);
    Entry {
        header,
        name: name.into(),
        data: target.as_bytes().to_vec(),
    }
}

/// A file entry with `mode`.
fn file(name: &str, mode: u32, text: &str) -> Entry {
    let mut header = tar::Header::new_gnu();
    header.set_mode(mode);
    Entry {
        header,
        name: name.into(),
        data: text.as_bytes().to_vec(),
    }
}

/// `gob test --from-archive ARCHIVE ARGS` in `dir`, with no go on PATH.
fn from_archive(dir: &Path, archive: &Path, args: &[&str]) -> (i32, String, String) {
    run(gob_command()
        .current_dir(dir)
        .env("PATH", "/usr/bin:/bin")
        .args(["test", "--from-archive", archive.to_str().unwrap()])
        .args(args))
}

#[test]
fn extract_dir_that_holds_a_users_files_is_refused_and_left_as_it_was() {
    let archived = Archived::new();
    let machine = tempfile::tempdir().unwrap();
    let victim = machine.path().join("victim");
    std::fs::create_dir_all(victim.join("src")).unwrap();
    std::fs::write(victim.join("NOTES.txt"), "mine").unwrap();
    std::fs::write(victim.join("src/keep.go"), "package keep").unwrap();
    let (code, stdout, stderr) = from_archive(
        machine.path(),
        &archived.path(),
        &["--extract-dir", "victim"],
    );
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("refusing to extract into") && stderr.contains("victim"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(victim.join("NOTES.txt")).unwrap(),
        "mine"
    );
    assert!(victim.join("src/keep.go").is_file());
    let (code, _, stderr) = from_archive(&victim, &archived.path(), &["--extract-dir", "."]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        victim.join("NOTES.txt").is_file(),
        "the current dir is kept"
    );
    // A new or empty dir is gob's: it extracts, and extracts again on the next run.
    for _ in 0..2 {
        let (code, stdout, stderr) = from_archive(
            machine.path(),
            &archived.path(),
            &["--extract-dir", "fresh"],
        );
        assert_eq!(code, 0, "{stdout}\n{stderr}");
        assert!(machine.path().join("fresh/.gob-archive").is_file());
    }
}

#[test]
fn a_symlink_entry_that_points_outside_is_refused_and_nothing_is_written_there() {
    let archived = Archived::new();
    let elsewhere = tempfile::tempdir().unwrap();
    let mut all = entries(&archived.path());
    all.insert(
        1,
        link(
            tar::EntryType::Symlink,
            "src",
            elsewhere.path().to_str().unwrap(),
        ),
    );
    write_entries(&archived.path(), &all);
    let machine = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = from_archive(machine.path(), &archived.path(), &[]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("its entry src is a link to") && stderr.contains("leaves the archive"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    assert!(stdout.is_empty(), "nothing ran: {stdout}");
}

#[test]
fn hard_links_and_devices_are_refused_by_name_not_as_corrupt() {
    let archived = Archived::new();
    let mut all = entries(&archived.path());
    all.push(link(
        tar::EntryType::Link,
        "src/pkgb/testdata/hard",
        "/etc/passwd",
    ));
    write_entries(&archived.path(), &all);
    let machine = tempfile::tempdir().unwrap();
    let (code, _, stderr) = from_archive(machine.path(), &archived.path(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("its entry src/pkgb/testdata/hard is a hard link to /etc/passwd"),
        "{stderr}"
    );
    assert!(!stderr.contains("truncated or corrupt"), "{stderr}");
}

/// Runs `gob ARGS` in `dir` as the unprivileged user nobody (root ignores file modes), or
/// says why the test skips.
fn as_nobody(dir: &Path, args: &[&str]) -> Option<(i32, String, String)> {
    let is_root = unsafe { libc::geteuid() } == 0;
    let setpriv = Path::new("/usr/bin/setpriv");
    if !is_root || !setpriv.exists() {
        eprintln!("skipped: needs root and /usr/bin/setpriv to run gob as nobody");
        return None;
    }
    let mut cmd = gob_command();
    let program = cmd.get_program().to_owned();
    let mut wrapped = Command::new(setpriv);
    wrapped
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(program)
        .args(args)
        .current_dir(dir)
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir);
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            wrapped.env(key, value);
        }
    }
    let _ = &mut cmd;
    Some(run(&mut wrapped))
}

#[test]
fn a_read_only_dir_left_by_an_earlier_extraction_does_not_block_the_next_run() {
    use std::os::unix::fs::PermissionsExt;
    let archived = Archived::new();
    let machine = tempfile::tempdir().unwrap();
    std::fs::set_permissions(machine.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let archive = machine.path().join("t.tar.zst");
    std::fs::copy(archived.path(), &archive).unwrap();
    std::fs::set_permissions(&archive, std::fs::Permissions::from_mode(0o644)).unwrap();
    let args = ["test", "--from-archive", "t.tar.zst"];
    let Some((code, stdout, stderr)) = as_nobody(machine.path(), &args) else {
        return;
    };
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // A test that made its dir read-only (chmod 0500), as nobody would have.
    let testdata = machine.path().join(".gob/archive/src/pkgb/testdata");
    std::fs::set_permissions(&testdata, std::fs::Permissions::from_mode(0o500)).unwrap();
    let (code, stdout, stderr) = as_nobody(machine.path(), &args).unwrap();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let left: Vec<String> = std::fs::read_dir(machine.path().join(".gob/archive"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(left.is_empty(), "no temp dir is left: {left:?}");
}

#[test]
fn extracted_file_modes_follow_the_umask_and_drop_setuid() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let archived = Archived::new();
    let mut all = entries(&archived.path());
    all.push(file("src/pkgb/testdata/open.txt", 0o666, "x"));
    all.push(file("src/pkgb/testdata/run.sh", 0o4777, "#!/bin/sh\n"));
    write_entries(&archived.path(), &all);
    let machine = tempfile::tempdir().unwrap();
    let mut cmd = gob_command();
    cmd.current_dir(machine.path()).args([
        "test",
        "--from-archive",
        archived.path().to_str().unwrap(),
    ]);
    // SAFETY: umask only changes this child's file mode creation mask.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    let (code, stdout, stderr) = run(&mut cmd);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let mode = |name: &str| {
        let path = machine
            .path()
            .join(".gob/archive/src/pkgb/testdata")
            .join(name);
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    };
    assert_eq!(mode("open.txt"), 0o644);
    assert_eq!(mode("run.sh"), 0o755);
}

#[test]
fn a_second_archive_run_on_one_extraction_dir_waits_its_turn_or_fails_with_no_wait() {
    use std::os::fd::AsRawFd;
    let archived = Archived::new();
    let machine = tempfile::tempdir().unwrap();
    let (code, _, stderr) = from_archive(machine.path(), &archived.path(), &[]);
    assert_eq!(code, 0, "{stderr}");
    // Another run holds the dir (the lock is an flock on its marker).
    let marker = std::fs::File::open(machine.path().join(".gob/archive/.gob-archive")).unwrap();
    assert_eq!(unsafe { libc::flock(marker.as_raw_fd(), libc::LOCK_EX) }, 0);
    let (code, stdout, stderr) = run(gob_command()
        .current_dir(machine.path())
        .args(["--no-wait", "test", "--from-archive"])
        .arg(archived.path()));
    assert_eq!(code, 4, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("another gob run holds the lock of the extraction dir"),
        "{stderr}"
    );
    drop(marker);
}

#[test]
fn links_under_testdata_reach_the_archive_kept_or_as_the_files_they_point_to() {
    let ws = Workspace::fixture(
        "affected",
        &MANIFEST.replace("\"./pkgc\"]", "\"./pkgc\", \"./links\"]"),
    );
    ws.write("shared/golden.txt", "golden\n");
    ws.write("links/testdata/in.txt", "near\n");
    ws.write(
        "links/links_test.go",
        "package links\n\nimport (\n\t\"os\"\n\t\"testing\"\n)\n\nfunc TestLinks(t *testing.T) {\n\tfor name, want := range map[string]string{\"testdata/near.txt\": \"near\\n\", \"testdata/far.txt\": \"golden\\n\"} {\n\t\tgot, err := os.ReadFile(name)\n\t\tif err != nil || string(got) != want {\n\t\t\tt.Fatalf(\"%s: %q %v\", name, got, err)\n\t\t}\n\t}\n}\n",
    );
    let dir = ws.dir().join("links/testdata");
    std::os::unix::fs::symlink("in.txt", dir.join("near.txt")).unwrap();
    std::os::unix::fs::symlink("../../shared/golden.txt", dir.join("far.txt")).unwrap();
    let archived = Archived::of(ws);
    let all = entries(&archived.path());
    let near = all
        .iter()
        .find(|e| e.name == "src/links/testdata/near.txt")
        .expect("the link is archived");
    assert_eq!(near.header.entry_type(), tar::EntryType::Symlink);
    let index: serde_json::Value = serde_json::from_slice(&all[0].data).unwrap();
    assert_eq!(
        index["dereferenced"],
        serde_json::json!(["src/links/testdata/far.txt"])
    );
    let archive = archived.path();
    drop(archived.ws);
    passes_elsewhere(&archive, "example.com/aff/links");
}

/// Runs the archive on a machine with neither go nor the sources; `package` must pass.
fn passes_elsewhere(archive: &Path, package: &str) {
    let machine = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = from_archive(machine.path(), archive, &[]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("ok   {package}")), "{stdout}");
}

#[test]
fn a_go_work_module_outside_the_workspace_is_archived_under_a_stable_name() {
    let root = tempfile::tempdir().unwrap();
    let ws = root.path().join("ws");
    let other = root.path().join("other");
    let write = |path: PathBuf, text: &str| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(ws.join("go.mod"), "module example.com/ws\n\ngo 1.22\n");
    write(ws.join("go.work"), "go 1.22\n\nuse (\n\t.\n\t../other\n)\n");
    write(
        ws.join("a/a_test.go"),
        "package a\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) {}\n",
    );
    write(
        other.join("go.mod"),
        "module example.com/other\n\ngo 1.22\n",
    );
    write(other.join("o/testdata/in.txt"), "outside\n");
    write(
        other.join("o/o_test.go"),
        "package o\n\nimport (\n\t\"os\"\n\t\"testing\"\n)\n\nfunc TestO(t *testing.T) {\n\tif b, err := os.ReadFile(\"testdata/in.txt\"); err != nil || string(b) != \"outside\\n\" {\n\t\tt.Fatal(string(b), err)\n\t}\n}\n",
    );
    write(
        ws.join("gobuild.toml"),
        "[test.integ]\npackages = [\"./a\", \"example.com/other/o\"]\ninteg = true\n",
    );
    let archive = root.path().join("t.tar.zst");
    let (code, _, stderr) = run(gob_command()
        .current_dir(&ws)
        .args(["test", "--integ", "--archive"])
        .arg(&archive));
    assert_eq!(code, 0, "{stderr}");
    let all = entries(&archive);
    let index = String::from_utf8(all[0].data.clone()).unwrap();
    assert!(
        !index.contains(root.path().to_str().unwrap()),
        "no build machine path: {index}"
    );
    assert!(index.contains("\"dir\": \"_outside/"), "{index}");
    passes_elsewhere(&archive, "example.com/other/o");
}

#[test]
fn an_archive_for_another_platform_is_refused_before_anything_is_extracted() {
    let archived = Archived::new();
    let mut all = entries(&archived.path());
    let mut index: serde_json::Value = serde_json::from_slice(&all[0].data).unwrap();
    index["goarch"] = "arm64".into();
    all[0].data = serde_json::to_vec(&index).unwrap();
    write_entries(&archived.path(), &all);
    let machine = tempfile::tempdir().unwrap();
    let (code, _, stderr) = from_archive(machine.path(), &archived.path(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("holds test binaries for linux/arm64, and this machine is linux/amd64"),
        "{stderr}"
    );
    assert!(
        !machine.path().join(".gob").exists(),
        "nothing was written before the check"
    );
}

#[test]
fn a_test_binary_that_cannot_start_fails_its_package_only_and_reports_are_written() {
    let archived = Archived::new();
    let mut all = entries(&archived.path());
    let broken = all
        .iter_mut()
        .find(|e| e.name.ends_with("pkga.test"))
        .unwrap();
    broken.data = b"not an executable".to_vec();
    write_entries(&archived.path(), &all);
    let machine = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) =
        from_archive(machine.path(), &archived.path(), &["--junit", "junit.xml"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stdout.contains("cannot start the test binary"), "{stdout}");
    assert!(stdout.contains("ok   example.com/aff/pkgb"), "{stdout}");
    assert!(stdout.contains("ok   example.com/aff/pkgc"), "{stdout}");
    let xml = std::fs::read_to_string(machine.path().join("junit.xml")).unwrap();
    assert!(xml.contains("pkga"), "{xml}");
}

#[test]
fn a_huge_index_is_refused_by_its_size_without_reading_it() {
    use std::os::unix::process::CommandExt;
    let archived = Archived::new();
    let out = archived.out.path().join("huge.tar.zst");
    {
        // Only the entry's header, declaring 1 GiB: gob must refuse the index by the size it
        // declares, before reading it (a gob that reads it fails on the missing bytes, not
        // with the size message; under the address-space limit, not by holding it).
        let file = std::fs::File::create(&out).unwrap();
        let mut header = tar::Header::new_gnu();
        header.set_path("index.json").unwrap();
        header.set_size(1 << 30);
        header.set_mode(0o644);
        header.set_cksum();
        let mut encoder = zstd::Encoder::new(file, 3).unwrap();
        std::io::Write::write_all(&mut encoder, header.as_bytes()).unwrap();
        encoder.finish().unwrap();
    }
    assert!(
        std::fs::metadata(&out).unwrap().len() < 1 << 20,
        "small on disk"
    );
    let machine = tempfile::tempdir().unwrap();
    let mut cmd = gob_command();
    cmd.current_dir(machine.path())
        .args(["test", "--from-archive"])
        .arg(&out);
    // SAFETY: only limits this child's address space, to far less than the index.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 768 << 20,
                rlim_max: 768 << 20,
            };
            libc::setrlimit(libc::RLIMIT_AS, &limit);
            Ok(())
        });
    }
    let (code, _, stderr) = run(&mut cmd);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("more than the 4194304 gob reads"),
        "{stderr}"
    );
}

//! Real remote-cache servers on loopback, started per test: bazel-remote (built by .ci/run
//! from the Go module proxy into target/tools) and Debian's nginx with WebDAV PUT.
//! Outside CI a missing server skips the test with a message; in CI (CI set) it fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The token the nginx server requires in `Authorization: Bearer …`.
pub const NGINX_TOKEN: &str = "s3cret-token";

/// A running server, killed on drop.
pub struct Server {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// Where the server keeps its entries.
    pub root: PathBuf,
    /// Its access log.
    pub log: PathBuf,
    tmp: tempfile::TempDir,
}

impl Server {
    /// bazel-remote with default settings (HTTP AC validation on).
    pub fn bazel_remote() -> Option<Server> {
        let port = free_port();
        let listen = [
            "--grpc_address",
            "none",
            "--http_address",
            &format!("127.0.0.1:{port}"),
        ];
        let (command, root, log, tmp) = bazel_remote_command(&listen, None)?;
        Some(Server::start(command, port, root, log, tmp))
    }

    /// bazel-remote serving REAPI over gRPC (`grpc://127.0.0.1:PORT`); with `htpasswd`
    /// (`user:{SHA}…` lines) it requires basic auth in the `authorization` metadata.
    pub fn bazel_remote_grpc(htpasswd: Option<&str>) -> Option<Server> {
        let (grpc, _, (command, root, log, tmp)) = bazel_remote_both_ports(htpasswd)?;
        let mut server = Server::start(command, grpc, root, log, tmp);
        server.url = format!("grpc://127.0.0.1:{grpc}");
        Some(server)
    }

    /// bazel-remote with TLS on both ports, its certificate (for `localhost` and 127.0.0.1)
    /// signed by a CA made for the test: `grpcs://localhost:PORT` as `url`, the HTTPS cache's
    /// URL and the CA's PEM file beside it.
    pub fn bazel_remote_tls() -> Option<(Server, String, PathBuf)> {
        let (grpc, http, (mut command, root, log, tmp)) = bazel_remote_both_ports(None)?;
        let ca = test_ca(tmp.path())?;
        command
            .arg("--tls_cert_file")
            .arg(tmp.path().join("server.pem"))
            .arg("--tls_key_file")
            .arg(tmp.path().join("server.key"));
        let mut server = Server::start(command, grpc, root, log, tmp);
        server.url = format!("grpcs://localhost:{grpc}");
        Some((server, format!("https://localhost:{http}"), ca))
    }

    /// nginx serving a WebDAV dir (GET, PUT with create_full_put_path) that answers 401
    /// without `Authorization: Bearer NGINX_TOKEN`.
    pub fn nginx() -> Option<Server> {
        let binary = find_tool(
            "GOB_TEST_NGINX",
            Path::new("/usr/sbin/nginx"),
            "nginx (Debian package nginx)",
        )?;
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("data");
        std::fs::create_dir_all(&root).unwrap();
        let log = tmp.path().join("access.log");
        let port = free_port();
        let prefix = tmp.path();
        let conf = format!(
            "user root;\nworker_processes 1;\npid {p}/nginx.pid;\nerror_log {p}/error.log;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log {log};\n  client_body_temp_path {p}/body;\n  proxy_temp_path {p}/proxy;\n\
               fastcgi_temp_path {p}/fastcgi;\n  uwsgi_temp_path {p}/uwsgi;\n  scgi_temp_path {p}/scgi;\n\
               server {{\n    listen 127.0.0.1:{port};\n    root {root};\n    client_max_body_size 0;\n\
                 location / {{\n      if ($http_authorization != \"Bearer {NGINX_TOKEN}\") {{ return 401; }}\n\
                   dav_methods PUT;\n      create_full_put_path on;\n      dav_access user:rw;\n    }}\n  }}\n}}\n",
            p = prefix.display(),
            log = log.display(),
            root = root.display(),
        );
        let conf_path = tmp.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut command = Command::new(binary);
        command
            .arg("-p")
            .arg(prefix)
            .arg("-c")
            .arg(&conf_path)
            .args(["-g", "daemon off; master_process off;"]);
        Some(Server::start(command, port, root, log, tmp))
    }

    fn start(
        mut command: Command,
        port: u16,
        root: PathBuf,
        log: PathBuf,
        tmp: tempfile::TempDir,
    ) -> Server {
        let output = std::fs::File::create(tmp.path().join("server.out")).unwrap();
        let child = command
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server {
            child,
            url: format!("http://127.0.0.1:{port}"),
            root,
            log,
            tmp,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the server did not listen on {port}: {}",
                server.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// What the server printed (bazel-remote logs its requests here).
    pub fn output(&self) -> String {
        let path = self.tmp.path().join("server.out");
        std::fs::read_to_string(path).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Kills the server now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The files the server stores under `kind` (`ac` or `cas`) for nginx.
    pub fn files(&self, kind: &str) -> Vec<PathBuf> {
        std::fs::read_dir(self.root.join(kind))
            .map(|dir| dir.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }
}

impl Server {
    /// Every file under the server's root, at any depth.
    pub fn stored_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.signal(libc::SIGCONT); // in case a test stopped it
        self.kill();
    }
}

impl Server {
    /// Sends `sig` to the server.
    pub fn signal(&self, sig: i32) {
        unsafe { libc::kill(self.pid(), sig) };
    }
}

/// A bazel-remote command not yet started: the command, its data dir, its log and the temp
/// dir holding both.
type BazelRemote = (Command, PathBuf, PathBuf, tempfile::TempDir);

/// The bazel-remote command (with `listen` addresses and, given `htpasswd` lines, basic
/// auth), its data dir, its log and the temp dir holding both; `None` where it is missing.
fn bazel_remote_command(listen: &[&str], htpasswd: Option<&str>) -> Option<BazelRemote> {
    let binary = find_tool(
        "GOB_TEST_BAZEL_REMOTE",
        &crate::support::repo().join("target/tools/bazel-remote"),
        "bazel-remote (.ci/run builds it into target/tools)",
    )?;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("data");
    let log = tmp.path().join("access.log");
    let mut command = Command::new(binary);
    command
        .arg("--dir")
        .arg(&root)
        .args(["--max_size", "1"])
        .args(listen);
    if let Some(lines) = htpasswd {
        let file = tmp.path().join("htpasswd");
        std::fs::write(&file, lines).unwrap();
        command.arg("--htpasswd_file").arg(file);
    }
    Some((command, root, log, tmp))
}

/// [`bazel_remote_command`] listening for gRPC and HTTP on free loopback ports: (gRPC port,
/// HTTP port, what it returns).
fn bazel_remote_both_ports(htpasswd: Option<&str>) -> Option<(u16, u16, BazelRemote)> {
    let (grpc, http) = (free_port(), free_port());
    let listen = [
        "--grpc_address",
        &format!("127.0.0.1:{grpc}"),
        "--http_address",
        &format!("127.0.0.1:{http}"),
    ];
    Some((grpc, http, bazel_remote_command(&listen, htpasswd)?))
}

/// A CA and a server certificate for `localhost` and 127.0.0.1 signed by it, written by the
/// openssl command into `dir` (ca.pem, server.pem, server.key); returns the CA's file.
fn test_ca(dir: &Path) -> Option<PathBuf> {
    let openssl = find_tool("GOB_TEST_OPENSSL", Path::new("/usr/bin/openssl"), "openssl")?;
    let steps: [&[&str]; 3] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=gob test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    ];
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    for args in steps {
        let (code, _, stderr) =
            crate::support::run(Command::new(&openssl).args(args).current_dir(dir));
        assert_eq!(code, 0, "openssl {args:?}: {stderr}");
    }
    Some(dir.join("ca.pem"))
}

pub fn find_tool(env: &str, default: &Path, what: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env).map_or_else(|| default.to_path_buf(), PathBuf::from);
    if path.exists() {
        return Some(path);
    }
    let message = format!("no {what} at {} (or set {env})", path.display());
    assert!(std::env::var_os("CI").is_none(), "CI must have {message}");
    eprintln!("skipped: {message}");
    None
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

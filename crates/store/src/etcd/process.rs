//! A real etcd server on loopback, for tests and benchmarks: [`EtcdProcess`] starts Debian's
//! `etcd` binary in a temporary data directory on two free ports, waits until it answers, and
//! kills and reaps it on drop. Its output goes to a log file in that temporary directory,
//! never to the terminal; a start that fails reports the log's tail.
//!
//! The server runs with etcd's defaults (fsync included, so benchmarks measure real
//! durability) except `--max-request-bytes`, raised so a value at the store's 3 MiB limit fits
//! in one request (etcd's own default is 1.5 MiB).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use etcd_client::{Client, ConnectOptions, GetOptions};

use crate::{Error, Result};

/// The binary started, looked up on `PATH`.
const ETCD_BINARY: &str = "etcd";

/// How long a start may take before it is given up.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes of etcd's log quoted in an error.
const LOG_TAIL_BYTES: u64 = 4096;

/// Request size limit handed to etcd: the 3 MiB value limit plus room for the key and the
/// transaction around it.
pub(crate) const MAX_REQUEST_BYTES: usize = crate::MAX_VALUE_BYTES + 512 * 1024;

/// Starts that fail because another process took one of the probed ports are retried this
/// many times with fresh ports.
const PORT_RACE_TRIES: usize = 3;

/// A running single-member etcd cluster on 127.0.0.1, with its data in a temporary
/// directory. Dropping it kills the server, waits for it to exit and deletes the data.
pub struct EtcdProcess {
    child: Child,
    endpoint: String,
    log_path: PathBuf,
    /// Holds the data directory and the log; removed after the child is reaped (fields drop
    /// after `Drop::drop` ran).
    _dir: tempfile::TempDir,
}

impl EtcdProcess {
    /// Starts etcd and waits (at most 30 s) until it serves requests.
    pub async fn start() -> Result<Self> {
        let mut tries = 0;
        loop {
            tries += 1;
            match Self::start_once().await {
                Err(StartError::PortTaken(msg)) if tries < PORT_RACE_TRIES => {
                    tracing::debug!("etcd lost a port race, retrying: {msg}");
                }
                Err(StartError::PortTaken(msg)) | Err(StartError::Other(msg)) => {
                    return Err(Error::Unavailable(msg))
                }
                Ok(p) => return Ok(p),
            }
        }
    }

    /// The client URL, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    /// The file etcd logs to.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    async fn start_once() -> std::result::Result<Self, StartError> {
        let dir = tempfile::Builder::new()
            .prefix("skiff-etcd-")
            .tempdir()
            .map_err(|e| StartError::Other(format!("cannot create a temp dir for etcd: {e}")))?;
        let data_dir = dir.path().join("data");
        let log_path = dir.path().join("etcd.log");
        let log = File::create(&log_path)
            .map_err(|e| StartError::Other(format!("cannot create {}: {e}", log_path.display())))?;
        let log_err = log
            .try_clone()
            .map_err(|e| StartError::Other(format!("cannot reopen {}: {e}", log_path.display())))?;
        let [client_port, peer_port] = free_ports()
            .map_err(|e| StartError::Other(format!("cannot find free loopback ports: {e}")))?;
        let client_url = format!("http://127.0.0.1:{client_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");

        let mut cmd = Command::new(ETCD_BINARY);
        // Settings from the environment (ETCD_*) would override the flags' intent.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ETCD_") {
                cmd.env_remove(name);
            }
        }
        cmd.arg("--name")
            .arg("n1")
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--listen-client-urls")
            .arg(&client_url)
            .arg("--advertise-client-urls")
            .arg(&client_url)
            .arg("--listen-peer-urls")
            .arg(&peer_url)
            .arg("--initial-advertise-peer-urls")
            .arg(&peer_url)
            .arg("--initial-cluster")
            .arg(format!("n1={peer_url}"))
            .arg("--max-request-bytes")
            .arg(MAX_REQUEST_BYTES.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                StartError::Other(
                    "etcd not found on PATH: install the Debian package etcd-server".into(),
                )
            } else {
                StartError::Other(format!("cannot start {ETCD_BINARY}: {e}"))
            }
        })?;
        // From here on, dropping `process` kills and reaps the child.
        let mut process = EtcdProcess {
            child,
            endpoint: client_url,
            log_path,
            _dir: dir,
        };
        process.wait_ready().await?;
        Ok(process)
    }

    /// Retries a cheap read with a short backoff until etcd answers, it exits, or the
    /// overall timeout passes.
    async fn wait_ready(&mut self) -> std::result::Result<(), StartError> {
        let started = Instant::now();
        let deadline = started + START_TIMEOUT;
        let mut backoff = Duration::from_millis(10);
        let mut last_error = String::from("no attempt yet");
        let options = ConnectOptions::new().with_connect_timeout(Duration::from_secs(1));
        let mut client = None;
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .map_err(|e| StartError::Other(format!("cannot check on etcd: {e}")))?
            {
                let tail = self.log_tail();
                let msg =
                    format!("etcd exited during start ({status}); its log ends with:\n{tail}");
                return Err(if tail.contains("address already in use") {
                    StartError::PortTaken(msg)
                } else {
                    StartError::Other(msg)
                });
            }
            if client.is_none() {
                match Client::connect([self.endpoint.as_str()], Some(options.clone())).await {
                    Ok(c) => client = Some(c),
                    Err(e) => last_error = e.to_string(),
                }
            }
            if let Some(c) = client.as_mut() {
                let probe = c.get("/", Some(GetOptions::new().with_count_only()));
                match tokio::time::timeout(Duration::from_secs(1), probe).await {
                    Ok(Ok(_)) => {
                        tracing::debug!(
                            "etcd at {} ready after {:?}",
                            self.endpoint,
                            started.elapsed()
                        );
                        return Ok(());
                    }
                    Ok(Err(e)) => last_error = e.to_string(),
                    Err(_) => last_error = "probe timed out".into(),
                }
            }
            if Instant::now() + backoff > deadline {
                return Err(StartError::Other(format!(
                    "etcd at {} did not answer within {START_TIMEOUT:?} (last error: \
                     {last_error}); its log ends with:\n{}",
                    self.endpoint,
                    self.log_tail()
                )));
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_millis(50));
        }
    }

    /// The last few KiB of etcd's log (best effort).
    fn log_tail(&self) -> String {
        let read = || -> std::io::Result<String> {
            let mut f = File::open(&self.log_path)?;
            let len = f.metadata()?.len();
            f.seek(SeekFrom::Start(len.saturating_sub(LOG_TAIL_BYTES)))?;
            let mut buf = Vec::new();
            f.read_to_end(&mut buf)?;
            Ok(String::from_utf8_lossy(&buf).into_owned())
        };
        read().unwrap_or_else(|e| format!("(cannot read {}: {e})", self.log_path.display()))
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        // SIGKILL: no graceful shutdown needed for a throwaway server, and it cannot hang.
        // An error means the child already exited; `wait` reaps it either way.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum StartError {
    /// etcd could not bind a port that was free a moment earlier.
    PortTaken(String),
    Other(String),
}

/// Two distinct free loopback ports (held open together so they differ, then released).
fn free_ports() -> std::io::Result<[u16; 2]> {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let a = TcpListener::bind(any)?;
    let b = TcpListener::bind(any)?;
    Ok([a.local_addr()?.port(), b.local_addr()?.port()])
}

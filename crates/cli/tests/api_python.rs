//! The official Kubernetes Python client (PyPI `kubernetes`) drives a real `skiff server`:
//! CRUD, selectors, paging, watch with resume, patches (also on /scale) for core and apps
//! kinds. The script is tests/python/client_flows.py.

mod support;

use std::process::Command;

#[test]
fn python_client_flows() {
    let server = support::Server::start();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/client_flows.py");
    let out = Command::new(support::python())
        .arg(&script)
        .arg(server.kubeconfig())
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python client flows failed:\nstdout: {}\nstderr: {}\nserver log: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
}

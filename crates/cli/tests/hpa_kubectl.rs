//! HorizontalPodAutoscaler with the real kubectl: `kubectl autoscale` creates an HPA that
//! the controller reads its target's scale for and, with no metrics API served (as upstream
//! without metrics-server), reports the FailedGetResourceMetric condition and event.

mod support;

use std::time::Duration;

use support::{k, kubectls, wait_for, Server};

#[test]
fn autoscale_reports_missing_metrics_as_upstream() {
    let s = Server::start_with(&["--simulated-nodes", "1"]);
    let bin = &kubectls()[0];
    k(
        bin,
        &s,
        &[
            "create",
            "deployment",
            "web",
            "--image=nginx",
            "--replicas=2",
        ],
    );
    k(
        bin,
        &s,
        &[
            "set",
            "resources",
            "deployment",
            "web",
            "--requests=cpu=100m",
        ],
    );
    k(
        bin,
        &s,
        &[
            "autoscale",
            "deployment",
            "web",
            "--cpu-percent=50",
            "--min=1",
            "--max=5",
        ],
    );
    let reason = wait_for(
        Duration::from_secs(40),
        "the HPA's ScalingActive condition",
        || {
            let out = support::kubectl(
            bin,
            &s,
            &[
                "get",
                "hpa",
                "web",
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"ScalingActive\")].reason} {.status.currentReplicas}",
            ],
            None,
        );
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            (!text.is_empty() && !text.starts_with(' ')).then_some(text)
        },
    );
    assert_eq!(reason, "FailedGetResourceMetric 2");
    let events = k(
        bin,
        &s,
        &[
            "get",
            "events",
            "--field-selector",
            "involvedObject.kind=HorizontalPodAutoscaler",
        ],
    );
    assert!(
        events.contains("FailedGetResourceMetric")
            && events.contains("unable to fetch metrics from resource metrics API"),
        "{events}"
    );
    let table = k(bin, &s, &["get", "hpa", "web"]);
    assert!(table.contains("cpu: <unknown>/50%"), "{table}");
}

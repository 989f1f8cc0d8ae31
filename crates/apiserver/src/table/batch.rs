//! Printers of the `batch` group: jobs (STATUS from the conditions, COMPLETIONS, DURATION)
//! and cron jobs.

use jiff::Timestamp;
use serde_json::Value;

use super::docs;
use super::duration;
use super::fields::{
    age, arr, containers, deleting, format_label_selector, int, name, opt_int, s, timestamp,
};
use super::{Column, Printer, Row, AGE, CONTAINERS, IMAGES, NAME};

pub(super) static JOBS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Status", "string", "Status of the job."),
        Column::new("Completions", "string", docs::JOB_STATUS_SUCCEEDED),
        Column::new("Duration", "string", "Time required to complete the job."),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", docs::JOB_SPEC_SELECTOR).wide(),
    ],
    row: job_row,
};

/// `hasJobCondition`: the status of the first condition of the type is True.
fn has_condition(job: &Value, ty: &str) -> bool {
    arr(&job["status"]["conditions"])
        .iter()
        .find(|c| s(&c["type"]) == ty)
        .is_some_and(|c| s(&c["status"]) == "True")
}

fn job_row(job: &Value, now: Timestamp) -> Row {
    let spec = &job["spec"];
    let status = &job["status"];
    let succeeded = int(&status["succeeded"]);
    // Upstream defaults: both unset -> completions = parallelism = 1; parallelism unset -> 1.
    let (completions, parallelism) =
        match (opt_int(&spec["completions"]), opt_int(&spec["parallelism"])) {
            (None, None) => (Some(1), 1),
            (c, p) => (c, p.unwrap_or(1)),
        };
    let completions = match completions {
        Some(c) => format!("{succeeded}/{c}"),
        None if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
        None => format!("{succeeded}/1"),
    };
    let start = timestamp(&status["startTime"]);
    let job_duration = match (start, timestamp(&status["completionTime"])) {
        (None, _) => String::new(),
        (Some(start), None) => duration::human_nanos(duration::between(start, now)),
        (Some(start), Some(end)) => duration::human_nanos(duration::between(start, end)),
    };
    let state = if has_condition(job, "Complete") {
        "Complete"
    } else if has_condition(job, "Failed") {
        "Failed"
    } else if deleting(job) {
        "Terminating"
    } else if has_condition(job, "Suspended") {
        "Suspended"
    } else if has_condition(job, "FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (names, images) = containers(&spec["template"]["spec"]);
    Row::new(vec![
        name(job).into(),
        state.into(),
        completions.into(),
        job_duration.into(),
        age(job, now).into(),
        names.into(),
        images.into(),
        format_label_selector(&spec["selector"]).into(),
    ])
}

pub(super) static CRONJOBS: Printer = Printer {
    columns: &[
        NAME,
        Column::new("Schedule", "string", docs::CRONJOB_SPEC_SCHEDULE),
        Column::new("Timezone", "string", docs::CRONJOB_SPEC_TIME_ZONE),
        Column::new("Suspend", "boolean", docs::CRONJOB_SPEC_SUSPEND),
        Column::new("Active", "integer", docs::CRONJOB_STATUS_ACTIVE),
        Column::new(
            "Last Schedule",
            "string",
            docs::CRONJOB_STATUS_LAST_SCHEDULE,
        ),
        AGE,
        CONTAINERS,
        IMAGES,
        Column::new("Selector", "string", docs::JOB_SPEC_SELECTOR).wide(),
    ],
    row: cronjob_row,
};

fn cronjob_row(cj: &Value, now: Timestamp) -> Row {
    let spec = &cj["spec"];
    let status = &cj["status"];
    let last_schedule = match timestamp(&status["lastScheduleTime"]) {
        Some(t) => duration::since(Some(t), now),
        None if status["lastScheduleTime"].is_null() => "<none>".into(),
        // Present but unreadable: Go's zero time.
        None => "<unknown>".into(),
    };
    let time_zone = spec["timeZone"].as_str().unwrap_or("<none>");
    // `printBoolPtr`, with upstream's default `suspend: false`.
    let suspend = match &spec["suspend"] {
        Value::Bool(true) => "True",
        Value::Bool(false) | Value::Null => "False",
        _ => "<unset>",
    };
    let job_spec = &spec["jobTemplate"]["spec"];
    let (names, images) = containers(&job_spec["template"]["spec"]);
    Row::new(vec![
        name(cj).into(),
        s(&spec["schedule"]).into(),
        time_zone.into(),
        suspend.into(),
        arr(&status["active"]).len().into(),
        last_schedule.into(),
        age(cj, now).into(),
        names.into(),
        images.into(),
        format_label_selector(&job_spec["selector"]).into(),
    ])
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use serde_json::{json, Value};

    fn job(spec: Value, status: Value) -> Value {
        let mut spec = spec;
        spec["template"] = json!({ "spec": { "restartPolicy": "Never",
            "containers": [{ "name": "pi", "image": "perl:5.34" }] } });
        json!({ "metadata": { "name": "pi", "creationTimestamp": ago(600) }, "spec": spec, "status": status })
    }

    #[test]
    fn jobs() {
        let done = job(
            json!({ "completions": 1, "parallelism": 1,
                    "selector": { "matchLabels": { "batch.kubernetes.io/controller-uid": "abc" } } }),
            json!({ "succeeded": 1, "startTime": ago(590), "completionTime": ago(550),
                    "conditions": [{ "type": "SuccessCriteriaMet", "status": "True" }, { "type": "Complete", "status": "True" }] }),
        );
        let t = table("batch", "jobs", &[done]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Status", 0),
                ("Completions", 0),
                ("Duration", 0),
                ("Age", 0),
                ("Containers", 1),
                ("Images", 1),
                ("Selector", 1),
            ],
        );
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "pi",
                "Complete",
                "1/1",
                "40s",
                "10m",
                "pi",
                "perl:5.34",
                "batch.kubernetes.io/controller-uid=abc"
            ])
        );
        let running = job(
            json!({ "completions": 5, "parallelism": 2 }),
            json!({ "succeeded": 2, "active": 2, "startTime": ago(200) }),
        );
        let c = cells("batch", "jobs", running);
        assert_eq!(c[1..4], [json!("Running"), json!("2/5"), json!("3m20s")]);
        let work_queue = job(json!({ "parallelism": 3 }), json!({}));
        let c = cells("batch", "jobs", work_queue);
        assert_eq!(c[1..4], [json!("Running"), json!("0/1 of 3"), json!("")]);
        let single = job(json!({ "parallelism": 1 }), json!({ "succeeded": 0 }));
        assert_eq!(cells("batch", "jobs", single)[2], "0/1");
        let defaults = job(json!({}), json!({}));
        assert_eq!(cells("batch", "jobs", defaults)[2], "0/1");
        let failed = job(
            json!({ "backoffLimit": 0 }),
            json!({ "failed": 1, "conditions": [{ "type": "FailureTarget", "status": "True" }, { "type": "Failed", "status": "True" }] }),
        );
        assert_eq!(cells("batch", "jobs", failed)[1], "Failed");
        let target = job(
            json!({}),
            json!({ "conditions": [{ "type": "FailureTarget", "status": "True" }] }),
        );
        assert_eq!(cells("batch", "jobs", target)[1], "FailureTarget");
        let suspended = job(
            json!({ "suspend": true }),
            json!({ "conditions": [{ "type": "Suspended", "status": "True" }] }),
        );
        assert_eq!(cells("batch", "jobs", suspended.clone())[1], "Suspended");
        let mut deleting = suspended;
        deleting["metadata"]["deletionTimestamp"] = json!(ago(0));
        assert_eq!(cells("batch", "jobs", deleting)[1], "Terminating");
        let not_true = job(
            json!({}),
            json!({ "conditions": [{ "type": "Complete", "status": "False" }, { "type": "Complete", "status": "True" }] }),
        );
        assert_eq!(
            cells("batch", "jobs", not_true)[1],
            "Running",
            "first condition counts"
        );
    }

    #[test]
    fn cron_jobs() {
        let cj = json!({
            "metadata": { "name": "backup", "creationTimestamp": ago(86400 * 3) },
            "spec": {
                "schedule": "*/5 * * * *", "timeZone": "Europe/Berlin", "suspend": false,
                "jobTemplate": { "spec": { "template": { "spec": { "containers": [{ "name": "backup", "image": "restic:0.16" }] } } } },
            },
            "status": { "active": [{ "kind": "Job", "name": "backup-1" }], "lastScheduleTime": ago(140) },
        });
        let t = table("batch", "cronjobs", &[cj]);
        check_shape(
            &t,
            &[
                ("Name", 0),
                ("Schedule", 0),
                ("Timezone", 0),
                ("Suspend", 0),
                ("Active", 0),
                ("Last Schedule", 0),
                ("Age", 0),
                ("Containers", 1),
                ("Images", 1),
                ("Selector", 1),
            ],
        );
        assert_eq!(t["columnDefinitions"][3]["type"], "boolean");
        assert_eq!(
            t["rows"][0]["cells"],
            json!([
                "backup",
                "*/5 * * * *",
                "Europe/Berlin",
                "False",
                1,
                "2m20s",
                "3d",
                "backup",
                "restic:0.16",
                "<none>"
            ])
        );
        let bare = json!({ "metadata": { "name": "b" }, "spec": { "schedule": "@daily", "suspend": true } });
        let c = cells("batch", "cronjobs", bare);
        assert_eq!(
            c[1..6],
            [
                json!("@daily"),
                json!("<none>"),
                json!("True"),
                json!(0),
                json!("<none>")
            ]
        );
    }
}

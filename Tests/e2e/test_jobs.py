"""Jobs and CronJobs with the real kubectl, the controllers and the built-in kubelet running
pods as host processes: a Job of 5 completions 2 at a time, an Indexed Job whose pods print
their JOB_COMPLETION_INDEX, a failing Job reaching its backoff limit, `kubectl create job`
(also --from=cronjob/x) and `kubectl create cronjob`, and a backup CronJob every minute whose
Jobs complete and are pruned by successfulJobsHistoryLimit."""

from __future__ import annotations

import contextlib
import json

from e2eutil import parse_table, unique, wait_for
from kubeletutil import apply, get_json, list_json, node_fixtures, parse_time, sh_container, wait_no_pids

TOKEN = unique("e2e-jobs", 8)  # in every container's env: finds leftover processes
ENV = [{"name": "E2E_TOKEN", "value": TOKEN}]

srv, ns = node_fixtures("kl-jobs", TOKEN)


def job_manifest(name: str, script: str, **spec) -> dict:
    restart = spec.pop("restartPolicy", "Never")
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {**spec, "template": {"spec": {"restartPolicy": restart,
                                                   "containers": [sh_container("main", script, env=ENV)]}}}}


def job_pods(srv, ns, job: str) -> list[dict]:
    return list_json(srv, "pods", ns, "-l", f"batch.kubernetes.io/job-name={job}")


@contextlib.contextmanager
def cleanup(srv, ns, *objects: str):
    """Deletes `objects` (kind/name) at the end and waits until their pods are gone."""
    try:
        yield
    finally:
        for obj in objects:
            srv.kubectl("delete", obj, "-n", ns, "--ignore-not-found", "--wait=true", "--timeout=120s", check=False)
        wait_for(lambda: not [p for p in list_json(srv, "pods", ns) if "job-name" in p["metadata"].get("labels", {})],
                 timeout=120, interval=1, what="the Jobs' pods to be gone")


def condition(obj: dict, type_: str) -> dict:
    return next((c for c in obj.get("status", {}).get("conditions") or [] if c["type"] == type_), {})


def test_job_runs_five_completions_two_at_a_time(srv, ns):
    with cleanup(srv, ns, "job/fives"):
        apply(srv, job_manifest("fives", "echo done; sleep 1", completions=5, parallelism=2), ns)
        srv.kubectl("wait", "--for=condition=complete", "job/fives", "-n", ns, "--timeout=240s", timeout=260)
        job = get_json(srv, "job", "fives", ns)
        assert job["status"]["succeeded"] == 5, job["status"]
        assert job["status"].get("completionTime") and job["status"].get("startTime"), job["status"]
        assert condition(job, "Complete")["status"] == "True"
        assert condition(job, "SuccessCriteriaMet")["status"] == "True"
        assert job["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"] == job["metadata"]["uid"]
        pods = job_pods(srv, ns, "fives")
        assert len(pods) == 5 and all(p["status"]["phase"] == "Succeeded" for p in pods), [p["status"]["phase"] for p in pods]
        assert all("batch.kubernetes.io/job-tracking" not in (p["metadata"].get("finalizers") or []) for p in pods)

        rows = parse_table(srv.kubectl("get", "jobs", "-n", ns).stdout)
        assert list(rows[0]) == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"], rows
        assert rows[0]["NAME"] == "fives" and rows[0]["STATUS"] == "Complete" and rows[0]["COMPLETIONS"] == "5/5", rows
        wide = parse_table(srv.kubectl("get", "jobs", "-n", ns, "-o", "wide").stdout)
        assert wide[0]["CONTAINERS"] == "main" and wide[0]["IMAGES"] == "busybox:1.36", wide
        assert wide[0]["SELECTOR"] == f"batch.kubernetes.io/controller-uid={job['metadata']['uid']}", wide

        assert srv.kubectl("logs", "job/fives", "-n", ns).stdout.strip() == "done"
        described = srv.kubectl("describe", "job", "fives", "-n", ns).stdout
        assert "Pods Statuses:    0 Active (0 Ready) / 5 Succeeded / 0 Failed" in described, described
        assert "Completions:      5" in described and "Parallelism:      2" in described, described
        assert "SuccessfulCreate" in described and "Completed" in described, described


def test_indexed_job_pods_print_their_index(srv, ns):
    with cleanup(srv, ns, "job/indexed"):
        apply(srv, job_manifest("indexed", 'echo "index=$JOB_COMPLETION_INDEX"', completions=3, parallelism=3,
                                completionMode="Indexed"), ns)
        srv.kubectl("wait", "--for=condition=complete", "job/indexed", "-n", ns, "--timeout=240s", timeout=260)
        job = get_json(srv, "job", "indexed", ns)
        assert job["status"]["completedIndexes"] == "0-2" and job["status"]["succeeded"] == 3, job["status"]
        printed = set()
        for pod in job_pods(srv, ns, "indexed"):
            index = pod["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
            assert pod["spec"]["hostname"] == f"indexed-{index}", pod["spec"]
            out = srv.kubectl("logs", pod["metadata"]["name"], "-n", ns).stdout.strip()
            assert out == f"index={index}", out
            printed.add(out)
        assert printed == {"index=0", "index=1", "index=2"}


def test_failing_job_reaches_its_backoff_limit(srv, ns):
    with cleanup(srv, ns, "job/failing"):
        apply(srv, job_manifest("failing", "echo failing; exit 3", backoffLimit=1), ns)
        srv.kubectl("wait", "--for=condition=failed", "job/failing", "-n", ns, "--timeout=240s", timeout=260)
        job = get_json(srv, "job", "failing", ns)
        failed = condition(job, "Failed")
        assert failed["reason"] == "BackoffLimitExceeded", job["status"]
        assert failed["message"] == "Job has reached the specified backoff limit"
        assert job["status"]["failed"] == 2 and not job["status"].get("succeeded"), job["status"]
        assert not job["status"].get("completionTime")
        rows = parse_table(srv.kubectl("get", "job", "failing", "-n", ns).stdout)
        assert rows[0]["STATUS"] == "Failed" and rows[0]["COMPLETIONS"] == "0/1", rows
        pods = job_pods(srv, ns, "failing")
        assert len(pods) == 2 and all(p["status"]["phase"] == "Failed" for p in pods)
        # The replacement waited for the back-off (10 s) after the first failure.
        starts = sorted(p["metadata"]["creationTimestamp"] for p in pods)
        assert starts[0] != starts[1]
        events = srv.kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.name=failing", "-o", "json").stdout
        assert "BackoffLimitExceeded" in {e["reason"] for e in json.loads(events)["items"]}


def test_kubectl_create_job_cronjob_and_from_cronjob(srv, ns):
    with cleanup(srv, ns, "job/hello", "job/manual", "cronjob/nightly"):
        srv.kubectl("create", "job", "hello", "-n", ns, "--image=busybox", "--", "sh", "-c", "echo hello")
        srv.kubectl("wait", "--for=condition=complete", "job/hello", "-n", ns, "--timeout=180s", timeout=200)
        assert srv.kubectl("logs", "job/hello", "-n", ns).stdout.strip() == "hello"

        srv.kubectl("create", "cronjob", "nightly", "-n", ns, "--image=busybox", "--schedule=0 3 * * *",
                    "--", "sh", "-c", "echo nightly backup")
        rows = parse_table(srv.kubectl("get", "cronjobs", "-n", ns).stdout)
        assert list(rows[0]) == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"], rows
        assert rows[0]["SCHEDULE"] == "0 3 * * *" and rows[0]["TIMEZONE"] == "<none>", rows
        assert rows[0]["SUSPEND"] == "False" and rows[0]["ACTIVE"] == "0" and rows[0]["LAST SCHEDULE"] == "<none>", rows

        srv.kubectl("create", "job", "manual", "-n", ns, "--from=cronjob/nightly")
        job = get_json(srv, "job", "manual", ns)
        assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
        assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
        srv.kubectl("wait", "--for=condition=complete", "job/manual", "-n", ns, "--timeout=180s", timeout=200)
        assert srv.kubectl("logs", "job/manual", "-n", ns).stdout.strip() == "nightly backup"
        described = srv.kubectl("describe", "cronjob", "nightly", "-n", ns).stdout
        assert "Schedule:" in described and "0 3 * * *" in described, described

        bad = srv.kubectl("create", "cronjob", "bad", "-n", ns, "--image=busybox", "--schedule=CRON_TZ=UTC 0 3 * * *", check=False)
        assert bad.returncode != 0 and "cannot use TZ or CRON_TZ in schedule" in bad.stderr, bad.stderr


def test_backup_cronjob_every_minute_is_pruned_by_history_limit(srv, ns):
    manifest = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "backup"},
                "spec": {"schedule": "*/1 * * * *", "successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 1,
                         "concurrencyPolicy": "Forbid",
                         "jobTemplate": {"spec": {"template": {"spec": {
                             "restartPolicy": "OnFailure",
                             "containers": [sh_container("backup", "echo backup of $(date +%s)", env=ENV)]}}}}}}
    with cleanup(srv, ns, "cronjob/backup"):
        apply(srv, manifest, ns)
        completed: set[str] = set()

        def two_runs_pruned_to_one():
            jobs = [j for j in list_json(srv, "jobs", ns) if j["metadata"]["name"].startswith("backup-")]
            done = [j for j in jobs if condition(j, "Complete").get("status") == "True"]
            completed.update(j["metadata"]["name"] for j in done)
            return len(completed) >= 2 and len(done) == 1 and done[0]

        last = wait_for(two_runs_pruned_to_one, timeout=300, interval=2,
                        what="two completed scheduled Jobs, the older pruned by successfulJobsHistoryLimit 1")
        name = last["metadata"]["name"]
        minutes = int(name.rsplit("-", 1)[1])
        stamp = last["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
        # The name's suffix is the scheduled time in minutes since the epoch.
        assert parse_time(stamp) == minutes * 60, (stamp, name)
        cron = get_json(srv, "cronjob", "backup", ns)
        assert cron["status"].get("lastScheduleTime") and cron["status"].get("lastSuccessfulTime"), cron["status"]
        logs = srv.kubectl("logs", f"job/{name}", "-n", ns).stdout
        assert logs.startswith("backup of "), logs
        srv.kubectl("patch", "cronjob", "backup", "-n", ns, "-p", '{"spec":{"suspend":true}}')
    wait_no_pids(TOKEN, timeout=60)


def test_explain_quota_watch_and_namespace_deletion(srv):
    explained = srv.kubectl("explain", "job.spec").stdout
    for field in ("completions", "parallelism", "backoffLimit", "podFailurePolicy", "template"):
        assert field in explained, explained
    assert "jobTemplate" in srv.kubectl("explain", "cronjob.spec").stdout
    resources = srv.kubectl("api-resources", "--api-group=batch").stdout
    assert "cronjobs" in resources and "cj" in resources and "jobs" in resources, resources

    namespace = unique("kl-jobs-ns", 5)
    srv.kubectl("create", "namespace", namespace)
    watch = srv.kubectl_popen("get", "jobs", "-n", namespace, "-w", "--request-timeout=60s")
    try:
        srv.kubectl("create", "quota", "jobs", "-n", namespace, "--hard=count/jobs.batch=1,count/cronjobs.batch=0")
        wait_for(lambda: get_json(srv, "resourcequota", "jobs", namespace).get("status", {}).get("hard"),
                 timeout=60, what="the quota's status")
        srv.kubectl("create", "job", "first", "-n", namespace, "--image=busybox", "--", "sh", "-c", f"echo {TOKEN}")
        second = srv.kubectl("create", "job", "second", "-n", namespace, "--image=busybox", "--", "true", check=False)
        assert second.returncode != 0 and "exceeded quota" in second.stderr and "count/jobs.batch" in second.stderr, second.stderr
        cron = srv.kubectl("create", "cronjob", "c", "-n", namespace, "--image=busybox", "--schedule=@daily", check=False)
        assert cron.returncode != 0 and "count/cronjobs.batch" in cron.stderr, cron.stderr
        srv.kubectl("wait", "--for=condition=complete", "job/first", "-n", namespace, "--timeout=180s", timeout=200)
        used = get_json(srv, "resourcequota", "jobs", namespace)["status"]["used"]
        assert used["count/jobs.batch"] == "1", used
    finally:
        srv.kubectl("delete", "namespace", namespace, "--wait=true", "--timeout=180s", timeout=200, check=False)
        watch.terminate()
    lines = watch.communicate(timeout=30)[0].splitlines()
    assert lines and lines[0].split()[:2] == ["NAME", "STATUS"], lines
    assert any(ln.startswith("first") and "Complete" in ln for ln in lines), lines
    gone = srv.kubectl("get", "namespace", namespace, check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr

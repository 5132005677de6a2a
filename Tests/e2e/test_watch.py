"""Watches: event order, resuming from a resourceVersion, timeouts, bookmarks, selectors,
resourceVersion=0, compaction (410 Expired), WatchList, and `kubectl get -w`."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from e2eutil import LineReader, RawWatch, assert_status_body, ev_name, ev_rv, summarize


def cms_url(server, ns):
    return f"{server.url}/api/v1/namespaces/{ns}/configmaps"


def list_rv(http, url) -> str:
    r = http.get(url, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["metadata"]["resourceVersion"]


def create_cm(http, url, name, data=None, labels=None) -> dict:
    body = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, **({"labels": labels} if labels else {})},
            "data": data or {"v": "0"}}
    r = http.post(url, json=body, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


def merge_patch(http, url, name, patch) -> dict:
    r = http.patch(f"{url}/{name}", json=patch, timeout=30,
                   headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200, r.text
    return r.json()


def delete(http, url, name) -> dict:
    r = http.delete(f"{url}/{name}", timeout=30)
    assert r.status_code in (200, 202), r.text
    return r.json()


def names_in(http, url) -> set[str]:
    """The objects already there: with the controllers on, a namespace starts with
    kube-root-ca.crt, which a watch without a resourceVersion reports as ADDED too."""
    r = http.get(url, timeout=30)
    assert r.status_code == 200, r.text
    return {i["metadata"]["name"] for i in r.json()["items"]}


def rv_int(rv: str):
    return int(rv) if rv.isdigit() else None


def types_names(events):
    return [(e["type"], ev_name(e)) for e in events]


# ----------------------------------------------------------------------------- order


def test_python_watch_sees_added_modified_deleted_in_order(k8s, namespace):
    core = client.CoreV1Api(k8s)
    rv = core.list_namespaced_config_map(namespace).metadata.resource_version
    w = watch.Watch()
    seen: list[tuple[str, str, str, dict]] = []
    errors: list[BaseException] = []

    def run():
        try:
            for ev in w.stream(core.list_namespaced_config_map, namespace, resource_version=rv,
                               timeout_seconds=60, _request_timeout=90):
                o = ev["object"]
                seen.append((ev["type"], o.metadata.name, o.metadata.resource_version, o.data or {}))
                if ev["type"] == "DELETED":
                    w.stop()
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    created = core.create_namespaced_config_map(namespace, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="x"), data={"v": "1"}))
    modified = core.patch_namespaced_config_map("x", namespace, {"data": {"v": "2"}})
    core.delete_namespaced_config_map("x", namespace)
    t.join(60)
    assert not t.is_alive(), f"watch did not deliver DELETED; got {seen}"
    assert not errors, errors
    assert [(s[0], s[1]) for s in seen] == [("ADDED", "x"), ("MODIFIED", "x"), ("DELETED", "x")], seen
    assert seen[0][2] == created.metadata.resource_version
    assert seen[1][2] == modified.metadata.resource_version and seen[1][3] == {"v": "2"}
    assert w.resource_version == seen[2][2]


def test_raw_watch_sees_added_modified_deleted_in_order(server, http, namespace):
    url = cms_url(server, namespace)
    rv = list_rv(http, url)
    with RawWatch(http, url, {"watch": "1", "resourceVersion": rv, "timeoutSeconds": "60"}) as w:
        assert w.status_code == 200, w.body
        assert w.headers.get("Content-Type", "").startswith("application/json"), w.headers
        a = create_cm(http, url, "y", {"v": "1"})
        m = merge_patch(http, url, "y", {"data": {"v": "2"}})
        delete(http, url, "y")
        evs = w.wait_count(3, timeout=30)
        assert types_names(evs) == [("ADDED", "y"), ("MODIFIED", "y"), ("DELETED", "y")], summarize(evs)
        assert ev_rv(evs[0]) == a["metadata"]["resourceVersion"]
        assert ev_rv(evs[1]) == m["metadata"]["resourceVersion"]
        assert evs[1]["object"]["data"] == {"v": "2"}
        for e in evs:
            assert e["object"]["kind"] == "ConfigMap" and e["object"]["apiVersion"] == "v1", e
        rvs = [rv_int(ev_rv(e)) for e in evs]
        if None not in rvs:
            assert rvs == sorted(rvs) and len(set(rvs)) == 3, rvs
        assert not w.bad_lines, w.bad_lines


# ----------------------------------------------------------------------------- resume


def test_resume_from_resource_version_replays_later_events(server, http, namespace, k8s):
    url = cms_url(server, namespace)
    rv1 = create_cm(http, url, "r")["metadata"]["resourceVersion"]
    rv2 = merge_patch(http, url, "r", {"data": {"v": "1"}})["metadata"]["resourceVersion"]
    rv3 = merge_patch(http, url, "r", {"data": {"v": "2"}})["metadata"]["resourceVersion"]
    delete(http, url, "r")
    rv5 = create_cm(http, url, "s")["metadata"]["resourceVersion"]

    with RawWatch(http, url, {"watch": "true", "resourceVersion": rv1, "timeoutSeconds": "3"}) as w:
        assert w.status_code == 200, w.body
        assert w.wait_closed(30), "watch with timeoutSeconds=3 did not end"
        assert types_names(w.events) == [("MODIFIED", "r"), ("MODIFIED", "r"), ("DELETED", "r"),
                                         ("ADDED", "s")], summarize(w.events)
        assert [ev_rv(e) for e in w.events[:2]] == [rv2, rv3]
        assert ev_rv(w.events[3]) == rv5

    # the same through the official client's Watch
    core = client.CoreV1Api(k8s)
    got = [(ev["type"], ev["object"].metadata.name) for ev in watch.Watch().stream(
        core.list_namespaced_config_map, namespace, resource_version=rv3, timeout_seconds=3,
        _request_timeout=60)]
    assert got == [("DELETED", "r"), ("ADDED", "s")], got


def test_timeout_seconds_closes_stream_cleanly(server, http, namespace, k8s):
    url = cms_url(server, namespace)
    t0 = time.monotonic()
    with RawWatch(http, url, {"watch": "1", "resourceVersion": list_rv(http, url),
                              "timeoutSeconds": "2"}) as w:
        assert w.status_code == 200, w.body
        assert w.wait_closed(30), "stream still open 30 s after timeoutSeconds=2"
        elapsed = w.closed_at - t0
        assert w.error is None, f"stream ended uncleanly: {w.error!r}"
        assert elapsed >= 1.0, f"closed {elapsed:.1f} s after the start, before timeoutSeconds=2"
        assert [e for e in w.events if e["type"] != "BOOKMARK"] == []

    # The stream ends by itself (a hung one would raise at _request_timeout), having sent
    # only the synthetic ADDED for each object already there.
    there = names_in(http, url)
    got = [(ev["type"], ev["object"].metadata.name) for ev in watch.Watch().stream(
        client.CoreV1Api(k8s).list_namespaced_config_map, namespace, timeout_seconds=2,
        _request_timeout=60)]
    assert sorted(got) == sorted(("ADDED", n) for n in there), got


# ----------------------------------------------------------------------------- bookmarks


@pytest.mark.timeout(240)
def test_bookmarks(server, http, namespace):
    url = cms_url(server, namespace)
    last = create_cm(http, url, "bm")["metadata"]["resourceVersion"]
    rv = list_rv(http, url)

    def bookmark_ok(evs):
        return any(e["type"] == "BOOKMARK" for e in evs)

    # kube-apiserver sends one shortly before timeoutSeconds runs out; try that first
    plain = RawWatch(http, url, {"watch": "1", "resourceVersion": rv, "timeoutSeconds": "10"})
    with RawWatch(http, url, {"watch": "1", "resourceVersion": rv, "allowWatchBookmarks": "true",
                              "timeoutSeconds": "10"}) as w:
        assert w.status_code == 200, w.body
        w.wait_closed(40)
        events = list(w.events)
    plain.wait_closed(40)
    plain.close()
    assert not any(e["type"] == "BOOKMARK" for e in plain.events), \
        f"BOOKMARK sent without allowWatchBookmarks: {summarize(plain.events)}"

    if not bookmark_ok(events):
        with RawWatch(http, url, {"watch": "1", "resourceVersion": rv, "allowWatchBookmarks": "true",
                                  "timeoutSeconds": "75"}) as w:
            # Caravel sends one before timeoutSeconds runs out and on its bookmark interval, as
            # kube-apiserver does: none within 75 s is a failure, not a skip.
            events = w.wait_for(bookmark_ok, timeout=80, what="a BOOKMARK within 75 s")

    bm = [e for e in events if e["type"] == "BOOKMARK"][0]
    obj = bm["object"]
    assert obj["kind"] == "ConfigMap" and obj["apiVersion"] == "v1", bm
    assert obj["metadata"]["resourceVersion"], bm
    if rv_int(last) is not None and rv_int(obj["metadata"]["resourceVersion"]) is not None:
        assert int(obj["metadata"]["resourceVersion"]) >= int(last), bm
    assert "data" not in obj and not obj["metadata"].get("name"), f"bookmark carries an object: {bm}"


# ----------------------------------------------------------------------------- selectors


def test_label_and_field_selector_watch(server, http, namespace):
    url = cms_url(server, namespace)
    rv = list_rv(http, url)
    base = {"watch": "1", "resourceVersion": rv, "timeoutSeconds": "60"}
    with RawWatch(http, url, {**base, "labelSelector": "app=a"}) as wl, \
            RawWatch(http, url, {**base, "fieldSelector": "metadata.name=b"}) as wf:
        assert wl.status_code == 200 and wf.status_code == 200, (wl.body, wf.body)
        create_cm(http, url, "a", labels={"app": "a"})
        create_cm(http, url, "b", labels={"app": "b"})
        merge_patch(http, url, "a", {"data": {"v": "1"}})
        merge_patch(http, url, "b", {"data": {"v": "1"}})
        merge_patch(http, url, "a", {"metadata": {"labels": {"app": "c"}}})  # leaves the selector
        merge_patch(http, url, "b", {"metadata": {"labels": {"app": "a"}}})  # enters it
        delete(http, url, "b")
        create_cm(http, url, "z", labels={"app": "z"})  # matches neither: marks the end
        evs = wl.wait_count(5, timeout=30)
        time.sleep(1.0)  # anything extra would arrive by now
        assert types_names(wl.events) == [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a"),
                                          ("ADDED", "b"), ("DELETED", "b")], summarize(wl.events)
        # leaving the selector shows the last matching state
        assert evs[2]["object"]["metadata"]["labels"] == {"app": "a"}, evs[2]
        wf.wait_count(4, timeout=30)
        time.sleep(0.5)
        assert types_names(wf.events) == [("ADDED", "b"), ("MODIFIED", "b"), ("MODIFIED", "b"),
                                          ("DELETED", "b")], summarize(wf.events)


# ----------------------------------------------------------------------------- rv=0 / unset


@pytest.mark.parametrize("rv_param", ["0", None], ids=["rv0", "rv-unset"])
def test_watch_without_rv_starts_with_synthetic_added(server, http, namespace, rv_param):
    url = cms_url(server, namespace)
    there = names_in(http, url)
    for n in ("e1", "e2", "e3"):
        create_cm(http, url, n)
    merge_patch(http, url, "e2", {"data": {"v": "9"}})
    params = {"watch": "1", "timeoutSeconds": "60"}
    if rv_param is not None:
        params["resourceVersion"] = rv_param
    initial = len(there) + 3
    with RawWatch(http, url, params) as w:
        assert w.status_code == 200, w.body
        evs = w.wait_count(initial, timeout=30)
        first = [e for e in evs[:initial]]
        assert {e["type"] for e in first} == {"ADDED"}, summarize(evs)
        assert sorted(ev_name(e) for e in first) == sorted(there | {"e1", "e2", "e3"}), summarize(evs)
        e2 = [e for e in first if ev_name(e) == "e2"][0]
        assert e2["object"]["data"] == {"v": "9"}  # current state, not history
        create_cm(http, url, "e4")
        evs = w.wait_count(initial + 1, timeout=30)
        assert types_names(evs[initial:]) == [("ADDED", "e4")], summarize(evs)


# ----------------------------------------------------------------------------- compaction


@pytest.mark.timeout(420)
def test_compacted_resource_version_gets_410_expired(start_server):
    srv = start_server("caravel-small-cache", extra_args=["--watch-cache-size", "1000"])
    url = f"{srv.url}/api/v1/namespaces/default/configmaps"
    with srv.session() as s:
        first = create_cm(s, url, "compact")["metadata"]["resourceVersion"]

    writes = 1200
    workers = 4

    def worker(k):
        with srv.session() as s:
            last = None
            for i in range(k, writes, workers):
                r = s.patch(f"{url}/compact", json={"data": {f"k{i % 50}": str(i)}}, timeout=30,
                            headers={"Content-Type": "application/merge-patch+json"})
                assert r.status_code == 200, r.text
                last = r.json()["metadata"]["resourceVersion"]
            return last

    with ThreadPoolExecutor(workers) as pool:
        lasts = list(pool.map(worker, range(workers)))

    with srv.session() as s:
        with RawWatch(s, url, {"watch": "1", "resourceVersion": first, "timeoutSeconds": "30"}) as w:
            assert w.status_code == 200, f"expected 200 + ERROR event, got {w.status_code}: {w.body}"
            w.wait_count(1, timeout=30)
            assert w.wait_closed(30), "stream not closed after the ERROR event"
            assert [e["type"] for e in w.events] == ["ERROR"], summarize(w.events)
            st = w.events[0]["object"]
            assert st["kind"] == "Status" and st["apiVersion"] == "v1", st
            assert st["code"] == 410 and st["reason"] == "Expired", st
            assert st.get("status") == "Failure" and st.get("message"), st

        # a recent resourceVersion is still fine
        recent = list_rv(s, url)
        with RawWatch(s, url, {"watch": "1", "resourceVersion": recent, "timeoutSeconds": "2"}) as w:
            assert w.status_code == 200
            assert w.wait_closed(30)
            assert not [e for e in w.events if e["type"] == "ERROR"], summarize(w.events)
    assert all(lasts)

    api = srv.api_client()
    try:
        with pytest.raises(ApiException) as ei:
            for _ in watch.Watch().stream(client.CoreV1Api(api).list_namespaced_config_map, "default",
                                          resource_version=first, timeout_seconds=10,
                                          _request_timeout=60):
                pass
        assert ei.value.status == 410
    finally:
        api.close()


# ----------------------------------------------------------------------------- WatchList


def test_watchlist_initial_events_then_bookmark(server, http, namespace):
    url = cms_url(server, namespace)
    there = names_in(http, url)
    made = [create_cm(http, url, n) for n in ("w1", "w2", "w3")]
    max_rv = max((rv_int(m["metadata"]["resourceVersion"]) or 0) for m in made)
    params = {"watch": "1", "sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan",
              "allowWatchBookmarks": "true", "timeoutSeconds": "60"}
    with RawWatch(http, url, params) as w:
        assert w.status_code == 200, w.body

        def has_end(evs):
            return any(e["type"] == "BOOKMARK" and (e["object"]["metadata"].get("annotations") or {})
                       .get("k8s.io/initial-events-end") == "true" for e in evs)

        evs = w.wait_for(has_end, timeout=30, what="the initial-events-end BOOKMARK")
        end = next(i for i, e in enumerate(evs) if e["type"] == "BOOKMARK" and
                   (e["object"]["metadata"].get("annotations") or {}).get("k8s.io/initial-events-end"))
        initial = [e for e in evs[:end] if e["type"] != "BOOKMARK"]
        assert {e["type"] for e in initial} == {"ADDED"}, summarize(evs)
        assert sorted(ev_name(e) for e in initial) == sorted(there | {"w1", "w2", "w3"}), summarize(evs)
        bm = evs[end]["object"]
        assert bm["kind"] == "ConfigMap", bm
        if max_rv and rv_int(bm["metadata"]["resourceVersion"]) is not None:
            assert int(bm["metadata"]["resourceVersion"]) >= max_rv, bm

        create_cm(http, url, "w4")
        evs = w.wait_for(lambda evs: any(ev_name(e) == "w4" for e in evs), timeout=30, what="w4")
        after = [e for e in evs[end + 1:] if e["type"] != "BOOKMARK"]
        assert types_names(after) == [("ADDED", "w4")], summarize(evs)


def test_watchlist_option_validation(server, http, namespace):
    url = cms_url(server, namespace)
    # (timeoutSeconds keeps this short should the server wrongly start a watch)
    # (kube-apiserver's validateWatchOptions: sendInitialEvents needs resourceVersionMatch=
    # NotOlderThan, and resourceVersionMatch on a watch needs sendInitialEvents)
    for params in ({"sendInitialEvents": "true", "allowWatchBookmarks": "true"},
                   {"resourceVersionMatch": "NotOlderThan", "allowWatchBookmarks": "true"},
                   {"sendInitialEvents": "true", "resourceVersionMatch": "Exact",
                    "allowWatchBookmarks": "true"}):
        with RawWatch(http, url, {"watch": "1", "timeoutSeconds": "3", **params}) as w:
            assert w.status_code == 422, f"{params}: {w.status_code} {summarize(w.events)}"
            assert_status_body(w.body, 422, "Invalid")


# ----------------------------------------------------------------------------- kubectl -w


def test_kubectl_get_watch(server, namespace, kubectl):
    kubectl("create", "configmap", "before", "-n", namespace, "--from-literal=a=1")
    events_proc = server.kubectl_popen("get", "cm", "-n", namespace, "-w", "--output-watch-events")
    plain_proc = server.kubectl_popen("get", "cm", "-n", namespace, "--watch")
    try:
        ev_out = LineReader(events_proc.stdout)
        plain_out = LineReader(plain_proc.stdout)
        row = re.compile

        ev_out.wait_for(lambda ls: any(row(r"^ADDED\s+before\s+1\s").match(x) for x in ls),
                        timeout=30, what="ADDED before")
        plain_out.wait_for(lambda ls: any(row(r"^before\s+1\s").match(x) for x in ls),
                           timeout=30, what="before row")
        assert re.match(r"^EVENT\s+NAME\s+DATA\s+AGE$", ev_out.lines[0]), ev_out.lines
        assert re.match(r"^NAME\s+DATA\s+AGE$", plain_out.lines[0]), plain_out.lines

        kubectl("create", "configmap", "w1", "-n", namespace, "--from-literal=a=1")
        kubectl("patch", "cm", "w1", "-n", namespace, "--type=merge", "-p", '{"data":{"b":"2"}}')
        kubectl("delete", "cm", "w1", "-n", namespace)

        lines = ev_out.wait_for(lambda ls: any(row(r"^DELETED\s+w1\s").match(x) for x in ls),
                                timeout=30, what="DELETED w1")
        w1 = [x.split()[0] + " " + x.split()[2] for x in lines if re.match(r"^\S+\s+w1\s", x)]
        assert w1 == ["ADDED 1", "MODIFIED 2", "DELETED 2"], lines
        lines = plain_out.wait_for(lambda ls: len([x for x in ls if x.startswith("w1 ")]) >= 3,
                                   timeout=30, what="three w1 rows")
        assert [x.split()[1] for x in lines if x.startswith("w1 ")] == ["1", "2", "2"], lines
        for p in (events_proc, plain_proc):
            assert p.poll() is None, f"kubectl -w exited early: {p.stderr.read()}"
    finally:
        for p in (events_proc, plain_proc):
            p.terminate()
            try:
                p.wait(10)
            except Exception:  # noqa: BLE001
                p.kill()

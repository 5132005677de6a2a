"""Error handling over raw HTTP: every failure is a JSON `Status` with the right code, and the
server keeps answering afterwards."""

from __future__ import annotations

import http.client as http_client
import json
import ssl
from urllib.parse import urlparse

import pytest
import requests

from e2eutil import assert_status_body

CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ok"}, "data": {"a": "1"}}


def cms(server, ns):
    return f"{server.url}/api/v1/namespaces/{ns}/configmaps"


def check(r: requests.Response, code: int, reason: str | None = None) -> dict:
    assert r.status_code == code, f"expected {code}, got {r.status_code}: {r.text[:500]}"
    ctype = r.headers.get("Content-Type", "")
    assert ctype.startswith("application/json"), f"Content-Type {ctype!r}: {r.text[:300]}"
    return assert_status_body(r.text, code, reason)


def test_bad_json_body_is_400(server, http, namespace):
    for body in (b"{not json", b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": ', b"[1, 2]", b""):
        r = http.post(cms(server, namespace), data=body, timeout=30,
                      headers={"Content-Type": "application/json"})
        check(r, 400, "BadRequest")
    r = http.put(f"{cms(server, namespace)}/x", data=b"\x00\xff garbage", timeout=30,
                 headers={"Content-Type": "application/json"})
    check(r, 400, "BadRequest")


def test_body_over_3mib_is_413(server, http, namespace):
    big = dict(CM, metadata={"name": "big"}, data={"blob": "x" * (3 * 1024 * 1024 + 64 * 1024)})
    payload = json.dumps(big).encode()
    try:
        r = http.post(cms(server, namespace), data=payload, timeout=60,
                      headers={"Content-Type": "application/json"})
    except requests.ConnectionError as e:
        pytest.fail(f"connection dropped instead of a 413 answer: {e!r}")
    check(r, 413, "RequestEntityTooLarge")
    assert http.get(f"{cms(server, namespace)}/big", timeout=30).status_code == 404


def test_unknown_paths_are_404_status(server, http, namespace):
    for path in ("/api/v1/namespaces/default/widgets", "/api/v1/widgets",
                 "/apis/nope.example.com/v1/things", "/apis/apps/v9/deployments",
                 f"/api/v1/namespaces/{namespace}/configmaps/x/nosuchsub"):
        r = http.get(server.url + path, timeout=30)
        check(r, 404, "NotFound")
    r = http.get(server.url + "/totally/unknown", timeout=30)
    assert r.status_code == 404, r.text


def test_wrong_kind_or_version_in_body_is_400(server, http, namespace):
    wrong_kind = dict(CM, kind="Secret")
    check(http.post(cms(server, namespace), json=wrong_kind, timeout=30), 400, "BadRequest")
    wrong_group = dict(CM, apiVersion="apps/v1", kind="Deployment")
    check(http.post(cms(server, namespace), json=wrong_group, timeout=30), 400, "BadRequest")
    no_kind = {"apiVersion": "v1", "metadata": {"name": "nokind"}}
    r = http.post(cms(server, namespace), json=no_kind, timeout=30)
    # kube-apiserver defaults a missing kind/apiVersion from the URL
    assert r.status_code == 201, r.text


def test_unsupported_patch_type_is_415(server, http, namespace):
    assert http.post(cms(server, namespace), json=CM, timeout=30).status_code == 201
    for ctype in ("text/plain", "application/xml", "application/json"):
        r = http.patch(f"{cms(server, namespace)}/ok", data=b'{"data":{"a":"2"}}', timeout=30,
                       headers={"Content-Type": ctype})
        check(r, 415, "UnsupportedMediaType")
    r = http.patch(f"{cms(server, namespace)}/ok", data=b'{"data":{"a":"2"}}', timeout=30,
                   headers={"Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200 and r.json()["data"]["a"] == "2", r.text
    # a JSON patch that is not a list is a 400, not a 500
    r = http.patch(f"{cms(server, namespace)}/ok", data=b'{"op":"add"}', timeout=30,
                   headers={"Content-Type": "application/json-patch+json"})
    assert r.status_code in (400, 422), r.text
    assert_status_body(r.text, r.status_code)


@pytest.mark.parametrize("params", [
    {"limit": "abc"},
    {"limit": "1.5"},
    {"timeoutSeconds": "soon"},
    {"watch": "maybe"},
    {"labelSelector": "app in (a"},
    {"labelSelector": "=x"},
    {"fieldSelector": "metadata.name"},
    {"fieldSelector": "no.such.field=1"},
    {"allowWatchBookmarks": "sure"},
], ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_garbage_query_values_are_400(server, http, namespace, params):
    r = http.get(cms(server, namespace), params=params, timeout=30)
    check(r, 400, "BadRequest")


def test_garbage_delete_options_are_400(server, http, namespace):
    assert http.post(cms(server, namespace), json=CM, timeout=30).status_code == 201
    r = http.delete(f"{cms(server, namespace)}/ok", params={"gracePeriodSeconds": "x"}, timeout=30)
    check(r, 400, "BadRequest")
    r = http.delete(f"{cms(server, namespace)}/ok", data=b"{nope", timeout=30,
                    headers={"Content-Type": "application/json"})
    check(r, 400, "BadRequest")
    assert http.get(f"{cms(server, namespace)}/ok", timeout=30).status_code == 200


def test_strict_field_validation(server, http, namespace):
    body = dict(CM, metadata={"name": "strict"}, spec={"bogus": 1})
    r = http.post(cms(server, namespace), json=body, params={"fieldValidation": "Strict"}, timeout=30)
    b = check(r, 400, "BadRequest")
    assert "unknown field" in b["message"] and "spec" in b["message"], b

    dup = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup2"}}'
    r = http.post(cms(server, namespace), data=dup, params={"fieldValidation": "Strict"}, timeout=30,
                  headers={"Content-Type": "application/json"})
    b = check(r, 400, "BadRequest")
    assert "duplicate field" in b["message"], b

    r = http.post(cms(server, namespace), json=body, params={"fieldValidation": "Warn"}, timeout=30)
    assert r.status_code == 201, r.text
    warning = r.headers.get("Warning", "")
    assert warning.startswith("299") and "unknown field" in warning, r.headers

    r = http.post(cms(server, namespace), json=dict(body, metadata={"name": "ignored"}),
                  params={"fieldValidation": "Ignore"}, timeout=30)
    assert r.status_code == 201 and "Warning" not in r.headers, r.headers

    # an unknown directive is an invalid CreateOptions
    r = http.post(cms(server, namespace), json=body, params={"fieldValidation": "Loose"}, timeout=30)
    check(r, 422, "Invalid")


def test_invalid_object_is_422_with_causes(server, http, namespace):
    r = http.post(cms(server, namespace), json=dict(CM, metadata={"name": "Not_Valid"}), timeout=30)
    b = check(r, 422, "Invalid")
    assert b["details"]["name"] == "Not_Valid" and b["details"]["kind"] == "ConfigMap", b
    causes = b["details"].get("causes") or []
    assert any(c.get("field") == "metadata.name" and c.get("reason") == "FieldValueInvalid"
               for c in causes), b
    assert b["message"].startswith('ConfigMap "Not_Valid" is invalid: metadata.name: Invalid value'), b


def test_method_not_allowed_is_405(server, http, namespace):
    r = http.put(cms(server, namespace), json=CM, timeout=30)
    assert r.status_code == 405, r.text
    r = http.post(f"{cms(server, namespace)}/ok", json=CM, timeout=30)
    assert r.status_code == 405, r.text


def test_server_still_ready_after_errors(server, http, namespace):
    # a final burst of bad requests, then the server must still work
    for _ in range(20):
        http.post(cms(server, namespace), data=b"{", timeout=30, headers={"Content-Type": "application/json"})
        http.get(server.url + "/api/v1/nope", timeout=30)
    r = http.get(server.url + "/readyz", timeout=30)
    assert r.status_code == 200, r.text
    assert http.post(cms(server, namespace), json=CM, timeout=30).status_code == 201


def test_bad_percent_escape_is_400(server, http, namespace):
    # Go's url.ParseQuery refuses a broken %XX escape; the request must not be read as if it
    # had no such parameter.
    # requests and urllib3 would re-quote a stray %: http.client sends the target as written.
    cc = server.client_config
    u = urlparse(server.url)
    ctx = ssl.create_default_context(cafile=cc.verify if isinstance(cc.verify, str) else None)
    if cc.cert:
        ctx.load_cert_chain(*cc.cert)
    for query in ("labelSelector=%zz", "limit=1%", "a%G1=b"):
        conn = http_client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30) if u.scheme == "https" \
            else http_client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            conn.request("GET", f"/api/v1/namespaces/{namespace}/configmaps?{query}", headers=dict(cc.headers))
            resp = conn.getresponse()
            text = resp.read().decode()
        finally:
            conn.close()
        assert resp.status == 400, text
        body = assert_status_body(text, 400, "BadRequest")
        assert "invalid URL escape" in body["message"], text


@pytest.mark.parametrize("match", ["Exact", "NotOlderThan", None])
def test_non_numeric_resource_version_on_list_is_400(server, http, namespace, match):
    params = {"resourceVersion": "abc"}
    if match:
        params["resourceVersionMatch"] = match
    r = http.get(cms(server, namespace), params=params, timeout=30)
    body = check(r, 400, "BadRequest")
    assert "invalid resource version" in body["message"], r.text


def test_create_clears_a_non_numeric_or_zero_resource_version(server, http, namespace):
    # Like kube-apiserver's storage: only a non-zero number is refused; anything else is cleared.
    for i, rv in enumerate(("v1", "0", "-1", "")):
        body = dict(CM, metadata={"name": f"rv{i}", "resourceVersion": rv})
        r = http.post(cms(server, namespace), json=body, timeout=30)
        assert r.status_code == 201, r.text
        assert r.json()["metadata"]["resourceVersion"].isdigit(), r.text
        assert r.json()["metadata"]["resourceVersion"] != "0", r.text
    r = http.post(cms(server, namespace), json=dict(CM, metadata={"name": "rvn", "resourceVersion": "5"}), timeout=30)
    # kube-apiserver's storage returns a plain error here: a 500 Status with no reason.
    assert r.status_code == 500, r.text
    body = r.json()
    assert body["kind"] == "Status" and body["code"] == 500 and "reason" not in body, r.text
    assert body["message"] == "resourceVersion should not be set on objects to be created", r.text
    assert http.get(f"{cms(server, namespace)}/rvn", timeout=30).status_code == 404

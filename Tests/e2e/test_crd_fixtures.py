"""Real operators' CustomResourceDefinitions (Istio, Argo CD, External Secrets, unmodified in
fixtures/crds/) with the real kubectl: each is applied server-side and established, realistic
objects of each kind are created, printed with the definition's columns, explained, validated
against the upstream schemas with kube-apiserver's messages, pruned, listed, watched and
deleted, and deleting a definition deletes its objects. The External Secrets definition's
selectableFields serve field selectors; foreground deletion of a custom resource waits for its
dependents (a ConfigMap and another custom resource) with the controllers running."""

from __future__ import annotations

import json
import pathlib

import pytest

from e2eutil import RawWatch, parse_table, serve, unique, wait_for

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "crds"
DEFINITIONS = {
    "istio-virtualservices.yaml": "virtualservices.networking.istio.io",
    "istio-destinationrules.yaml": "destinationrules.networking.istio.io",
    "argocd-application-crd.yaml": "applications.argoproj.io",
    "external-secrets.io_secretstores.yaml": "secretstores.external-secrets.io",
    "external-secrets.io_externalsecrets.yaml": "externalsecrets.external-secrets.io",
}

CANARY = {
    "apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "reviews"},
    "spec": {
        "hosts": ["reviews"],
        "http": [{
            "name": "canary",
            "match": [{"headers": {"end-user": {"exact": "jason"}}}],
            "route": [{"destination": {"host": "reviews", "subset": "v2"}}],
        }, {
            "name": "weighted",
            "route": [
                {"destination": {"host": "reviews", "subset": "v1", "port": {"number": 9080}}, "weight": 90},
                {"destination": {"host": "reviews", "subset": "v2", "port": {"number": 9080}}, "weight": 10},
            ],
            "retries": {"attempts": 3, "perTryTimeout": "2s"},
            "timeout": "10s",
        }],
    },
}

SUBSETS = {
    "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "reviews"},
    "spec": {
        "host": "reviews",
        "trafficPolicy": {"loadBalancer": {"simple": "LEAST_REQUEST"},
                          "connectionPool": {"tcp": {"maxConnections": 100}}},
        "subsets": [
            {"name": "v1", "labels": {"version": "v1"}},
            {"name": "v2", "labels": {"version": "v2"},
             "trafficPolicy": {"loadBalancer": {"simple": "ROUND_ROBIN"}}},
        ],
    },
}

APPLICATION = {
    "apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "guestbook"},
    "spec": {
        "project": "default",
        "source": {"repoURL": "https://github.com/argoproj/argocd-example-apps.git",
                   "targetRevision": "HEAD", "path": "guestbook"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "guestbook"},
        "syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"]},
    },
}

STORE = {
    "apiVersion": "external-secrets.io/v1", "kind": "SecretStore", "metadata": {"name": "fake-store"},
    "spec": {"provider": {"fake": {"data": [{"key": "/db/password", "value": "s3cr3t"}]}}},
}

EXTERNAL_SECRET = {
    "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "db"},
    "spec": {
        "secretStoreRef": {"name": "fake-store", "kind": "SecretStore"},
        "target": {"name": "db-credentials"},
        "data": [{"secretKey": "password", "remoteRef": {"key": "/db/password"}}],
    },
}


def table(text: str) -> tuple[list[str], list[list[str]]]:
    """kubectl's column output as its header and rows of cells."""
    rows = parse_table(text)
    header = [ln for ln in text.splitlines() if ln.strip()][0]
    names = [n for n in header.split("   ") if n.strip()]
    return [n.strip() for n in names], [[r[n.strip()] for n in names] for r in rows]


def with_spec(obj: dict, name: str, **changes) -> str:
    """`obj` renamed, with spec fields replaced (a value of None removes the field)."""
    o = json.loads(json.dumps(obj))
    o["metadata"]["name"] = name
    for key, value in changes.items():
        if value is None:
            o["spec"].pop(key, None)
        else:
            o["spec"][key] = value
    return json.dumps(o)


@pytest.fixture(scope="module")
def definitions(server):
    try:
        for file, name in DEFINITIONS.items():
            # Too big for the last-applied annotation: server-side apply, as the projects advise.
            server.kubectl("apply", "--server-side", "-f", str(FIXTURES / file))
        for name in DEFINITIONS.values():
            server.kubectl("wait", "--for=condition=Established", f"crd/{name}", "--timeout=60s")
        yield
    finally:
        for name in DEFINITIONS.values():
            server.kubectl("delete", f"crd/{name}", "--ignore-not-found", "--timeout=90s", check=False)


@pytest.fixture(scope="module")
def objects(server, definitions):
    ns = unique("operators", 4)
    server.kubectl("create", "namespace", ns)
    for obj in (CANARY, SUBSETS, APPLICATION, STORE, EXTERNAL_SECRET):
        server.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(obj))
    try:
        yield ns
    finally:
        server.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false", check=False)


def test_definitions_are_established_with_their_names(server, definitions):
    for name in DEFINITIONS.values():
        got = json.loads(server.kubectl("get", "crd", name, "-o", "json").stdout)
        conditions = {c["type"]: c["status"] for c in got["status"]["conditions"]}
        assert conditions.get("Established") == "True", (name, got["status"])
    resources = server.kubectl("api-resources", "--api-group", "networking.istio.io").stdout
    assert "virtualservices" in resources and "vs" in resources and "dr" in resources, resources


def test_canary_routes_are_stored_as_sent(server, objects):
    vs = json.loads(server.kubectl("get", "vs", "reviews", "-n", objects, "-o", "json").stdout)
    weighted = vs["spec"]["http"][1]["route"]
    assert [r["weight"] for r in weighted] == [90, 10]
    assert [r["destination"]["subset"] for r in weighted] == ["v1", "v2"]
    assert vs["spec"]["http"][0]["match"][0]["headers"]["end-user"] == {"exact": "jason"}
    dr = json.loads(server.kubectl("get", "dr", "reviews", "-n", objects, "-o", "json").stdout)
    assert [s["name"] for s in dr["spec"]["subsets"]] == ["v1", "v2"]
    # Served in the older versions too (None conversion).
    old = json.loads(server.kubectl("get", "virtualservices.v1beta1.networking.istio.io", "reviews",
                                    "-n", objects, "-o", "json").stdout)
    assert old["apiVersion"] == "networking.istio.io/v1beta1" and old["spec"] == vs["spec"]


def test_external_secret_gets_the_schema_defaults(server, objects):
    es = json.loads(server.kubectl("get", "externalsecret", "db", "-n", objects, "-o", "json").stdout)
    assert es["spec"]["refreshInterval"] == "1h0m0s"
    assert es["spec"]["target"]["creationPolicy"] == "Owner"
    assert es["spec"]["target"]["deletionPolicy"] == "Retain"


def test_printer_columns_as_kubectl_shows_them(server, objects):
    header, rows = table(server.kubectl("get", "virtualservices", "-n", objects).stdout)
    assert header == ["NAME", "GATEWAYS", "HOSTS", "AGE"], header
    # No gateways: an empty cell; the hosts list as kube-apiserver renders a list, in JSON.
    assert rows[0][:3] == ["reviews", "", '["reviews"]'], rows

    header, rows = table(server.kubectl("get", "destinationrules", "-n", objects).stdout)
    assert header == ["NAME", "HOST", "AGE"] and rows[0][:2] == ["reviews", "reviews"], (header, rows)

    # Status columns of an Application appear once a controller reports; priority-10 columns
    # only with -o wide.
    server.kubectl("patch", "application", "guestbook", "-n", objects, "--type=merge", "-p",
                   json.dumps({"status": {"sync": {"status": "Synced", "revision": "abc123"},
                                          "health": {"status": "Healthy"}}}))
    header, rows = table(server.kubectl("get", "applications", "-n", objects).stdout)
    assert header == ["NAME", "SYNC STATUS", "HEALTH STATUS"], header
    assert rows[0] == ["guestbook", "Synced", "Healthy"], rows
    header, rows = table(server.kubectl("get", "applications", "-n", objects, "-o", "wide").stdout)
    assert header == ["NAME", "SYNC STATUS", "HEALTH STATUS", "REVISION", "PROJECT"], header
    assert rows[0] == ["guestbook", "Synced", "Healthy", "abc123", "default"], rows

    # Filter expressions in column paths: .status.conditions[?(@.type=="Ready")].reason
    server.kubectl("patch", "externalsecret", "db", "-n", objects, "--subresource=status", "--type=merge", "-p",
                   json.dumps({"status": {"conditions": [
                       {"type": "Ready", "status": "True", "reason": "SecretSynced", "message": "ok"}]}}))
    header, rows = table(server.kubectl("get", "externalsecrets", "-n", objects).stdout)
    assert header == ["NAME", "STORETYPE", "STORE", "REFRESH INTERVAL", "STATUS", "READY", "LAST SYNC"], header
    assert rows[0][:6] == ["db", "SecretStore", "fake-store", "1h0m0s", "SecretSynced", "True"], rows
    header, rows = table(server.kubectl("get", "secretstores", "-n", objects).stdout)
    assert header == ["NAME", "AGE", "STATUS", "CAPABILITIES", "READY"], header


def test_explain_a_nested_field(server, definitions):
    out = server.kubectl("explain", "virtualservices.spec.http.route.weight", "--api-version=networking.istio.io/v1").stdout
    assert "weight" in out and "integer" in out, out
    out = server.kubectl("explain", "applications.spec.syncPolicy.automated").stdout
    assert "selfHeal" in out and "prune" in out, out


@pytest.mark.parametrize("obj,message", [
    (with_spec(CANARY, "bad-weight", http=[{"route": [{"destination": {"host": "reviews"}, "weight": "ninety"}]}]),
     'spec.http[0].route[0].weight: Invalid value: "string": spec.http[0].route[0].weight in body must be of type integer: "string"'),
    (with_spec(SUBSETS, "bad-lb", trafficPolicy={"loadBalancer": {"simple": "FASTEST"}}),
     'spec.trafficPolicy.loadBalancer.simple: Unsupported value: "FASTEST": supported values: '
     '"UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST"'),
    (with_spec(APPLICATION, "no-project", project=None), "spec.project: Required value"),
    (with_spec(EXTERNAL_SECRET, "bad-kind", secretStoreRef={"name": "fake-store", "kind": "Vault"}),
     'spec.secretStoreRef.kind: Unsupported value: "Vault": supported values: "SecretStore", "ClusterSecretStore"'),
    (with_spec(EXTERNAL_SECRET, "no-remote-ref", data=[{"secretKey": "password"}]), "spec.data[0].remoteRef: Required value"),
    (with_spec(STORE, "two-providers", provider={"fake": {"data": []}, "kubernetes": {"auth": {"serviceAccount": {"name": "x"}}}}),
     "spec.provider: Too many: 2: must have at most 1 items"),
])
def test_schema_violations_are_refused_with_the_field(server, objects, obj, message):
    r = server.kubectl("create", "-n", objects, "-f", "-", input=obj, check=False)
    assert r.returncode != 0, r.stdout
    assert "is invalid" in r.stderr and message in r.stderr, r.stderr
    kind = json.loads(obj)["kind"].lower()
    name = json.loads(obj)["metadata"]["name"]
    assert server.kubectl("get", kind, name, "-n", objects, check=False).returncode != 0


def test_unprocessable_status_code_is_422(server, objects):
    with server.session() as http:
        url = f"{server.url}/apis/argoproj.io/v1alpha1/namespaces/{objects}/applications"
        r = http.post(url, data=with_spec(APPLICATION, "raw-bad", project=None),
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    status = r.json()
    assert status["reason"] == "Invalid" and status["details"]["causes"][0]["field"] == "spec.project", status


def test_unknown_fields_are_pruned_or_refused_when_strict(server, objects):
    obj = json.loads(with_spec(APPLICATION, "pruned"))
    obj["spec"]["bogus"] = True
    obj["spec"]["source"]["alsoBogus"] = "x"
    r = server.kubectl("apply", "-n", objects, "--validate=strict", "-f", "-", input=json.dumps(obj), check=False)
    assert r.returncode != 0 and 'unknown field "spec.bogus"' in r.stderr, r.stderr
    server.kubectl("apply", "-n", objects, "--validate=false", "-f", "-", input=json.dumps(obj))
    got = json.loads(server.kubectl("get", "application", "pruned", "-n", objects, "-o", "json").stdout)
    assert "bogus" not in got["spec"] and "alsoBogus" not in got["spec"]["source"], got["spec"]
    assert got["spec"]["source"]["path"] == "guestbook"


def test_list_watch_and_delete(server, objects):
    with server.session() as http:
        url = f"{server.url}/apis/networking.istio.io/v1/namespaces/{objects}/virtualservices"
        listed = http.get(url).json()
        assert [i["metadata"]["name"] for i in listed["items"]] == ["reviews"]
        with RawWatch(http, url, {"watch": "true", "resourceVersion": listed["metadata"]["resourceVersion"],
                                  "timeoutSeconds": "60"}) as w:
            server.kubectl("apply", "-n", objects, "-f", "-", input=with_spec(CANARY, "ratings", hosts=["ratings"]))
            server.kubectl("delete", "vs", "ratings", "-n", objects)
            events = w.wait_for(lambda evs: [e["type"] for e in evs] == ["ADDED", "DELETED"], timeout=30)
            assert all(e["object"]["metadata"]["name"] == "ratings" for e in events), events
    assert server.kubectl("get", "vs", "ratings", "-n", objects, check=False).returncode != 0


def test_deleting_a_definition_deletes_its_objects(server, objects):
    server.kubectl("apply", "-n", objects, "-f", "-", input=with_spec(SUBSETS, "ratings", host="ratings"))
    server.kubectl("delete", "crd", "destinationrules.networking.istio.io", "--timeout=90s")
    with server.session() as http:
        wait_for(lambda: http.get(f"{server.url}/apis/networking.istio.io/v1/namespaces/{objects}/destinationrules")
                 .status_code == 404, timeout=30, what="the DestinationRule kind to be gone")
    # Applied again, the kind comes back empty.
    server.kubectl("apply", "--server-side", "-f", str(FIXTURES / "istio-destinationrules.yaml"))
    server.kubectl("wait", "--for=condition=Established", "crd/destinationrules.networking.istio.io", "--timeout=60s")
    wait_for(lambda: server.kubectl("get", "dr", "-n", objects, "-o", "name", check=False).stdout.strip() == "",
             timeout=30, what="an empty DestinationRule list")


def test_selectable_fields_filter_list_and_watch(server, objects):
    server.kubectl("apply", "-n", objects, "-f", "-",
                   input=with_spec(EXTERNAL_SECRET, "api", secretStoreRef={"name": "other-store", "kind": "SecretStore"}))
    got = server.kubectl("get", "externalsecrets", "-n", objects, "-o", "name",
                         "--field-selector", "spec.secretStoreRef.name=fake-store").stdout.split()
    assert got == ["externalsecret.external-secrets.io/db"], got
    got = server.kubectl("get", "externalsecrets", "-n", objects, "-o", "name",
                         "--field-selector", "spec.secretStoreRef.name!=fake-store,spec.refreshInterval=1h0m0s").stdout.split()
    assert got == ["externalsecret.external-secrets.io/api"], got
    r = server.kubectl("get", "externalsecrets", "-n", objects, "--field-selector", "spec.data=x", check=False)
    assert r.returncode != 0 and "BadRequest" in r.stderr and "field label not supported: spec.data" in r.stderr, r.stderr
    with server.session() as http:
        url = f"{server.url}/apis/external-secrets.io/v1/namespaces/{objects}/externalsecrets"
        with RawWatch(http, url, {"watch": "true", "fieldSelector": "spec.target.name=cache-credentials",
                                  "timeoutSeconds": "60"}) as w:
            server.kubectl("apply", "-n", objects, "-f", "-",
                           input=with_spec(EXTERNAL_SECRET, "cache", target={"name": "cache-credentials"}))
            server.kubectl("apply", "-n", objects, "-f", "-",
                           input=with_spec(EXTERNAL_SECRET, "other", target={"name": "other-credentials"}))
            # A change after the non-matching one: in order, it shows the other never came.
            server.kubectl("label", "externalsecret", "cache", "-n", objects, "tier=cache")
            events = w.wait_for(lambda evs: len(evs) >= 2, timeout=30)
            assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "cache"), ("MODIFIED", "cache")], events
        r = http.get(url, params={"fieldSelector": "spec.bogus=1"})
        assert r.status_code == 400 and r.json()["reason"] == "BadRequest", r.text


def test_selectable_fields_are_validated(server):
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gadgets.selectable.example.com"},
        "spec": {"group": "selectable.example.com", "scope": "Namespaced",
                 "names": {"plural": "gadgets", "kind": "Gadget"},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "selectableFields": [{"jsonPath": ".spec.color"}, {"jsonPath": ".spec.sizes"},
                                                    {"jsonPath": ".spec.color"}, {"jsonPath": ".spec.missing"}],
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {
                                   "type": "object", "properties": {"color": {"type": "string"},
                                                                    "sizes": {"type": "array", "items": {"type": "integer"}}}}}}}}]},
    }
    r = server.kubectl("create", "-f", "-", input=json.dumps(crd), check=False)
    assert r.returncode != 0 and "is invalid" in r.stderr, r.stderr
    assert 'spec.versions[0].selectableFields[1].jsonPath: Invalid value: ".spec.sizes": must point to a field of type string, boolean or integer' in r.stderr, r.stderr
    assert 'spec.versions[0].selectableFields[2].jsonPath: Duplicate value: ".spec.color"' in r.stderr, r.stderr
    assert 'spec.versions[0].selectableFields[3].jsonPath: Invalid value: ".spec.missing": is an invalid path' in r.stderr, r.stderr
    assert server.kubectl("get", "crd", "gadgets.selectable.example.com", check=False).returncode != 0


@pytest.fixture(scope="module")
def controlled(tmp_path_factory):
    with serve(tmp_path_factory, "crd-fixtures-gc", controllers=True) as s:
        for file in ("external-secrets.io_secretstores.yaml", "external-secrets.io_externalsecrets.yaml"):
            s.kubectl("apply", "--server-side", "-f", str(FIXTURES / file))
            s.kubectl("wait", "--for=condition=Established", f"crd/{DEFINITIONS[file]}", "--timeout=60s")
        yield s


def test_foreground_deletion_of_a_custom_resource_waits_for_its_dependents(controlled):
    k = controlled.kubectl
    k("apply", "-f", "-", input=json.dumps(STORE))
    store = json.loads(k("get", "secretstore", "fake-store", "-o", "json").stdout)
    ref = {"apiVersion": "external-secrets.io/v1", "kind": "SecretStore", "name": "fake-store",
           "uid": store["metadata"]["uid"], "blockOwnerDeletion": True}
    # The ConfigMap's own finalizer keeps it terminating until the test lets it go.
    k("apply", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "store-config", "ownerReferences": [ref], "finalizers": ["example.com/hold"]},
        "data": {"region": "eu"}}))
    dependent = json.loads(with_spec(EXTERNAL_SECRET, "owned"))
    dependent["metadata"]["ownerReferences"] = [ref]
    k("apply", "-f", "-", input=json.dumps(dependent))

    k("delete", "secretstore", "fake-store", "--cascade=foreground", "--wait=false")

    def get(kind, name):
        r = k("get", kind, name, "-o", "json", check=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    wait_for(lambda: get("externalsecret", "owned") is None, timeout=60, what="the dependent ExternalSecret to be deleted")
    wait_for(lambda: (get("configmap", "store-config") or {}).get("metadata", {}).get("deletionTimestamp"),
             timeout=60, what="the dependent ConfigMap to be terminating")
    owner = get("secretstore", "fake-store")
    assert owner is not None and owner["metadata"]["finalizers"] == ["foregroundDeletion"], owner
    assert owner["metadata"]["deletionTimestamp"]

    k("patch", "configmap", "store-config", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    wait_for(lambda: get("secretstore", "fake-store") is None, timeout=60, what="the SecretStore to go after its dependents")
    assert get("configmap", "store-config") is None

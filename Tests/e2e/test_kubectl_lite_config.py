"""kubectl-lite's kubeconfig handling, discovery verbs and startup paths against the real kubectl."""

from __future__ import annotations

import shutil

import pytest
import yaml

from e2eutil import KUBECTL
from liteutil import LITE, Pair, clean_env, run


@pytest.fixture(scope="module")
def pair(server):
    return Pair(server)


def second_config(server, path, namespace="other"):
    """A second kubeconfig: a new context on the same cluster and user, and a shadowing cluster
    entry that must lose to the first file's."""
    first = yaml.safe_load(open(server.kubeconfig))
    cluster = dict(first["clusters"][0])
    doc = {
        "apiVersion": "v1", "kind": "Config", "current-context": "second",
        "clusters": [{"name": cluster["name"], "cluster": {"server": "https://127.0.0.1:1"}},
                     {"name": "extra", "cluster": {"server": "https://127.0.0.1:2", "certificate-authority": "ca.pem"}}],
        "users": [{"name": "token-user", "user": {"token": "abc"}}],
        "contexts": [{"name": "second", "context": {"cluster": cluster["name"], "user": first["users"][0]["name"],
                                                     "namespace": namespace}}],
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def both_env(pair, env, *args):
    k = run([str(KUBECTL), *args], env=env)
    l = run([str(LITE), *args], env=env)
    return k, l


def same_env(pair, env, *args):
    k, l = both_env(pair, env, *args)
    assert (l.returncode, l.stdout, l.stderr) == (k.returncode, k.stdout, k.stderr), f"{args}\n--- kubectl\n{k.stdout}{k.stderr}\n--- lite\n{l.stdout}{l.stderr}"
    return k


def test_merged_kubeconfig_views_match(pair, server, tmp_path):
    first = tmp_path / "first.yaml"
    shutil.copy(server.kubeconfig, first)
    second = second_config(server, tmp_path / "second.yaml")
    env = clean_env({"KUBECONFIG": f"{tmp_path}/missing.yaml:{first}:{second}", "HOME": str(tmp_path)})
    same_env(pair, env, "config", "view")
    same_env(pair, env, "config", "view", "--raw")
    same_env(pair, env, "config", "view", "--minify")
    same_env(pair, env, "config", "view", "-o", "json")
    same_env(pair, env, "config", "view", "--raw", "-o", "json")
    same_env(pair, env, "config", "view", "--minify", "-o", "json")
    same_env(pair, env, "config", "get-contexts")
    same_env(pair, env, "config", "get-contexts", "-o", "name")
    same_env(pair, env, "config", "current-context")
    same_env(pair, env, "config", "use-context", "nosuch")
    # The merged context from the second file reaches the real server (first file's cluster wins).
    same_env(pair, env, "--context", "second", "get", "ns", "default", "-o", "name")


def test_context_edits_land_in_the_same_files(pair, server, tmp_path):
    results = {}
    for tool in ("kubectl", "lite"):
        d = tmp_path / tool
        d.mkdir()
        first = d / "first.yaml"
        shutil.copy(server.kubeconfig, first)
        second = second_config(server, d / "second.yaml")
        env = clean_env({"KUBECONFIG": f"{first}:{second}", "HOME": str(d)})
        binary = str(KUBECTL) if tool == "kubectl" else str(LITE)
        outs = [run([binary, *a], env=env) for a in (
            ["config", "use-context", "second"],
            ["config", "set-context", "--current", "--namespace", "team-x"],
            ["config", "set-context", "brand-new", "--cluster", "extra", "--user", "token-user"],
            ["config", "current-context"],
        )]
        results[tool] = ([(o.returncode, o.stdout, o.stderr) for o in outs],
                         yaml.safe_load(first.read_text()).get("current-context"),
                         {c["name"]: c["context"] for c in yaml.safe_load(second.read_text())["contexts"]},
                         {c["name"]: c["context"] for c in yaml.safe_load(first.read_text())["contexts"]})
    assert results["lite"] == results["kubectl"]


def test_explicit_kubeconfig_errors(pair, tmp_path):
    env = clean_env({"HOME": str(tmp_path)})
    same_env(pair, env, "--kubeconfig", str(tmp_path / "nope"), "get", "pods")
    same_env(pair, env, "config", "current-context")


def test_refused_connection(pair, tmp_path):
    cfg = tmp_path / "refused.yaml"
    cfg.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:1"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c"}}], "users": []}))
    env = clean_env({"HOME": str(tmp_path)})
    k, l = both_env(pair, env, "--kubeconfig", str(cfg), "get", "pods")
    assert k.returncode == l.returncode == 1
    assert l.stderr.strip() == k.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("args", [
    ["api-versions"],
    ["api-resources"],
    ["api-resources", "--namespaced=false"],
    ["api-resources", "--api-group", "apps", "-o", "wide"],
    ["api-resources", "-o", "name"],
    ["api-resources", "--sort-by", "kind", "--no-headers"],
    ["cluster-info"],
])
def test_discovery_verbs_match(pair, args):
    pair.same(*args)


def test_version(pair):
    l = pair.lite("version", "--client")
    assert l.returncode == 0 and l.stdout.startswith("Client Version: v1.33")
    k, l = pair.both("version", "-o", "json")
    import json
    assert json.loads(l.stdout)["serverVersion"] == json.loads(k.stdout)["serverVersion"]
    l = run([str(LITE), "version", "--client"], env=clean_env({"HOME": "/nonexistent"}))
    assert l.returncode == 0  # needs no kubeconfig and no server


def test_help_lists_the_verbs_in_kubectls_groups(pair):
    l = run([str(LITE), "--help"])
    assert l.returncode == 0
    for heading in ("Basic Commands (Beginner):", "Basic Commands (Intermediate):", "Advanced Commands:", "Other Commands:"):
        assert heading in l.stdout
    for verb in ("get", "apply", "create", "delete", "config", "version", "api-resources"):
        assert f"\n  {verb} " in l.stdout


@pytest.mark.parametrize("field", ["deployment.spec.strategy", "deployments.spec.strategy.rollingUpdate",
                                   "pods.spec.containers.image", "deployment.spec.nosuch", "pods",
                                   "pods.spec.restartPolicy", "services.spec.ports"])
def test_explain_matches(pair, field):
    pair.same("explain", field)

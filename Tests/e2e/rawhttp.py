"""Raw HTTP to the server: a requests session set up from a kubeconfig (TLS, client
certificate or token), and the shape every error body must have (a Kubernetes Status)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional

import requests


@dataclass
class ClientConfig:
    """What a raw HTTP client needs, read from a kubeconfig with the official loader."""
    url: str
    verify: Any = True
    cert: Any = None
    headers: dict = field(default_factory=dict)
    auth: Any = None

    @classmethod
    def from_kubeconfig(cls, path: str) -> "ClientConfig":
        from kubernetes import client as kclient
        from kubernetes import config as kconfig

        cfg = kclient.Configuration()
        kconfig.load_kube_config(config_file=str(path), client_configuration=cfg,
                                 persist_config=False)
        url = cfg.host.rstrip("/")
        verify: Any = True
        if url.startswith("https"):
            verify = cfg.ssl_ca_cert if cfg.ssl_ca_cert else bool(cfg.verify_ssl)
        cert = (cfg.cert_file, cfg.key_file) if cfg.cert_file and cfg.key_file else None
        headers = {}
        auth = None
        for setting in (cfg.auth_settings() or {}).values():
            if setting.get("in") != "header" or not setting.get("value"):
                continue
            if setting.get("type") == "basic":
                auth = (cfg.username, cfg.password)
            else:
                headers[setting["key"].title()] = setting["value"]
        return cls(url=url, verify=verify, cert=cert, headers=headers, auth=auth)

    def session(self) -> requests.Session:
        s = requests.Session()
        s.verify = self.verify
        s.cert = self.cert
        s.auth = self.auth
        s.headers.update(self.headers)
        s.headers["Accept"] = "application/json"
        s.trust_env = False  # never route loopback through a proxy
        return s


def assert_status_body(body: Any, code: int, reason: Optional[str] = None) -> dict:
    """Checks a Kubernetes Status error body (dict or JSON text)."""
    if isinstance(body, (str, bytes)):
        try:
            body = json.loads(body)
        except ValueError:
            raise AssertionError(f"error body is not JSON: {body[:300]!r}") from None
    assert isinstance(body, dict), body
    assert body.get("kind") == "Status", body
    assert body.get("apiVersion") == "v1", body
    assert body.get("status") == "Failure", body
    assert body.get("code") == code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert isinstance(body.get("reason"), str) and body["reason"], body
    if reason is not None:
        assert body["reason"] == reason, body
    return body

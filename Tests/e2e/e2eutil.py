"""The end-to-end tests' helpers, under one name. Each concept has its own module:

  e2eenv         where things are (REPO, the server binary, kubectl); no proxy for loopback
  serverprocess  a `caravel server` process: start, readiness, stop/kill/restart, logs, clients
  kubectlrun     running the real kubectl; parsing its tables
  rawhttp        requests sessions from a kubeconfig; Status error bodies
  rawwatch       watches read over raw HTTP
  waiting        polling with bounds, reading output lines, unique names

Tests import from here or from the module itself; both stay valid.
"""

from __future__ import annotations

from e2eenv import KUBECTL, REPO, caravel_bin  # noqa: F401
from kubectlrun import KubectlError, kubectl_cmd, parse_table, run_kubectl  # noqa: F401
from rawhttp import ClientConfig, assert_status_body  # noqa: F401
from rawwatch import RawWatch, ev_name, ev_rv, summarize  # noqa: F401
from serverprocess import (READY_TIMEOUT, SERVERS, CaravelServer, ServerStartError,  # noqa: F401
                           default_server_args, free_port, new_server, serve, server_help)
from waiting import LineReader, unique, wait_for  # noqa: F401

__all__ = ["KUBECTL", "REPO", "caravel_bin", "KubectlError", "kubectl_cmd", "parse_table", "run_kubectl",
           "ClientConfig", "assert_status_body", "RawWatch", "ev_name", "ev_rv", "summarize", "READY_TIMEOUT",
           "SERVERS", "CaravelServer", "ServerStartError", "default_server_args", "free_port", "new_server", "serve",
           "server_help", "LineReader", "unique", "wait_for"]

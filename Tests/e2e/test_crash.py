"""Durability: every write the server acknowledged (2xx) survives `kill -9`.

Eight writer threads create, update and delete ConfigMaps over raw HTTP; the server is killed with
SIGKILL in the middle, restarted on the same data dir, and the store is checked against what
was acknowledged. Repeated for several rounds, then once more with a graceful SIGTERM."""

from __future__ import annotations

import random
import subprocess
import threading
import time

import pytest
import requests

from e2eutil import CaravelServer, free_port

ROUNDS = 3
THREADS = 8
NS = "crash"


class Ledger:
    """What the writers sent and what the server acknowledged, per object name."""

    def __init__(self):
        self.lock = threading.Lock()
        self.attempted: dict[str, int] = {}              # name -> highest seq sent
        self.acked: dict[str, tuple[int, str]] = {}      # name -> (highest acked seq, its RV)
        self.acks_this_round = 0
        self.unexpected: list[str] = []
        self.max_acked_rv = 0
        self.delete_attempted: set[str] = set()
        self.delete_acked: set[str] = set()

    def attempt(self, name, seq):
        with self.lock:
            self.attempted[name] = max(seq, self.attempted.get(name, 0))

    def ack(self, name, seq, rv):
        with self.lock:
            if seq >= self.acked.get(name, (0, ""))[0]:
                self.acked[name] = (seq, rv)
            self.acks_this_round += 1
            if rv.isdigit():
                self.max_acked_rv = max(self.max_acked_rv, int(rv))


def cm_body(name, seq, owner):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": {"owner": owner}},
            "data": {"seq": str(seq), "owner": owner, "pad": "x" * random.randint(10, 2000)}}


def writer(srv_url, session_factory, tid, rnd, ledger: Ledger, owned: list, stop: threading.Event):
    try:
        _writer(srv_url, session_factory, tid, rnd, ledger, owned, stop)
    except Exception as e:  # noqa: BLE001 - reported by the test
        if not stop.is_set():
            with ledger.lock:
                ledger.unexpected.append(f"writer t{tid} crashed: {e!r}")


def _writer(srv_url, session_factory, tid, rnd, ledger: Ledger, owned: list, stop: threading.Event):
    url = f"{srv_url}/api/v1/namespaces/{NS}/configmaps"
    owner = f"t{tid}"
    seqs = {name: ledger.acked.get(name, (0, ""))[0] for name in owned}
    # continue after the highest seq ever sent, acknowledged or not
    for name in owned:
        seqs[name] = max(seqs[name], ledger.attempted.get(name, 0))
    n = 0
    with session_factory() as s:
        while not stop.is_set():
            try:
                if len(owned) > 5 and random.random() < 0.08:
                    name = owned.pop(random.randrange(len(owned)))
                    with ledger.lock:
                        ledger.delete_attempted.add(name)
                    r = s.delete(f"{url}/{name}", timeout=30)
                    if 200 <= r.status_code < 300:
                        with ledger.lock:
                            ledger.delete_acked.add(name)
                            ledger.acks_this_round += 1
                        continue
                    if not stop.is_set():
                        with ledger.lock:
                            ledger.unexpected.append(f"DELETE {name}: {r.status_code} {r.text[:200]}")
                    return
                elif owned and random.random() < 0.6:
                    name = random.choice(owned)
                    seq = seqs[name] + 1
                    seqs[name] = seq
                    ledger.attempt(name, seq)
                    r = s.patch(f"{url}/{name}", json={"data": {"seq": str(seq)}}, timeout=30,
                                headers={"Content-Type": "application/merge-patch+json"})
                else:
                    name = f"r{rnd}-{owner}-{n}"
                    n += 1
                    seq = 1
                    seqs[name] = seq
                    ledger.attempt(name, seq)
                    r = s.post(url, json=cm_body(name, seq, owner), timeout=30)
                    if 200 <= r.status_code < 300:
                        owned.append(name)
            except requests.RequestException:
                return  # the server is gone
            if 200 <= r.status_code < 300:
                ledger.ack(name, seq, r.json()["metadata"]["resourceVersion"])
            elif not stop.is_set():
                with ledger.lock:
                    ledger.unexpected.append(f"{r.request.method} {name}: {r.status_code} {r.text[:200]}")
                return


def verify(srv: CaravelServer, ledger: Ledger, label: str):
    with srv.session() as s:
        r = s.get(f"{srv.url}/api/v1/namespaces/{NS}/configmaps", timeout=60)
        assert r.status_code == 200, f"{label}: list failed: {r.status_code} {r.text[:300]}"
        lst = r.json()
        stored = {i["metadata"]["name"]: i for i in lst["items"]}
        problems = []
        for name in sorted(ledger.delete_acked):
            if name in stored:
                problems.append(f"{name}: deletion acknowledged but the object is back")
        for name, (seq, rv) in sorted(ledger.acked.items()):
            obj = stored.get(name)
            if name in ledger.delete_attempted:
                continue
            if obj is None:
                problems.append(f"{name}: acknowledged (seq {seq}, rv {rv}) but missing")
                continue
            got = int(obj["data"]["seq"])
            if got < seq:
                problems.append(f"{name}: stored seq {got} older than acknowledged {seq}")
            elif got > ledger.attempted[name]:
                problems.append(f"{name}: stored seq {got} was never sent (max {ledger.attempted[name]})")
            elif got == seq and obj["metadata"]["resourceVersion"] != rv:
                problems.append(f"{name}: seq {seq} stored with rv {obj['metadata']['resourceVersion']},"
                                f" acknowledged with rv {rv}")
        strangers = [n for n in stored if n not in ledger.attempted]
        if strangers:
            problems.append(f"objects nobody wrote: {strangers[:10]}")
        assert not problems, f"{label}: {len(problems)} problems:\n" + "\n".join(problems[:40])

        # single reads agree with the list
        live = sorted(set(ledger.acked) - ledger.delete_attempted)
        for name in random.sample(live, min(20, len(live))):
            g = s.get(f"{srv.url}/api/v1/namespaces/{NS}/configmaps/{name}", timeout=30)
            assert g.status_code == 200, f"{label}: GET {name}: {g.status_code}"
            assert g.json()["metadata"]["resourceVersion"] == stored[name]["metadata"]["resourceVersion"]

        # the store takes new writes, with resourceVersions after everything acknowledged
        post = s.post(f"{srv.url}/api/v1/namespaces/{NS}/configmaps", timeout=30,
                      json=cm_body(f"after-{label}", 1, "verifier"))
        assert post.status_code == 201, f"{label}: write after restart: {post.status_code} {post.text[:300]}"
        new_rv = post.json()["metadata"]["resourceVersion"]
        ledger.attempt(f"after-{label}", 1)
        ledger.ack(f"after-{label}", 1, new_rv)
        if new_rv.isdigit() and lst["metadata"]["resourceVersion"].isdigit():
            assert int(new_rv) > int(lst["metadata"]["resourceVersion"]), (new_rv, lst["metadata"])
        return len(stored)


def crash_rounds(srv, *, rounds: int, seed: int, acks: tuple[int, int], window: float, label: str) -> Ledger:
    """Rounds of THREADS writers against `srv`, each ended by kill -9 once a random number of
    writes in `acks` were acknowledged (or `window` seconds passed); after each restart every
    acknowledged write must be there. Returns the ledger of what was acknowledged."""
    ledger = Ledger()
    owned: dict[int, list] = {t: [] for t in range(THREADS)}
    rng = random.Random(seed)
    for rnd in range(rounds):
        ledger.acks_this_round = 0
        stop = threading.Event()
        threads = [threading.Thread(target=writer, daemon=True,
                                    args=(srv.url, srv.session, t, rnd, ledger, owned[t], stop))
                   for t in range(THREADS)]
        for t in threads:
            t.start()
        # let a good number of writes through, then crash at a random moment
        target = rng.randint(*acks)
        deadline = time.monotonic() + window
        while ledger.acks_this_round < target and time.monotonic() < deadline:
            time.sleep(0.05)
            if not any(t.is_alive() for t in threads):
                break
        time.sleep(rng.uniform(0, 0.3))
        srv.kill()
        stop.set()
        for t in threads:
            t.join(40)
            assert not t.is_alive(), "writer thread hung after the server was killed"
        assert not ledger.unexpected, "non-2xx answers while healthy:\n" + "\n".join(ledger.unexpected[:20])
        assert ledger.acks_this_round > 0, f"{label} {rnd}: no write was acknowledged"

        srv.start()
        n = verify(srv, ledger, f"{label}{rnd}")
        print(f"{label} {rnd}: {ledger.acks_this_round} writes acknowledged before kill -9, "
              f"{n} objects stored")
    return ledger


@pytest.mark.timeout(600)
def test_acknowledged_writes_survive_kill_9(start_server):
    srv = start_server("caravel-crash")
    with srv.session() as s:
        r = s.post(f"{srv.url}/api/v1/namespaces", timeout=30,
                   json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        assert r.status_code == 201, r.text

    ledger = crash_rounds(srv, rounds=ROUNDS, seed=1234, acks=(400, 1500), window=10, label="round")
    # and a graceful restart loses nothing either
    srv.stop()
    srv.start()
    count = verify(srv, ledger, "graceful")
    assert count >= len([n for n in ledger.acked
                         if not n.startswith("after-graceful") and n not in ledger.delete_attempted])


@pytest.mark.timeout(300)
def test_a_second_server_on_the_same_data_dir_refuses_to_start(start_server):
    srv = start_server("caravel-twice")
    with srv.session() as s:
        r = s.post(f"{srv.url}/api/v1/namespaces/default/configmaps", timeout=30,
                   json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first"}})
        assert r.status_code == 201, r.text
    # Same data dir, another port: it must exit at once instead of writing the same database.
    command = srv.command()
    command[command.index("--port") + 1] = str(free_port())
    second = subprocess.run(command, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert second.returncode != 0, second.stdout + second.stderr
    assert "held by another process" in second.stdout + second.stderr
    # The first server goes on serving and writing.
    with srv.session() as s:
        r = s.post(f"{srv.url}/api/v1/namespaces/default/configmaps", timeout=30,
                   json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "second"}})
        assert r.status_code == 201, r.text
        names = {i["metadata"]["name"] for i in
                 s.get(f"{srv.url}/api/v1/namespaces/default/configmaps", timeout=30).json()["items"]}
        assert {"first", "second"} <= names
    # Once it is gone, the data dir is free again, kill -9 included.
    srv.kill()
    srv.start()
    with srv.session() as s:
        assert s.get(f"{srv.url}/api/v1/namespaces/default/configmaps/second", timeout=30).status_code == 200

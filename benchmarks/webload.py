"""The load generator and the gunicorn helpers of benchmarks/bench_web.py.

Run as a script, it is the load generator process: it reads one case as JSON on stdin
(port, case, clients, seconds, requests, warmup), drives it and prints its figures.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def drive(port: int, case: dict, clients: int, seconds: float, max_requests: int,
          warmup: int = 2) -> dict:
    """Run one case from ``clients`` threads; latencies and counts."""
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    last_bytes = [0]
    issued = [0]
    expect = case.get("expect", 200)

    def one(conn_box: list, i: int, n: int) -> tuple[int, int]:
        headers = {"Connection": "keep-alive"}
        body = None
        if case["method"] == "POST":
            tok = case["tokens"][i % len(case["tokens"])]
            headers.update({"Authorization": f"Bearer {tok}", "Content-Type": "application/json"})
            body = json.dumps(case["bodies"][n % len(case["bodies"])])
        for attempt in (0, 1):  # the server may have closed an idle keep-alive connection
            if conn_box[0] is None:
                conn_box[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn_box[0].request(case["method"], case["path"], body=body, headers=headers)
                resp = conn_box[0].getresponse()
                data = resp.read()
                if resp.will_close:
                    conn_box[0].close()
                    conn_box[0] = None
                return resp.status, len(data)
            except (ConnectionError, http.client.HTTPException, OSError):
                conn_box[0].close()
                conn_box[0] = None
                if attempt:
                    return 0, 0
        return 0, 0

    def worker(i: int) -> None:
        box: list = [None]
        for w in range(warmup):  # not measured
            one(box, i, w)
        barrier.wait()
        n = 0
        while time.perf_counter() < deadline[0]:
            with lock:
                if issued[0] >= max_requests:
                    break
                issued[0] += 1
            t0 = time.perf_counter()
            status, size = one(box, i, n)
            dt = time.perf_counter() - t0
            n += 1
            with lock:
                latencies.append(dt)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                last_bytes[0] = size
        if box[0] is not None:
            box[0].close()

    deadline = [float("inf")]
    barrier = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for th in threads:
        th.start()
    barrier.wait()
    start = time.perf_counter()
    deadline[0] = start + seconds
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - start
    ms = sorted(x * 1000 for x in latencies)
    pick = lambda q: round(ms[min(len(ms) - 1, int(q * len(ms)))], 2) if ms else None  # noqa: E731
    return {"requests": len(ms), "errors": sum(c for s, c in statuses.items() if s != str(expect)),
            "statuses": statuses, "p50_ms": round(statistics.median(ms), 2) if ms else None,
            "p99_ms": pick(0.99), "requests_per_s": round(len(ms) / elapsed, 1),
            "bytes": last_bytes[0]}


def client_main() -> None:
    """Read {port, case, clients, seconds, requests, warmup} on stdin; print the figures."""
    job = json.load(sys.stdin)
    print(json.dumps(drive(job["port"], job["case"], job["clients"], job["seconds"],
                           job["requests"], job["warmup"])))



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, env: dict[str, str], log, threads: int = 1) -> subprocess.Popen:
    """gunicorn with 2 workers; no --preload, so no database connection crosses a fork."""
    gunicorn = BIN / "gunicorn"
    if not gunicorn.exists():
        raise SystemExit("gunicorn is not installed: pip install 'forecasts[deploy]'")
    proc = subprocess.Popen(
        [str(gunicorn), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "120",
         # sync workers (the default, as in the README) close every connection; gthread
         # workers keep them alive.
         *(["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else []),
         "--keep-alive", "5", "forecasts:create_app()"],
        cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}; see its log")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/static/style.css")
            if conn.getresponse().status == 200 and len(workers(proc.pid)) == 2:
                conn.close()
                return proc
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise SystemExit("gunicorn did not answer within 60 s")


def stop(proc: subprocess.Popen) -> None:
    """Stop gunicorn (its own process group) and wait for it."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def workers(master: int) -> list[int]:
    """The gunicorn master's child processes, from /proc."""
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


def rss_mb(pid: int) -> float | None:
    """Resident memory of ``pid`` in MB (VmRSS)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


if __name__ == "__main__":
    client_main()

"""Start the real app servers for tests: gunicorn (several worker processes) or waitress
(`forecasts serve`), on 127.0.0.1 and a free port, with bounded start-up and a clean stop.

    with servers.gunicorn(env, workers=2) as server:
        server.request("GET", "/api/v1/questions")
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_env(env: dict[str, str], **extra: str) -> dict[str, str]:
    """The process environment for a server: the test's settings, no rate limits (these
    tests measure correctness under load, not throttling)."""
    return {**os.environ, **env, "RATELIMIT_ENABLED": "0", "PYTHONUNBUFFERED": "1", **extra}


@dataclass
class Server:
    """A running server process; `pid` is the master (gunicorn) or the only process."""

    proc: subprocess.Popen
    port: int
    log: Path
    host: str = HOST

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def connection(self, timeout: float = 30.0) -> http.client.HTTPConnection:
        """A keep-alive connection to the server (the caller closes it)."""
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """One request on a fresh connection: (status, parsed JSON or text)."""
        conn = self.connection()
        try:
            return send(conn, method, path, body, headers)
        finally:
            conn.close()

    def children(self) -> list[int]:
        """The pids of the server's child processes (gunicorn's workers)."""
        found: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found.extend(int(pid) for pid in text)
        return sorted(found)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def send(conn: http.client.HTTPConnection, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """A request on `conn` (kept alive): (status, parsed JSON, or text when not JSON)."""
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Accept": "application/json", **(headers or {})}
    if data is not None:
        all_headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=all_headers)
    response = conn.getresponse()
    raw = response.read()
    if response.getheader("Content-Type", "").startswith("application/json"):
        return response.status, json.loads(raw)
    return response.status, raw.decode(errors="replace")


def _wait_ready(server: Server, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited with {server.proc.returncode}:\n{server.output()}")
        try:
            status, _ = server.request("GET", "/api/v1/questions")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not ready after {START_TIMEOUT_S} s:\n{server.output()}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_S)


@contextmanager
def _run(args: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[Server]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    server = Server(proc, port, log)
    try:
        _wait_ready(server, time.monotonic() + START_TIMEOUT_S)
        yield server
    finally:
        _stop(proc)


@contextmanager
def gunicorn(env: dict[str, str], log: Path, *, workers: int = 2,
             threads: int = 1) -> Iterator[Server]:
    """gunicorn with `workers` sync worker processes serving `forecasts:create_app()`."""
    port = free_port()
    args = [str(BIN / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
            "--bind", f"{HOST}:{port}", "--graceful-timeout", "5", "--timeout", "60",
            "forecasts:create_app()"]
    with _run(args, server_env(env), port, log) as server:
        yield server


@contextmanager
def waitress(env: dict[str, str], log: Path, *, threads: int = 8) -> Iterator[Server]:
    """`forecasts serve --no-scheduler` (waitress, one process, `threads` threads)."""
    port = free_port()
    args = [str(BIN / "forecasts"), "serve", "--no-scheduler", "--host", HOST,
            "--port", str(port), "--threads", str(threads)]
    with _run(args, server_env(env), port, log) as server:
        yield server

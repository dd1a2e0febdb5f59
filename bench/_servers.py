"""Real servers for the benchmarks that measure over HTTP: gunicorn, wrk, and the reference.

The reference is a hello-world Flask app (bench/hello_app.py) served by gunicorn with the
same settings as the app, so a ratio compares the app with the least a Flask server does
on this machine in the same minute.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
HELLO_APP = "bench.hello_app:app"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                answer.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def gunicorn(app: str, *, workers: int, env: dict | None = None, probe: str = "/",
             threads: int = 1, stderr=None, config: str | None = None):
    """gunicorn serving ``app`` ("module:callable" or "module:factory()") on a free
    loopback port; yields the base URL and stops the server (and its workers) after.
    ``stderr`` (say subprocess.DEVNULL) takes the server's log lines, one per request;
    ``config`` is a gunicorn settings file (`make serve`'s: vouchers/gunicorn_conf.py)."""
    port = free_port()
    command = [GUNICORN, "--workers", str(workers), "--threads", str(threads),
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", app]
    if config:
        command[1:1] = ["--config", config]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})},
                               start_new_session=True, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + probe)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def have_wrk() -> bool:
    return shutil.which("wrk") is not None


def wrk(url: str, *, seconds: int = 10, connections: int = 32, threads: int = 2) -> float:
    """Requests per second wrk reached on ``url`` (non-2xx/3xx answers abort the figure)."""
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", url],
                         capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(f"wrk saw error answers from {url}:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not found:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{out}")
    return float(found.group(1))

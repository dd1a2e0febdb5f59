"""The run's temporary files (SQLite databases, uploads, workbooks) in memory when it can.

Every test empties the tables twice and most commit several times: on a disk each SQLite
commit waits for fsync (tests/test_manager_applications.py took 77 s on this disk, 51 s
in memory).
Under /dev/shm (a tmpfs) the same SQLite runs without that wait; the database, its WAL
and its locking are still SQLite's own. Only when the run names no --basetemp, and only the
controller (xdist hands each worker a directory under the controller's). Removed at the end.
"""

from __future__ import annotations

import os
import shutil

import pytest

MEMORY = "/dev/shm"


def _memory_basetemp() -> str | None:
    if not (os.path.isdir(MEMORY) and os.access(MEMORY, os.W_OK)):
        return None
    return os.path.join(MEMORY, f"vouchers-tests-{os.getpid()}")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config) -> None:
    if config.option.basetemp or hasattr(config, "workerinput"):
        return
    path = _memory_basetemp()
    if path:
        config.option.basetemp = path
        config.add_cleanup(lambda: shutil.rmtree(path, ignore_errors=True))

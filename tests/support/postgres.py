"""A private PostgreSQL server for tests, started from Debian's binaries in a
temporary directory and stopped afterwards. PostgreSQL refuses to run as root, so
when the tests run as root the server runs as the ``postgres`` system user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as(user: str | None, args: list[str]) -> None:
    if user is None:
        subprocess.run(args, check=True, capture_output=True, timeout=120)
    else:
        subprocess.run(["runuser", "-u", user, "--", *args], check=True,
                       capture_output=True, timeout=120)


@contextmanager
def private_postgres() -> Iterator[str]:
    """Yields a SQLAlchemy URL of a fresh, empty PostgreSQL database."""
    binaries = pg_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL binaries not installed")
    user = None
    if os.geteuid() == 0:
        user = "postgres"
        pwd.getpwnam(user)
    # Its own directory directly under /tmp: pytest's tmp dirs are root-only.
    workdir = Path(tempfile.mkdtemp(prefix="chatcart-pg-"))
    data = workdir / "pgdata"
    data.mkdir()
    if user:
        shutil.chown(workdir, user)
        shutil.chown(data, user)
    port = _free_port()
    _run_as(user, [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "chatcart",
                   "--no-sync"])
    _run_as(user, [str(binaries / "pg_ctl"), "-D", str(data), "-w", "-t", "60", "-l",
                   str(data / "server.log"), "-o",
                   f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off",
                   "start"])
    try:
        yield f"postgresql+psycopg://chatcart@127.0.0.1:{port}/postgres"
    finally:
        _run_as(user, [str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(workdir, ignore_errors=True)

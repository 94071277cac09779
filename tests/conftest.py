"""Suite-wide fixtures: a real PostgreSQL server, a database per test, and Jamie's pieces.

The PostgreSQL server is Debian's, started once per session on 127.0.0.1 and a free
ephemeral port, and removed at the end. `db_url` runs a test on SQLite and on PostgreSQL;
`build_app` wires the incident service and the command handler to a URL with a clock the
test moves by hand.
"""

from __future__ import annotations

import ipaddress
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.commands.directory import Directory
from bot.commands.handler import CommandHandler
from bot.plan import Plan, load_plan
from bot.render.text import Renderer
from bot.render.timefmt import TimeFormat
from bot.service.incidents import IncidentService
from bot.storage.db import make_engine, make_sessionmaker, migrate

REPO_ROOT = Path(__file__).resolve().parent.parent
PLAN_PATH = REPO_ROOT / "deploy" / "plan.yaml"
TIMEZONE = "America/Sao_Paulo"
# A Monday in business hours in São Paulo (12:00 local); any fixed, aware instant would do.
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

_MISSING_POSTGRES = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under "
    "/usr/lib/postgresql/*/bin. Install them with `make system-deps` "
    "(deploy/dev/system-deps.sh), which `make test` runs first."
)


# -- no network ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def forbid_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Python socket connection outside loopback fails the test (libpq's own are C code)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(address: object) -> None:
        if isinstance(address, tuple):
            host = str(address[0])
            if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
                raise AssertionError(f"test tried to reach {host}: only loopback is allowed")

    def connect(self: socket.socket, address: object) -> None:
        check(address)
        real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        check(address)
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


# -- PostgreSQL ------------------------------------------------------------------------------


def _postgres_bindir() -> Path:
    """The directory holding initdb and pg_ctl (the newest version when several exist)."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        pytest.fail(_MISSING_POSTGRES, pytrace=False)
    return candidates[-1].parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _PostgresServer:
    """One throwaway cluster in a temporary directory; initdb refuses root, so as root the
    programs run as the `postgres` user that Debian's package creates."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_user: list[str] = []
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail(f"running as root but no `postgres` user. {_MISSING_POSTGRES}")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        # /tmp is world-traversable, so the postgres user can reach the directory.
        self.root = Path(tempfile.mkdtemp(prefix="jamie-pg-", dir="/tmp"))
        if owner is not None:
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0

    def _run(self, program: str, *args: str) -> None:
        command = [*self.as_user, str(self.bindir / program), *args]
        done = subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            pytest.fail(
                f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{log}",
                pytrace=False,
            )

    def start(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        self.port = _free_port()
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-c port={self.port}",
                f"-c unix_socket_directories={self.root}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        )
        self._run(
            "pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
            "-o", options,
        )  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


def _admin_execute(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for this session, with an empty `jamie_test` database."""
    server = _PostgresServer(_postgres_bindir())
    try:
        server.start()
        _admin_execute(server.url("postgres"), "CREATE DATABASE jamie_test")
        yield server.url("jamie_test")
    finally:
        server.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jamie.db'}"


@pytest.fixture
def postgres_db_url(postgres_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"jamie_{uuid.uuid4().hex[:16]}"
    maintenance = make_url(postgres_url).set(database="postgres").render_as_string(False)
    _admin_execute(maintenance, f"CREATE DATABASE {name}")
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(False)
    finally:
        _admin_execute(maintenance, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def db_url(request: pytest.FixtureRequest) -> str:
    """The same test on SQLite (a file under tmp_path) and on a fresh PostgreSQL database."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_db_url"
    url: str = request.getfixturevalue(fixture)
    return url


# -- Jamie's pieces --------------------------------------------------------------------------


class FakeClock:
    """A clock the test moves: `now()` is an aware UTC instant that only changes on request."""

    def __init__(self, start: datetime = START) -> None:
        self._now = self._checked(start)

    @staticmethod
    def _checked(moment: datetime) -> datetime:
        if moment.utcoffset() is None:
            raise ValueError("FakeClock needs an aware datetime")
        return moment.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = self._checked(moment)

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now


@dataclass
class App:
    """Jamie's incident core wired to one database, as the composition root wires it."""

    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    plan: Plan
    renderer: Renderer
    clock: FakeClock
    service: IncidentService
    directory: Directory
    handler: CommandHandler


BuildApp = Callable[[str], Awaitable[App]]


@pytest.fixture(scope="session")
def plan() -> Plan:
    return load_plan(PLAN_PATH)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def build_app(plan: Plan, clock: FakeClock) -> AsyncIterator[BuildApp]:
    """Builds an App for a URL (migrating it first) on the test's clock; every engine is
    disposed at teardown. Building twice over one URL is how a test restarts Jamie."""
    engines: list[AsyncEngine] = []

    async def build(url: str) -> App:
        migrate(url)
        engine = make_engine(url)
        engines.append(engine)
        sessions = make_sessionmaker(engine)
        renderer = Renderer(plan, TimeFormat(TIMEZONE))
        service = IncidentService(sessions, plan, renderer, clock=clock.now)
        directory = Directory(plan)
        handler = CommandHandler(service, plan, renderer, directory, clock=clock.now)
        return App(url, engine, sessions, plan, renderer, clock, service, directory, handler)

    yield build
    for engine in engines:
        await engine.dispose()


# The URL comes first in these signatures so that its database outlives the engines that
# build_app disposes at teardown (fixtures are torn down in reverse order of setup).


@pytest.fixture
async def app(db_url: str, build_app: BuildApp) -> App:
    """Jamie on SQLite and on PostgreSQL."""
    return await build_app(db_url)


@pytest.fixture
async def sqlite_app(sqlite_url: str, build_app: BuildApp) -> App:
    """Jamie on SQLite only, for tests whose subject is not the database."""
    return await build_app(sqlite_url)

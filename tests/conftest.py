"""Shared fixtures: real databases (SQLite file and PostgreSQL), migrated with Alembic."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import pytest_asyncio

from core.persistence.db import Database
from core.persistence.migrate import upgrade

PG_ADMIN_URL = os.environ.get("UNMEET_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def require_postgres() -> None:
    """Skip on a laptop without PostgreSQL; never in CI, where a skip would hide a failure."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 and CI=true: tests must not skip")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")


async def _admin(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql://", "postgres://"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def create_pg_database() -> str:
    name = f"unmeet_test_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@asynccontextmanager
async def fresh_database(backend: str, folder: Path):
    """A new database on `backend`, migrated with Alembic; a PostgreSQL one is dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'unmeet.db'}"
        await asyncio.to_thread(upgrade, url)
        yield url
        return
    require_postgres()
    url = await create_pg_database()
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await drop_pg_database(url)


@pytest.fixture(params=BACKENDS)
async def database_url(request, tmp_path):
    """A fresh, migrated database URL on each backend, for one test."""
    async with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BACKENDS)
async def module_database_url(request, tmp_path_factory):
    """A fresh, migrated database for one test module (one server per module), on each backend."""
    async with fresh_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    yield database
    await database.dispose()

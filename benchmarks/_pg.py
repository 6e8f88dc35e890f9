"""A throw-away PostgreSQL database for figure 3, which gunicorn's workers share.

On :func:`benchmarks.common.postgres_url`'s server; created empty, dropped afterwards.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchmarks.common import postgres_url as server_url


def database_url(name: str) -> str:
    """The server's URL with the database ``name``."""
    parts = urlsplit(server_url())
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def _admin_connection() -> Any:
    import psycopg

    parts = urlsplit(server_url())
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
        connect_timeout=3,
    )


def available() -> str:
    """``""`` when the server answers, else why not."""
    try:
        with _admin_connection() as connection:
            connection.execute("SELECT 1")
    except Exception as exc:  # no driver, no server, refused login: all mean "skip"
        return f"PostgreSQL unavailable: {type(exc).__name__}: {exc}".strip()
    return ""


def create_database(name: str) -> str:
    """Drop ``name`` if a previous run left it, create it empty; its URL."""
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def drop_database(name: str) -> None:
    with _admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

"""Several multi-row inserts sent together.

On PostgreSQL each statement is a round trip to the server, and a writing unit
holds the write lock through all of them; psycopg's pipeline mode sends them
all and waits once. Elsewhere (SQLite, in-process) each is one ``executemany``.
Either way they run in the caller's transaction, in the order given.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Dialect


@functools.lru_cache(maxsize=64)
def _insert_sql(table: Table, columns: tuple[str, ...], dialect: Dialect) -> str:
    """The driver's text of an insert of these columns (the others take their defaults)."""
    return str(insert(table).compile(dialect=dialect, column_keys=list(columns)))


def insert_all(conn: Connection, batches: Sequence[tuple[Table, Sequence[dict[str, object]]]],
               then: Sequence[str] = ()) -> None:
    """Insert each (table, rows) in order, then run the statements ``then`` (PostgreSQL only,
    fixed text such as ``NOTIFY``): on PostgreSQL in one round trip."""
    batches = [(table, rows) for table, rows in batches if rows]
    if conn.dialect.name != "postgresql":
        for table, rows in batches:
            conn.execute(insert(table), list(rows))
        return
    if not batches and not then:
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.pipeline(), driver.cursor() as cursor:
        for table, rows in batches:
            cursor.executemany(_insert_sql(table, tuple(rows[0]), conn.dialect), rows)
        for statement in then:
            cursor.execute(statement)

"""What a storage fault looks like to callers: the database is down, full or read-only.

Callers answer these with "try again later" (503) rather than as bugs; when storage recovers,
the next request simply works. Integrity and data errors are not here: those are our bugs or
bad input, and retrying them would not help.
"""

from __future__ import annotations

import sqlalchemy as sa

STORAGE_FAULTS: tuple[type[BaseException], ...] = (
    sa.exc.OperationalError,  # SQLite: disk full, read-only file, locked; PostgreSQL: gone away
    sa.exc.InterfaceError,  # the connection broke under us
    sa.exc.InternalError,  # PostgreSQL: read-only transaction, shutting down
    ConnectionError,  # asyncpg cannot connect (the driver's own, unwrapped)
    TimeoutError,
)


def is_storage_fault(error: BaseException) -> bool:
    if isinstance(error, STORAGE_FAULTS):
        return True
    # asyncpg's "cannot connect" surfaces as a bare OSError (errno set) through SQLAlchemy.
    return type(error) is OSError and error.errno is not None

"""The Alembic migrations of the SQL schema, shipped with the package and run on open.

`prepare(engine)` brings a database to the head revision: a new database is
created by the migrations, an older one upgraded (unless `upgrade=False`,
which refuses it with `store.schema_older`), and one from a newer library
refused (`store.schema_newer`).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING, Final

import sqlalchemy as sa

from provisioning.adapters.sql.schema import METADATA, SCOPES
from provisioning.errors import StoreError, codes
from provisioning.storage import PLATFORM

if TYPE_CHECKING:  # Alembic (and Mako) load only when a database is created or migrated
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = ["HERE", "config", "head", "known", "prepare", "revision", "scripts"]

CODES: Final = codes(
    unavailable=(
        "store.schema_newer",
        "store.schema_older",
        "store.schema_unknown",
    ),
)
"""The codes this module raises, by category (`provisioning.errors.Category`)."""

HERE: Final = Path(__file__).parent
_REVISION: Final = re.compile(r'^(down_revision|revision) = "?([\w]+)"?$', re.MULTILINE)


def config() -> Config:
    """An Alembic configuration for the shipped migrations (no alembic.ini needed)."""
    from alembic.config import Config  # noqa: PLC0415 - see TYPE_CHECKING above

    settings = Config()
    settings.set_main_option("script_location", str(HERE))
    return settings


@functools.cache
def scripts() -> ScriptDirectory:
    """The shipped migration scripts (read once)."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415 - see TYPE_CHECKING above

    return ScriptDirectory.from_config(config())


@functools.cache
def known() -> dict[str, str | None]:
    """Each shipped revision and the one it follows, read from the scripts without Alembic."""
    found: dict[str, str | None] = {}
    for script in sorted((HERE / "versions").glob("*.py")):
        fields = dict(_REVISION.findall(script.read_text(encoding="utf-8")))
        if "revision" in fields:
            down = fields.get("down_revision")
            found[fields["revision"]] = None if down in (None, "None") else down
    return found


def head() -> str:
    """The newest revision this library knows: the one no other follows."""
    followed = set(known().values())
    heads = [name for name in known() if name not in followed]
    assert len(heads) == 1, heads  # noqa: S101 - the package ships one line of migrations
    return heads[0]


def revision(connection: sa.Connection) -> str | None:
    """The revision the database is at (None: no schema yet)."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    found = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return None if found is None else str(found)


def prepare(engine: sa.Engine, *, label: str, upgrade: bool = True) -> None:
    """Bring the database at `engine` to the head revision, or refuse it."""
    target = head()
    with engine.connect() as connection:
        current = revision(connection)
        tables = set(sa.inspect(connection).get_table_names())
    if current == target:
        return
    if current is None and tables - {"alembic_version"}:
        raise StoreError(
            code="store.schema_unknown",
            path=label,
            reason="the database holds tables this library did not create",
        )
    if current is not None and current not in known():
        raise StoreError(
            code="store.schema_newer",
            path=label,
            reason=f"the schema is at revision {current}, newer than this library's {target}:"
            " upgrade provisioning",
        )
    if current is not None and not upgrade:
        raise StoreError(
            code="store.schema_older",
            path=label,
            reason=f"the schema is at revision {current}, older than {target};"
            " open it with upgrade=True (or run the migrations) to upgrade it",
        )
    from alembic import command  # noqa: PLC0415 - Alembic loads only to create or migrate

    with engine.connect() as plain, plain.execution_options(provisioning_write=True).begin():
        connection = plain
        settings = config()
        settings.attributes["connection"] = connection
        if current is None:
            # A new database: the schema the migrations build (a test holds them equal),
            # created at once and stamped with the head revision.
            _create(connection)
            connection.execute(SCOPES.insert().values(scope=PLATFORM, count=0))
            command.stamp(settings, target)
        else:
            command.upgrade(settings, target)


def _create(connection: sa.Connection) -> None:
    """Create every table of `METADATA`, leaving the metadata as it found it.

    The references that close a cycle (`use_alter`) are added after the
    tables on databases that can alter tables, and SQLAlchemy marks them not
    to be rendered inline from then on; a SQLite database created later in
    the same process must still get them in its tables.
    """
    cycles = [
        constraint
        for table in METADATA.tables.values()
        for constraint in table.foreign_key_constraints
        if constraint.use_alter
    ]
    try:
        METADATA.create_all(connection)
    finally:
        for constraint in cycles:
            constraint._create_rule = None  # noqa: SLF001 - undo CREATE's marking, see above

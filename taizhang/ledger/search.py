"""The ledger's search: the columns it looks in, and their trigram indexes on PostgreSQL.

The search is `icontains` on each column, which PostgreSQL runs as `UPPER(col::text) LIKE
UPPER('%…%')` and, with no index to help, answers by reading every row. A GIN trigram index
(pg_trgm) on that same expression serves the same `LIKE` for a search of three characters or
more, so the query and its results stay as they were; a search of one or two characters
still reads every row. The indexes live outside the model's state (SQLite has no such index):
migration 0008 and `manage.py create_search_indexes` make them.
"""

import logging
from functools import reduce
from operator import or_

from django.db import DatabaseError, transaction
from django.db.models import Q

SEARCH_FIELDS = ("code", "name", "address", "community", "land_rights_unit", "property_rights_unit")
TABLE = "ledger_target"
EXTENSION = "pg_trgm"

log = logging.getLogger(__name__)


def search_q(text: str) -> Q:
    """Targets with `text` in any searched column, whatever its case."""
    return reduce(or_, (Q(**{"%s__icontains" % field: text}) for field in SEARCH_FIELDS))


def index_name(field: str) -> str:
    return "target_q_%s_trgm" % field


def search_indexes_create(connection) -> list[str] | None:
    """On PostgreSQL, one GIN trigram index per searched column, pg_trgm first (created when
    this role may). The names of the indexes made now, or None when pg_trgm cannot be had
    (a warning then says what a DBA must run); on other databases nothing to do."""
    if connection.vendor != "postgresql":
        return []
    schema = _trigram_schema(connection)
    if schema is None:
        return None
    quote = connection.ops.quote_name
    created = []
    with connection.cursor() as cursor:
        for field in SEARCH_FIELDS:
            name = index_name(field)
            cursor.execute("SELECT to_regclass(%s) IS NULL", [quote(name)])
            if cursor.fetchone()[0]:
                # The expression is Django's icontains left-hand side, to the letter; the planner
                # only uses an expression index for the same expression.
                cursor.execute("CREATE INDEX %s ON %s USING gin ((UPPER(%s::text)) %s.gin_trgm_ops)"
                               % (quote(name), quote(TABLE), quote(field), quote(schema)))
                created.append(name)
        if created:
            # Statistics of the indexed expressions, which the planner reads for any search (how
            # many rows 大院 matches), now rather than at autovacuum's next analyze.
            cursor.execute("ANALYZE %s" % quote(TABLE))
    return created


def search_indexes_drop(connection) -> None:
    """The indexes gone (pg_trgm stays: something else may use it)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for field in SEARCH_FIELDS:
            cursor.execute("DROP INDEX IF EXISTS %s" % connection.ops.quote_name(index_name(field)))


def _trigram_schema(connection) -> str | None:
    """The schema pg_trgm is installed in, installing it when missing and this role may."""
    schema = _installed_in(connection)
    if schema is not None:
        return schema
    try:
        # A savepoint inside a migration's transaction: a refusal must leave it usable.
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS %s" % EXTENSION)
    except DatabaseError as exc:
        log.warning(
            "The ledger search has no trigram index: this database role could not create the %s extension "
            "(%s). The search still works, reading every row. To index it, a superuser (or the database's "
            "owner) runs `CREATE EXTENSION %s;` in database %s, then `manage.py create_search_indexes` "
            "(README, \"Production\").",
            EXTENSION, " ".join(str(exc).split()), EXTENSION, connection.settings_dict["NAME"])
        return None
    return _installed_in(connection)


def _installed_in(connection) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                       "WHERE e.extname = %s", [EXTENSION])
        row = cursor.fetchone()
    return row[0] if row else None

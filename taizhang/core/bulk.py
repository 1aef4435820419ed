"""Writing many rows fast, for imports and demo data.

bulk_create compiles every value of every row through the ORM's SQL compiler, and
bulk_update builds one CASE WHEN per column over the batch; for a 50,000-row import
those were most of the time (measured in docs/benchmarks.md). Here rows are plain
dicts, each value is prepared by its field only where the field's type needs it (a
string or an int goes to the driver as it is), values that are the same in every row
are prepared once, and the rows go to the driver's executemany.
"""

import datetime
import gc
from collections.abc import Sequence
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from itertools import repeat
from operator import itemgetter

from django.db import DEFAULT_DB_ALIAS, connections

CHUNK = 2000
# Field types whose Python value is already what the database driver takes.
AS_IS = frozenset({
    "CharField", "TextField", "SlugField", "BooleanField", "IntegerField", "BigIntegerField",
    "SmallIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField",
})


def insert_rows(model, rows: Sequence[dict], field_names: list[str], *, constants: dict | None = None,
                ignore_conflicts: bool = False) -> None:
    """INSERT one row per dict of {field name: value}; related objects are given as objects.

    `constants` are {field name: value} the same in every row (a campaign, a time), each
    prepared once. Primary keys are not returned. With `ignore_conflicts`, a row a unique
    constraint already holds is skipped (ON CONFLICT DO NOTHING), as bulk_create's is.
    """
    fields, prepared = _prepare(model, rows, field_names, constants or {})
    insert_prepared(model, [f.column for f in fields], prepared, ignore_conflicts=ignore_conflicts)


def insert_prepared(model, columns: list[str], rows: Sequence[Sequence], *, ignore_conflicts: bool = False) -> None:
    """INSERT rows whose values are already what the driver takes, in `columns` order.

    On PostgreSQL with COPY: executemany sends one statement per row (50,000 rows of
    targets took 6 s against well under one). COPY cannot skip a conflict: with
    `ignore_conflicts` the rows go there as INSERTs of many rows each.
    """
    connection = _connection()
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(map(quote, columns))
    one = "(%s)" % ", ".join(["%s"] * len(columns))
    if connection.vendor == "postgresql":
        if not ignore_conflicts:
            _copy(connection, "COPY %s (%s) FROM STDIN" % (table, names), rows)
            return
        # Within PostgreSQL's 65,535 parameters a statement.
        per = max(1, min(CHUNK, 65_535 // len(columns)))
        with connection.cursor() as cursor:
            for start in range(0, len(rows), per):
                chunk = rows[start:start + per]
                cursor.execute("INSERT INTO %s (%s) VALUES %s ON CONFLICT DO NOTHING" % (
                    table, names, ", ".join([one] * len(chunk))), [value for row in chunk for value in row])
        return
    sql = "INSERT INTO %s (%s) VALUES %s%s" % (table, names, one, " ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    _executemany(connection, sql, rows)


def update_rows(model, rows: Sequence[dict], field_names: list[str], *, constants: dict | None = None) -> None:
    """UPDATE the given columns of saved rows, one dict per row with its "pk": one executemany,
    or on PostgreSQL a COPY into a scratch table and one UPDATE from it."""
    connection = _connection()
    fields, prepared = _prepare(model, rows, field_names, constants or {}, key=True)
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    columns = [quote(f.column) for f in fields]
    if connection.vendor == "postgresql":
        # COPY the new values into a scratch table shaped like the columns, then one UPDATE.
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE bulk_update ON COMMIT DROP AS SELECT %s, %s FROM %s WITH NO DATA"
                           % (pk, ", ".join(columns), table))
            _copy(connection, "COPY bulk_update (%s, %s) FROM STDIN" % (", ".join(columns), pk), prepared)
            cursor.execute("UPDATE %s SET %s FROM bulk_update WHERE %s.%s = bulk_update.%s" % (
                table, ", ".join("%s = bulk_update.%s" % (c, c) for c in columns), table, pk, pk))
            cursor.execute("DROP TABLE bulk_update")
        return
    sql = "UPDATE %s SET %s WHERE %s = %%s" % (table, ", ".join("%s = %%s" % c for c in columns), pk)
    _executemany(connection, sql, prepared)


def add_rows(model, rows: Sequence[dict], key: Sequence[str], sums: Sequence[str]) -> None:
    """Add each row's `sums` to the row with the same `key` (a unique constraint), or insert it:
    INSERT … ON CONFLICT DO UPDATE SET s = s + excluded.s, on SQLite as on PostgreSQL."""
    if not rows:
        return
    connection = _connection()
    quote = connection.ops.quote_name
    fields, prepared = _prepare(model, rows, [*key, *sums], {})
    columns = [quote(f.column) for f in fields]
    sql = "INSERT INTO %s AS t (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET %s" % (
        quote(model._meta.db_table), ", ".join(columns), ", ".join(["%s"] * len(columns)),
        ", ".join(columns[:len(key)]),
        ", ".join("%s = t.%s + excluded.%s" % (c, c, c) for c in columns[len(key):]))
    _executemany(connection, sql, prepared)


def _prepare(model, rows, field_names, constants, *, key: bool = False) -> tuple[list, list[tuple]]:
    """The fields, constants last, and each row's values as the driver takes them (with `key`,
    its "pk" after them).

    A column at a time, through map(): no Python step per value that goes as it is.
    """
    connection = _connection()
    names = [name for name in field_names if name not in constants]
    fields = [model._meta.get_field(name) for name in (*names, *constants)]
    columns = []
    for name, field in zip(names, fields[:len(names)], strict=True):
        values, prepare = map(itemgetter(name), rows), _preparer(field, connection)
        columns.append(values if prepare is None else map(prepare, values))
    columns += [repeat(_prepared(field, value, connection), len(rows))
                for field, value in zip(fields[len(names):], constants.values(), strict=True)]
    if key:
        columns.append(map(itemgetter("pk"), rows))
    return fields, list(zip(*columns, strict=True))


def raw_rows(queryset) -> list[tuple]:
    """The rows of a values_list() queryset as the driver gives them, without the ORM's
    conversion of each value: JSON comes back as text, and on SQLite a decimal as a float.

    For reading tens of thousands of rows where those conversions were most of the time.
    """
    sql, params = queryset.query.sql_with_params()
    with _connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def json_text_param(connection):
    """A function making JSON text, already encoded, a parameter for a JSON column.

    SQLite keeps JSON as the text itself; psycopg is told the text is jsonb, so that it
    is neither encoded again nor sent as a plain string.
    """
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        return partial(Jsonb, dumps=_as_is)
    return _as_is


def _as_is(value):
    return value


def _connection():
    # The connection itself, not the `connection` proxy: each value's preparation would
    # otherwise look it up through a thread-local, hundreds of thousands of times.
    return connections[DEFAULT_DB_ALIAS]


def _executemany(connection, sql: str, rows: Sequence[Sequence]) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[start:start + CHUNK])


def _copy(connection, sql: str, rows: Sequence[Sequence]) -> None:
    # COPY goes to the driver's own cursor: wrap its errors as Django wraps a query's, so that
    # callers meet one family (a deadlock or a duplicate key is then told apart the same way).
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _preparer(field, connection):
    """A function turning a row's value into the driver's, or None where it goes as it is."""
    if field.is_relation:
        return _pk
    kind = field.get_internal_type()
    if kind in AS_IS:
        return None
    prepare = partial(field.get_db_prep_save, connection=connection)
    if kind == "DecimalField":
        # Both drivers take a Decimal as it is; the field would only copy it.
        return partial(_unless_type, Decimal, prepare)
    if kind == "DateField":
        return partial(_when_type, datetime.date, connection.ops.adapt_datefield_value, prepare)
    if kind == "DateTimeField":
        # An aware datetime is what the field would pass on to the backend's adapter as it is.
        return partial(_when_aware, connection.ops.adapt_datetimefield_value, prepare)
    if kind == "JSONField":
        # Lists of flags and reasons: few distinct ones among many rows, each encoded once.
        return partial(_json_memoized, prepare, {})
    return prepare


def _unless_type(kind, prepare, value):
    return value if value is None or value.__class__ is kind else prepare(value)


def _when_type(kind, adapt, prepare, value):
    return adapt(value) if value.__class__ is kind else prepare(value)


def _when_aware(adapt, prepare, value):
    return adapt(value) if value.__class__ is datetime.datetime and value.tzinfo is not None else prepare(value)


def _json_memoized(prepare, memo: dict, value):
    """prepare(value), remembered for lists of strings (1 and True would be equal keys)."""
    if value.__class__ is not list or not all(item.__class__ is str for item in value):
        return prepare(value)
    key = tuple(value)
    if key not in memo:
        memo[key] = prepare(value)
    return memo[key]


def _prepared(field, value, connection):
    prepare = _preparer(field, connection)
    return value if prepare is None else prepare(value)


def _pk(related):
    """A related object's key; an id given as it is passes through."""
    return getattr(related, "pk", related)


@contextmanager
def collector_paused():
    """Python's cycle collector paused for a bulk job, resumed (and free to run) after it.

    A 50,000-row import allocates millions of objects that live until it ends, and each
    collection walks them all: 0.5 s of a 7 s import (docs/benchmarks.md). Reference
    counting still frees what is dropped meanwhile. Paused for the whole process, so
    only around work that ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def concrete_field_names(model) -> list[str]:
    """Every stored field but the auto primary key."""
    return [f.name for f in model._meta.concrete_fields if not f.primary_key]

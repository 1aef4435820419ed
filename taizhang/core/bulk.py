"""Inserting many rows fast, for imports and demo data.

bulk_create compiles every value of every row through the ORM's SQL compiler; for a
50,000-row import that was most of the time (measured in docs/benchmarks.md). Here each
value is prepared once by its field and the rows go to the driver's executemany.
"""

from django.db import DEFAULT_DB_ALIAS, connections

CHUNK = 2000


def insert_rows(model, objects, field_names: list[str]) -> None:
    """INSERT `objects` (unsaved, no pk) setting `field_names`; their pks are not set."""
    fields = [model._meta.get_field(name) for name in field_names]
    # The connection itself, not the `connection` proxy: each value's preparation would
    # otherwise look it up through a thread-local, hundreds of thousands of times.
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    sql = "INSERT INTO %s (%s) VALUES (%s)" % (
        quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields)))
    rows = [[f.get_db_prep_save(_value(f, obj), connection) for f in fields] for obj in objects]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[start:start + CHUNK])


def update_rows(model, objects, field_names: list[str]) -> None:
    """UPDATE the given columns of many saved rows with one executemany.

    bulk_update builds one CASE WHEN per column over the whole batch: measured at 184 s and
    1.7 GB for 50,000 changed rows, against seconds for this.
    """
    fields = [model._meta.get_field(name) for name in field_names]
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    sql = "UPDATE %s SET %s WHERE %s = %%s" % (
        quote(model._meta.db_table), ", ".join("%s = %%s" % quote(f.column) for f in fields),
        quote(model._meta.pk.column))
    rows = [[f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] + [obj.pk] for obj in objects]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[start:start + CHUNK])


def _value(field, obj):
    # A foreign key assigned an object that was saved after the assignment has no id in
    # its attname yet (bulk_create mends this the same way).
    if field.is_relation and getattr(obj, field.attname) is None and field.is_cached(obj):
        related = field.get_cached_value(obj)
        return related.pk if related is not None else None
    return field.pre_save(obj, add=True)


def concrete_field_names(model) -> list[str]:
    """Every stored field but the auto primary key."""
    return [f.name for f in model._meta.concrete_fields if not f.primary_key]

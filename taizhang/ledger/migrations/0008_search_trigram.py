"""Trigram indexes for the ledger search on PostgreSQL, where pg_trgm can be had (ledger/search.py).

Never fails for want of the extension: it warns with what a DBA must run, and
`manage.py create_search_indexes` adds the indexes later. On SQLite it does nothing.
"""

from django.db import migrations

from taizhang.ledger.search import search_indexes_create, search_indexes_drop


def forwards(apps, schema_editor):
    search_indexes_create(schema_editor.connection)


def backwards(apps, schema_editor):
    search_indexes_drop(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [("ledger", "0007_coordinate_system")]

    operations = [migrations.RunPython(forwards, backwards)]

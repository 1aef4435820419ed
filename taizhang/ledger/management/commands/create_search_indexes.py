"""Add the ledger search's trigram indexes once a DBA has created pg_trgm (ledger/search.py)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from taizhang.ledger.search import EXTENSION, SEARCH_FIELDS, search_indexes_create


class Command(BaseCommand):
    help = ("On PostgreSQL, create the %s extension if this role may and the ledger search's trigram "
            "indexes that are missing; elsewhere nothing to do." % EXTENSION)

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="the database to index (default: default)")

    def handle(self, *args, database, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            self.stdout.write("%s: the search needs no index of this kind; nothing to do." % connection.display_name)
            return
        created = search_indexes_create(connection)
        if created is None:
            raise CommandError("No %s extension, and this role may not create it: a superuser (or the "
                               "database's owner) runs `CREATE EXTENSION %s;` in database %s, then this "
                               "command again."
                               % (EXTENSION, EXTENSION, connection.settings_dict["NAME"]))
        self.stdout.write("Trigram indexes of the ledger search: %d created, %d already there."
                          % (len(created), len(SEARCH_FIELDS) - len(created)))

from pathlib import Path

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from taizhang.campaigns.presets import PresetError, preset_load
from taizhang.core.context import request_context


class Command(BaseCommand):
    help = ("Load or update a campaign preset (TOML), then re-evaluate its targets' priorities. "
            "Loads nothing if the file has a problem.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError("%s: %s" % (file, exc)) from exc
        try:
            with transaction.atomic(), request_context():
                campaign, created = preset_load(text=text, source=file.name)
                # Changed priority rules apply to the targets already in the ledger. The ledger
                # sits above this app, so it is reached by command name, never imported; a
                # refused rule (an unknown flag) undoes the load.
                if apps.is_installed("taizhang.ledger"):
                    call_command("reevaluate_priorities", campaign=campaign.slug, stdout=self.stdout)
        except PresetError as exc:
            raise CommandError("%s: %s" % (file, exc)) from exc
        verb = "created" if created else "updated"
        self.stdout.write(self.style.SUCCESS("%s %s (%s)" % (verb, campaign.name, campaign.slug)))

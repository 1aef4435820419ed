from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

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
            notes = []
            with request_context():
                # The rooms above do their part in the same transaction (the ledger re-evaluates
                # its targets' priorities); a refused rule (an unknown flag) undoes the load.
                campaign, created = preset_load(text=text, source=file.name, notes=notes)
        except PresetError as exc:
            raise CommandError("%s: %s" % (file, exc)) from exc
        for note in notes:
            self.stdout.write(self.style.SUCCESS(note))
        verb = "created" if created else "updated"
        self.stdout.write(self.style.SUCCESS("%s %s (%s)" % (verb, campaign.name, campaign.slug)))

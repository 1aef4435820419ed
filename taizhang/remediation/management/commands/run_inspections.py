import argparse
import datetime

from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from taizhang.ledger.cli import add_campaign_argument, get_campaign, get_user
from taizhang.remediation.acceptance import inspections_overdue


def _day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("not a date (YYYY-MM-DD): %r" % text) from exc


class Command(BaseCommand):
    help = ("List the re-inspections that are overdue (due before --date and not done), street by street. "
            "It records nothing: results come from the inspectors on site.")

    def add_arguments(self, parser):
        add_campaign_argument(parser)
        parser.add_argument("--date", type=_day, help="as of this day, YYYY-MM-DD (default: today)")

    def handle(self, *args, date=None, **options):
        campaign = get_campaign(options.get("campaign"))
        on = date or timezone.localdate()
        overdue = inspections_overdue(get_user(options.get("user")), campaign, on)
        by_street = {}
        with tqdm(overdue.iterator(chunk_size=500), total=overdue.count(), unit="inspection", leave=False,
                  disable=options["verbosity"] < 1, file=self.stderr._out) as rows:
            for inspection in rows:
                by_street.setdefault(inspection.target.street.name, []).append(inspection)
        for street, inspections in by_street.items():
            self.stdout.write("%s: %d overdue" % (street, len(inspections)))
            for inspection in inspections:
                target = inspection.target
                self.stdout.write("  %s %s · due %s · %d days overdue" % (
                    target.code, target.name, inspection.due_on.isoformat(), (on - inspection.due_on).days))
        total = sum(len(i) for i in by_street.values())
        self.stdout.write(self.style.SUCCESS("%s: %d re-inspections overdue on %s"
                                             % (campaign.slug, total, on.isoformat())))

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from taizhang.accounts.scoping import seen_through
from taizhang.ledger.asof import as_of_day
from taizhang.ledger.cli import add_campaign_argument, get_campaign, get_ledger_unit, get_user
from taizhang.ledger.exporting import LedgerLabel, export_ledger
from taizhang.ledger.models import Target
from taizhang.ledger.selectors import in_ledger


class Command(BaseCommand):
    help = "Export a ledger to .xlsx: the same file as the page's export."

    def add_arguments(self, parser):
        add_campaign_argument(parser)
        parser.add_argument("--ledger", help="street:NAME, system:NAME or unit:CODE (default: all)")
        parser.add_argument("--as-of", dest="as_of",
                            help="the ledger as it stood at the end of YYYY-MM-DD (today at the latest)")
        parser.add_argument("-o", "--output", type=Path,
                            help="the file to write; a folder, or none (the current folder), gets the file "
                                 "named as the page names it (ledger, day)")

    @translation.override(settings.LANGUAGE_CODE)
    def handle(self, *args, campaign=None, user=None, ledger=None, as_of=None, output=None, **options):
        if as_of is not None:
            try:
                as_of = as_of_day(str(as_of))  # a date too, from call_command
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        campaign = get_campaign(campaign)
        user = get_user(user)
        unit = get_ledger_unit(campaign, ledger)
        # Without --user the command acts for the system, which sees the whole ledger.
        targets = Target.objects.visible_to(user) if user else Target.objects.all()
        targets = in_ledger(targets.filter(campaign=campaign), unit)
        label = LedgerLabel(unit=unit, scope=seen_through(user, campaign), as_of=as_of)
        if output is None or output.is_dir():
            output = (output or Path()) / label.filename()
        try:
            with output.open("wb") as out:
                count = export_ledger(out, campaign=campaign, queryset=targets.order_by("code"), label=label)
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS("%d targets written to %s" % (count, output)))


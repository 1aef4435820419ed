from django.core.management.base import BaseCommand, CommandError

from taizhang.campaigns.models import Campaign
from taizhang.core.context import request_context
from taizhang.ledger.demo import demo_accounts_print, demo_database_check, demo_load


class Command(BaseCommand):
    help = "Generate the demo ledger (528 targets from the preset) and one demo account per role."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="campaign slug (default: the only or first one)")
        parser.add_argument("--seed", type=int, default=2015)
        parser.add_argument("--targets", type=int, help="a larger ledger with the same shares")

    def handle(self, *args, campaign=None, seed=2015, targets=None, **options):
        demo_database_check()
        found = Campaign.objects.filter(slug=campaign) if campaign else Campaign.objects.all()
        chosen = found.first()
        if chosen is None:
            raise CommandError("no campaign loaded: run load_preset first")
        if targets is not None and targets < 1:
            raise CommandError("--targets must be at least 1")
        try:
            with request_context():
                count = demo_load(campaign=chosen, seed=seed, total=targets)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS("%s: %d demo targets" % (chosen.name, count)))
        demo_accounts_print(chosen, self.stdout)

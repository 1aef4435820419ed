from django.core.management.base import BaseCommand, CommandError

from taizhang.campaigns.models import Campaign
from taizhang.core.context import request_context
from taizhang.ledger.demo import demo_database_check
from taizhang.remediation.demo import demo_policies_add


class Command(BaseCommand):
    help = "Add the demo policy library (法规汇集) to a campaign; policies already there are left alone."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="campaign slug (default: the first one)")

    def handle(self, *args, campaign=None, **options):
        demo_database_check()
        found = Campaign.objects.filter(slug=campaign) if campaign else Campaign.objects.all()
        chosen = found.first()
        if chosen is None:
            raise CommandError("no campaign loaded: run load_preset first")
        with request_context():
            added = demo_policies_add(chosen)
        self.stdout.write(self.style.SUCCESS("%s: %d demo policies added" % (chosen.name, added)))

from django.core.management.base import BaseCommand

from taizhang.campaigns.models import Campaign
from taizhang.ledger.demo import DEMO_PASSWORD, DEMO_USERS, demo_database_check, demo_users


class Command(BaseCommand):
    help = "Print the demo accounts (creating any that are missing)."

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="campaign slug (default: the first one)")

    def handle(self, *args, campaign=None, **options):
        demo_database_check()
        found = Campaign.objects.filter(slug=campaign) if campaign else Campaign.objects.all()
        campaign = found.first()
        if campaign is None:
            return
        self.stdout.write("demo accounts (password %s), %d roles:" % (DEMO_PASSWORD, len(DEMO_USERS)))
        for username, role, unit in demo_users(campaign):
            self.stdout.write("  %-11s %s · %s" % (username, role, unit))

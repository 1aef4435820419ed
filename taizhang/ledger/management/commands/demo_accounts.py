from django.core.management.base import BaseCommand

from taizhang.campaigns.models import Campaign
from taizhang.ledger.demo import demo_accounts_print, demo_database_check


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
        demo_accounts_print(campaign, self.stdout)

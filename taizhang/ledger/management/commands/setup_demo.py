from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from taizhang.campaigns.models import Campaign
from taizhang.ledger.demo import demo_database_claim
from taizhang.ledger.models import Target

PRESET = settings.BASE_DIR / "presets" / "shijingshan-2015.toml"


class Command(BaseCommand):
    help = ("Make an empty database a demo database (preset, demo ledger, demo accounts); "
            "refuse any database it did not make, and the production profile. Exit 3 when refused.")

    def handle(self, *args, **options):
        demo_database_claim()  # DemoRefused (exit 3) unless this is, or now becomes, a demo database
        if not Campaign.objects.exists():
            call_command("load_preset", str(PRESET), stdout=self.stdout)
        if not Target.objects.exists():
            call_command("demo", stdout=self.stdout)
            # The policy library lives in remediation, which the ledger does not import.
            call_command("demo_policies", stdout=self.stdout)
        else:
            self.stdout.write("demo database already holds %d targets; left as it is" % Target.objects.count())
            call_command("demo_accounts", stdout=self.stdout)

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from taizhang.campaigns.models import Campaign
from taizhang.campaigns.presets import preset_load
from taizhang.core.context import request_context
from taizhang.ledger.demo import START_OVER, demo_accounts_print, demo_database_claim, demo_load
from taizhang.ledger.models import Target
from taizhang.remediation.demo import demo_policies_add

PRESET = settings.BASE_DIR / "presets" / "shijingshan-2015.toml"


class Command(BaseCommand):
    help = ("Make an empty database a demo database (preset, demo ledger, policies, demo accounts); "
            "refuse any database it did not make, and the production profile. Exit 3 when refused.")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, help="another, equally deterministic demo ledger (default 2015)")
        parser.add_argument("--targets", type=int, help="a larger (or smaller) ledger with the same shares")

    # In remediation, the top room: it sets up every room's part of the demo through their services.
    def handle(self, *args, seed=None, targets=None, **options):
        if targets is not None and targets < 1:
            raise CommandError("--targets must be at least 1")
        demo_database_claim()  # DemoRefused (exit 3) unless this is, or now becomes, a demo database
        with request_context():
            if not Campaign.objects.exists():
                campaign, _created = preset_load(text=PRESET.read_text(encoding="utf-8"), source=PRESET.name)
                self.stdout.write(self.style.SUCCESS("created %s (%s)" % (campaign.name, campaign.slug)))
            campaign = Campaign.objects.order_by("pk").first()
            if not Target.objects.exists():
                count = demo_load(campaign=campaign, seed=2015 if seed is None else seed, total=targets)
                added = demo_policies_add(campaign)
                self.stdout.write(self.style.SUCCESS("%s: %d demo targets, %d demo policies" % (
                    campaign.name, count, added)))
            else:
                held = "demo database already holds %d targets; left as it is" % Target.objects.count()
                # Asked for another demo ledger: say how to get one.
                self.stdout.write(held if seed is None and targets is None else "%s. %s" % (held, START_OVER))
        demo_accounts_print(campaign, self.stdout)

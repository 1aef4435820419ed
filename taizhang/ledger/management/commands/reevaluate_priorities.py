from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from taizhang.campaigns.models import Campaign
from taizhang.ledger.priorities import campaign_rules, priorities_evaluate, rule_problems


class Command(BaseCommand):
    help = ("Recompute every target's priority reasons and rank from its campaign's priority rules. "
            "load_preset runs it after loading.")

    def add_arguments(self, parser):
        parser.add_argument("--campaign", help="campaign slug (default: every campaign)")

    @transaction.atomic
    def handle(self, *args, campaign=None, **options):
        campaigns = Campaign.objects.filter(slug=campaign) if campaign else Campaign.objects.all()
        if campaign and not campaigns.exists():
            raise CommandError("no such campaign: %s" % campaign)
        for chosen in campaigns:
            problems = rule_problems(campaign_rules(chosen))
            if problems:
                raise CommandError("%s: %s" % (chosen.slug, "; ".join(problems)))
            changed = priorities_evaluate(campaign=chosen)
            self.stdout.write(self.style.SUCCESS("%s: priorities changed for %d targets" % (chosen.slug, changed)))

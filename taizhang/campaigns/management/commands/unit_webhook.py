from django.core.management.base import BaseCommand, CommandError

from taizhang.campaigns.models import OrgUnit
from taizhang.campaigns.webhooks import unit_webhook_set
from taizhang.core.errors import ServiceError


class Command(BaseCommand):
    help = ("Set an org unit's group-chat robot (政务微信 / 钉钉 webhook URL), to which its notifications are "
            "posted; an empty URL removes it.")

    def add_arguments(self, parser):
        parser.add_argument("campaign", help="the campaign's slug")
        parser.add_argument("unit", help="the unit's code in the preset (GC, OFFICE, …)")
        parser.add_argument("url", help="the robot's http(s) URL, or '' to remove it")

    def handle(self, *args, campaign: str, unit: str, url: str, **options):
        found = OrgUnit.objects.filter(campaign__slug=campaign, code=unit).first()
        if found is None:
            raise CommandError("No unit %r in campaign %r." % (unit, campaign))
        try:
            unit_webhook_set(unit=found, url=url)
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS("%s: %s" % (found.name, "robot set" if url.strip() else "robot removed")))

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _
from tqdm import tqdm

from taizhang.campaigns.models import Campaign
from taizhang.core.context import request_context
from taizhang.ledger.demo import START_OVER, demo_accounts_print, demo_database_claim, demo_load
from taizhang.ledger.models import Target
from taizhang.remediation.demo import demo_in_motion, demo_policies_add, story_until

PRESET = settings.BASE_DIR / "presets" / "shijingshan-2015.toml"


class Command(BaseCommand):
    help = ("Make an empty database a demo database: the preset, the demo ledger, policies and accounts, and the "
            "campaign in motion (its history up to --until, its days moved so that --until falls on today); "
            "refuse any database it did not make, and the production profile. Exit 3 when refused.")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int,
                            help="another, equally deterministic demo ledger and story (default 2015)")
        parser.add_argument("--targets", type=int, help="a larger (or smaller) ledger with the same shares")
        parser.add_argument("--until", help="the campaign day the story stops at, YYYY-MM-DD in the preset's days "
                                            "(default: halfway between the last two pledges); it falls on today")

    # In remediation, the top room: it sets up every room's part of the demo through their services.
    def handle(self, *args, seed=None, targets=None, until=None, **options):
        if targets is not None and targets < 1:
            raise CommandError("--targets must be at least 1")
        text = PRESET.read_text(encoding="utf-8")
        try:
            until = story_until(text, _day(until) if until else None)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        demo_database_claim()  # DemoRefused (exit 3) unless this is, or now becomes, a demo database
        with request_context():
            if not Campaign.objects.exists():
                self._in_motion(text, 2015 if seed is None else seed, targets, until, options["verbosity"])
                campaign = Campaign.objects.order_by("pk").first()
            else:
                campaign = Campaign.objects.order_by("pk").first()
                self._still(campaign, seed, targets)
        demo_accounts_print(campaign, self.stdout)

    def _in_motion(self, text, seed, targets, until, verbosity):
        # In the campaign's language, as its offices would have written it (the log's reasons too).
        with tqdm(unit="act", desc="story", disable=True if verbosity < 1 else None, leave=False,
                  file=self.stderr._out) as bar, translation.override(settings.LANGUAGE_CODE):
            made = demo_in_motion(text=text, source=PRESET.name, seed=seed, total=targets, until=until,
                                  progress=bar.update)
        campaign, shift = made.campaign, datetime.timedelta(days=made.shift)
        self.stdout.write(self.style.SUCCESS("created %s (%s): %d demo targets, %d acts of their story" % (
            campaign.name, campaign.slug, made.targets, made.acts)))
        self.stdout.write("the story stops at the start of %s (the preset's day), which is today: every date of the "
                          "campaign is %d days later than the preset's" % (until.isoformat(), made.shift))
        for pledge in made.story.pledges:
            if pledge.day - shift < until:
                lagging = "; behind: %s" % ", ".join(pledge.lagging) if pledge.lagging else ""
                self.stdout.write("  closed by %s (%s): %d of %d%s" % (
                    (pledge.day - shift).isoformat(), pledge.day.isoformat(), pledge.count, made.targets, lagging))

    def _still(self, campaign, seed, targets):
        """A marked database with a campaign: the ledger alone if it has none, as before the story."""
        if not Target.objects.exists():
            count = demo_load(campaign=campaign, seed=2015 if seed is None else seed, total=targets)
            added = demo_policies_add(campaign)
            self.stdout.write(self.style.SUCCESS("%s: %d demo targets, %d demo policies" % (
                campaign.name, count, added)))
            return
        held = "demo database already holds %d targets; left as it is" % Target.objects.count()
        # Asked for another demo ledger: say how to get one.
        self.stdout.write(held if seed is None and targets is None else "%s. %s" % (held, START_OVER))


def _day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("--until: “%(day)s” is not a day (YYYY-MM-DD).") % {"day": text[:40]}) from None

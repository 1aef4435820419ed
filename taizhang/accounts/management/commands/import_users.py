from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from taizhang.accounts.user_import import UserImportRejected, users_import, users_prepare
from taizhang.campaigns.models import Campaign
from taizhang.core.context import request_context


class Command(BaseCommand):
    help = ("Import accounts from .xlsx or .csv (姓名, 用户名 or 手机, 手机, 单位, 角色). Exit 0 when applied "
            "(or clean with --dry-run), 1 with every problem listed otherwise. Prints each new account's "
            "temporary password, once.")

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--campaign", help="campaign slug whose units the sheet names (default: the first)")
        parser.add_argument("--user", help="act as this user (who may manage accounts; history names them); "
                                           "default: the system")
        parser.add_argument("--dry-run", action="store_true", help="check and report; change nothing")
        parser.add_argument("--sheet", help="sheet name (default: the first with a header)")
        parser.add_argument("--reason", default="", help="why, recorded in the history")

    @translation.override(settings.LANGUAGE_CODE)
    def handle(self, *args, file, campaign=None, user=None, dry_run=False, sheet=None, reason="", **options):
        found = Campaign.objects.filter(slug=campaign) if campaign else Campaign.objects.order_by("pk")
        campaign_row = found.first()
        if campaign_row is None:
            raise CommandError("no such campaign: %s" % (campaign or "(none loaded)"))
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user, is_active=True).first()
            if actor is None:
                raise CommandError("no such user: %s" % user)
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        kwargs = {"campaign": campaign_row, "actor": actor, "data": data, "filename": file.name, "sheet": sheet}
        with request_context():
            if dry_run:
                report = users_prepare(**kwargs)
            else:
                try:
                    report = users_import(reason=reason, **kwargs)
                except UserImportRejected as exc:
                    report = exc.report
        self.print_report(report)
        if not report.ok:
            raise CommandError("%d problems: nothing was changed" % len(report.problems))

    def print_report(self, report):
        out = self.stdout
        out.write("%s [%s]: %d rows read" % (report.filename, report.sheet or "-", report.rows_read))
        out.write("  new %d, changed %d, unchanged %d" % (len(report.new), len(report.changed), report.unchanged))
        if report.unknown_columns:
            out.write("  ignored columns: %s" % "、".join(report.unknown_columns))
        for plan in report.new:
            out.write("  NEW %s %s: %s" % (plan.username, plan.name, "、".join(
                "%s·%s" % (r.unit.name, r.role_label) for r in plan.roles)))
        for plan in report.changed:
            for label, before, after in plan.diffs:
                out.write("  %s %s: %r -> %r" % (plan.username, label, before, after))
            for r in plan.roles:
                out.write("  %s + %s·%s" % (plan.username, r.unit.name, r.role_label))
        for problem in report.problems:
            self.stderr.write("  %s" % problem)
        if report.applied:
            out.write(self.style.SUCCESS("applied; temporary passwords (hand each over in person, shown once):"))
            for username, password in report.passwords.items():
                out.write("  %s  %s" % (username, password))

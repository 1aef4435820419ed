from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from tqdm import tqdm

from taizhang.core.context import request_context
from taizhang.ledger.cli import add_campaign_argument, get_campaign, get_user
from taizhang.ledger.importing import ImportRejected, import_prepare, target_import


class Command(BaseCommand):
    help = ("Import targets from .xlsx or .csv. Exit 0 when applied (or clean with --dry-run), "
            "1 with every problem listed otherwise.")

    def add_arguments(self, parser):
        add_campaign_argument(parser)
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check and report; change nothing")
        parser.add_argument("--sheet", help="sheet name (default: the first with a ledger header)")
        parser.add_argument("--reason", default="", help="why, recorded in the history")

    @translation.override(settings.LANGUAGE_CODE)
    def handle(self, *args, file, dry_run=False, sheet=None, reason="", **options):
        campaign = get_campaign(options.get("campaign"))
        user = get_user(options.get("user"))
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        with tqdm(unit="row", desc=file.name, disable=options["verbosity"] < 1,
                  file=self.stderr._out, leave=False) as bar:
            def progress(done, total):
                # Rows are counted once as they are checked, then again as they are written.
                if done < bar.n:
                    bar.reset()
                bar.total = total
                bar.update(done - bar.n)

            kwargs = {"campaign": campaign, "data": data, "filename": file.name, "sheet": sheet,
                      "progress": progress}
            with request_context():
                if dry_run:
                    report = import_prepare(user=user, **kwargs)
                else:
                    try:
                        report = target_import(user=user, reason=reason, **kwargs)
                    except ImportRejected as exc:
                        report = exc.report
        self.print_report(report)
        if not report.ok:
            raise CommandError("%d problems, %d conflicts: nothing was changed"
                               % (len(report.problems), len(report.conflicts)))

    def print_report(self, report):
        out = self.stdout
        out.write("%s [%s]: %d rows read" % (report.filename, report.sheet or "-", report.rows_read))
        out.write("  new %d, changed %d (%d emptying values), unchanged %d, conflicts %d"
                  % (len(report.new), len(report.changed), len(report.cleared), report.unchanged,
                     len(report.conflicts)))
        if report.unknown_columns:
            out.write("  ignored columns: %s" % "、".join(report.unknown_columns))
        if report.new_units:
            out.write("  new responsible units: %s" % "、".join(report.new_units))
        for row in report.changed:
            for label, before, after in row.diffs:
                out.write("  row %d %s: %s %r -> %r" % (row.row, row.code, label, before, after))
        for row in report.cleared:
            for label, before, _after in row.diffs:
                out.write(self.style.WARNING("  CLEARS row %d %s: %s %r -> (empty)"
                                             % (row.row, row.code, label, before)))
        for row in report.conflicts:
            out.write("  CONFLICT row %d %s: %s" % (row.row, row.code, row.note))
        for problem in report.problems:
            self.stderr.write("  %s" % problem)
        if report.applied:
            out.write(self.style.SUCCESS("applied"))

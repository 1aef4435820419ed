from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from tqdm import tqdm

from taizhang.core.context import request_context
from taizhang.core.coordinates import CoordinateSystem
from taizhang.ledger.cli import add_campaign_argument, get_campaign, get_user
from taizhang.ledger.importing import ImportRejected, import_prepare, target_import
from taizhang.ledger.label_aliases import LabelMapError, mapping_parse


class Command(BaseCommand):
    help = ("Import targets from .xlsx or .csv. Exit 0 when applied (or clean with --dry-run), "
            "1 with every problem listed otherwise.")

    def add_arguments(self, parser):
        add_campaign_argument(parser)
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="check and report; change nothing")
        parser.add_argument("--sheet", help="sheet name (default: the first with a ledger header)")
        parser.add_argument("--reason", default="", help="why, recorded in the history")
        parser.add_argument("--coordinate-system", default="wgs84", choices=CoordinateSystem.values,
                            help="what the file's coordinates are given in where a row's 坐标系 cell is blank "
                                 "(default wgs84; gcj02 for 高德/腾讯, bd09 for 百度)")
        parser.add_argument(
            "--map", action="append", default=[], dest="mappings", metavar="COLUMN:WORD=VALUE",
            help="read WORD in COLUMN (its header or field name) as the known VALUE, e.g. 类型:废品收集点=废品回收; "
                 "repeatable; saved as an alias of the campaign when the file is applied (HQ office only)")

    @translation.override(settings.LANGUAGE_CODE)
    def handle(self, *args, file, dry_run=False, sheet=None, reason="", mappings=(), coordinate_system="wgs84",
               **options):
        campaign = get_campaign(options.get("campaign"))
        user = get_user(options.get("user"))
        try:
            mappings = [mapping_parse(spec) for spec in mappings]
        except LabelMapError as exc:
            raise CommandError(str(exc)) from None
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
                      "progress": progress, "mappings": mappings, "coordinate_system": coordinate_system}
            with request_context():
                try:
                    if dry_run:
                        report = import_prepare(user=user, **kwargs)
                    else:
                        report = target_import(user=user, reason=reason, **kwargs)
                except ImportRejected as exc:
                    report = exc.report
                except LabelMapError as exc:
                    raise CommandError(str(exc)) from None
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
        self.print_unknown_labels(report)
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

    def print_unknown_labels(self, report):
        """Each unknown label with its rows and the --map that would read it as the closest known value."""
        refused = [label for label in report.unknown_labels if not label.new_unit]
        similar = [label for label in report.unknown_labels if label.new_unit]
        for title, labels in (("unknown labels (map each with --map COLUMN:WORD=VALUE):", refused),
                              ("new responsible units named like known ones (keep, or map with --map):", similar)):
            if labels:
                self.stdout.write("  " + title)
            for label in labels:
                rows = ", ".join(map(str, label.shown_rows)) + (", …" if label.count > len(label.shown_rows) else "")
                line = "    %s “%s”: %d rows (%s)" % (label.header, label.text, label.count, rows)
                if label.suggestion:
                    line += "; closest: %s   %s" % (label.suggestion_label, label.option)
                self.stdout.write(line)

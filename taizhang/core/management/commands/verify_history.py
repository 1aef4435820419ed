from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from tqdm import tqdm

from taizhang.core.changelog import Digest, history_verify
from taizhang.core.models import ChangeLogEntry

MAX_MISMATCHES_SHOWN = 50


class Command(BaseCommand):
    help = ("Prove the change log unbroken and the stored records the same as the log says; "
            "exit 1 naming the first broken entry or every record that differs.")

    def add_arguments(self, parser):
        parser.add_argument("--against", metavar="DIGEST",
                            help="a digest printed by history_digest (the text, or a file holding it): "
                                 "prove the chain still holds the head it recorded")

    def handle(self, *args, against=None, **options):
        digest = _digest(against) if against else None
        total = ChangeLogEntry.objects.count()
        # A bar on a terminal only: in a log, or a report that captures the output, it is noise.
        with tqdm(total=total, unit="entry", disable=True if options["verbosity"] < 1 or total < 5000 else None,
                  file=self.stderr._out) as bar:
            verdict = history_verify(against=digest, progress=bar.update)
        if verdict.broken:
            with translation.override("en"):
                raise CommandError(verdict.problem())
        mismatches = verdict.mismatches
        for m in mismatches[:MAX_MISMATCHES_SHOWN]:
            if m.field:
                self.stderr.write("%s #%s: %s is %r stored but %r in the log"
                                  % (m.object_type, m.object_id, m.field, m.stored, m.logged))
            else:
                self.stderr.write("%s #%s: %s, %s" % (m.object_type, m.object_id, m.logged or "not logged",
                                                      m.stored or "not stored"))
        if mismatches:
            raise CommandError("%d stored value(s) differ from what the change log says (written around it)"
                               % len(mismatches))
        message = "history verified: %d entries, chain unbroken, stored records as logged" % verdict.checked
        if digest:
            message += "; holds the digest of %s (entry #%d)" % (digest.made_at, digest.last_id)
        self.stdout.write(self.style.SUCCESS(message))


def _digest(text: str) -> Digest:
    path = Path(text)
    try:
        if len(text) < 4096 and path.is_file():
            text = path.read_text(encoding="utf-8")
        return Digest.parse(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CommandError("--against: %s" % exc) from None

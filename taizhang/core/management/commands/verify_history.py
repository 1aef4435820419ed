from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from taizhang.core.changelog import Break, Digest, changelog_replay, changelog_verify
from taizhang.core.models import ChangeLogEntry
from taizhang.core.snapshots import targets_check

PROBLEMS = {
    "altered": "entry #%s was altered after it was written (its seal does not match its content)",
    "missing-before": "the chain is broken at entry #%s: an entry before it was removed or inserted",
    "missing-after": "entries after #%s were removed (the chain head does not match the last entry)",
    "head-altered": "the chain head (last entry #%s) was altered: its seal does not match it",
    "digest-forged": "the digest (entry #%s) was not made with this installation's key",
    "digest-differs": "entry #%s is not the one the digest recorded: history up to it was rewritten",
    "digest-missing": "entry #%s, which the digest recorded, is no longer in the chain",
}
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
        checked = 0
        with tqdm(total=total, unit="entry", disable=options["verbosity"] < 1 or total < 5000,
                  file=self.stderr._out) as bar:
            for item in changelog_verify(against=digest):
                if isinstance(item, Break):
                    raise CommandError(PROBLEMS[item.problem] % item.entry_id)
                checked += 1
                bar.update(1)
        mismatches = [*changelog_replay(), *targets_check()]
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
        message = "history verified: %d entries, chain unbroken, stored records as logged" % checked
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

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from taizhang.core.changelog import Break, changelog_verify
from taizhang.core.models import ChangeLogEntry

PROBLEMS = {
    "altered": "entry #%s was altered after it was written (its hash does not match its content)",
    "missing-before": "the chain is broken at entry #%s: an entry before it was removed or inserted",
    "missing-after": "entries after #%s were removed (the chain head does not match the last entry)",
}


class Command(BaseCommand):
    help = "Prove the change log unbroken; exit 1 naming the first broken entry."

    def handle(self, *args, **options):
        total = ChangeLogEntry.objects.count()
        checked = 0
        with tqdm(total=total, unit="entry", disable=options["verbosity"] < 1 or total < 5000,
                  file=self.stderr._out) as bar:
            for item in changelog_verify():
                if isinstance(item, Break):
                    raise CommandError(PROBLEMS[item.problem] % item.entry_id)
                checked += 1
                bar.update(1)
        self.stdout.write(self.style.SUCCESS("history verified: %d entries, chain unbroken" % checked))

from django.core.management.base import BaseCommand
from tqdm import tqdm

from taizhang.command.standing import standing_refresh


class Command(BaseCommand):
    help = ("Bring the command room's projection of the change log up to date (command.standing): what its "
            "first page would otherwise do. `make run` runs it after the demo; after a large import, a deploy "
            "can run it so that no user waits for it.")

    def handle(self, *args, **options):
        with tqdm(unit="entry", desc="projection", disable=True if options["verbosity"] < 1 else None,
                  file=self.stderr._out) as bar:

            def progress(done: int, last: int) -> None:
                bar.total = last  # entry ids: the log's last one is how far there is to go
                bar.update(done - bar.n)

            read = standing_refresh(progress)
        self.stdout.write(self.style.SUCCESS("%d change-log entries read into the command room's projection" % read))

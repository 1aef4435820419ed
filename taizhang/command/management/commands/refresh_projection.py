from django.core.management.base import BaseCommand

from taizhang.command.standing import standing_refresh


class Command(BaseCommand):
    help = ("Bring the command room's projection of the change log up to date (command.standing): what its "
            "first page would otherwise do. `make run` runs it after the demo; after a large import, a deploy "
            "can run it so that no user waits for it.")

    def handle(self, *args, **options):
        read = standing_refresh()
        self.stdout.write(self.style.SUCCESS("%d change-log entries read into the command room's projection" % read))

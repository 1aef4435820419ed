from django.core.management.base import BaseCommand
from django.utils import timezone

from taizhang.core.changelog import digest_make


class Command(BaseCommand):
    help = ("Print the change log's digest (日终摘要) to print, sign and keep outside the system; "
            "`verify_history --against` checks the chain still holds it.")

    def handle(self, *args, **options):
        digest = digest_make()
        self.stdout.write("台账日终摘要 / Taizhang history digest")
        self.stdout.write("made at %s; the chain's last entry is #%d" % (
            timezone.localtime().strftime("%Y-%m-%d %H:%M %Z"), digest.last_id))
        self.stdout.write(str(digest))

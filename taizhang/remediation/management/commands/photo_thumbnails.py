from django.core.management.base import BaseCommand

from taizhang.remediation.models import Photo
from taizhang.remediation.photos import thumbnails_fill


class Command(BaseCommand):
    help = ("Make the thumbnails photos lack (the migration that added them makes them too; run this when "
            "the photos' folder was restored after it). Exit status 1 when a photo's file cannot be read.")

    def handle(self, *args, **options):
        made, failed = thumbnails_fill(Photo.objects.all())
        for name in failed:
            self.stderr.write("cannot read %s: it keeps no thumbnail" % name)
        self.stdout.write(self.style.SUCCESS("%d thumbnails made" % made))
        if failed:
            raise SystemExit(1)

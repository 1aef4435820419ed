"""Front-end packages' files, served from node_modules one by one (settings.VENDOR_FILES).

A package's dist folder holds far more than a page loads (ECharts' is 51 MB: every build,
its source maps). Naming the files keeps `collectstatic` and the compressed copies to what
the pages use, and a missing file (no `npm ci`) is named by `manage.py check`.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage


class VendorFileFinder(BaseFinder):
    """Finds `settings.VENDOR_FILES`: {static path: file in node_modules}."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.files = {path: Path(source) for path, source in settings.VENDOR_FILES.items()}

    def check(self, **kwargs):
        return [Error("%s is missing: run `make install` (npm ci)." % source, id="taizhang.E001")
                for source in self.files.values() if not source.is_file()]

    def find(self, path, find_all=False, **kwargs):
        source = self.files.get(path)
        if source is None or not source.is_file():
            return []  # as Django's finders answer "not here"
        return [str(source)] if find_all else str(source)

    def list(self, ignore_patterns):
        for path, source in self.files.items():
            if source.is_file():
                storage = FileSystemStorage(location=source.parent)
                storage.prefix = str(Path(path).parent)
                yield source.name, storage

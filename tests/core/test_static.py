"""The site serves its own front-end files with DEBUG off, from the app process alone."""

import pytest
from django.core.management import call_command


@pytest.fixture
def collected(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


@pytest.mark.parametrize("path", ["vendor/htmx/htmx.min.js", "vendor/pico/pico.min.css", "taizhang/site.css"])
def test_front_end_files_are_served_after_collectstatic(client, collected, path):
    response = client.get("/static/" + path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == (collected / path).read_bytes()
    assert "max-age" in response["Cache-Control"]


def test_a_browser_taking_gzip_gets_the_compressed_copy(client, collected):
    response = client.get("/static/vendor/htmx/htmx.min.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"


def test_a_file_that_is_not_there_is_404(client, collected):
    assert client.get("/static/vendor/htmx/nothing.js").status_code == 404


def test_the_larger_packages_are_served_file_by_file(settings, tmp_path):
    """ECharts and Leaflet come from node_modules one named file each (core.staticfinders), not
    their whole dist folders; a file missing (no npm ci) is named by `manage.py check`."""
    from django.contrib.staticfiles import finders

    from taizhang.core.staticfinders import VendorFileFinder

    for path, source in settings.VENDOR_FILES.items():
        assert finders.find(path) == str(source)
    listed = {storage.prefix + "/" + name for finder in finders.get_finders() if isinstance(finder, VendorFileFinder)
              for name, storage in finder.list([])}
    assert listed == set(settings.VENDOR_FILES)
    assert finders.find("vendor/echarts/echarts.js") is None  # in the dist folder, not named
    settings.VENDOR_FILES = {"vendor/x/missing.js": tmp_path / "missing.js"}
    [error] = VendorFileFinder().check()
    assert "missing.js is missing" in error.msg

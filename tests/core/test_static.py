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

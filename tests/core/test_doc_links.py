"""Every relative link in the README and docs/ leads to a file that exists, and every #anchor
to a heading of that file (as GitHub makes anchors), so moving a section breaks a test."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _anchor(heading: str) -> str:
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    return {_anchor(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.M)}


def _links():
    for document in DOCUMENTS:
        text = document.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if not re.match(r"[a-z]+:", target):
                yield document.relative_to(ROOT).as_posix(), target


@pytest.mark.parametrize(("document", "target"), list(_links()))
def test_each_relative_link_leads_somewhere(document, target):
    path_part, _hash, anchor = target.partition("#")
    path = (ROOT / document).parent / path_part if path_part else ROOT / document
    assert path.exists(), "%s links to %s, which does not exist" % (document, path_part)
    if anchor:
        assert anchor in _anchors(path), "%s links to #%s, not a heading of %s" % (document, anchor, path.name)

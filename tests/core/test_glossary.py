"""One word per thing (docs/glossary.md): the catalog translates each term the glossary lists
with the glossary's word; the ownership systems are 所属系统 on every page, in the presets and
in the README; the README names the roles as the pages do."""

import re
from pathlib import Path

import pytest
from django.utils import translation

from taizhang.accounts.models import Membership

ROOT = Path(__file__).resolve().parent.parent.parent
CATALOG = ROOT / "taizhang" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _catalog() -> dict[str, str]:
    """msgid -> msgstr, from the .po source (plain entries; plurals and contexts are not terms)."""
    entries = {}
    for block in CATALOG.read_text(encoding="utf-8").split("\n\n"):
        found = re.search(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', block + "\n", flags=re.M)
        if found and "\nmsgctxt " not in "\n" + block:
            msgid, msgstr = ("".join(re.findall(r'"(.*)"', part)) for part in found.groups())
            entries[msgid] = msgstr
    return entries


def _glossary() -> list[tuple[str, str]]:
    rows = []
    for line in (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 3 and cells[0] not in ("中文", "---"):
            rows.append((cells[0].split(" (")[0], cells[1]))
    return rows


GLOSSARY = _glossary()


def test_the_glossary_is_checked_for_most_of_its_terms():
    catalog = _catalog()
    checked = [english for _chinese, english in GLOSSARY
               if english in catalog or english.capitalize() in catalog or english.lower() in catalog]
    assert len(GLOSSARY) >= 45 and len(checked) >= 40


@pytest.mark.parametrize(("chinese", "english"), GLOSSARY)
def test_each_term_is_translated_with_the_glossarys_word(chinese, english):
    catalog = _catalog()
    for msgid in {english, english.capitalize(), english.lower()}:
        if msgid in catalog:
            assert catalog[msgid] == chinese, "%r is %r in the catalog, %r in the glossary" % (
                msgid, catalog[msgid], chinese)


def test_the_ownership_systems_are_called_suoshu_xitong_everywhere():
    catalog = _catalog()
    assert [s for s in catalog.values() if "权属系统" in s] == []
    # Not a placeholder's name (%(system)s), nor the system as the actor (系统自动).
    about_systems = {i: s for i, s in catalog.items()
                     if re.search(r"\b(ownership[- ])?systems?\b", re.sub(r"%\(\w+\)s", "", i), flags=re.I)
                     and "system's" not in i and i != "system" and "系统自动" not in s
                     and "coordinate system" not in i.lower()}  # 坐标系: the glossary's other "system"
    assert len(about_systems) >= 10
    assert {i: s for i, s in about_systems.items() if "所属系统" not in s} == {}
    for path in (ROOT / "README.md", *sorted((ROOT / "presets").glob("*.toml"))):
        assert "权属系统" not in path.read_text(encoding="utf-8"), path.name


def test_the_readme_names_the_roles_as_the_pages_do():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("| role (demo account) |", 1)[1].split("\n\n", 1)[0]
    named = {}
    for line in table.splitlines()[2:]:
        first = line.split("|")[1]
        username = re.search(r"\(`(\w+)`", first).group(1)
        named[username] = first.split(" ")[1]
    with translation.override("zh-hans"):
        pages = {role.value: str(role.label) for role in Membership.Role}
    assert named == pages

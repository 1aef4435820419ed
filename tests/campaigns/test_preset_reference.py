"""docs/presets.md against the loader: every key its table lists is required or optional as
the table says, refused with its name when given the wrong type, and every key the loader
knows is in the table. The reference cannot drift from the code unseen."""

import copy
import datetime
import re
import tomllib
from pathlib import Path
from unittest import mock

import pytest

from taizhang.campaigns import presets
from taizhang.campaigns.preset_keys import SCHEMA
from taizhang.campaigns.presets import PresetError, parse_preset
from tests.conftest import PRESET

DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "presets.md"
BUILT_IN = tomllib.loads(PRESET.read_text(encoding="utf-8"))


def _rows():
    """(key, type, required) for every key of the reference table."""
    text = DOC.read_text(encoding="utf-8").split("## The keys", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            for key in re.findall(r"`([^`]+)`", cells[0]):
                rows.append((key, cells[1], cells[2]))
    return rows


ROWS = _rows()


def _places(data, key):
    """(container, name) pairs where `key` ("groups[].code", "pilots.per_street_min") lives in `data`."""
    places = [(None, data)]
    parts = key.split(".")
    for i, part in enumerate(parts):
        name, many = part.removesuffix("[]"), part.endswith("[]")
        if i == len(parts) - 1:
            return [(holder, name) for _parent, holder in places]
        nxt = []
        for _parent, holder in places:
            child = holder.setdefault(name, [{}] if many else {})
            nxt += [(holder, item) for item in child] if many else [(holder, child)]
        places = nxt
    return []


def _parse(data):
    with mock.patch.object(presets.tomllib, "loads", return_value=data):
        return parse_preset("")


def _pattern(key):
    return re.escape(key).replace(r"\[\]", r"\[\d+\]")


@pytest.mark.parametrize(("key", "required"), [(k, r) for k, _t, r in ROWS])
def test_each_key_is_required_or_optional_as_the_reference_says(key, required):
    data = copy.deepcopy(BUILT_IN)
    data.setdefault("pilots", {}).update(per_system_min=1)
    data.setdefault("plan_templates", [])
    for holder, name in _places(data, key):
        holder.pop(name, None)
    if required == "required":
        with pytest.raises(PresetError, match="“%s”" % _pattern(key)):
            _parse(data)
    else:
        assert required == "optional"
        _parse(data)


WRONG = {"text": 5, "whole number": "5", "date": "2015-11-01", "list": "5", "table": "5", "array": "5",
         "one of": 5, "code": 5}


def _wrong(kind: str):
    for start, value in WRONG.items():
        if kind.startswith(start) or kind.endswith(start):
            return value
    raise AssertionError("no wrong value for type %r" % kind)


@pytest.mark.parametrize(("key", "kind"), [(k, t) for k, t, _r in ROWS])
def test_each_key_of_the_wrong_type_is_refused_by_name(key, kind):
    data = copy.deepcopy(BUILT_IN)
    data.setdefault("pilots", {}).update(per_system_min=1)
    for holder, name in _places(data, key):
        holder[name] = _wrong(kind)
    with pytest.raises(PresetError, match="“%s(\\[0\\])?”" % _pattern(key)):
        _parse(data)


def _schema_keys(schema, prefix=""):
    for name, shape in schema.items():
        key = prefix + name
        if isinstance(shape, list):
            yield key
            yield from _schema_keys(shape[0], key + "[].")
        elif isinstance(shape, dict):
            yield from _schema_keys(shape, key + ".")
        else:
            yield key


def test_every_key_the_loader_knows_is_in_the_reference():
    documented = {k for k, _t, _r in ROWS}
    tables = {"command", "office", "pilots", "petitions", "anti_rebound", "publicity", "campaign"}
    assert set(_schema_keys(SCHEMA)) - documented - tables == set()
    assert documented - set(_schema_keys(SCHEMA)) - tables == set()


def test_the_builtin_dates_are_dates():
    # The reference says dates are TOML dates; the built-in file keeps to it.
    assert isinstance(BUILT_IN["campaign"]["starts_on"], datetime.date)

"""The preset's map keys: `[map] bounds` (where a campaign's points may lie) and each street's
`outline`; each bad value refused by its key, nothing loaded; the default box without bounds."""

import copy
import tomllib
from unittest import mock

import pytest

from taizhang.campaigns import presets
from taizhang.campaigns.models import Campaign
from taizhang.campaigns.presets import PresetError, parse_preset
from taizhang.core.coordinates import Box
from tests.conftest import PRESET

BUILT_IN = tomllib.loads(PRESET.read_text(encoding="utf-8"))


def _parse(data):
    with mock.patch.object(presets.tomllib, "loads", return_value=data):
        return parse_preset("")


def _with(bounds=None, outline=None):
    data = copy.deepcopy(BUILT_IN)
    if bounds is not None:
        data["map"] = {"bounds": bounds}
    if outline is not None:
        data["streets"][3]["outline"] = outline
    return data


def test_the_built_in_preset_bounds_shijingshan_generously():
    rules = _parse(_with())["rules"]["map"]
    box = Box(*rules["bounds"])
    assert (116.2229, 39.9056) in box  # the district's seat
    assert (116.4, 39.9) not in box  # Tiananmen is another district
    assert rules["outlines"] == {}


def test_a_street_outline_is_kept_by_its_street_code():
    outline = [[116.10, 39.88], [116.22, 39.88], [116.22, 39.95]]
    assert _parse(_with(outline=outline))["rules"]["map"]["outlines"] == {"GC": outline}


@pytest.mark.parametrize(("bounds", "outline", "key"), [
    ([116.0, 39.8, 116.35], None, "map.bounds"),
    ([116.0, 39.8, 116.35, "40"], None, "map.bounds[3]"),
    ([116.0, 95.0, 116.35, 40.0], None, "map.bounds[1]"),
    ([116.35, 39.8, 116.0, 40.05], None, "map.bounds"),  # west of its east edge
    ([116.0, 39.8, 116.35, True], None, "map.bounds[3]"),
    (None, [[116.1, 39.9], [116.2, 39.9]], "streets[3].outline"),
    (None, [[116.1, 39.9], [116.2, 39.9], [116.2]], "streets[3].outline[2]"),
    (None, [[116.1, 39.9], [116.2, 39.9], [200, 39.95]], "streets[3].outline[2][0]"),
])
def test_a_bad_map_key_is_refused_by_name(bounds, outline, key):
    with pytest.raises(PresetError, match="“%s”" % key.replace("[", r"\[").replace("]", r"\]")):
        _parse(_with(bounds, outline))


@pytest.mark.parametrize(("district", "inside", "outside"), [
    ("北京市石景山区", (116.4, 39.9), (121.5, 31.2)),  # Beijing with a margin: Tiananmen in, Shanghai out
    ("示例区", (121.5, 31.2), (139.7, 35.7)),  # elsewhere: China; Tokyo is not
])
def test_without_bounds_the_district_gives_a_generous_box(district, inside, outside):
    campaign = Campaign(district=district, rules={"map": {"bounds": None, "outlines": {}}})
    assert inside in campaign.map_box() and outside not in campaign.map_box()
    assert Campaign(district=district, rules={}).map_box() == campaign.map_box()  # loaded before the key

"""Converting points between WGS-84, GCJ-02 and BD-09 (core.coordinates), pinned to pairs
other projects publish:

- WGS-84 -> GCJ-02 in Shanghai, Shenzhen and Beijing: googollee/eviltransform, the test
  table every port of it shares (python/test.py, go/transform_test.go; MIT).
- BD-09 <-> GCJ-02 and WGS-84 <-> GCJ-02 at (116.404, 39.915), Tiananmen: the results printed
  in wandergis/coordtransform's README (MIT), which hutool's CoordinateUtilTest also uses.
"""

import math

import pytest

from taizhang.core.coordinates import WORDS, Box, CoordinateSystem, convert, system_key

WGS, GCJ, BD = CoordinateSystem.WGS84, CoordinateSystem.GCJ02, CoordinateSystem.BD09

# (longitude, latitude) WGS-84, then GCJ-02: eviltransform's TESTS (given there latitude first).
EVILTRANSFORM = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]
TIANANMEN = (116.404, 39.915)


def _metres(a, b) -> float:
    """Distance between two nearby (longitude, latitude) points, in metres."""
    dx = math.radians(a[0] - b[0]) * math.cos(math.radians(a[1]))
    dy = math.radians(a[1] - b[1])
    return 6_371_000 * math.hypot(dx, dy)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM)
def test_wgs84_to_gcj02_gives_the_published_point(wgs, gcj):
    assert convert(*wgs, WGS, GCJ) == pytest.approx(gcj, abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), EVILTRANSFORM)
def test_gcj02_back_to_wgs84_lands_within_a_centimetre(wgs, gcj):
    assert _metres(convert(*gcj, GCJ, WGS), wgs) < 0.01  # eviltransform asks 0.5 m of its exact inverse


def test_the_coordtransform_readme_pairs():
    assert convert(*TIANANMEN, BD, GCJ) == pytest.approx((116.39762729119315, 39.90865673957631), abs=1e-6)
    assert convert(*TIANANMEN, GCJ, BD) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-12)
    assert convert(*TIANANMEN, WGS, GCJ) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-12)
    # The README's GCJ-02 -> WGS-84 is the one-step approximation (metres off); ours iterates.
    assert _metres(convert(*TIANANMEN, GCJ, WGS), (116.39775550083061, 39.91359571849836)) < 5


@pytest.mark.parametrize(("source", "target"), [(a, b) for a in CoordinateSystem for b in CoordinateSystem])
def test_every_way_round_comes_back_to_where_it_started(source, target):
    there = convert(*TIANANMEN, source, target)
    assert _metres(convert(*there, target, source), TIANANMEN) < 0.01


def test_the_shift_is_the_size_everyone_knows():
    """GCJ-02 lies a few hundred metres from WGS-84 in Beijing; BD-09 about a kilometre."""
    assert 300 < _metres(convert(*TIANANMEN, WGS, GCJ), TIANANMEN) < 800
    assert 800 < _metres(convert(*TIANANMEN, WGS, BD), TIANANMEN) < 1500


@pytest.mark.parametrize(("word", "system"), [
    ("WGS84", WGS), ("wgs-84", WGS), ("GPS", WGS), ("WGS84坐标系", WGS), ("CGCS2000", WGS), ("天地图", WGS),
    ("GCJ02", GCJ), ("GCJ-02", GCJ), ("高德", GCJ), ("火星坐标", GCJ), ("国测局坐标系", GCJ), ("腾讯地图", GCJ),
    ("BD09", BD), ("bd-09", BD), ("百度", BD), ("百度坐标", BD), ("BD09LL", BD),
])
def test_the_names_offices_write(word, system):
    assert WORDS[system_key(word)] == system


def test_a_box_holds_what_lies_inside_it():
    box = Box(116.0, 39.8, 116.35, 40.05)
    assert (116.2, 39.9) in box and (39.9, 116.2) not in box
    assert box.has_longitude(116.2) and not box.has_latitude(116.2)

"""Coordinate systems of the points a ledger stores, and converting between them.

Chinese maps do not all use the GPS system. A point typed from a GPS receiver, a phone's
location or 天地图 is WGS-84 (天地图's CGCS2000 differs from it by centimetres); one copied
from 高德 or 腾讯 maps is GCJ-02, WGS-84 shifted by a published non-linear offset of a few
hundred metres; one from 百度 maps is BD-09, GCJ-02 shifted again. Each stored point says
its system, and a map converts them all to the one its tiles use.

The conversions are prcoords' (CC0; the formulas every library shares). The precise
inverses iterate to within a centimetre; tests/core/test_coordinates.py pins published pairs.
"""

from dataclasses import dataclass
from functools import lru_cache

import prcoords
from django.db import models


class CoordinateSystem(models.TextChoices):
    """The three systems points come in (names as GIS people write them)."""

    WGS84 = "wgs84", "WGS-84"
    GCJ02 = "gcj02", "GCJ-02"
    BD09 = "bd09", "BD-09"


# How offices and phone apps name the systems, as `system_key` reads them.
SYSTEM_WORDS = {
    CoordinateSystem.WGS84: ("wgs84", "wgs1984", "wgs", "gps", "epsg4326", "4326", "cgcs2000",
                             "国家2000", "天地图", "地球", "谷歌地球", "googleearth", "北斗"),
    CoordinateSystem.GCJ02: ("gcj02", "gcj", "火星", "国测局", "高德", "高德地图", "腾讯", "腾讯地图", "amap",
                             "gaode", "autonavi", "tencent", "qq", "qqmap"),
    CoordinateSystem.BD09: ("bd09", "bd09ll", "bd", "百度", "百度地图", "baidu"),
}
_TRIM = str.maketrans("", "", " -_－—.·()（）")
_SUFFIXES = ("坐标系统", "坐标系", "坐标", "系统")


def system_key(text: str) -> str:
    """What a system's name is known by: lower case, without spaces, dashes, brackets or a
    trailing 坐标系 ("WGS-84坐标系" -> "wgs84", "百度坐标" -> "百度"). Callers NFKC it first."""
    key = text.lower().translate(_TRIM)
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


WORDS = {system_key(word): system for system, words in SYSTEM_WORDS.items() for word in words}


@lru_cache(maxsize=200_000)
def convert(longitude: float, latitude: float, source: str, target: str) -> tuple[float, float]:
    """(longitude, latitude) in system `target`, given in system `source`.

    Remembered: a map asks for the same stored points again and again, and the precise
    inverse costs about 7 µs a point.
    """
    if source == target:
        return longitude, latitude
    point = (latitude, longitude)  # prcoords' order
    if source == CoordinateSystem.BD09:
        point = prcoords.bd_gcj_bored(point, False)
    elif source == CoordinateSystem.WGS84:
        point = prcoords.wgs_gcj(point, False)
    if target == CoordinateSystem.WGS84:
        point = prcoords.gcj_wgs_bored(point, False)
    elif target == CoordinateSystem.BD09:
        point = prcoords.gcj_bd(point)
    return point[1], point[0]


@dataclass(frozen=True)
class Box:
    """A rectangle of WGS-84 longitude and latitude: the area a campaign's points lie in."""

    west: float
    south: float
    east: float
    north: float

    def __contains__(self, point: tuple[float, float]) -> bool:
        longitude, latitude = point
        return self.west <= longitude <= self.east and self.south <= latitude <= self.north

    def has_longitude(self, longitude: float) -> bool:
        return self.west <= longitude <= self.east

    def has_latitude(self, latitude: float) -> bool:
        return self.south <= latitude <= self.north

    def as_list(self) -> list[float]:
        return [self.west, self.south, self.east, self.north]

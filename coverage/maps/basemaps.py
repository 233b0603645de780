"""Basemap choice for the map pages (all tiles WGS84 / CGCS2000 Web Mercator).

``basemap``:

* ``"osm"`` (default): OpenStreetMap tiles.
* ``"tianditu-vec"`` / ``"tianditu-img"``: Tianditu (天地图) vector or imagery tiles with
  Chinese annotation. Tianditu needs a user key. The key is NEVER written into a page:
  the page reads it from its address (``map.html#tk=KEY``) or asks for it once and keeps
  it in the browser's localStorage. ``tianditu_key`` given to the renderer is only
  checked (see :func:`keyed_url` for the address to open).
* any ``https://…{z}…{x}…{y}…`` XYZ URL of WGS84 Web Mercator tiles, followed by ``|``
  and its attribution, e.g. ``"https://tiles.example.org/{z}/{x}/{y}.png|© Example"``.

Known GCJ-02 / BD-09 providers (Amap/Gaode, Tencent, Baidu) are refused: their tiles
are shifted by ~600 m in Shenzhen, so every WGS84 overlay would sit in the wrong place.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError

__all__ = ["resolve_basemap", "check_tianditu_key", "keyed_url", "GCJ02_HOSTS"]

OSM = {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "subdomains": "abc",
       "attribution": "© OpenStreetMap contributors"}
_TDT = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
        "&TILECOL={x}&tk={tk}")
TDT_ATTRIBUTION = "© 天地图 Tianditu (GS(2024)0568号)"
#: Host name fragments of tile providers that publish GCJ-02 (or BD-09) tiles.
GCJ02_HOSTS = ("amap.com", "autonavi.com", "gaode", "map.qq.com", "gtimg.com", "tencent",
               "map.baidu.com", "bdimg.com", "baidu.com")


def _tianditu(base: str) -> list[dict]:
    notes = {"vec": "cva", "img": "cia"}[base]
    return [{"url": _TDT.replace("{layer}", layer), "subdomains": "01234567",
             "attribution": TDT_ATTRIBUTION if layer == base else ""}
            for layer in (base, notes)]


def check_tianditu_key(key: str | None) -> str | None:
    """The key if it looks like one (letters and digits); InputError otherwise."""
    if key is None:
        return None
    if not re.fullmatch(r"[0-9A-Za-z]{16,64}", str(key)):
        raise InputError("map option tianditu_key: a Tianditu key is 16-64 letters and digits "
                         "(get one at https://console.tianditu.gov.cn/)")
    return str(key)


def keyed_url(page: str | Path, key: str) -> str:
    """The address that opens a Tianditu ``page`` with ``key`` (not stored in the file)."""
    return f"{Path(page).resolve().as_uri()}#tk={check_tianditu_key(key)}"


def resolve_basemap(basemap: str | None, offline: bool) -> dict | None:
    """What the page script draws as its basemap; None for no tiles (``offline``)."""
    if offline:
        return None
    choice = (basemap or "osm").strip()
    if choice == "osm":
        return {"layers": [OSM], "needs_key": False}
    if choice in ("tianditu-vec", "tianditu-img"):
        return {"layers": _tianditu(choice.split("-")[1]), "needs_key": True}
    url, _, attribution = choice.partition("|")
    url, attribution = url.strip(), attribution.strip()
    low = url.lower()
    if any(h in low for h in GCJ02_HOSTS):
        raise InputError(
            f"map option basemap={url!r}: Amap/Gaode, Tencent and Baidu tiles use GCJ-02 or "
            "BD-09 coordinates, ~600 m off the plan's WGS84 layers in Shenzhen; use \"osm\", "
            "\"tianditu-vec\", \"tianditu-img\" or a WGS84 XYZ URL")
    if not re.match(r"https://", url) or not all(p in url for p in ("{z}", "{x}", "{y}")):
        raise InputError(
            f"map option basemap={choice!r}: use \"osm\", \"tianditu-vec\", \"tianditu-img\" "
            "or an https XYZ URL with {z}, {x} and {y} followed by |attribution")
    if not attribution:
        raise InputError(f"map option basemap={url!r}: add the tiles' attribution after a "
                         "'|', e.g. \"https://…/{z}/{x}/{y}.png|© Example\"")
    return {"layers": [{"url": url, "attribution": attribution,
                        "subdomains": "abc"}], "needs_key": False}

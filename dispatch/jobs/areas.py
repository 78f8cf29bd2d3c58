"""Patrol areas (issue 13): a car may have an area, a Polygon or MultiPolygon in WGS 84
(GeoJSON, longitude before latitude), stored on the patrol (``patrols.area_geojson``).

``parse_area`` reads what an admin pasted or a file held (a Feature, a FeatureCollection of
polygons, or a bare geometry) and checks it with shapely: a polygon, valid, in degree ranges,
not too large; anything else is an ``AreaError`` whose code says what, so that the page and
the command can say it in their own words. ``set_area`` stores it; ``outside_every_area``
answers whether a complaint's address lies outside every car's area (``None`` when no car has
an area, or the address has no position).

The areas are read into one prepared geometry per process and database (the union of every
car's area, ``shapely.prepare``), tested with ``contains``. A change of area stamps
``area_changed_at``: the process that made it drops its copy at once, every other process
notices at its next check (at most ``RECHECK_S`` seconds later) that the areas' stamp is not
the one it built from, and builds again.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field

import shapely
from pyproj import Geod
from shapely.geometry import mapping, shape
from shapely.geometry.polygon import orient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.core.realtime import publish
from dispatch.models import Patrol, utcnow

# What one area may be: the pasted text, the corners, the size of the ground it covers.
MAX_TEXT_BYTES = 450_000  # below the 500 kB a form field may hold (Werkzeug)
MAX_VERTICES = 10_000
MAX_AREA_KM2 = 5_000.0
# How often a process asks the database whether another process changed an area.
RECHECK_S = 2.0

_GEOD = Geod(ellps="WGS84")
POLYGONAL = ("Polygon", "MultiPolygon")


class AreaError(ValueError):
    """An area that cannot be stored; ``code`` says why, ``params`` the details."""

    def __init__(self, code: str, message: str, **params):
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params


def _geometries(data) -> list[dict]:
    """The geometry objects of a Feature, a FeatureCollection or a bare geometry."""
    if not isinstance(data, dict):
        raise AreaError("not_geojson", "the text is not a GeoJSON object")
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or not features:
            raise AreaError("no_polygon", "the FeatureCollection holds no feature")
        return [g for f in features for g in _geometries(f)]
    if kind == "Feature":
        geometry = data.get("geometry")
        if not isinstance(geometry, dict):
            raise AreaError("no_polygon", "a Feature has no geometry")
        return [geometry]
    if kind in POLYGONAL:
        return [data]
    if isinstance(kind, str) and kind:
        raise AreaError("not_polygon", f"a {kind} is not an area: use a Polygon or "
                        "MultiPolygon", kind=kind)
    raise AreaError("not_geojson", "the text is not GeoJSON (no \"type\")")


def parse_area(text: str) -> shapely.Polygon | shapely.MultiPolygon:
    """The area in ``text`` (GeoJSON), checked; raises ``AreaError``."""
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise AreaError("too_long", f"more than {MAX_TEXT_BYTES // 1000} kB",
                        limit=MAX_TEXT_BYTES // 1000)
    if not text.strip():
        raise AreaError("missing", "no GeoJSON was given")
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise AreaError("invalid_json", f"not JSON (line {line})", line=line) from None
    parts = []
    for geometry in _geometries(data):
        kind = geometry.get("type")
        if kind not in POLYGONAL:
            raise AreaError("not_polygon", f"a {kind} is not an area: use a Polygon or "
                            "MultiPolygon", kind=str(kind))
        try:
            parts.append(shapely.force_2d(shape(geometry)))
        except (ValueError, TypeError, AttributeError, IndexError, KeyError,
                shapely.errors.GEOSException):
            raise AreaError("bad_coordinates", f"the {kind}'s coordinates are not rings "
                            "of [longitude, latitude] pairs") from None
    area = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    if area.is_empty or area.geom_type not in POLYGONAL:
        raise AreaError("empty", "the area is empty")
    coords = shapely.get_coordinates(area)
    if len(coords) > MAX_VERTICES:
        raise AreaError("too_many_vertices", f"more than {MAX_VERTICES} corners",
                        limit=MAX_VERTICES)
    if not all(math.isfinite(v) for v in coords.flat):
        raise AreaError("bad_coordinates", "a coordinate is not a number")
    lon_min, lat_min, lon_max, lat_max = area.bounds
    if lon_min < -180 or lon_max > 180 or lat_min < -90 or lat_max > 90:
        raise AreaError("out_of_range", "the coordinates are not WGS 84 degrees "
                        "(longitude -180…180, latitude -90…90)")
    if not area.is_valid:
        reason = shapely.is_valid_reason(area)
        raise AreaError("invalid_polygon", f"not a valid polygon: {reason}", reason=reason)
    km2 = area_km2(area)
    if km2 <= 0:
        raise AreaError("empty", "the area is empty")
    if km2 > MAX_AREA_KM2:
        raise AreaError("too_large", f"{km2:.0f} km², more than {MAX_AREA_KM2:.0f} km²",
                        km2=round(km2), limit=round(MAX_AREA_KM2))
    return area


def area_km2(area) -> float:
    """The area's size on the ground (on the WGS 84 ellipsoid), in square kilometres."""
    return sum(_GEOD.geometry_area_perimeter(orient(part, 1.0))[0]
               for part in shapely.get_parts(area)) / 1e6


def set_area(session: Session, patrol: Patrol, text: str | None) -> Patrol:
    """Give the car the area in ``text`` (checked by ``parse_area``), or none (``None``)."""
    if text is None:
        patrol.area_geojson = None
    else:
        patrol.area_geojson = json.dumps(mapping(parse_area(text)), separators=(",", ":"))
    patrol.area_changed_at = utcnow()
    session.flush()
    forget()
    # Every open console redraws the areas when this commits (no reload at night).
    publish(session, "areas.updated", areas_geojson(session), namespace="/console")
    return patrol


def areas_geojson(session: Session) -> dict:
    """Every car's area as one FeatureCollection (property ``patrol_id``, ``call_sign``,
    ``name``), for the console's map."""
    rows = session.execute(
        select(Patrol.id, Patrol.call_sign, Patrol.name, Patrol.area_geojson)
        .where(Patrol.area_geojson.is_not(None)).order_by(Patrol.call_sign)).all()
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(row.area_geojson),
         "properties": {"patrol_id": row.id, "call_sign": row.call_sign, "name": row.name}}
        for row in rows]}


# -- the per-process cache -------------------------------------------------------------------

@dataclass
class _Areas:
    stamp: tuple
    union: object | None  # the prepared union of every area, or None when there is none
    checked: float = field(default_factory=time.monotonic)


_cache: dict[str, _Areas] = {}
_lock = threading.Lock()


def forget() -> None:
    """Drop this process's copy of the areas (an area changed here)."""
    with _lock:
        _cache.clear()


def _stamp(session: Session) -> tuple:
    row = session.execute(select(func.count(Patrol.area_geojson), func.max(Patrol.area_changed_at),
                                 func.sum(func.length(Patrol.area_geojson)))).one()
    return tuple(row)


def _build(session: Session, stamp: tuple) -> _Areas:
    texts = session.scalars(select(Patrol.area_geojson)
                            .where(Patrol.area_geojson.is_not(None))).all()
    union = None
    if texts:
        union = shapely.union_all([shape(json.loads(t)) for t in texts])
        shapely.prepare(union)
    return _Areas(stamp=stamp, union=union)


def _current(session: Session) -> _Areas:
    key = str(session.get_bind().engine.url)
    with _lock:
        cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached.checked < RECHECK_S:
        return cached
    stamp = _stamp(session)
    if cached is None or cached.stamp != stamp:
        cached = _build(session, stamp)
    else:
        cached.checked = time.monotonic()
    with _lock:
        _cache[key] = cached
    return cached


def outside_every_area(session: Session, lat: float | None, lon: float | None) -> bool | None:
    """Whether the point lies outside every car's area: ``None`` when no car has an area or
    the point is unknown, else ``not contains``."""
    if lat is None or lon is None:
        return None
    union = _current(session).union
    if union is None:
        return None
    return not bool(shapely.contains_xy(union, lon, lat))

"""The optional geocoder for register rows without coordinates (setting ``GEOCODER``).

``GEOCODER=nominatim`` uses OpenStreetMap's Nominatim through geopy, rate-limited to its
policy of one request a second; unset, no geocoding is done and such objects are imported and
flagged as not on the map.
"""

from __future__ import annotations

from imports.apply import Geocoder


def make_geocoder(name: str | None, *, user_agent: str = "storningsjour-import") -> Geocoder | None:
    """A callable ``address → (lat, lon) | None`` for the configured service, or None."""
    if not name:
        return None
    if name != "nominatim":
        raise ValueError(f"unknown GEOCODER {name!r}; supported: nominatim")
    from geopy.extra.rate_limiter import RateLimiter
    from geopy.geocoders import Nominatim

    lookup = RateLimiter(Nominatim(user_agent=user_agent, timeout=5).geocode,
                         min_delay_seconds=1.0, swallow_exceptions=True)

    def geocode(address: str):
        location = lookup(address, country_codes=["se", "fi"])
        return (location.latitude, location.longitude) if location else None

    return geocode

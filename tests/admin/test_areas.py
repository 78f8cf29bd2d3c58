"""Patrol areas (issue 13): an admin gives a car its area as GeoJSON (pasted or a file; a
Feature, a FeatureCollection or a bare geometry), shapely checks it (a valid polygon in WGS 84
degrees, not too large) and a refusal says why in the admin's language and keeps what was
typed; ``dispatch patrol-area CALL_SIGN FILE`` does the same from a shell."""

from __future__ import annotations

import io
import json
import re

import pytest
from babel import support
from babel.messages.pofile import read_po
from sqlalchemy import select

import dispatch
from dispatch.jobs.areas import MAX_VERTICES
from dispatch.models import AuditEvent, Patrol

# About 1.1 km by 1.1 km around Götgatan, Stockholm (lon, lat).
SODER = [[18.065, 59.308], [18.085, 59.308], [18.085, 59.318], [18.065, 59.318], [18.065, 59.308]]
BOWTIE = [[18.0, 59.3], [18.1, 59.4], [18.1, 59.3], [18.0, 59.4], [18.0, 59.3]]


def polygon(ring=SODER) -> dict:
    return {"type": "Polygon", "coordinates": [ring]}


def feature(geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"name": "Söder"}, "geometry": geometry}


def shifted(ring, dlon):
    return [[x + dlon, y] for x, y in ring]


@pytest.fixture
def admin(auth, create_user):
    create_user(role="admin", email="admin@example.se")
    auth.login("admin@example.se")
    return auth


@pytest.fixture
def car(db_session):
    patrol = Patrol(call_sign="Jour 11", name="Jour 11")
    db_session.add(patrol)
    db_session.flush()
    return patrol


def post_area(client, admin, car, text=None, file=None):
    data = {"csrf_token": admin.csrf_token("/admin/areas"), "patrol": str(car.id),
            "geojson": text or ""}
    if file is not None:
        data["file"] = (io.BytesIO(file), "area.geojson")
    return client.post("/admin/areas", data=data, content_type="multipart/form-data")


def stored(db_session, car) -> dict | None:
    db_session.refresh(car)
    return json.loads(car.area_geojson) if car.area_geojson else None


def test_only_admins_reach_the_areas_page(auth, client, create_user):
    create_user(role="operator", email="op@example.se")
    auth.login("op@example.se")
    assert client.get("/admin/areas").status_code == 403


def test_a_pasted_feature_becomes_the_cars_area_listed_with_its_size_and_audited(
        admin, client, db_session, car):
    answer = post_area(client, admin, car, json.dumps(feature(polygon())))
    assert answer.status_code == 302
    assert stored(db_session, car)["type"] == "Polygon"
    page = client.get("/admin/areas").get_data(as_text=True)
    row = re.search(rf'<tr id="area-{car.id}">.*?</tr>', page, re.S).group(0)
    assert "1,27" in row  # 1.14 km × 1.11 km, with a Swedish decimal comma
    assert "Området för Jour 11 är sparat." in page
    event = db_session.scalars(select(AuditEvent)
                               .where(AuditEvent.action == "patrol.area_set")).one()
    assert event.subject == "Jour 11"


def test_an_uploaded_feature_collection_of_two_polygons_becomes_one_multipolygon(
        admin, client, db_session, car):
    collection = {"type": "FeatureCollection", "features": [
        feature(polygon()), feature(polygon(shifted(SODER, 0.05)))]}
    answer = post_area(client, admin, car, file=json.dumps(collection).encode())
    assert answer.status_code == 302
    area = stored(db_session, car)
    assert area["type"] == "MultiPolygon" and len(area["coordinates"]) == 2


def test_a_bare_polygon_with_heights_is_stored_flat(admin, client, db_session, car):
    ring = [[x, y, 12.5] for x, y in SODER]
    assert post_area(client, admin, car, json.dumps(polygon(ring))).status_code == 302
    assert all(len(point) == 2 for point in stored(db_session, car)["coordinates"][0])


@pytest.mark.parametrize(("text", "said"), [
    (json.dumps(polygon(BOWTIE)), "Polygonen är inte giltig (Self-intersection"),
    (json.dumps(polygon([[674000, 6580000], [675000, 6580000], [675000, 6581000],
                         [674000, 6580000]])), "Koordinaterna är inte grader i WGS 84"),
    (json.dumps({"type": "Point", "coordinates": [18.07, 59.31]}),
     "En Point är inget område"),
    (json.dumps(polygon([[10, 55], [25, 55], [25, 69], [10, 55]])),
     "en bils område får vara högst 5000 km²"),
    ('{"type": "Polygon", "coordinates": [[[18.0, 59.3]', "Det här är inte giltig JSON (se rad 1)"),
    (json.dumps({"type": "FeatureCollection", "features": []}),
     "GeoJSON-texten innehåller inget område"),
    (json.dumps(polygon([[18.0, 59.3], [18.1, 59.3]])),
     "Koordinaterna är inte slutna ringar"),
    ("", "Klistra in GeoJSON eller välj en fil."),
])
def test_a_refused_area_says_why_in_swedish_keeps_the_text_and_stores_nothing(
        admin, client, db_session, car, text, said):
    answer = post_area(client, admin, car, text)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    error = re.search(r'<p class="error" id="geojson-error">(.*?)</p>', page, re.S)
    assert error and said in error.group(1).replace("&#39;", "'")
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1)
    assert textarea.strip() == text.replace('"', "&#34;").strip()
    assert stored(db_session, car) is None


def test_a_refused_file_is_kept_in_the_text_field(admin, client, db_session, car):
    text = json.dumps(polygon(BOWTIE))
    page = post_area(client, admin, car, file=text.encode()).get_data(as_text=True)
    assert "18.0, 59.3" in page and "Polygonen är inte giltig" in page
    assert stored(db_session, car) is None


def test_an_area_with_too_many_corners_is_refused(admin, client, db_session, car):
    import math
    n = MAX_VERTICES + 10
    ring = [[round(18.07 + 0.01 * math.cos(2 * math.pi * i / n), 6),
             round(59.31 + 0.005 * math.sin(2 * math.pi * i / n), 6)] for i in range(n)]
    ring.append(ring[0])
    page = post_area(client, admin, car, json.dumps(polygon(ring))).get_data(as_text=True)
    assert f"Området har fler än {MAX_VERTICES} hörn" in page
    assert stored(db_session, car) is None


def test_a_file_that_is_not_text_is_refused_in_words(admin, client, db_session, car):
    page = post_area(client, admin, car, file=b"\xff\xfe\x00junk").get_data(as_text=True)
    assert "Filen är inte text (UTF-8)" in page
    assert stored(db_session, car) is None


def test_removing_an_area_leaves_the_car_without_one(admin, client, db_session, car):
    post_area(client, admin, car, json.dumps(polygon()))
    token = admin.csrf_token("/admin/areas")
    answer = client.post(f"/admin/areas/{car.id}/remove", data={"csrf_token": token})
    assert answer.status_code == 302
    assert stored(db_session, car) is None
    assert "Jour 11 har inget område nu." in client.get("/admin/areas").get_data(as_text=True)


def test_removing_the_area_of_an_unknown_car_is_not_found(admin, client):
    token = admin.csrf_token("/admin/areas")
    assert client.post("/admin/areas/999999/remove", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("locale", ["sv", "fi"])
def test_the_areas_page_and_its_errors_are_translated(admin, client, car, locale, monkeypatch):
    used = set()
    gettext = support.Translations.ugettext

    def spy(self, message):
        if getattr(self, "domain", "messages") == "messages":
            used.add(message)
        return gettext(self, message)

    monkeypatch.setattr(support.Translations, "ugettext", spy)
    client.get(f"/admin/areas?lang={locale}")
    post_area(client, admin, car, json.dumps(polygon(BOWTIE)))
    post_area(client, admin, car, json.dumps(polygon()))
    client.get("/admin/areas")
    path = f"{dispatch.__path__[0]}/translations/{locale}/LC_MESSAGES/messages.po"
    with open(path, "rb") as f:
        catalog = {m.id: m.string for m in read_po(f) if m.id and not m.fuzzy}
    assert "Patrol areas" in used and "Save the area" in used
    assert sorted(m for m in used if isinstance(m, str) and not catalog.get(m)) == []


# -- the command ----------------------------------------------------------------------------

def test_the_command_gives_a_car_the_area_in_a_file(runner, db_session, car, tmp_path):
    path = tmp_path / "söder.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection",
                                "features": [feature(polygon())]}), encoding="utf-8")
    result = runner.invoke(args=["patrol-area", "Jour 11", str(path)])
    assert result.exit_code == 0, result.output
    assert "Jour 11: område på 1,27 km²" in result.output  # the app's language
    assert stored(db_session, car)["type"] == "Polygon"


def test_the_command_refuses_a_bad_area_and_keeps_the_old_one(runner, db_session, car, tmp_path):
    good, bad = tmp_path / "good.geojson", tmp_path / "bad.geojson"
    good.write_text(json.dumps(polygon()), encoding="utf-8")
    bad.write_text(json.dumps(polygon(BOWTIE)), encoding="utf-8")
    assert runner.invoke(args=["patrol-area", "Jour 11", str(good)]).exit_code == 0
    result = runner.invoke(args=["patrol-area", "Jour 11", str(bad)])
    assert result.exit_code == 1
    assert "Polygonen är inte giltig (Self-intersection" in result.output
    assert stored(db_session, car)["coordinates"][0][0] == SODER[0]


def test_the_command_names_an_unknown_call_sign(runner, tmp_path):
    path = tmp_path / "area.geojson"
    path.write_text(json.dumps(polygon()), encoding="utf-8")
    result = runner.invoke(args=["patrol-area", "Jour 99", str(path)])
    assert result.exit_code == 2 and "ingen patrull med anropssignalen 'Jour 99'" in result.output


def test_the_command_removes_an_area(runner, db_session, car, tmp_path):
    path = tmp_path / "area.geojson"
    path.write_text(json.dumps(polygon()), encoding="utf-8")
    runner.invoke(args=["patrol-area", "Jour 11", str(path)])
    result = runner.invoke(args=["patrol-area", "Jour 11", "--remove"])
    assert result.exit_code == 0 and "Jour 11: inget område" in result.output
    assert stored(db_session, car) is None

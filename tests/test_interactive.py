"""Interactive charts: specs that cannot inject markup, inline data only, and drawn in a real browser."""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.outputs import interactive
from sim.outputs.html import Html, figure, page
from sim.outputs.interactive import forest_spec, lines_spec, scripts, vega_figure
from sim.outputs.interactive_map import map_spec
from tests.test_report import _chromium

HOSTILE = "</script><img src=x onerror=alert(1)>"
SNEAKY = "A & B <!-- \u2028 \u2029 </SCRIPT >"
COLOURS = {"double_control": "#1f77b4", "joint_control": "#ff7f0e", HOSTILE: "#2ca02c"}
MAP = Path("scenarios/data/kz_ru_map.geojson")
CATALOGUE = Path("scenarios/data/kz_ru_crossings.csv")
# a PNG of one pixel, standing in for the static chart a report embeds
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="


def forest_rows() -> pd.DataFrame:
    rows = []
    for scenario in COLOURS:
        for k, flow in enumerate(["car", "truck", SNEAKY]):
            for metric, unit, scale in (("time in system (min)", "min", 30.0), ("throughput", "per day", 400.0)):
                diff = scale * (k - 1 + 0.3 * len(scenario) % 3)
                rows.append((scenario, flow, unit, metric, diff, diff - scale / 4, diff + scale / 4))
    d = pd.DataFrame(rows, columns=["scenario", "flow", "unit", "metric_label", "diff", "low", "high"])
    d.loc[1, ["diff", "low", "high"]] = np.nan  # nobody completed in one scenario: no difference
    return d


def crossings(catalogue: bool = True) -> pd.DataFrame:
    """A few crossings with hostile names, and the project's catalogue with made-up results when it is there."""
    sample = pd.DataFrame(
        {
            "id": ["kurmangazy", "syrym", "petropavl_rail", "zhaisan", "nowhere", "placed"],
            "name": ["Kurmangazy – Karauzek", "Syrym – Mashtakovo", HOSTILE, SNEAKY, "No coordinates", "Placed"],
            "lat": [46.55, 51.70, 54.87, 50.9, np.nan, np.nan],
            "lon": [48.55, 51.30, 69.15, 61.5, np.nan, np.nan],
            "mode": ["road", "road", "rail", "river", "road", "road"],
            "approximate": [False, True, False, True, False, None],
            "wait_mean_min": [45.0, 130.5, np.nan, 12.0, 3.0, 20.0],
            "throughput_per_day": [900.0, 300.0, 0.0, 120.0, 10.0, 50.0],
        }
    )
    if not (catalogue and CATALOGUE.exists()):
        return sample
    rows = pd.read_csv(CATALOGUE)
    n = np.arange(len(rows))
    real = pd.DataFrame(
        {
            "id": rows["id"],
            "name": rows["name_a"] + " – " + rows["name_b"],
            "lat": rows["lat"],
            "lon": rows["lon"],
            "mode": rows["mode"],
            "approximate": rows["source"].str.contains("coords: approximate", na=False),
            "wait_mean_min": 5.0 + (n * 37) % 180,
            "throughput_per_day": 40.0 + (n * 53) % 900,
        }
    )
    return pd.concat([sample, real], ignore_index=True)


def _ring(points: list[tuple[float, float]]) -> list[list[float]]:
    """A closed ring wound anticlockwise, as RFC 7946 wants an outer ring (d3-geo wants the other way)."""
    ring = [list(p) for p in points]
    area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))
    return (ring if area > 0 else ring[::-1]) + [ring[0] if area > 0 else ring[-1]]


def small_basemap() -> dict:
    border = [
        (46.8, 46.0),
        (48.5, 47.0),
        (50.0, 51.2),
        (55.0, 50.6),
        (61.0, 53.9),
        (69.0, 55.3),
        (76.0, 54.0),
        (87.3, 49.1),
    ]
    south = [*border, (87.3, 40.5), (46.8, 40.5)]
    north = [*border, (87.3, 58.0), (46.8, 58.0)]

    def feature(kind: str, geometry: dict, **props: object) -> dict:
        return {"type": "Feature", "properties": {"kind": kind, **props}, "geometry": geometry}

    return {
        "type": "FeatureCollection",
        "features": [
            feature("country", {"type": "Polygon", "coordinates": [_ring(south)]}, name="Kazakhstan"),
            feature("country", {"type": "MultiPolygon", "coordinates": [[_ring(north)]]}, name="Russia"),
            feature("border", {"type": "LineString", "coordinates": [list(p) for p in border]}),
            feature("place", {"type": "Point", "coordinates": [51.37, 51.23]}, crossing="placed", approximate=True),
        ],
    }


def basemap() -> dict:
    """The project's map when it is there, else the small one above."""
    if MAP.exists():
        from sim.scenario.basemap import read_basemap

        return read_basemap(MAP).to_geojson()
    return small_basemap()


def backlog() -> pd.DataFrame:
    days = pd.date_range("2025-03-01", periods=10, freq="D")
    rows = [
        (day, flow, crossing, float((i + 1) * (k + 1) * (3 if crossing == "A" else 1)))
        for crossing in ["A", HOSTILE]
        for k, flow in enumerate(["car", "truck", "ALL"])
        for i, day in enumerate(days)
    ]
    return pd.DataFrame(rows, columns=["date", "flow", "crossing", "backlog_end"])


def all_specs() -> dict[str, dict]:
    return {
        "forest": forest_spec(forest_rows(), COLOURS),
        "map": map_spec(crossings(), basemap(), "wait_mean_min", "mean wait (min)"),
        "lines": lines_spec(
            backlog(), "date", "backlog_end", "flow", {"ALL": "#1b1b1b"}, "crossing", "date", "inside at the day's end"
        ),
    }


def _walk(value: object):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    else:
        yield value


class _Tags(HTMLParser):
    """The start tags of a fragment, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


@pytest.mark.parametrize("name", ["forest", "map", "lines"])
def test_spec_cannot_leave_its_script(name):
    spec = all_specs()[name]
    html = vega_figure(spec, f"chart-{name}", HOSTILE, fallback=figure(PIXEL, HOSTILE, "static"))
    start = html.index('type="application/json"')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    assert not set(body) & set("<>&\u2028\u2029")
    assert json.loads(body) == json.loads(json.dumps(interactive._plain(spec)))
    assert HOSTILE in json.dumps(json.loads(body), ensure_ascii=False)  # the name itself, back intact
    parser = _Tags()
    parser.feed(html)
    # the only elements are the ones the figure makes; the fallback's single image is the only <img>
    assert sorted(set(parser.tags)) == ["div", "figcaption", "figure", "img", "script"]
    assert parser.tags.count("img") == 1
    assert parser.tags.count("script") == 1


def test_map_places_and_labels():
    spec = map_spec(crossings(catalogue=False), small_basemap(), "wait_mean_min", "mean wait (min)")
    rows = {r["id"]: r for r in spec["layer"][-1]["data"]["values"]}
    assert "nowhere" not in rows  # no coordinates and no place on the map
    assert rows["placed"]["place"] == "approximate place"  # placed by the basemap's point for it
    assert (rows["placed"]["lon"], rows["placed"]["lat"]) == (51.37, 51.23)
    assert rows["syrym"]["place"] == "approximate place"
    assert rows["kurmangazy"]["place"] == "as listed"
    assert "1 crossings without coordinates" in spec["title"]["text"]
    labels = {r["name"]: r for r in spec["layer"][1]["data"]["values"]}
    assert labels["Kazakhstan"]["lat"] < labels["Russia"]["lat"]


def test_names_survive_as_data():
    spec = all_specs()["map"]
    names = [r["name"] for r in spec["layer"][-1]["data"]["values"]]
    assert HOSTILE in names
    assert SNEAKY.replace("\u2028", " ").replace("\u2029", " ") in names  # one line, as the static charts draw it


def test_specs_hold_their_data_inline():
    for spec in all_specs().values():
        keys_and_values = list(_walk(spec))
        assert "url" not in keys_and_values
        text = interactive.spec_json(spec)
        assert "http" not in text
        assert "NaN" not in text
        assert "Infinity" not in text


def test_colours_follow_the_mapping():
    spec = all_specs()["forest"]
    scale = spec["spec"]["layer"][1]["encoding"]["color"]["scale"]
    assert scale["domain"] == list(COLOURS)
    assert scale["range"] == list(COLOURS.values())
    extra = forest_rows()
    extra.loc[0, "scenario"] = "unmapped"
    scale = forest_spec(extra, {"joint_control": "#ff7f0e"})["spec"]["layer"][1]["encoding"]["color"]["scale"]
    assert scale["domain"][0] == "joint_control"
    assert scale["range"][0] == "#ff7f0e"
    assert len(set(scale["range"])) == len(scale["range"])  # the others get colours of their own

    lines = all_specs()["lines"]["spec"]["encoding"]["color"]["scale"]
    assert lines["range"][lines["domain"].index("ALL")] == "#1b1b1b"


def test_nan_becomes_null():
    values = all_specs()["forest"]["data"]["values"]
    missing = [r for r in values if r["diff"] is None]
    assert len(missing) == 1
    assert missing[0]["low"] is None
    assert missing[0]["difference"] == "n/a"
    assert all(isinstance(r["diff"], float) for r in values if r["diff"] is not None)
    crossing = next(r for r in all_specs()["map"]["layer"][-1]["data"]["values"] if r["id"] == "petropavl_rail")
    assert crossing["wait_mean_min"] is None
    assert crossing["has_value"] is False
    assert interactive._plain({"a": [np.float32("nan"), np.int64(3), pd.NaT, math.inf]}) == {"a": [None, 3, None, None]}


@pytest.mark.parametrize("small", [True, False])
def test_polygons_are_wound_for_d3(small):
    # the small map is wound the RFC 7946 way, which d3-geo would fill as the rest of the globe
    spec = map_spec(crossings(catalogue=not small), small_basemap() if small else basemap(), "wait_mean_min", "wait")
    for feature in spec["layer"][0]["data"]["values"]:
        geometry = feature["geometry"]
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        for polygon in polygons:
            ring = polygon[0]
            area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))
            assert area < 0  # clockwise


def test_page_carries_the_libraries_once():
    specs = all_specs()
    html = page("charts", [scripts(), *(vega_figure(s, n, n) for n, s in specs.items())])
    assert html.count(".vegaLite={}") == 1
    assert html.count(".vega={}") == 1
    assert html.count(".vegaEmbed=") == 1
    assert html.count("data-vega-chart=") == 3
    assert scripts() is scripts()
    assert 700_000 < len(scripts()) < 1_200_000


def test_bad_chart_id_is_refused():
    with pytest.raises(ValueError, match="chart id"):
        vega_figure({}, 'x" onload="alert(1)', "caption")


def test_empty_input_says_so():
    empty = forest_rows().iloc[0:0]
    assert "no difference" in json.dumps(forest_spec(empty, COLOURS))
    assert "nothing to draw" in json.dumps(
        lines_spec(backlog().iloc[0:0], "date", "backlog_end", "flow", {}, None, "", "")
    )


def _drawn(chart_ids):
    script = "return arguments[0].every(id => document.querySelector('#' + id + ' svg'))"
    return lambda driver: driver.execute_script(script, chart_ids)


def test_charts_in_a_real_browser(tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    specs = all_specs()
    fallback = figure(PIXEL, "static chart", "the static chart")
    figures = [
        vega_figure(spec, f"vega-{name}", f"{name}: {HOSTILE}", fallback=fallback) for name, spec in specs.items()
    ]
    path = tmp_path / "charts.html"
    path.write_text(page("Interactive charts", [*figures, Html(scripts())]), encoding="utf-8")
    ids = [f"vega-{name}" for name in specs]
    browser = _chromium()
    try:
        browser.get(path.resolve().as_uri())
        WebDriverWait(browser, 30).until(_drawn(ids))
        assert browser.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
        hidden = browser.execute_script(
            "return Array.from(document.querySelectorAll('.vega-fallback')).map(e => getComputedStyle(e).display)"
        )
        assert hidden == ["none"] * 3
        for name in specs:
            chart = browser.find_element(By.ID, f"vega-{name}")
            browser.execute_script("arguments[0].scrollIntoView()", chart)
            chart.screenshot(f"/tmp/vega_{name}.png")
        # hovering a crossing shows its values, the hostile name as text
        browser.execute_script("document.getElementById('vega-map').scrollIntoView()")
        points = browser.find_elements(By.CSS_SELECTOR, "#vega-map g.mark-symbol.role-mark path")
        assert len(points) == len(specs["map"]["layer"][-1]["data"]["values"])
        grey = [p for p in points if p.get_attribute("fill") == interactive.MISSING]  # the hostile name's crossing
        dashed = [p for p in points if p.get_attribute("stroke-dasharray")]  # approximate places
        assert len(grey) == 1
        assert dashed
        read = "const t = document.getElementById('vg-tooltip-element'); return t ? t.textContent : ''"
        seen = []
        for point in [grey[0], dashed[-1]]:
            ActionChains(browser).move_to_element(point).perform()
            WebDriverWait(browser, 10).until(lambda d: d.execute_script(read) not in ("", *seen))
            seen.append(browser.execute_script(read))
        assert any(HOSTILE in t and "none completed" in t for t in seen)
        assert any("approximate place" in t for t in seen)
        assert browser.execute_script("return document.querySelectorAll('img[src=x]').length") == 0
        # offline: the page asked for nothing, not even a font or an image
        assert browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)") == []
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
    finally:
        browser.quit()


def test_a_chart_that_fails_shows_its_fallback(tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    broken = vega_figure({"mark": "nonsense-mark"}, "broken", "broken", fallback=figure(PIXEL, "static", "static"))
    path = tmp_path / "broken.html"
    path.write_text(page("Broken", [scripts(), broken]), encoding="utf-8")
    browser = _chromium()
    try:
        browser.get(path.resolve().as_uri())
        shown = "return getComputedStyle(document.querySelector('.vega-fallback')).display !== 'none'"
        WebDriverWait(browser, 30).until(lambda d: d.execute_script(shown))
        assert "vega-failed" in browser.execute_script("return document.querySelector('figure.vega-figure').className")
    finally:
        browser.quit()

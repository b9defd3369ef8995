r"""An offline animation of a run: one HTML page that plays the lines, booths and neutral zones over time.

The page is self-contained (inline style and plain JavaScript, no library and nothing fetched),
so it opens anywhere, from a results folder or an e-mail. Its data are the counts of
``sim.outputs.animation_frames``, embedded as JSON in a ``<script type="application/json">``
element with ``<``, ``>`` and ``&`` written as ``\u003c``, ``\u003e`` and ``\u0026``, and the
script puts every name into the page as text (``textContent``), never as markup: crossing
names are free text from the user's scenario. A content security policy forbids the page any
network access, so even a name that slipped through could load nothing.

Queues are drawn as bars with their number written beside them (the bar grows with the
logarithm of the count, so lines of 5 and of 5,000 both read), never one dot per traveller.
"""

from __future__ import annotations

from pathlib import Path

from sim.outputs.animation_frames import animation_data
from sim.outputs.files import write_text
from sim.outputs.html import script_json

POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
"""The page may run its own inline script and style and nothing else: no fetch, no image from anywhere."""

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.2rem auto;max-width:1500px;
color:#1b1b1b;line-height:1.4;padding:0 1rem}
h1{font-size:1.45rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1rem 0 .3rem}h3{font-size:1rem;margin:.8rem 0 .3rem}
.note,.muted{color:#555;font-size:.88rem}
.controls{position:sticky;top:0;z-index:2;background:#fff;display:flex;gap:.8rem;align-items:center;
padding:.5rem 0;border-bottom:1px solid #ddd;flex-wrap:wrap}
.controls button{font-size:1rem;padding:.3rem 1rem;min-width:6rem}
.controls input[type=range]{flex:1;min-width:14rem}
#clock{font:600 1.15rem ui-monospace,Menlo,Consolas,monospace;min-width:17rem}
#phase{font-size:.8rem;color:#8a5a00}
.lane{display:flex;align-items:stretch;gap:.4rem;overflow-x:auto;padding-bottom:.3rem}
.post,.zone{border:1px solid #ccc;border-radius:6px;padding:.4rem .6rem;background:#fafafa;min-width:15rem}
.post-title{font-weight:600;margin-bottom:.3rem}
.arrow{align-self:center;font-size:1.4rem;color:#888}
.station{border-top:1px solid #e3e3e3;padding:.3rem 0}
.st-title{font-weight:600;font-size:.9rem}
.st-title .tag{font-weight:400;color:#8a5a00;font-size:.78rem;margin-left:.4rem}
.row{display:flex;align-items:center;gap:.4rem;margin:.15rem 0}
.lab{width:4.2rem;font-size:.8rem;color:#555;flex:none}
.bar{display:flex;align-items:center;gap:.4rem;flex:1;min-width:9rem}
.track{flex:1;height:.85rem;background:#ececec;border-radius:3px;overflow:hidden;min-width:5rem;display:flex}
.fill{height:100%;width:0;background:#3b6fb6}
.zone .fill,.zbar .fill{background:#6a8f3a}.zone.full .fill,.zbar.full .fill{background:#b3261e}
.busy-bar .fill{background:#2e8b57}.busy-bar .fill.held{background:#e0a21b}
.num{font:600 .85rem ui-monospace,Menlo,Consolas,monospace;min-width:4.5rem;text-align:right}
.booths{display:flex;flex-wrap:wrap;gap:2px;max-width:13rem}
.booth{width:.8rem;height:.8rem;border:1px solid #888;border-radius:2px;background:#fff}
.legend{display:flex;gap:1rem;flex-wrap:wrap;font-size:.8rem;color:#444;margin:.3rem 0}
.legend .booth,.legend .sw{display:inline-block;vertical-align:middle;margin-right:.25rem}
.sw{width:1.4rem;height:.7rem;border-radius:2px}.sw.q{background:#3b6fb6}.sw.z{background:#6a8f3a}.sw.f{background:#b3261e}
.booth.busy{background:#2e8b57;border-color:#2e8b57}.booth.held{background:#e0a21b;border-color:#b07b00}
.zone{min-width:12rem;max-width:16rem;background:#f4f8ee;display:flex;flex-direction:column}
.zone .zbar{margin:auto 0;flex:none}
.scroll{max-height:75vh;overflow:auto;border:1px solid #ddd}
table{border-collapse:collapse;font-size:.86rem;width:100%}
th,td{border-bottom:1px solid #e3e3e3;padding:.2rem .4rem;text-align:left;vertical-align:middle}
thead th{position:sticky;top:0;background:#f3f3f3;z-index:1}
td.name{font-weight:600;max-width:16rem}
details{margin:.8rem 0}li{margin:.15rem 0}
"""

SCRIPT = r"""
(() => {
  "use strict";
  const D = JSON.parse(document.getElementById("anim-data").textContent);
  const country = (side) => (D.countries && D.countries[side]) || "side " + side;
  const WEEK = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
  const SHORT = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  const $ = (id) => document.getElementById(id);
  const make = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  const pad = (n) => String(n).padStart(2, "0");
  const count = (n) => Number(n).toLocaleString("en");
  const label = (name) => String(name).replace(/_/g, " ");
  function when(t) {
    const m = Math.round(t), day = Math.floor(m / 1440);
    const first = WEEK.indexOf(String(D.start_weekday).toLowerCase());
    let text = "day " + day + (first >= 0 ? " " + SHORT[(first + day) % 7] : "");
    text += " " + pad(Math.floor((m % 1440) / 60)) + ":" + pad(m % 60);
    const p = D.start_date ? String(D.start_date).split("-").map(Number) : [];
    if (p.length === 3 && p.every(Number.isFinite)) {
      const date = new Date(Date.UTC(p[0], p[1] - 1, p[2]) + day * 86400000);
      if (!Number.isNaN(date.getTime())) text = date.toISOString().slice(0, 10) + " · " + text;
    }
    return text;
  }
  const updaters = [];
  const LOG_MOST = Math.log1p(Math.max(D.most, 1));
  const logShare = (n) => Math.min(1, Math.log1p(Math.max(n, 0)) / LOG_MOST);
  function bar(series, cls, share, shown) {
    const box = make("div", "bar " + (cls || ""));
    const track = make("div", "track"), fill = make("div", "fill"), num = make("span", "num", "0");
    track.append(fill);
    box.append(track, num);
    updaters.push((i) => {
      const n = series[i];
      fill.style.width = (100 * share(n)).toFixed(1) + "%";
      num.textContent = shown ? shown(n) : count(n);
    });
    return box;
  }
  function zoneBar(series, zone, capacity) {
    if (zone === "none" || series === null) return make("span", "muted", "no neutral zone");
    const known = zone === "yes";
    const share = known ? (n) => Math.min(1, n / Math.max(capacity, 1)) : logShare;
    const b = bar(series, "zbar", share, known ? (n) => count(n) + " / " + count(capacity) : null);
    if (known) updaters.push((i) => b.classList.toggle("full", series[i] >= capacity));
    return b;
  }
  function station(s, zoneHere) {
    const box = make("div", "station");
    let title = label(s.stage) + (s.pool ? " · " + s.pool : "") + (s.secondary ? " · secondary inspection" : "");
    const head = make("div", "st-title", title);
    if (s.in_zone && zoneHere) head.append(make("span", "tag", "line stands in the zone"));
    box.append(head);
    const q = make("div", "row");
    q.append(make("span", "lab", "waiting"), bar(s.waiting, "queue", logShare));
    box.append(q);
    const row = make("div", "row");
    row.append(make("span", "lab", "booths"));
    const n = typeof s.servers === "number" ? s.servers : null;
    const said = (i) => {
      const busy = s.serving[i], held = s.held[i];
      return count(busy + held) + (n !== null ? "/" + count(n) : "") + (held ? " (" + count(held) + " held)" : "");
    };
    if (n !== null && n <= 40) {
      const grid = make("div", "booths"), num = make("span", "num"), cells = [];
      for (let k = 0; k < n; k++) cells.push(grid.appendChild(make("span", "booth")));
      row.append(grid, num);
      updaters.push((i) => {
        const busy = s.serving[i], held = s.held[i];
        cells.forEach((c, k) => { c.className = "booth" + (k < busy ? " busy" : k < busy + held ? " held" : ""); });
        num.textContent = said(i);
      });
    } else {  // many booths: one bar, serving then held
      const b = make("div", "bar busy-bar"), track = make("div", "track"), num = make("span", "num");
      const serving = make("div", "fill"), held = make("div", "fill held");
      track.append(serving, held);
      b.append(track, num);
      const share = n !== null ? (v) => Math.min(1, v / Math.max(n, 1)) : logShare;
      updaters.push((i) => {
        const all = share(s.serving[i] + s.held[i]), part = s.serving[i] + s.held[i];
        const first = part ? all * s.serving[i] / part : 0;
        serving.style.width = (100 * first).toFixed(1) + "%";
        held.style.width = (100 * (all - first)).toFixed(1) + "%";
        num.textContent = said(i) + (s.servers === "unlimited" ? " (no limit)" : "");
      });
      row.append(b);
    }
    box.append(row);
    return box;
  }
  function post(title, stations, zoneHere) {
    const box = make("div", "post");
    box.append(make("div", "post-title", title));
    if (!stations.length) box.append(make("div", "muted", "no controls"));
    for (const s of stations) box.append(station(s, zoneHere));
    return box;
  }
  function crossingView(view, c) {
    view.append(make("h2", null, c.name + " (" + c.id + ")"));
    for (const d of c.directions) {
      const sec = make("section", "direction");
      sec.append(make("h3", null, "From " + country(d.from) + " to " + country(d.to)));
      const lane = make("div", "lane");
      const zone = make("div", "zone");
      zone.append(make("div", "post-title", "neutral zone"));
      const zb = zoneBar(d.in_zone, c.zone, c.capacity);
      zone.append(zb);
      if (c.zone === "yes") updaters.push((i) => zone.classList.toggle("full", d.in_zone[i] >= c.capacity));
      if (c.zone === "unknown") zone.append(make("div", "muted", "its places are not recorded in this folder"));
      lane.append(post("exit post · " + country(d.from), d.exit, false), make("div", "arrow", "→"), zone);
      lane.append(make("div", "arrow", "→"), post("entry post · " + country(d.to), d.entry, c.zone !== "none"));
      sec.append(lane);
      view.append(sec);
    }
  }
  function borderView(view, rows) {
    const wrap = make("div", "scroll"), table = make("table", "border"), head = make("tr");
    const titles = ["crossing", "direction", "waiting at exit post", "in neutral zone", "waiting at entry post",
      "at booths"];
    for (const t of titles) head.append(make("th", null, t));
    table.appendChild(make("thead")).append(head);
    const body = table.appendChild(make("tbody"));
    for (const r of rows) {
      r.directions.forEach((d, k) => {
        const tr = body.appendChild(make("tr"));
        if (k === 0) {
          const name = tr.appendChild(make("td", "name", r.name));
          name.rowSpan = r.directions.length;
          name.title = r.id;
        }
        tr.append(make("td", null, country(d.from) + " → " + country(d.to)));
        tr.appendChild(make("td")).append(bar(d.exit_wait, "queue", logShare));
        tr.appendChild(make("td")).append(zoneBar(d.in_zone, r.zone, r.capacity));
        tr.appendChild(make("td")).append(bar(d.entry_wait, "queue", logShare));
        tr.appendChild(make("td")).append(bar(d.booths, "busy-bar", logShare));
      });
    }
    wrap.append(table);
    view.append(wrap);
  }
  const HOW = {
    crossing: [
      "Each direction of travel is one row: the exit post's controls, the neutral zone between the posts, " +
        "then the entry post's controls, in the order travellers meet them.",
      "waiting: travellers in a control's line. The bar grows with the logarithm of the number, so lines of " +
        "5 and of 5,000 both read; the number is exact.",
      "Squares are booths (the most the control has at any hour; fewer may be open at some hours): green " +
        "serving, amber held, service over but the neutral zone ahead is full, so the vehicle keeps its booth. " +
        "Above 40 booths, a bar of booths in use.",
      "Neutral zone: vehicles between the posts against its places; red when full. The line of the entry " +
        "post's first control stands in the zone, so those waiting there are counted in the zone too.",
    ],
    border: [
      "One row per crossing and direction, the busiest first (most travellers inside at any frame).",
      "waiting at exit post: in the lines of the exit post's controls. in neutral zone: vehicles between the " +
        "posts, against its places (red when full), including the line of the entry post's first control, " +
        "which stands in the zone. waiting at entry post: the entry post's other lines (all of them where a " +
        "crossing has no zone). at booths: in service or held at a booth.",
      "Bars grow with the logarithm of the number, so lines of 5 and of 5,000 both read; numbers are exact.",
    ],
  };
  function describe() {
    const span = "from " + when(D.start) + " to " + when(D.end) + ", a frame every " + count(D.step) + " min";
    const where = D.mode === "crossing"
      ? "crossing " + D.crossing.name + " (" + D.crossing.id + ")"
      : "the whole border, " + count(D.rows.length) + " crossings";
    const parts = ["Scenario " + D.scenario, "replication " + D.replication + " (of " + D.replications +
      ", numbered from 0)", span, where];
    $("what").textContent = parts.join(" · ") + ".";
    document.title = "Animation: " + D.scenario + (D.mode === "crossing" ? " · " + D.crossing.name : "");
    const list = $("howto-list");
    for (const line of HOW[D.mode]) list.append(make("li", null, line));
    const warm = D.warmup > 0 ? "; its first " + count(D.warmup / 60) + " h are the warm-up, left out of the " +
      "report's statistics (marked warm-up beside the clock)" : "";
    list.append(make("li", null, "Counts are those at the instant on the clock; a visit shorter than a frame's step " +
      "may fall between two frames. Day 0 is the start of the run" + warm + "."));
  }
  const view = $("view");
  describe();
  if (D.mode === "crossing") crossingView(view, D.crossing); else borderView(view, D.rows);
  const slider = $("slider"), play = $("play"), speed = $("speed"), clock = $("clock"), phase = $("phase");
  slider.max = String(D.frames - 1);
  for (const fps of [1, 2, 5, 10, 20, 50]) {
    const o = make("option", null, fps + " frames/s (" + count(fps * D.step) + " min/s)");
    o.value = String(fps);
    if (fps === 10) o.selected = true;
    speed.append(o);
  }
  let frame = 0, timer = null;
  function show(i) {
    frame = Math.max(0, Math.min(D.frames - 1, i));
    const t = D.start + frame * D.step;
    slider.value = String(frame);
    clock.textContent = when(t);
    phase.textContent = t < D.warmup ? "warm-up" : "";
    for (const u of updaters) u(frame);
    document.body.dataset.frame = String(frame);
  }
  function stop() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    play.textContent = "Play";
  }
  function tick() {
    if (frame >= D.frames - 1) { stop(); return; }
    show(frame + 1);
    timer = setTimeout(tick, 1000 / Number(speed.value));
  }
  play.addEventListener("click", () => {
    if (timer !== null) { stop(); return; }
    if (frame >= D.frames - 1) show(0);
    play.textContent = "Pause";
    timer = setTimeout(tick, 1000 / Number(speed.value));
  });
  slider.addEventListener("input", () => { stop(); show(Number(slider.value)); });
  show(0);
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bordersim animation</title>
<style>{style}</style></head>
<body>
<h1>bordersim animation</h1>
<p id="what" class="note"></p>
<div class="controls">
<button id="play" type="button">Play</button>
<input id="slider" type="range" min="0" max="0" step="1" value="0" aria-label="simulated time">
<label>speed <select id="speed"></select></label>
<span id="clock"></span><span id="phase"></span>
</div>
<div class="legend"><span><span class="sw q"></span>waiting (log scale, exact number beside)</span>
<span><span class="booth busy"></span>booth serving</span>
<span><span class="booth held"></span>booth held: zone ahead full</span>
<span><span class="sw z"></span>neutral zone</span><span><span class="sw f"></span>neutral zone full</span></div>
<div id="view"></div>
<details open><summary>How to read this page</summary><ul id="howto-list"></ul></details>
<noscript><p>This page needs JavaScript to play the animation.</p></noscript>
<script type="application/json" id="anim-data">{data}</script>
<script>{script}</script>
</body></html>
"""


def animation_html(
    folder: Path,
    *,
    crossing: str | None = None,
    start_min: float | None = None,
    end_min: float | None = None,
    replication: int | None = None,
    step_min: float | None = None,
) -> str:
    """The animation page of the run in ``folder``.

    With ``crossing``: that crossing, both directions, every control's line and booths and the
    neutral zone; without: every crossing, busiest first, with its lines and zone. The window
    is ``start_min`` to ``end_min`` (the whole run by default), one frame every ``step_min``
    minutes (chosen for at most 600 frames by default). ``replication`` is numbered as in the
    results, from 0; None shows the first. The folder must hold the per-visit records
    (``--records full``).
    """
    data = animation_data(
        Path(folder),
        crossing=crossing,
        start_min=start_min,
        end_min=end_min,
        replication=replication,
        step_min=step_min,
    )
    return PAGE.format(policy=POLICY, style=STYLE, data=script_json(data), script=SCRIPT)


def write_animation(
    folder: Path,
    out: Path,
    *,
    crossing: str | None = None,
    start_min: float | None = None,
    end_min: float | None = None,
    replication: int | None = None,
    step_min: float | None = None,
) -> Path:
    """Write the animation page (``animation_html``) to ``out``, which appears only when complete; return it."""
    page = animation_html(
        folder, crossing=crossing, start_min=start_min, end_min=end_min, replication=replication, step_min=step_min
    )
    out = Path(out)
    write_text(out, page)
    return out

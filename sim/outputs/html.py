"""The markup of the report pages: escaped text, elements, tables, figures and the page itself.

Names in the results are free text from the scenario, so a page must never take them as markup.
Everything here escapes what it is given, unless it is ``Html`` (markup these builders made
themselves from escaped parts): one place to check that a report cannot inject anything.
"""

from __future__ import annotations

import html
import json
import numbers
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd


class Html(str):
    """Markup this module built from escaped parts: the only text the page takes as it is."""


def attr(value: object) -> str:
    """An attribute value: always escaped, quotes included."""
    return html.escape(str(value), quote=True)


def esc(value: object) -> str:
    """Page text: ``Html`` as it is, anything else escaped, so a name never becomes markup."""
    return value if isinstance(value, Html) else html.escape(str(value), quote=True)


def el(tag: str, content: object = "", **attrs: object) -> Html:
    """One element around ``content`` (escaped unless ``Html``); ``class_`` gives the class attribute."""
    attributes = "".join(f' {name.rstrip("_")}="{attr(value)}"' for name, value in attrs.items())
    return Html(f"<{tag}{attributes}>{esc(content)}</{tag}>")


def join(parts: Iterable[object]) -> Html:
    """Parts side by side, each escaped unless ``Html``."""
    return Html("".join(esc(p) for p in parts))


def fmt(value: Any, digits: int = 1) -> str:
    """A number as the tables show it (an en dash when there is none); other values as text."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{float(value):,.{digits}f}"
    return str(value)


def pm(mean: Any, half: Any, digits: int = 1) -> str:
    """A mean with its 95% half-width, or the mean alone when there is no interval (one replication)."""
    if half is None or pd.isna(half):
        return fmt(mean, digits)
    return f"{fmt(mean, digits)} ± {fmt(half, digits)}"


_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(data: Any) -> str:
    """``data`` as JSON to embed in a ``<script>`` element, the one way pages embed data.

    No ``<``, ``>`` or ``&`` (a name can neither end the element nor open another), and no
    JavaScript line breaks.
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_ESCAPES[m.group()], text)


def data_table(df: pd.DataFrame, table_id: str = "", caption: str = "") -> Html:
    """A table of ``df``: every cell is escaped, unless it is ``Html`` the report built itself."""
    head = el("thead", el("tr", join(el("th", c) for c in df.columns)))
    body = el(
        "tbody",
        join(
            el("tr", join(el("td", c if isinstance(c, str) else fmt(c)) for c in row))
            for row in df.itertuples(index=False)
        ),
    )
    parts = [el("caption", caption)] if caption else []
    attrs = {"id": table_id} if table_id else {}
    return el("table", join([*parts, head, body]), **attrs)


def figure(b64: str, alt: str, caption: str) -> Html:
    """A chart embedded as a base64 PNG, so that the page opens anywhere, offline."""
    image = Html(f'<img src="data:image/png;base64,{attr(b64)}" alt="{attr(alt)}">')
    return el("figure", join([image, el("figcaption", caption)]))


STYLE = Html(
    """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1180px;
color:#1b1b1b;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}
th,td{border:1px solid #d6d6d6;padding:.25rem .5rem;text-align:right;vertical-align:top}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
table.kv th{text-align:left;width:12rem}table.kv td{text-align:left;word-break:break-word}
caption{caption-side:top;text-align:left;font-weight:600;padding:.2rem 0}
figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.85rem;color:#555}
.note{color:#555;font-size:.9rem}details{margin:.5rem 0}
.notice{border-left:4px solid #b3261e;background:#fcf1f0;padding:.4rem 1rem;margin:1rem 0}
.wide{overflow-x:auto;max-width:100%}
.summary li{margin:.4rem 0}#headline td{white-space:nowrap}
.caveat{display:block;margin:.2rem 0;padding:.1rem .5rem;border-left:3px solid #b3261e;background:#fcf1f0;
font-size:.9rem}
@media print{details{display:block}}
"""
)


def page(title: str, sections: list[Html], head: Html | None = None) -> str:
    """A whole page: style and scripts (``head``) are inline so that ``report.html`` needs no other file."""
    head = join(
        [
            Html('<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'),
            el("title", title),
            el("style", STYLE),
            head or "",
        ]
    )
    body = join([el("h1", title), *sections])
    return f"<!DOCTYPE html>{el('html', join([el('head', head), el('body', body)]), lang='en')}\n"

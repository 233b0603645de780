"""Page assembly: one Jinja2 environment (template FILES, autoescape on), one JSON blob.

How input text reaches a page, and the only ways it does:

* as text rendered by the template files in ``templates/`` with autoescape (titles,
  panels, legend), or
* inside the page's one JSON blob (``<script type="application/json" id="hs-data">``),
  escaped for a ``<script>`` element (``<``, ``>``, ``&``, U+2028, U+2029), which the
  page's own script (``static/map.js``) reads and shows as text.

No string from a plan is ever template *source*: templates are files of this package,
loaded by name. Leaflet is always inlined (from ``XStatic-Leaflet``), so pages open
without network; the CSS and JS of the page are files in ``static/``, emitted once.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import re
from functools import lru_cache, cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

__all__ = ["script_json", "render_fragment", "assemble_page", "write_atomic",
           "find_fetched_urls", "leaflet_assets"]

HERE = Path(__file__).parent


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(HERE / "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def script_json(obj: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (and valid JSON)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def render_fragment(name: str, **context: Any) -> Markup:
    """Render the template file ``name`` (autoescaped) as markup for another template."""
    return Markup(_env().get_template(name).render(**context))


@cache
def _static(name: str) -> str:
    return (HERE / "static" / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def leaflet_assets() -> tuple[str, str]:
    """leaflet.js and leaflet.css (images as data URIs) from XStatic-Leaflet."""
    import xstatic.pkg.leaflet as xleaflet

    base = Path(xleaflet.BASE_DIR)
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js)
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        path = base / match.group(1).strip("'\"")
        if not path.is_file():
            return match.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(path.read_bytes()).decode('ascii')})"

    css = re.sub(r"url\((images/[^)]+)\)", data_uri, css)
    if "</script" in js.lower() or "</style" in css.lower():  # pragma: no cover
        raise RuntimeError("cannot inline Leaflet: it contains a closing tag")
    return js, css


def assemble_page(*, title: str, lang: str, words: dict, scenario: str | None,
                  data: dict, summary_html: Markup, legend_html: Markup) -> str:
    """The whole HTML page: template ``page.html`` with the static files and the blob."""
    js, css = leaflet_assets()
    return _env().get_template("page.html").render(
        title=title, lang_tag="zh-CN" if lang == "zh" else "en", w=words,
        scenario=scenario, date=_dt.date.today().isoformat(),
        leaflet_css=Markup(css), map_css=Markup(_static("map.css")),
        leaflet_js=Markup(js), map_js=Markup(_static("dots.js") + "\n" + _static("map.js")),
        data_json=Markup(script_json(data)),
        summary_html=summary_html, legend_html=legend_html)


def write_atomic(out: Path, page: str) -> Path:
    """Write ``page`` to ``out`` atomically, creating its folder (the plan folder's writer)."""
    from ..planfolder import write_text

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_text(out, page)


_FETCH_PATTERNS = [
    re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.I),
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?([^\"'\s>]+)", re.I),
    re.compile(r"<(?:img|iframe|embed|source|video|audio)\b[^>]*\bsrc\s*=\s*[\"']?([^\"'\s>]+)",
               re.I),
    re.compile(r"url\(\s*[\"']?(https?:[^\"')\s]+)", re.I),
    re.compile(r"@import\s+[\"']?(https?:[^\"';\s]+)", re.I),
]


def find_fetched_urls(page: str) -> list[str]:
    """Remote URLs a browser would fetch from this page's markup (script/link/img/CSS url()).

    Plain links (``<a href>``) are not fetched and are ignored; tile URLs requested by
    the page script when a basemap is chosen are not markup and are not listed.
    """
    found = []
    for pat in _FETCH_PATTERNS:
        for m in pat.finditer(page):
            if re.match(r"(?i)(https?:)?//", m.group(1)):
                found.append(m.group(1))
    return found

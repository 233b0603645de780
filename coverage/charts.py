"""Small SVG line charts (no plotting dependency): coverage curves and sweeps.

SVG opens in any browser, embeds in the map page and pastes into reports. Labels are
escaped; numbers are drawn as given.
"""

from __future__ import annotations

import html
import re

import numpy as np

BLUE, ORANGE, RED = "#1f5fbf", "#e07b00", "#d62728"


def line_chart_svg(
    x, y, *, x_label: str, y_label: str, title: str = "", target: float | None = None,
    second=None, second_label: str = "", width: int = 640, height: int = 360, max_points: int = 400,
    y_range: tuple[float, float] | None = None,
) -> str:
    """An SVG line chart of ``y`` against ``x``; optional dashed ``target`` line on the y axis
    and an optional ``second`` series drawn against its own axis on the right."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    pad_l, pad_r, pad_t, pad_b = 56, 64 if second is not None else 16, 30 if title else 12, 42
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    x0, x1 = _span(x)
    y0, y1 = y_range or _span(np.concatenate([y, [target]]) if target is not None else y)

    def px(v):
        return pad_l + w * (v - x0) / (x1 - x0)

    def py(v, lo=y0, hi=y1):
        return pad_t + h * (1 - (v - lo) / (hi - lo))

    e = _text
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" role="img" aria-label="{e(title or y_label)}">',
           f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" fill="#fafafa" stroke="#999" stroke-width="0.5"/>']
    if title:
        out.append(f'<text x="{width / 2:.1f}" y="18" text-anchor="middle" font-size="13">{e(title)}</text>')
    for v in _ticks(y0, y1):
        out.append(f'<text x="{pad_l - 5}" y="{py(v) + 4:.1f}" text-anchor="end" font-size="10">{_label(v)}</text>')
        out.append(f'<line x1="{pad_l}" x2="{pad_l + w}" y1="{py(v):.1f}" y2="{py(v):.1f}" '
                   'stroke="#ddd" stroke-width="0.5"/>')
    for v in _ticks(x0, x1):
        out.append(f'<text x="{px(v):.1f}" y="{pad_t + h + 14}" text-anchor="middle" font-size="10">{_label(v)}</text>')
    out.append(f'<text x="{pad_l + w / 2:.1f}" y="{height - 8}" text-anchor="middle" '
               f'font-size="11">{e(x_label)}</text>')
    out.append(f'<text transform="translate(14 {pad_t + h / 2:.1f}) rotate(-90)" text-anchor="middle" '
               f'font-size="11" fill="{BLUE}">{e(y_label)}</text>')
    if target is not None:
        out.append(f'<line x1="{pad_l}" x2="{pad_l + w}" y1="{py(target):.1f}" y2="{py(target):.1f}" '
                   f'stroke="{RED}" stroke-dasharray="5 4"/>')
        out.append(f'<text x="{pad_l + 4}" y="{py(target) - 4:.1f}" font-size="10" fill="{RED}">'
                   f'target {_label(target)}</text>')
    out.append(_polyline(px, py, x, y, BLUE, max_points))
    if second is not None:
        s = np.asarray(second, dtype=float)
        s0, s1 = _span(s)
        out.append(_polyline(px, lambda v: py(v, s0, s1), x, s, ORANGE, max_points, dashed=True))
        for v in _ticks(s0, s1):
            out.append(f'<text x="{pad_l + w + 5}" y="{py(v, s0, s1) + 4:.1f}" font-size="10" fill="{ORANGE}">'
                       f'{_label(v)}</text>')
        out.append(f'<text transform="translate({width - 10} {pad_t + h / 2:.1f}) rotate(90)" text-anchor="middle" '
                   f'font-size="11" fill="{ORANGE}">{e(second_label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _polyline(px, py, x, y, colour: str, max_points: int, dashed: bool = False) -> str:
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) > max_points:  # keep the shape, drop points
        idx = np.unique(np.linspace(0, len(x) - 1, max_points).round().astype(int))
        x, y = x[idx], y[idx]
    points = " ".join(f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x, y))
    dash = ' stroke-dasharray="6 3"' if dashed else ""
    marker = "".join(f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="2.5" fill="{colour}"/>' for a, b in zip(x, y)) \
        if len(x) <= 40 else ""
    return f'<polyline fill="none" stroke="{colour}" stroke-width="1.8"{dash} points="{points}"/>{marker}'


def _span(values: np.ndarray) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-12:
        return lo - 0.5, hi + 0.5
    return lo, hi


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    step = _nice((hi - lo) / n)
    first = np.ceil(lo / step) * step
    return [round(v, 10) for v in np.arange(first, hi + step * 1e-9, step)]


def _nice(step: float) -> float:
    magnitude = 10 ** np.floor(np.log10(step))
    for factor in (1, 2, 2.5, 5, 10):
        if step <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _label(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:,.3g}"


#: Characters XML 1.0 does not allow (an SVG containing one would not open).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value) -> str:
    """Text for an SVG element or attribute: escaped, characters XML forbids replaced."""
    return html.escape(_NOT_XML.sub("\ufffd", str(value)), quote=True)

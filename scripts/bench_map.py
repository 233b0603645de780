"""Map page size and load time: ``python scripts/bench_map.py [PLAN_DIR ...]``.

For each plan folder (default: a synthetic plan with 30,000 selected sites and 40,000
demand cells, built by ``tests/mapfixtures.large_plan_dir``) renders the offline map,
then opens it in headless Chromium with networking disabled and reports the page size,
the render time, the time to the page's load event and the long tasks (> 50 ms) seen
while loading and while zooming in and out (six steps in from the whole plan's view, to
street zoom where coverage circles are drawn, and back). Numbers are for this machine.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from coverage.maps import render_map  # noqa: E402

PROBE = """<script>(function () {
  var long = [];
  try { new PerformanceObserver(function (l) { l.getEntries().forEach(function (e) {
    long.push(Math.round(e.duration)); }); }).observe({entryTypes: ['longtask']}); } catch (e) {}
  window.addEventListener('load', function () {
    var t0 = performance.now();
    setTimeout(function () {
      var m = window.__hsMaps[0], z = m.getZoom(), steps = [z + 1, z + 2, z + 3, z + 4, z + 5, z + 6, z + 3, z];
      var atLoad = long.slice(), i = 0;
      long.length = 0;
      (function step() {
        if (i >= steps.length) {
          document.body.setAttribute('data-bench', JSON.stringify(
            {load_ms: Math.round(t0), load_long_ms: atLoad, zoom_long_ms: long}));
          return;
        }
        m.setZoom(steps[i++], {animate: false});
        setTimeout(step, 300);
      })();
    }, 200);
  });
})();</script>"""


def bench(plan_dir: Path, tmp: Path) -> dict:
    t0 = time.perf_counter()
    page = render_map(plan_dir, tmp / "map.html", offline=True)
    render_s = time.perf_counter() - t0
    probed = tmp / "probed.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("<head>", "<head>" + PROBE, 1),
                      encoding="utf-8")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    proc = subprocess.run([
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={tmp / 'profile'}", "--window-size=1400,900",
        "--virtual-time-budget=15000", "--dump-dom", probed.as_uri()],
        capture_output=True, text=True, timeout=300)
    m = re.search(r'data-bench="([^"]*)"', proc.stdout)
    return {"plan": str(plan_dir), "page_bytes": page.stat().st_size,
            "render_s": round(render_s, 2),
            **(json.loads(html.unescape(m.group(1))) if m else {"error": "no result"})}


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        plans = [Path(a) for a in argv]
        if not plans:
            from mapfixtures import large_plan_dir
            plans = [large_plan_dir(tmp / "synthetic-30k", n_sel=30_000, n_cand=40_000, grid=200)]
        for k, plan in enumerate(plans):
            (tmp / f"run{k}").mkdir()
            print(json.dumps(bench(plan, tmp / f"run{k}")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

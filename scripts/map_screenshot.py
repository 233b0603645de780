"""Screenshot a plan's map for the README: ``python scripts/map_screenshot.py PLAN_DIR OUT.png``.

``--lang zh`` for the Chinese page. With ``--before BEFORE_DIR`` it shows the compare map from
BEFORE_DIR to PLAN_DIR instead
(what ``hotspots compare BEFORE_DIR PLAN_DIR --out DIR`` writes as compare.html).

Renders the *offline* map of a saved plan folder (so the picture does not depend on
tile servers or the network), opens it in headless Chromium with networking disabled
and saves a PNG, palette-quantised with Pillow when it is installed to keep it small.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coverage.maps import render_compare_map, render_map  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("plan_dir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--before", type=Path, help="screenshot the compare map from this plan")
    ap.add_argument("--lang", choices=("en", "zh"), default="en", help="page language")
    ap.add_argument("--size", default="1280,800", help="window size W,H (default 1280,800)")
    ap.add_argument("--colours", type=int, default=256, help="palette size (0: no quantising)")
    args = ap.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("chromium not found")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.before:
            page = render_compare_map(args.before, args.plan_dir, tmp / "map.html", offline=True,
                                      lang=args.lang)
        else:
            page = render_map(args.plan_dir, tmp / "map.html", offline=True, lang=args.lang)
        shot = tmp / "shot.png"
        subprocess.run([
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={tmp / 'profile'}", f"--window-size={args.size}",
            "--virtual-time-budget=5000", f"--screenshot={shot}", page.as_uri(),
        ], check=True, capture_output=True, timeout=120)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        try:
            from PIL import Image
        except ImportError:
            Image = None
        if Image is not None and args.colours:
            im = Image.open(shot).convert("RGB").quantize(
                colors=args.colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
            im.save(args.out, optimize=True)
        else:
            shutil.copyfile(shot, args.out)
    print(f"{args.out}: {args.out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

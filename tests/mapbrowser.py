"""Open map pages in headless Chromium with networking disabled, with a test hook.

The hook (``tests/maphook.js``) is injected by the tests into a copy of the page; it is
never part of the library. It writes what Leaflet rendered into ``data-hs-*``
attributes on ``<body>``, read back from ``--dump-dom``.
"""

from __future__ import annotations

import html as htmllib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

HOOK = Path(__file__).with_name("maphook.js")

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-extensions", "--mute-audio",
    # networking off: every connection goes to a dead proxy, every name fails to resolve
    "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is required in CI (.ci/run installs Debian's chromium)")
    pytest.skip("chromium not installed")
    return ""


def with_hook(page: Path, tmp_path: Path) -> Path:
    """A copy of ``page`` (same folder name) with the test hook first in <head>."""
    text = page.read_text(encoding="utf-8")
    assert text.count("<head>") == 1
    hooked = text.replace("<head>", "<head>\n<script>" + HOOK.read_text(encoding="utf-8")
                          + "</script>", 1)
    out = tmp_path / ("hooked-" + page.name)
    out.write_text(hooked, encoding="utf-8")
    return out


def run(tmp_path: Path, url: str, *extra: str, window: str = "1280,800") -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={window}",
           "--virtual-time-budget=5000", *extra, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def body_attrs(dom: str) -> dict[str, str]:
    m = re.search(r"<body\b([^>]*)>", dom)
    assert m, dom[:2000]
    return {k: htmllib.unescape(v) for k, v in re.findall(r'(data-hs-[a-z-]+)="([^"]*)"', m.group(1))}


def open_page(page: Path, tmp_path: Path, *, fragment: str = "", window: str = "1280,800",
              furniture: tuple[str, ...] = ()) -> tuple[dict[str, str], str]:
    """Load ``page`` (hooked) with networking off; check what every map page must pass.

    Returns the ``data-hs-*`` attributes the hook wrote, and the dumped DOM.
    """
    hooked = with_hook(page, tmp_path)
    proc = run(tmp_path, hooked.resolve().as_uri() + fragment, "--dump-dom", window=window)
    attrs = body_attrs(proc.stdout)
    assert attrs.get("data-hs-done") == "true", (attrs, proc.stderr[-2000:])
    assert attrs["data-hs-leaflet"] == "1.9.3"
    assert attrs["data-hs-maps"] == "1"
    for key in furniture:
        assert attrs[f"data-hs-{key}"] == "true", key
    errors = [e for e in json.loads(attrs["data-hs-errors"]) if not e.startswith("resource: http")]
    assert errors == [], errors
    assert json.loads(attrs["data-hs-dialogs"]) == []
    assert attrs["data-hs-injected"] == "false"
    assert attrs["data-hs-pwned"] == "false"
    assert not re.search(r"<script data-hostile", proc.stdout)
    assert "<img src=\"x\"" not in proc.stdout
    return attrs, proc.stdout

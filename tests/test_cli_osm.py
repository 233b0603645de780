"""`hotspots import-osm` through the command line, offline: from a cache, or a clear error."""

from __future__ import annotations

import json

from test_osm import PLACE, RecordedOverpass, closed_port
from coverage.cli import main
from coverage.osm import import_osm


def offline(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOTSPOTS_OVERPASS_URL", f"http://127.0.0.1:{closed_port()}/api/interpreter")


def test_import_from_cache_then_plan(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    import_osm(PLACE, tmp_path / "first", fetch=RecordedOverpass(), cache_dir=cache)  # fills the cache
    offline(monkeypatch)
    out = tmp_path / "osm"
    assert main(["-q", "import-osm", PLACE, "--out", str(out), "--cache-dir", str(cache)]) == 0
    assert "hotspots plan" in capsys.readouterr().out
    assert main(["-q", "plan", str(out / "scenario.toml"), "--out", str(tmp_path / "plan"), "--no-map"]) == 0
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text())
    assert summary["metric"] == "area" and summary["n_selected"] > 0


def test_offline_without_cache_is_one_clear_line(tmp_path, monkeypatch, capsys):
    offline(monkeypatch)
    code = main(["-q", "import-osm", PLACE, "--out", str(tmp_path / "osm"), "--timeout", "5"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: cannot reach the Overpass API") and "Traceback" not in err
    assert not (tmp_path / "osm" / "scenario.toml").exists()

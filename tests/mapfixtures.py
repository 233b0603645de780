"""A small synthetic plan folder (docs/outputs.md) with hostile names, for map tests.

The folder is what ``hotspots plan --out DIR`` writes, built by hand: summary.json,
plan.gpkg (selected_sites, candidates, demand_cells, districts, study_area) and
selected_sites.csv, all in EPSG:4326. With ``network=True`` (the default) the sites carry
the network columns and summary.json the radio / channels / backhaul / capacity sections
of issue #6; ``network=False`` writes a plan folder as it was before them.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, box

HOSTILE_IMG = "<img src=x onerror=alert(1)>"
HOSTILE_TEMPLATE = "${alert(2)}"
HOSTILE_BACKTICK = "`-alert(5)-`"
HOSTILE_SCRIPT = "</script><script data-hostile>alert(3)</script>"
HOSTILE_SVG = "<svg onload=alert(4)>"

#: District names (west to east); the first is the one the browser hook opens.
DISTRICT_NAMES = [HOSTILE_IMG + " District", HOSTILE_TEMPLATE, HOSTILE_SCRIPT]
#: A user category whose configured label is hostile too.
USER_CATEGORY = "community_centre"
USER_LABEL = HOSTILE_SVG + " centre"

# Study area: 0.06° x 0.03° near Shenzhen, three districts side by side.
X0, Y0, DX, DY = 114.00, 22.50, 0.02, 0.03
CELL = 0.002  # ~200 m cells
CELL_M = 200.0


#: A what-if against the fixture: two sites dropped, two added (one with a hostile name).
WHATIF_DROP = ("s5", "s6")
WHATIF_ADD = (
    ("New " + HOSTILE_SCRIPT, "library", "real", False, 114.035, 22.525, 300.0),
    ("New school", "school", "synthetic", False, 114.015, 22.505, 250.0),
)


#: Network facts per site id (band, channel, wired, hops, concurrent users); sites not
#: listed (the what-if additions) are wired, on channel 11, lightly loaded. ``hops`` None:
#: an orphan. s2 (the hostile ``${...}`` name) is the orphan, s4 and s5 reach fibre over
#: the mesh, s1 and s5 share channel 6 (one conflict), s6 is overloaded.
NETWORK = {
    "s0": ("2.4", 1, True, 0, 12.0),
    "s1": ("2.4", 6, True, 0, 30.5),
    "s2": ("2.4", 11, False, None, 8.0),
    "s3": ("5.8", 149, True, 0, 41.0),
    "s4": ("2.4", 1, False, 1, 20.0),
    "s5": ("2.4", 6, False, 2, 15.0),
    "s6": ("2.4", 1, True, 0, 130.4),
}
CONFLICT_PAIRS = [("s1", "s5")]
USERS_PER_AP = 50.0
#: A radio explanation with markup in it (the panel shows it as a tooltip).
HOSTILE_EXPLANATION = "fixed " + HOSTILE_SVG + " radius"


def network_expected(site_ids) -> dict:
    """Orphans, conflict sites and overloaded sites among ``site_ids``."""
    ids = set(site_ids)
    spec = {i: NETWORK.get(i, ("2.4", 11, True, 0, 5.0)) for i in ids}
    conflict = {i for pair in CONFLICT_PAIRS if set(pair) <= ids for i in pair}
    overload = {i for i, v in spec.items() if v[4] > USERS_PER_AP}
    return {"orphans": sorted(i for i, v in spec.items() if v[3] is None),
            "conflict": sorted(conflict), "overload": sorted(overload)}


def _add_network(sites: pd.DataFrame) -> dict:
    """Add the network columns to ``sites``; return the summary.json sections."""
    ids = sites["site_id"].tolist()
    spec = [NETWORK.get(i, ("2.4", 11, True, 0, 5.0)) for i in ids]
    conflicts = {i: 0 for i in ids}
    for a, b in CONFLICT_PAIRS:
        if a in conflicts and b in conflicts:
            conflicts[a] += 1
            conflicts[b] += 1
    users = np.array([v[4] for v in spec])
    aps = np.maximum(1, np.ceil(users / USERS_PER_AP)).astype(int)
    sites["band"] = [v[0] for v in spec]
    sites["channel"] = [float(v[1]) for v in spec]
    sites["channel_conflicts"] = [conflicts[i] for i in ids]
    sites["wired"] = [v[2] for v in spec]
    sites["hops"] = [np.nan if v[3] is None else float(v[3]) for v in spec]
    sites["orphan"] = [v[3] is None for v in spec]
    sites["population_served"] = users / 0.02
    sites["concurrent_users"] = users
    sites["aps_needed"] = aps
    sites["extra_aps"] = aps - 1
    exp = network_expected(ids)
    channels = {}
    for band, chans in (("2.4", [1, 6, 11]), ("5.8", [149, 153, 157, 161, 165])):
        on = sites["band"] == band
        n_conf = sum(1 for a, b in CONFLICT_PAIRS if {a, b} <= set(sites.loc[on, "site_id"]))
        channels[band] = {"channels": chans, "sites": int(on.sum()), "interference_edges": 3,
                          "conflicts": n_conf, "conflicts_before_search": n_conf + 2,
                          "sites_with_conflicts": int((on & (sites["channel_conflicts"] > 0)).sum())}
    return {
        "radio": {
            "school": {"radius_m": 250.0, "source": "link budget", "band": "2.4",
                       "explanation": "2.4 GHz, 20 dBm EIRP, urban: 250 m (downlink-limited)"},
            "library": {"radius_m": 250.0, "source": "fixed radius in the scenario",
                        "band": "2.4", "explanation": "250 m as set in the scenario"},
            "transport_hub": {"radius_m": 400.0, "source": "link budget", "band": "5.8",
                              "explanation": "5.8 GHz, 33 dBm EIRP, line of sight: 400 m"},
            USER_CATEGORY: {"radius_m": 300.0, "source": "fixed radius in the scenario",
                            "band": "2.4", "explanation": HOSTILE_EXPLANATION},
        },
        "channels": channels,
        "backhaul": {"mesh_range_m": 300.0, "wired_sites": int(sites["wired"].sum()),
                     "wireless_sites": int((~sites["wired"]).sum()), "orphans": exp["orphans"],
                     "components": 3, "components_without_gateway": len(exp["orphans"]),
                     "max_hops": int(np.nanmax(sites["hops"]))},
        "capacity": {"take_up_rate": 0.1, "concurrency": 0.2, "users_per_ap": USERS_PER_AP,
                     "aps_per_site": 1, "concurrent_users": float(users.sum()),
                     "overloaded_sites": len(exp["overload"]),
                     "extra_aps": int(sites["extra_aps"].sum()),
                     "most_loaded": [{"site_id": i, "concurrent_users": float(u), "extra_aps": int(e)}
                                     for i, u, e in zip(ids, users, sites["extra_aps"]) if e > 0]},
    }


def _sites(drop=(), add=()) -> pd.DataFrame:
    """Selected sites in rank order (existing first), incl. synthetic and hostile ones.

    ``drop`` removes sites by id; ``add`` appends rows (ids ``n0``, ``n1``, ...).
    """
    rows = [
        # name, category, source, existing, lon, lat, radius
        ("Old hub " + HOSTILE_BACKTICK, "existing", "real", True, 114.010, 22.515, 300.0),
        (HOSTILE_IMG, "school", "real", False, 114.030, 22.515, 250.0),
        (HOSTILE_TEMPLATE, "library", "synthetic", False, 114.050, 22.515, 250.0),
        (HOSTILE_SCRIPT, "transport_hub", "real", False, 114.005, 22.525, 400.0),
        ("Centre A", USER_CATEGORY, "synthetic", False, 114.045, 22.525, 300.0),
        ("School B", "school", "synthetic", False, 114.025, 22.505, 250.0),
        ("Library C", "library", "real", False, 114.055, 22.505, 250.0),
    ]
    df = pd.DataFrame(rows, columns=["name", "category", "source", "existing", "lon", "lat",
                                     "radius_m"])
    df.insert(0, "site_id", [f"s{i}" for i in range(len(df))])
    df = df[~df["site_id"].isin(drop)]
    new = pd.DataFrame(list(add), columns=df.columns[1:])
    new.insert(0, "site_id", [f"n{i}" for i in range(len(new))])
    df = pd.concat([df, new], ignore_index=True) if len(new) else df.reset_index(drop=True)
    df["forced"] = False
    df["cost"] = np.where(df["existing"], 0.0, 1000.0)
    df["rank"] = np.arange(1, len(df) + 1)
    return df


def make_plan_dir(root: Path, *, metric: str = "population", drop=(), add=(),
                  scenario: str = "test " + HOSTILE_IMG, network: bool = True) -> Path:
    """Write a plan folder under ``root`` and return its path.

    ``drop`` / ``add`` change the selected sites (see :func:`_sites`); the demand grid
    is the same, and its ``covered`` flags follow the sites.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    crs = "EPSG:4326"
    sites = _sites(drop, add)
    study = box(X0, Y0, X0 + 3 * DX, Y0 + DY)
    districts_geom = [box(X0 + k * DX, Y0, X0 + (k + 1) * DX, Y0 + DY) for k in range(3)]

    # demand cells
    rng = np.random.default_rng(4)
    cells = []
    xs = np.arange(X0, X0 + 3 * DX - 1e-9, CELL)
    ys = np.arange(Y0, Y0 + DY - 1e-9, CELL)
    m_per_deg_x = 111_320 * np.cos(np.radians(Y0 + DY / 2))
    for x in xs:
        for y in ys:
            g = box(x, y, x + CELL, y + CELL)
            cx, cy = x + CELL / 2, y + CELL / 2
            dist = np.hypot((sites["lon"] - cx) * m_per_deg_x, (sites["lat"] - cy) * 110_570)
            covered = bool((dist <= sites["radius_m"]).any())
            pop = float(rng.choice([0, 20, 150, 600, 1500]))
            district = DISTRICT_NAMES[min(int((cx - X0) / DX), 2)]
            cells.append((district, pop, CELL_M * CELL_M, covered, x < X0 + 0.055, g))
    cells = gpd.GeoDataFrame(cells, columns=["district", "population", "area_m2", "covered",
                                             "reachable", "geometry"], crs=crs)
    cells.insert(0, "cell_id", np.arange(len(cells)))

    # marginal gains and cumulative coverage in greedy order
    covered_so_far = np.zeros(len(cells), bool)
    cxy = np.array([[g.bounds[0] + CELL / 2, g.bounds[1] + CELL / 2] for g in cells.geometry])
    tot_pop = cells["population"].sum()
    gains, cums, gain_area = [], [], []
    for _, s in sites.iterrows():
        d = np.hypot((cxy[:, 0] - s["lon"]) * m_per_deg_x, (cxy[:, 1] - s["lat"]) * 110_570)
        new = (d <= s["radius_m"]) & ~covered_so_far
        gains.append(float(cells.loc[new, "population"].sum()))
        gain_area.append(float(cells.loc[new, "area_m2"].sum()))
        covered_so_far |= new
        cums.append(float(cells.loc[covered_so_far, "population"].sum() / tot_pop))
    sites["marginal_population"] = gains
    sites["marginal_area_m2"] = gain_area
    sites["marginal_gain"] = gains if metric == "population" else gain_area
    sites["cumulative_coverage"] = cums
    sections = _add_network(sites) if network else {}

    sel = gpd.GeoDataFrame(sites, geometry=[Point(x, y) for x, y in zip(sites.lon, sites.lat)],
                           crs=crs)
    # candidates: the selected ones plus some not selected and a forbidden one
    extra = pd.DataFrame({
        "site_id": [f"c{i}" for i in range(6)],
        "name": ["Cand " + HOSTILE_IMG, "Cand 1", "Cand 2", "Cand 3", "Cand 4", None],
        "category": ["school", "library", USER_CATEGORY, "school", "transport_hub", "park"],
        "source": ["real", "synthetic", "real", "real", "real", "real"],
        "existing": False, "radius_m": 250.0, "cost": 1000.0,
        "status": ["not_selected"] * 5 + ["forbidden"],
        "lon": [114.015, 114.035, 114.052, 114.008, 114.042, 114.058],
        "lat": [22.522, 22.508, 22.522, 22.508, 22.512, 22.527],
    })
    cand = pd.concat([sites.assign(status="selected")[extra.columns], extra],
                     ignore_index=True)
    cand = gpd.GeoDataFrame(cand, geometry=[Point(x, y) for x, y in zip(cand.lon, cand.lat)],
                            crs=crs).drop(columns=["lon", "lat"])

    district_rows = []
    for name, g in zip(DISTRICT_NAMES, districts_geom):
        c = cells[cells["district"] == name]
        pop = float(c["population"].sum())
        cov_p = float(c.loc[c.covered, "population"].sum() / pop) if pop else None
        cov_a = float(c.loc[c.covered, "area_m2"].sum() / c["area_m2"].sum())
        n_sites = int(sum(g.contains(p) for p in sel.geometry))
        district_rows.append({"name": name, "population": pop,
                              "area_m2": float(c["area_m2"].sum()),
                              "coverage": cov_p if metric == "population" else cov_a,
                              "coverage_population": cov_p, "coverage_area": cov_a,
                              "n_sites": n_sites, "geometry": g})
    districts = gpd.GeoDataFrame(district_rows, crs=crs)

    gpkg = root / "plan.gpkg"
    sel.drop(columns=["lon", "lat"]).to_file(gpkg, layer="selected_sites", driver="GPKG")
    cand.to_file(gpkg, layer="candidates", driver="GPKG")
    cells.to_file(gpkg, layer="demand_cells", driver="GPKG")
    districts.to_file(gpkg, layer="districts", driver="GPKG")
    gpd.GeoDataFrame({"name": ["study area"]}, geometry=[study], crs=crs).to_file(
        gpkg, layer="study_area", driver="GPKG")
    sites[["lon", "lat"] + [c for c in sites.columns if c not in ("lon", "lat")]].to_csv(
        root / "selected_sites.csv", index=False)

    cov_pop = float(cells.loc[cells.covered, "population"].sum() / tot_pop)
    cov_area = float(cells.loc[cells.covered, "area_m2"].sum() / cells["area_m2"].sum())
    categories = {"school": {"label": "School", "radius_m": 250, "cost": 1000},
                  "library": {"label": "Library", "radius_m": 250, "cost": 1000},
                  "transport_hub": {"label": "Transport hub", "radius_m": 400, "cost": 1000},
                  "existing": {"label": "Existing hotspot", "radius_m": 300, "cost": 0},
                  USER_CATEGORY: {"label": USER_LABEL, "radius_m": 300, "cost": 1000}}
    summary = {
        "scenario": scenario, "target": 0.99, "metric": metric,
        "coverage_population": cov_pop, "coverage_area": cov_area,
        "target_met": False, "max_reachable_coverage": 0.97,
        "n_selected": len(sites), "n_new": int((~sites.existing).sum()),
        "n_existing": int(sites.existing.sum()), "total_cost": float(sites.cost.sum()),
        "n_candidates": len(cand), "n_cells": len(cells),
        "n_unreachable_cells": int((~cells.reachable).sum()), "cell_size_m": CELL_M,
        "crs_metric": "EPSG:32649", "total_population": float(tot_pop),
        "total_area_m2": float(cells["area_m2"].sum()),
        "budget": {"max_sites": len(sites), "max_cost": None}, "stop_reason": "budget_sites",
        "by_district": {r["name"]: r["coverage"] for r in district_rows},
        "districts": [{k: v for k, v in r.items() if k != "geometry"} for r in district_rows],
        "by_category": {}, "categories": categories, "dropped_sites": [], "runtime_s": 0.1,
        **sections,
    }
    (root / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return root


#: Hostile strings for every text field of every page (issue #11). Payloads that would
#: run try to set ``window.__pwned`` or change ``document.title``; the tests check that
#: they did not, and that each string is shown literally.
HOSTILE_CORPUS = [
    "{{ lipsum.__globals__.os.popen('id').read() }}",
    "{{7*7}}",
    "{% for x in range(3) %}loop{% endfor %}",
    "{# eaten #} kept",
    "{{ east",
    "${window.__pwned=1}",
    "`${document.title='PWNED'}`",
    "<img src=x onerror=\"window.__pwned=1;document.title='PWNED'\">",
    "<svg onload=\"window.__pwned=1\">",
    "</script><script>window.__pwned=1</script>",
    "javascript:window.__pwned=1",
    "\"'><b onmouseover=window.__pwned=1>q</b>",
    "line\u2028sep\u2029para",
    "cr\rlf\nend",
    "\u202eRTL\u200f mark \u05e9\u05dc\u05d5\u05dd",
    "L" * 10_000,
]


def hostile_plan_dir(root: Path, corpus=HOSTILE_CORPUS, *, whatif: bool = False,
                     drop=()) -> Path:
    """A plan folder whose every text field holds a string of ``corpus``.

    One added site per string: its name, its id (``site_id``) and its category's key and
    label are the string; one district strip per string, named by it; the scenario name
    joins them all. ``whatif=True`` makes it a what-if plan (its added sites are the
    what-if additions).
    """
    import geopandas as gpd

    n = len(corpus)
    add = [(s, f"cat {k}", "real", False, X0 + 0.002 + k * (3 * DX - 0.004) / n,
            Y0 + 0.006 + (k % 4) * 0.006, 150.0) for k, s in enumerate(corpus)]
    root = make_plan_dir(root, add=add, drop=drop, scenario=" | ".join(corpus))
    gpkg = root / "plan.gpkg"
    sel = gpd.read_file(gpkg, layer="selected_sites")
    new = sel["site_id"].str.fullmatch(r"n\d+")
    idx = sel.loc[new, "site_id"].str[1:].astype(int)
    sel.loc[new, "site_id"] = [corpus[i] for i in idx]
    sel.loc[new, "category"] = [corpus[i] for i in idx]
    if whatif:
        sel.loc[new, "source"] = "what-if"
    sel.to_file(gpkg, layer="selected_sites", driver="GPKG")
    w = 3 * DX / n
    districts = gpd.GeoDataFrame({
        "name": list(corpus), "population": 1000.0, "area_m2": 1e6,
        "coverage": [k / n for k in range(n)], "coverage_population": 0.5,
        "coverage_area": 0.5, "n_sites": 1,
    }, geometry=[box(X0 + k * w, Y0, X0 + (k + 1) * w, Y0 + DY) for k in range(n)],
        crs="EPSG:4326")
    districts.to_file(gpkg, layer="districts", driver="GPKG")
    cells = gpd.read_file(gpkg, layer="demand_cells")
    b = cells.geometry.bounds
    cx = ((b.minx + b.maxx) / 2).to_numpy()
    cells["district"] = [corpus[min(int((x - X0) / w), n - 1)] for x in cx]
    cells.to_file(gpkg, layer="demand_cells", driver="GPKG")
    summary = json.loads((root / "summary.json").read_text(encoding="utf-8"))
    summary["categories"].update({s: {"label": s} for s in corpus})
    summary["districts"] = [{"name": s, "coverage_population": 0.5} for s in corpus]
    summary["by_district"] = {s: 0.5 for s in corpus}
    if whatif:
        summary["kind"] = "what-if"
    (root / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return root


def large_plan_dir(root: Path, n_sel: int, n_cand: int, grid: int) -> Path:
    """A synthetic plan folder with ``n_sel`` selected sites of ``n_cand`` candidates and
    ``grid`` x ``grid``/2 demand cells of ~450 m (for size and speed checks)."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(1)
    x0, y0, step = 113.8, 22.45, 0.0045  # ~450 m cells
    cats = np.array(["school", "library", "transport_hub", "existing", "clinic"])
    lon = x0 + rng.random(n_cand) * grid * step
    lat = y0 + rng.random(n_cand) * grid * step * 0.5
    status = np.where(np.arange(n_cand) < n_sel, "selected", "not_selected")
    cand = gpd.GeoDataFrame({
        "site_id": [f"c{i}" for i in range(n_cand)],
        "name": [f"Site {i}" for i in range(n_cand)],
        "category": cats[rng.integers(0, len(cats), n_cand)],
        "source": np.where(rng.random(n_cand) < 0.3, "synthetic", "real"),
        "existing": False, "radius_m": 300.0, "cost": 1000.0, "status": status,
    }, geometry=[Point(a, b) for a, b in zip(lon, lat)], crs="EPSG:4326")
    sel = cand.iloc[:n_sel].drop(columns="status").copy()
    sel["forced"] = False
    sel["rank"] = np.arange(1, n_sel + 1)
    gains = np.sort(rng.random(n_sel))[::-1]
    sel["marginal_gain"] = sel["marginal_population"] = gains * 1000
    sel["marginal_area_m2"] = gains * 1e5
    sel["cumulative_coverage"] = np.cumsum(gains) / gains.sum() * 0.95
    # network columns: a few orphans, conflicts and overloaded sites among many
    sel["band"] = "2.4"
    sel["channel"] = rng.choice([1.0, 6.0, 11.0], n_sel)
    sel["channel_conflicts"] = (rng.random(n_sel) < 0.02).astype(int)
    sel["wired"] = rng.random(n_sel) < 0.7
    sel["orphan"] = ~sel["wired"] & (rng.random(n_sel) < 0.05)
    sel["hops"] = np.where(sel["wired"], 0.0, np.where(sel["orphan"], np.nan,
                                                       rng.integers(1, 4, n_sel)))
    sel["population_served"] = rng.random(n_sel) * 4000
    sel["concurrent_users"] = sel["population_served"] * 0.02
    sel["aps_needed"] = np.maximum(1, np.ceil(sel["concurrent_users"] / 50)).astype(int)
    sel["extra_aps"] = sel["aps_needed"] - 1
    gy = grid // 2
    cells = gpd.GeoDataFrame({
        "cell_id": np.arange(grid * gy),
        "district": "D",
        "population": rng.choice([0.0, 50.0, 400.0, 2000.0], grid * gy),
        "area_m2": 450.0 ** 2,
        "covered": rng.random(grid * gy) < 0.93,
        "reachable": True,
    }, geometry=[box(x0 + i * step, y0 + j * step, x0 + (i + 1) * step, y0 + (j + 1) * step)
                 for i in range(grid) for j in range(gy)], crs="EPSG:4326")
    w = grid * step / 4
    districts = gpd.GeoDataFrame({
        "name": [f"District {k}" for k in range(4)], "population": 1e6, "area_m2": 1e8,
        "coverage": [0.5, 0.9, 0.97, 0.995], "coverage_population": 0.9,
        "coverage_area": 0.9, "n_sites": 10,
    }, geometry=[box(x0 + k * w, y0, x0 + (k + 1) * w, y0 + gy * step) for k in range(4)],
        crs="EPSG:4326")
    gpkg = root / "plan.gpkg"
    sel.to_file(gpkg, layer="selected_sites", driver="GPKG")
    cand.to_file(gpkg, layer="candidates", driver="GPKG")
    cells.to_file(gpkg, layer="demand_cells", driver="GPKG")
    districts.to_file(gpkg, layer="districts", driver="GPKG")
    gpd.GeoDataFrame(geometry=[box(x0, y0, x0 + grid * step, y0 + gy * step)],
                     crs="EPSG:4326").to_file(gpkg, layer="study_area", driver="GPKG")
    summary = {"scenario": "big", "target": 0.99, "metric": "population",
               "coverage_population": 0.95, "coverage_area": 0.93, "target_met": False,
               "n_selected": n_sel, "n_new": n_sel, "n_existing": 0, "total_cost": 1.5e6,
               "cell_size_m": 450.0, "stop_reason": "budget_sites"}
    (root / "summary.json").write_text(json.dumps(summary))
    return root

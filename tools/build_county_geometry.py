#!/usr/bin/env python3
"""Rebuild the bundled county geometry of Minnesota (src/policyengine/geo/mn_counties.json).

Source: the Census Bureau's 2016 cartographic boundary file of U.S. counties at 1:500,000
(cb_2016_us_county_500k), as shipped inside the PyPI package plotly-geo (module
`_plotly_geo`, folder `package_data`). Read with pyshp, projected (Albers equal-area,
standard parallels 44.5 and 48.5 degrees north, centred on Minnesota), simplified with
shapely and written as SVG path data keyed by FIPS code. Build-time only: install the
`geo` extra (`pip install -e '.[geo]'`) and run

    python tools/build_county_geometry.py

Nothing here runs when policyengine runs; the JSON it writes is committed.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "policyengine" / "geo" / "mn_counties.json"
SHAPEFILE = "cb_2016_us_county_500k"
STATE_FIPS = "27"
WIDTH = 600.0  # SVG user units; the height follows from the state's shape
MARGIN = 6.0
TOLERANCE = 0.35  # simplification tolerance, in SVG user units


def albers(lon: float, lat: float) -> tuple[float, float]:
    """Albers equal-area conic, unit sphere, parallels 44.5/48.5 N, origin 46.5 N 94.3 W."""
    p1, p2, p0, l0 = (math.radians(v) for v in (44.5, 48.5, 46.5, -94.3))
    n = (math.sin(p1) + math.sin(p2)) / 2
    c = math.cos(p1) ** 2 + 2 * n * math.sin(p1)
    rho0 = math.sqrt(c - 2 * n * math.sin(p0)) / n
    phi, lam = math.radians(lat), math.radians(lon)
    rho = math.sqrt(c - 2 * n * math.sin(phi)) / n
    theta = n * (lam - l0)
    return rho * math.sin(theta), rho0 - rho * math.cos(theta)


def main() -> int:
    try:
        import _plotly_geo
        import shapefile  # pyshp
        from shapely.affinity import affine_transform
        from shapely.geometry import MultiPolygon, Polygon, shape
    except ImportError as exc:
        print(f"build_county_geometry: needs the geo extra (plotly-geo, pyshp, shapely): {exc}", file=sys.stderr)
        return 2
    data = Path(_plotly_geo.__file__).parent / "package_data" / SHAPEFILE
    reader = shapefile.Reader(str(data))
    fields = [f[0] for f in reader.fields[1:]]
    counties = []
    for sr in reader.iterShapeRecords():
        rec = dict(zip(fields, sr.record, strict=True))
        if rec["STATEFP"] != STATE_FIPS:
            continue
        geom = shape(sr.shape.__geo_interface__)
        polys = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
        rings = [
            ([albers(*xy) for xy in p.exterior.coords], [[albers(*xy) for xy in r.coords] for r in p.interiors])
            for p in polys
        ]
        projected = MultiPolygon([Polygon(shell, holes) for shell, holes in rings])
        counties.append((rec["GEOID"], rec["NAME"], projected))
    if len(counties) != 87:
        print(f"build_county_geometry: expected 87 Minnesota counties, found {len(counties)}", file=sys.stderr)
        return 1
    xs = [b for _, _, g in counties for b in (g.bounds[0], g.bounds[2])]
    ys = [b for _, _, g in counties for b in (g.bounds[1], g.bounds[3])]
    scale = (WIDTH - 2 * MARGIN) / (max(xs) - min(xs))
    height = round((max(ys) - min(ys)) * scale + 2 * MARGIN, 1)

    out = {}
    for fips, name, geom in sorted(counties):
        # to SVG units: x right, y down, the state's bounding box inside the margin
        g = affine_transform(geom, [scale, 0, 0, -scale, MARGIN - min(xs) * scale, MARGIN + max(ys) * scale])
        g = g.simplify(TOLERANCE, preserve_topology=True)
        parts = list(g.geoms) if hasattr(g, "geoms") else [g]
        path = []
        for poly in parts:
            for ring in [poly.exterior, *poly.interiors]:
                pts = [(round(x, 1), round(y, 1)) for x, y in ring.coords[:-1]]
                path.append("M" + "L".join(f"{x:g},{y:g}" for x, y in pts) + "Z")
        label = g.representative_point()
        out[fips] = {"name": name, "path": "".join(path), "label": [round(label.x, 1), round(label.y, 1)]}
    doc = {
        "source": "U.S. Census Bureau, 2016 cartographic boundary file, counties, 1:500,000 "
        "(cb_2016_us_county_500k), as shipped in the PyPI package plotly-geo 1.0.0",
        "built_by": "tools/build_county_geometry.py",
        "projection": "Albers equal-area conic, standard parallels 44.5 and 48.5 N, origin 46.5 N 94.3 W",
        "simplified": f"shapely simplify, tolerance {TOLERANCE} SVG units, topology preserved per county",
        "width": WIDTH,
        "height": height,
        "counties": out,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=0, sort_keys=True) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(out)} counties, {WIDTH:g} x {height:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

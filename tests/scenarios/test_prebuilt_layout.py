"""The prebuilt scenarios open readable: no two modules at one designer position (issue #22.6:
2.1, 2.2, 3.1 and 3.2 put both route modules at one spot, 3.7 packed modules 150 px apart)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*/*.json"))
# A node is a 90 px circle under a label up to 180 px wide (the editor's overlap rule).
MIN_DX, MIN_DY = 180, 120


def modules(flow: list[dict[str, Any]]):
    for module in flow:
        yield module
        for route in module.get("routes") or []:
            yield from modules(route.get("flow") or [])
        yield from modules(module.get("onerror") or [])


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_no_two_modules_overlap(path: Path) -> None:
    document = json.loads(path.read_text())
    blueprint = document.get("blueprint", document)
    placed = [
        (m["id"], m["metadata"]["designer"]["x"], m["metadata"]["designer"]["y"])
        for m in modules(blueprint["flow"])
    ]
    for i, (a, ax, ay) in enumerate(placed):
        for b, bx, by in placed[i + 1 :]:
            assert abs(ax - bx) >= MIN_DX or abs(ay - by) >= MIN_DY, (
                f"{path.name}: modules {a} ({ax}, {ay}) and {b} ({bx}, {by}) overlap"
            )

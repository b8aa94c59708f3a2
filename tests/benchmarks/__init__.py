"""Benchmarks: ``make bench`` runs every ``bench_*.py`` here and prints their figures.

Each module defines ``run() -> list[dict]``; a row is ``{"benchmark", "metric", "value",
"unit", "floor", "ratio"}`` where ``floor`` is the same work done the simplest possible way in
the same run and ``ratio`` is ``value / floor`` (or the inverse, as the row's metric says).
Benchmarks never run in ``make test`` and tests never assert timings.
"""

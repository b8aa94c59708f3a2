"""``make bench``'s table of targets: met, missed and not measured, read from a run's rows."""

from tests.benchmarks.targets import B1, B6, TARGETS, judge, markdown


def row(benchmark: str, metric: str, value: float, unit: str, ratio: float | None = None):
    return {
        "benchmark": benchmark,
        "metric": metric,
        "value": value,
        "unit": unit,
        "floor": None,
        "ratio": ratio,
    }


def target(text: str):
    (found,) = [t for t in TARGETS if t.text.startswith(text)]
    return found


def test_a_ratio_target_is_met_or_missed_by_the_ratio_measured_in_the_same_run():
    loop = "10,000 lines, one run (s; floor: plain loop)"
    assert judge(target("B1 ≤ 10"), [row(B1, loop, 0.05, "s", 9.8)]) == ("9.80 x", "yes")
    assert judge(target("B1 ≤ 10"), [row(B1, loop, 0.05, "s", 10.4)]) == ("10.40 x", "no")


def test_every_row_of_a_group_target_must_meet_it_and_the_worst_is_shown():
    rows = [row(B6, "embedded lost", 0, "requests"), row(B6, "celery 1 worker lost", 2, "requests")]
    assert judge(target("B6 zero"), rows) == ("worst of 2: 2 requests", "no")


def test_a_target_whose_benchmark_did_not_run_says_so():
    assert judge(target("B6 embedded ≤ 1.5"), []) == ("", "not measured")
    assert markdown([]).count("not measured") == len(TARGETS)

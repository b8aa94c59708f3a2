"""Regular expressions written by users cost bounded memory, wherever they are written.

Sizes are counted as ``regex`` compiles patterns (sums over a sequence, products through
nesting); refused patterns say where they are. What a pattern really costs is measured, not
trusted to the size function: each dangerous case runs in a fresh interpreter with a capped
address space (``run_bounded``), where a regression fails with a ``MemoryError`` or an
over-budget figure instead of taking gigabytes of the shared machine.
"""

from __future__ import annotations

import pytest
import regex

from engine.mapping.regexes import MAX_PATTERN_SIZE, PatternError, compile_pattern, pattern_size
from tests.security.guards import run_bounded

# -- sizes, counted in process (cheap) -------------------------------------------------------------


def test_sizes_add_up_over_a_sequence():
    one = pattern_size("a{10000}")
    assert 10_000 < one < 10_010
    # The attack: the largest repetition on one path was counted, not their sum.
    assert pattern_size("a{100000}" * 100) >= 100 * 100_000
    assert pattern_size("a{10000}" * 3) >= 3 * 10_000


def test_sizes_multiply_through_nesting():
    assert pattern_size("(?:(?:a{1000}){1000}){10}") >= 10_000_000
    assert pattern_size("(?:a{10}b{20}){100}") >= 3_000
    # Ranges compile their required copies only: {0,n} and {1,n} are a loop, not n copies.
    assert pattern_size("(?:(?:a{1,1000}){0,1000}){1,1000}") < 20


@pytest.mark.parametrize(
    "pattern",
    [
        "(?x)(?:a{1000}) {1000}",  # verbose: the space before {1000} is not there
        "(?x)(?: # a comment with a ) in it\n a{1000}){1000}",
        "(?x)a{1 0 0 0 0 0}",  # verbose: spaces inside the count are ignored too
        "(?i)(?:(?:a{300}){300})",
        "(?:(?:a{300}){300})",
        r"\X{5000}",  # graphemes compile to many steps each
    ],
)
def test_what_regex_would_expand_is_counted(pattern):
    with pytest.raises(PatternError, match="repeats too much"):
        compile_pattern(pattern)


def test_a_refused_pattern_names_its_size_and_the_limit():
    with pytest.raises(PatternError) as refused:
        compile_pattern("a{100000}" * 100)
    message = str(refused.value)
    assert "'a{100000}a{100000}" in message and "…'" in message  # shown, shortened
    assert "10,000,101 steps" in message and f"limit of {MAX_PATTERN_SIZE:,}" in message


@pytest.mark.parametrize(
    "pattern",
    [
        r"^[\w.+-]+@[\w-]+\.[\w.-]+$",
        r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})",
        r"(?<invoice>INV-\d+)\s+total\s+(\d+(?:\.\d{2})?)",
        r"^.{0,100000}$",
        "a{19000}",
        r"(?:[A-Z]{2}\d{2}\s?){100}",
    ],
)
def test_ordinary_and_large_patterns_compile(pattern):
    assert compile_pattern(pattern).pattern == pattern
    assert pattern_size(pattern) <= MAX_PATTERN_SIZE


def test_regex_does_not_keep_each_pattern_it_compiled():
    # regex remembers every pattern string it compiles (locale sensitivity) unless its cache is
    # purged; uncached compiles would make that map grow without end.
    for number in range(100):
        compile_pattern(f"distinct-{number}-" + "x" * 1000)
    assert len(regex._main._locale_sensitive) < 50


# -- memory, measured in a capped child interpreter ----------------------------------------------

SETUP = """
from datetime import UTC, datetime
from engine.blueprint import load_blueprint
from engine.graph import compile_blueprint
from engine.registry import default_registry
from engine.runtime import RunContext, run_scenario

def run(*flow):
    blueprint = {"name": "patterns", "flow": list(flow), "metadata": {"version": 1}}
    plan = compile_blueprint(load_blueprint(blueprint), default_registry())
    record = run_scenario(plan, RunContext(clock=lambda: datetime(2026, 1, 1, tzinfo=UTC)))
    return {"status": record.status, "error": record.error}

def compose(module_id, value):
    return {"id": module_id, "module": "util:ComposeTransformer", "mapper": {"value": value}}

def parser(module_id, pattern, text, **switches):
    return {"id": module_id, "module": "regexp:Parser",
            "parameters": {"pattern": pattern, **switches}, "mapper": {"text": text}}

run(parser(1, "(b)", "abc"), compose(2, '{{replace("abc"; "/b/g"; "c")}}'))  # warm: not measured
"""


def test_a_hundred_repetitions_in_one_replace_are_refused_without_compiling():
    # Before: the cost was the largest repetition (100,000, allowed), and compiling took 2.5 GB.
    pattern = "a{100000}" * 100
    outcome = run_bounded(
        SETUP, f'result = run(compose(1, \'{{{{replace("x"; "/{pattern}/"; "y")}}}}\'))'
    )
    result = outcome["result"]
    assert result["status"] == "error"
    assert result["error"]["module_id"] == 1
    assert (
        "Function 'replace' finished with error! the regular expression"
        in (result["error"]["message"])
    )
    assert "repeats too much" in result["error"]["message"]
    assert outcome["grown_mb"] < 20, outcome


def test_nested_repetition_in_the_text_parser_is_refused_naming_module_and_field():
    # Before: Text parser patterns were not checked at all (2.9 GB in 4.7 s).
    outcome = run_bounded(SETUP, "result = run(parser(1, '(?:(?:a{1000}){1000}){10}', 'aaa'))")
    result = outcome["result"]
    assert result["status"] == "error"
    assert result["error"]["module_id"] == 1
    assert result["error"]["message"].startswith(
        "module 1 (regexp:Parser): parameters.pattern: the regular expression "
        "'(?:(?:a{1000}){1000}){10}' repeats too much"
    )
    assert outcome["grown_mb"] < 20, outcome


def test_a_switch_case_pattern_is_checked_too():
    outcome = run_bounded(
        SETUP,
        "result = run({'id': 1, 'module': 'util:Switcher', 'mapper': {'input': 'a',"
        " 'useRegExpMatch': True, 'casesTable': [{'pattern': 'b', 'output': 1},"
        " {'pattern': '(?:a{1000}){1000}', 'output': 2}]}})",
    )
    message = outcome["result"]["error"]["message"]
    assert message.startswith("module 1 (util:Switcher): casesTable[1].pattern: ")
    assert "repeats too much" in message
    assert outcome["grown_mb"] < 20, outcome


def test_distinct_large_patterns_stay_within_the_cache_budget():
    # Each pattern is allowed (about 2 MB compiled); before, 512 of them were kept (plus
    # regex's own 500), so a scenario that builds patterns from data grew by gigabytes.
    outcome = run_bounded(
        SETUP,
        "from engine.mapping import regexes\n"
        "for number in range(120):\n"
        "    regexes.replace('a{19000}' + 'b' * (number + 1), 'g', 'x', 'y')\n",
    )
    # The cache holds up to 16 MB by size (about 26 MB resident); before: 300 MB for these.
    assert outcome["grown_mb"] < 80, outcome


def test_a_runaway_match_in_the_text_parser_stops_within_bounded_memory():
    # regex keeps every capture of a repeated group (~170 bytes a character): what a match can
    # take is what it allocates before its timeout. The parser used to allow 1 s (over 600 MB
    # here, or a MemoryError); it now has every pattern's 0.25 s.
    outcome = run_bounded(
        SETUP,
        "result = run(parser(1, '(((a)))+$x', 'a' * 10_000_000, **{'global': True}))",
    )
    result = outcome["result"]
    assert result["status"] == "error"
    assert result["error"]["message"].startswith(
        "module 1 (regexp:Parser): parameters.pattern: the regular expression '(((a)))+$x' "
        "took longer than 0.25 s to match"
    )
    assert outcome["grown_mb"] < 400, outcome  # about 220 MB, then given back


# -- date formats: parseDate builds a pattern from its format ----------------------------------

EXPRESSIONS = """
import gc
from engine.errors import DataError
from engine.mapping import EvalContext, compile_template

def evaluate(source, timezone="UTC"):
    context = EvalContext(bundles={}, timezone=timezone)
    try:
        return compile_template(source, where="dates").evaluate(context)
    except DataError as error:
        return str(error)

def resident_mb():
    gc.collect()
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
"""


@pytest.mark.parametrize(
    ("text", "date_format", "answer"),
    [
        # Each separator became its own [\\W_]*: 14 in a row took 2.8 s to fail in the stdlib
        # engine, which has no timeout, and every two more took ten times as long.
        ("-" * 40 + "!", "-" * 40 + "YYYY", "does not match the date format"),
        # Adjacent number tokens backtracked exponentially too (the regex package avoids it,
        # and its timeout would stop it).
        ("1" * 40, "x" * 20 + "[T]", "does not match the date format"),
    ],
    ids=["separators", "tokens"],
)
def test_a_date_format_cannot_make_parsing_run_away(text, date_format, answer):
    outcome = run_bounded(
        EXPRESSIONS,
        f'result = evaluate(\'{{{{parseDate("{text}"; "{date_format}")}}}}\')',
        cpu_seconds=15,
    )
    assert outcome["result"].startswith("Function 'parseDate' finished with error! ")
    assert answer in outcome["result"]


def test_long_date_formats_are_not_kept():
    # Formats (a mapping can build them from data) were cached 512 (formatting) and 256
    # (parsing, with the compiled pattern) at a time, whatever their length.
    outcome = run_bounded(
        EXPRESSIONS,
        "before = resident_mb()\n"
        "for number in range(30):\n"
        "    fmt = 'YYYY-MM-DD ' * 30000 + str(number)\n"
        "    evaluate('{{formatDate(now; \"' + fmt + '\")}}')\n"
        "    evaluate('{{parseDate(\"2020\"; \"' + fmt + '\")}}')\n"
        "result = resident_mb() - before",
    )
    assert outcome["result"] < 20, outcome  # before: over 50 MB for these 30


def test_long_time_zone_names_are_not_kept():
    # Zones were cached by the text given (256 of them), padding and all: a preview's time zone
    # (or a scenario's) could keep 256 texts of any size.
    outcome = run_bounded(
        EXPRESSIONS,
        "before = resident_mb()\n"
        "for number in range(60):\n"
        "    evaluate('{{formatDate(now; YYYY)}}', ' ' * (1_000_000 + number) + 'UTC')\n"
        "result = resident_mb() - before",
    )
    assert outcome["result"] < 20, outcome  # before: about 60 MB for these 60

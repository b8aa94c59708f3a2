"""A whole library running against fresh sandboxes, and the sync run to quiescence: what the
randomized books test (``test_books_balance.py``) and its goldens drive.

``open_world(library_name)`` starts the 1CRM sandbox, the accounting sandbox (Xero or
QuickBooks Online), the real service with every scenario of ``scenarios/<library>`` imported
and active (the demo's setup), and yields a ``World``. ``World.sync()`` runs the scenarios
round after round, in the order a scheduler would reach them (accounts, invoices, payments),
each round ending with the scheduler's tick three hours later (a record waiting for another
is retried when its backoff is due), until a round writes nothing in either sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import requests

from engine.store import Execution, ExecutionStatus, IncompleteStatus, utc_now
from modules.onecrm import sandbox as onecrm_sandbox
from modules.quickbooks import sandbox as qbo_sandbox
from modules.reconcile import Difference
from modules.sandboxing import run_sandbox_in_thread
from modules.xero import sandbox as xero_sandbox
from tests.clock import SkippingClock
from tests.connectors.conftest import Sandbox
from tests.connectors.test_quickbooks_support import VERIFIER, connect_quickbooks
from tests.contracts.xero_openapi import ExchangeTap, assert_exchanges_conform
from tests.scenarios.conftest import Library, open_library

FOREIGN_CURRENCIES = ("USD", "AUD")
"""Currencies besides NZD both accounting sandboxes take (1CRM's sandbox has them too)."""

MAX_ROUNDS = 6
"""A sync that still writes after this many rounds loops."""

ROUND_TIME = timedelta(hours=3, minutes=1)
"""The time a round stands for: longer than any one backoff (``engine/service/retries.py``)."""

# The scenarios of each library in the order they run in a round (prefix of the file name;
# 1CRM's invoice changes in the order 1CRM announces them: created, edited, cancelled),
# and whether 1CRM's webhooks (``crm``), the accounting system's (``app``) or a poll
# (``poll``) starts them. Xero's 2.9 (payments deleted in 1CRM) runs before 2.11 and 2.8: a
# person clears a paid invoice's payments before editing or cancelling it, and 1CRM announces
# the deletions first (run after them, 2.11's edit is refused by Xero and waits; 2.4 leaves
# the invoice alone meanwhile: test_books_xero_refused_edits.py).
ORDER: dict[str, tuple[tuple[str, str], ...]] = {
    "xero": (
        ("2.1", "crm"),
        ("2.2", "poll"),
        ("2.3", "crm"),
        ("2.9", "crm"),
        ("2.11", "crm"),
        ("2.8", "crm"),
        ("2.4", "poll"),
        ("2.5", "crm"),
        ("2.12", "crm"),
        ("2.13", "poll"),
        ("2.6", "crm"),
        ("2.7", "poll"),
        ("2.10", "poll"),
    ),
    "quickbooks": (
        ("3.1", "crm"),
        ("3.2", "app"),
        ("3.3", "crm"),
        ("3.10", "crm"),
        ("3.9", "crm"),
        ("3.4", "app"),
        ("3.5a", "crm"),
        ("3.13", "crm"),
        ("3.5b", "app"),
        ("3.6", "crm"),
        ("3.11", "crm"),
        ("3.7", "app"),
        ("3.12", "app"),
        ("3.8", "crm"),
    ),
}


def accepted_writes(sandbox: Sandbox, prefix: str) -> int:
    """Requests under ``prefix`` that wrote (POST, PUT, PATCH, DELETE) and that the sandbox
    took (2xx)."""
    return sum(
        r["method"] in ("POST", "PUT", "PATCH", "DELETE")
        and r["path"].startswith(prefix)
        and 200 <= r["status"] < 300
        for r in sandbox.state()["requests"]
    )


class SyncLoops(AssertionError):
    """The sync still writes after ``MAX_ROUNDS`` rounds."""


@dataclass
class World:
    """One library's scenarios, active, between a 1CRM sandbox and an accounting sandbox."""

    name: str
    library: Library
    scenarios: dict[str, int]
    executions: list[Execution] = field(default_factory=list)
    clock: datetime = field(default_factory=utc_now)

    @property
    def accounting(self) -> Sandbox:
        return self.library.xero if self.name == "xero" else self.library.quickbooks

    def writes(self) -> tuple[int, int]:
        """Writes so far that 1CRM's and the accounting system's API took.

        A write the API refused (4xx, 5xx) changed nothing: a record whose write is refused
        waits and its retries are sent round after round, which is not a loop (the record
        is reported as left behind, with the refusal).
        """
        prefix = "/api.xro/" if self.name == "xero" else "/v3/"
        return (
            accepted_writes(self.library.onecrm, "/api.php/data/"),
            accepted_writes(self.accounting, prefix),
        )

    def run_round(self) -> list[Execution]:
        ran = self.run_scenarios()
        retried = self.retry_waiting()
        self.executions += retried
        return ran + retried

    def run_scenarios(self, first: tuple[str, ...] = ()) -> list[Execution]:
        """A round without the scheduler's tick: every scenario once, in order (records that
        wait stay waiting); ``first`` runs those scenarios before the rest, as when another
        scenario's webhook is delivered late (instant scenarios run side by side)."""
        library, ran = self.library, []
        library.onecrm.flush_webhooks()
        if self.name == "quickbooks":
            library.quickbooks.flush_webhooks()
        order = ORDER[self.name]
        for prefix, start in sorted(order, key=lambda step: step[0] not in first):
            scenario = self.scenarios[prefix]
            if start == "poll":
                ran.append(library.poll(scenario))
            else:
                hook = library.hook(scenario)
                ran += [library.service.get_execution(i) for i in self.drain(hook.id)]
        self.executions += ran
        return ran

    def retry_waiting(self) -> list[Execution]:
        """The scheduler's tick a round later: the retries it starts, run."""
        service = self.library.service
        self.clock += ROUND_TIME
        service.tick(now=self.clock)
        queued = service.list_executions(status=ExecutionStatus.QUEUED, limit=500).items
        return [service.execute(e.id) or service.get_execution(e.id) for e in reversed(queued)]

    def drain(self, webhook_id: int) -> list[str]:
        ids: list[str] = []
        while found := self.library.service.process_webhook(webhook_id):
            ids += found
        return ids

    def sync(self) -> int:
        """Rounds until one writes nothing; the number of rounds.

        Raises:
            SyncLoops: still writing after ``MAX_ROUNDS``.
        """
        for number in range(1, MAX_ROUNDS + 1):
            before = self.writes()
            self.run_round()
            if self.writes() != before:
                continue
            if not self.refused_by_a_rate_limit():
                return number
            # A round stands for three hours, but the sandboxes count calls in their own
            # seconds: the tick's retry ran at once and was refused again. Let a rate window
            # go by (on the clock the sandboxes count on: skipped, not sat through).
            self.library.clock.sleep(self.rate_window())
        raise SyncLoops(f"the {self.name} library still writes after {MAX_ROUNDS} rounds")

    def refused_by_a_rate_limit(self) -> bool:
        """Whether a record waits because an API refused it with 429."""
        incomplete = self.library.service.list_incomplete(limit=500)
        return any(
            i.status is not IncompleteStatus.RESOLVED and i.error.get("type") == "RateLimitError"
            for i in incomplete
        )

    def rate_window(self) -> float:
        """Seconds in which both sandboxes have forgotten every call they counted."""
        windows = [
            float(sandbox.control("config", method="GET")["rate_limit_window_seconds"])
            for sandbox in (self.library.onecrm, self.accounting)
        ]
        return max(windows) + 1

    def failed(self) -> list[Execution]:
        """Runs that ended in error (a run whose records wait ends with a warning)."""
        return [e for e in self.executions if e.status is ExecutionStatus.ERROR]

    def waiting(self) -> list[tuple[str, Any, Any, int]]:
        """Records still waiting (incomplete executions not resolved): scenario (its prefix),
        the module that failed, its error and the attempts made."""
        prefixes = {scenario: prefix for prefix, scenario in self.scenarios.items()}
        incomplete = self.library.service.list_incomplete(limit=500)
        return [
            (
                prefixes.get(i.scenario_id, str(i.scenario_id)),
                i.failed_module_id,
                i.error.get("message"),
                i.attempts,
            )
            for i in incomplete
            if i.status is not IncompleteStatus.RESOLVED
        ]

    def inactive(self) -> list[str]:
        return [s.name for s in self.library.service.list_scenarios() if not s.active]

    def differences(self) -> list[Difference]:
        return self.library.differences(self.name)

    def assert_balanced(self) -> int:
        """Sync to quiescence; then no run failed, no record waits, no scenario is off and
        nothing differs.

        Returns:
            The rounds the sync took.
        """
        rounds = self.sync()
        failed = [(e.scenario_id, e.error) for e in self.failed()]
        assert failed == [], failed
        waiting = self.waiting()
        assert waiting == [], f"records left behind: {waiting}"
        assert self.inactive() == []
        differences = [str(d) for d in self.differences() if not d.known]
        assert differences == [], differences
        return rounds


@contextmanager
def open_world(name: str) -> Iterator[World]:
    """Fresh sandboxes, a fresh service, the library ``name`` imported and active."""
    with ExitStack() as stack, requests.Session() as http:
        directory = Path(stack.enter_context(TemporaryDirectory(prefix="sb-books-")))

        def serve(app: Any) -> Sandbox:
            url, stop = run_sandbox_in_thread(app)
            stack.callback(stop)
            return Sandbox(url, http)

        clock = SkippingClock()  # rate-limit windows and waits (``tests/clock.py``)
        onecrm = serve(onecrm_sandbox.create_app(monotonic=clock.monotonic))
        # An organisation that invoices in more than its base currency (NZD).
        currencies = {"currencies": list(FOREIGN_CURRENCIES)}
        tap = ExchangeTap(xero_sandbox.create_app(currencies, monotonic=clock.monotonic))
        xero = serve(tap)
        stack.callback(assert_exchanges_conform, tap)
        library = stack.enter_context(open_library(directory / "var", onecrm, xero, http, clock))
        if name == "quickbooks":
            library.quickbooks = serve(qbo_sandbox.create_app(monotonic=clock.monotonic))
            library.connections["quickbooks"] = connect_quickbooks(
                library.service.store, library.service.registry, http, library.quickbooks
            ).id
        scenarios = {
            prefix: library.load(prefix, app=name, active=True) for prefix, _ in ORDER[name]
        }
        if name == "quickbooks":
            url = f"{library.service.options.base_url}/hooks/apps/quickbooks"
            library.quickbooks.control("config", {"webhook_url": url, "webhook_key": VERIFIER})
        world = World(name, library, scenarios)
        world.run_round()  # the polls start watching from now
        yield world

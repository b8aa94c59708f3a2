"""Scenarios and their version history."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from engine.store.records import UNSET, Scenario, ScenarioVersion, ScenarioVersionInfo, _Unset


class ScenarioStore(ABC):
    """Scenarios: every save of a blueprint is a new, immutable version."""

    @abstractmethod
    def create_scenario(
        self,
        name: str,
        blueprint: str,
        *,
        scheduling: Mapping[str, Any] | None = None,
        active: bool = False,
        saved_by: str | None = None,
    ) -> Scenario:
        """Create a scenario whose version 1 is ``blueprint``.

        Args:
            name: shown in the UI; need not be unique.
            blueprint: the blueprint JSON as exported; stored byte-exact as text.
            scheduling: JSON with a ``type`` (``immediately``, ``indefinitely``/interval with
                ``interval`` seconds, ``daily``, ``weekly``, ``monthly``, ``cron`` …); the
                scheduler owns its meaning. Defaults to ``{"type": "on-demand"}``.
            active: whether scheduling is on.
            saved_by: who saved version 1 (kept with the version; ``None``: unknown).

        Returns:
            The new scenario, ``current_version == 1``, ``consecutive_errors == 0``.
        """

    @abstractmethod
    def get_scenario(self, scenario_id: int) -> Scenario:
        """The scenario. Raises ``NotFound``."""

    @abstractmethod
    def list_scenarios(self, *, active: bool | None = None) -> list[Scenario]:
        """All scenarios (only active or inactive ones when ``active`` is given), by id."""

    @abstractmethod
    def save_scenario(
        self, scenario_id: int, blueprint: str, *, saved_by: str | None = None
    ) -> int:
        """Store ``blueprint`` as a new version and make it current; ``saved_by`` (who saved
        it, ``None`` when unknown) is kept with the version.

        Versions are numbered 1, 2, 3 … per scenario with no gaps; two concurrent saves get
        different numbers. Earlier versions stay readable (running executions and incomplete
        executions refer to them).

        Returns:
            The new version number.

        Raises:
            NotFound: no such scenario.
        """

    @abstractmethod
    def get_scenario_version(self, scenario_id: int, version: int | None = None) -> ScenarioVersion:
        """One version (the current one when ``version`` is ``None``), blueprint text included,
        byte-for-byte as saved. Raises ``NotFound`` for an unknown scenario or version."""

    @abstractmethod
    def list_scenario_versions(self, scenario_id: int) -> list[ScenarioVersionInfo]:
        """Every version of the scenario, newest first, without blueprint text.
        Raises ``NotFound``."""

    @abstractmethod
    def update_scenario(
        self,
        scenario_id: int,
        *,
        name: str | _Unset = UNSET,
        scheduling: Mapping[str, Any] | _Unset = UNSET,
    ) -> Scenario:
        """Change the name and/or scheduling without making a new blueprint version.
        Raises ``NotFound``."""

    @abstractmethod
    def set_scenario_active(self, scenario_id: int, active: bool) -> Scenario:
        """Turn scheduling on or off. Turning it on resets ``consecutive_errors`` to 0.
        Raises ``NotFound``."""

    @abstractmethod
    def record_scenario_outcome(self, scenario_id: int, *, errored: bool) -> int:
        """Count a finished run towards ``consecutive_errors``, atomically.

        An errored run adds one; any other run resets the count to 0. The caller compares the
        returned count with the scenario's ``maxErrors`` to decide whether to deactivate it.

        Returns:
            The new ``consecutive_errors``. Raises ``NotFound``.
        """

    @abstractmethod
    def delete_scenario(self, scenario_id: int) -> None:
        """Delete the scenario with its versions, executions, incomplete executions and trigger
        cursors. Its webhooks stay, detached (``scenario_id`` becomes ``None``).
        Raises ``NotFound``."""

"""Small pieces of state: trigger cursors, organization variables, app deliveries seen."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any


class CursorStore(ABC):
    """A polling trigger's cursor (its "epoch"), per scenario and module."""

    @abstractmethod
    def get_cursor(self, scenario_id: int, module_id: int) -> Any | None:
        """The stored cursor JSON, or ``None`` when none is set."""

    @abstractmethod
    def set_cursor(self, scenario_id: int, module_id: int, cursor: Any) -> None:
        """Store ``cursor`` (any JSON but ``None``), replacing the previous one."""

    @abstractmethod
    def clear_cursor(self, scenario_id: int, module_id: int | None = None) -> int:
        """Forget one module's cursor, or all of the scenario's; returns how many."""


class VariableStore(ABC):
    """Organization variables, read in mappings as ``{{var.organization.NAME}}``."""

    @abstractmethod
    def get_variable(self, name: str) -> Any | None:
        """The value, or ``None`` when unset."""

    @abstractmethod
    def set_variable(self, name: str, value: Any) -> None:
        """Set (or replace) a variable; the value is any JSON."""

    @abstractmethod
    def delete_variable(self, name: str) -> bool:
        """Remove a variable; ``False`` when it was not set."""

    @abstractmethod
    def list_variables(self) -> dict[str, Any]:
        """Every variable, by name."""


class DeliveryMemory(ABC):
    """App deliveries accepted lately, by digest: the replay memory of ``/hooks/apps/<app>``,
    shared by every process using the store."""

    @abstractmethod
    def remember_delivery(
        self, digest: str, window_seconds: float, now: datetime | None = None
    ) -> bool:
        """``True`` the first time ``digest`` is seen within ``window_seconds`` (it is then
        remembered as seen ``now``), ``False`` while an earlier sighting is that recent. Check
        and record are one step: of two copies arriving together, one is first. Digests older
        than the window are forgotten on the way. Inside ``transaction()`` the sighting counts
        only if the block commits."""

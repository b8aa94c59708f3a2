"""Scenarios and versions on SQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.engine import Connection

from engine.store.errors import NotFound
from engine.store.records import UNSET, Scenario, ScenarioVersion, ScenarioVersionInfo, _Unset
from engine.store.sql.base import SqlBase, changes_routes, fetch_one, given
from engine.store.sql.schema import scenario_versions, scenarios

DEFAULT_SCHEDULING: dict[str, Any] = {"type": "on-demand"}


def checked_scheduling(scheduling: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of ``scheduling``; it must be a JSON object with a text ``type``."""
    if scheduling is None:
        return dict(DEFAULT_SCHEDULING)
    if not isinstance(scheduling, Mapping) or not isinstance(scheduling.get("type"), str):
        raise ValueError(f"scheduling needs a 'type' (immediately, indefinitely …): {scheduling!r}")
    return dict(scheduling)


def scenario_from_row(row: Row[Any]) -> Scenario:
    return Scenario(
        id=row.id,
        name=row.name,
        current_version=row.current_version,
        active=row.active,
        scheduling=row.scheduling,
        consecutive_errors=row.consecutive_errors,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlScenarios(SqlBase):
    @changes_routes
    def create_scenario(
        self,
        name: str,
        blueprint: str,
        *,
        scheduling: Mapping[str, Any] | None = None,
        active: bool = False,
        saved_by: str | None = None,
    ) -> Scenario:
        now = self._now()
        with self._write() as connection:
            scenario_id = connection.execute(
                insert(scenarios).returning(scenarios.c.id),
                {
                    "name": name,
                    "current_version": 1,
                    "active": active,
                    "scheduling": checked_scheduling(scheduling),
                    "consecutive_errors": 0,
                    "created_at": now,
                    "updated_at": now,
                },
            ).scalar_one()
            self._insert_version(connection, scenario_id, 1, blueprint, saved_by)
            return self._scenario(connection, scenario_id)

    def get_scenario(self, scenario_id: int) -> Scenario:
        with self._read() as connection:
            return self._scenario(connection, scenario_id)

    def list_scenarios(self, *, active: bool | None = None) -> list[Scenario]:
        query = select(scenarios).order_by(scenarios.c.id)
        if active is not None:
            query = query.where(scenarios.c.active == active)
        with self._read() as connection:
            return [scenario_from_row(row) for row in connection.execute(query)]

    @changes_routes
    def save_scenario(
        self, scenario_id: int, blueprint: str, *, saved_by: str | None = None
    ) -> int:
        with self._write() as connection:
            # Bumping the counter first locks the scenario row, so concurrent saves queue up
            # and each gets its own version number.
            version = connection.execute(
                update(scenarios)
                .where(scenarios.c.id == scenario_id)
                .values(current_version=scenarios.c.current_version + 1, updated_at=self._now())
                .returning(scenarios.c.current_version)
            ).scalar_one_or_none()
            if version is None:
                raise NotFound("scenario", scenario_id)
            self._insert_version(connection, scenario_id, version, blueprint, saved_by)
            return version

    def get_scenario_version(self, scenario_id: int, version: int | None = None) -> ScenarioVersion:
        with self._read() as connection:
            if version is None:
                version = self._scenario(connection, scenario_id).current_version
            row = fetch_one(
                connection,
                select(scenario_versions).where(
                    scenario_versions.c.scenario_id == scenario_id,
                    scenario_versions.c.version == version,
                ),
                "scenario version",
                (scenario_id, version),
            )
        return ScenarioVersion(
            scenario_id=row.scenario_id,
            version=row.version,
            size_bytes=row.size_bytes,
            created_at=row.created_at,
            saved_by=row.saved_by,
            blueprint=row.blueprint,
        )

    def list_scenario_versions(self, scenario_id: int) -> list[ScenarioVersionInfo]:
        columns = [
            scenario_versions.c.scenario_id,
            scenario_versions.c.version,
            scenario_versions.c.size_bytes,
            scenario_versions.c.created_at,
            scenario_versions.c.saved_by,
        ]
        query = (
            select(*columns)
            .where(scenario_versions.c.scenario_id == scenario_id)
            .order_by(scenario_versions.c.version.desc())
        )
        with self._read() as connection:
            self._scenario(connection, scenario_id)
            return [ScenarioVersionInfo(*row) for row in connection.execute(query)]

    def update_scenario(
        self,
        scenario_id: int,
        *,
        name: str | _Unset = UNSET,
        scheduling: Mapping[str, Any] | _Unset = UNSET,
    ) -> Scenario:
        values = given(name=name)
        if scheduling is not UNSET:
            values["scheduling"] = checked_scheduling(scheduling)
        return self._update_scenario(scenario_id, values)

    def set_scenario_active(self, scenario_id: int, active: bool) -> Scenario:
        values: dict[str, Any] = {"active": active}
        if active:
            values["consecutive_errors"] = 0
        return self._update_scenario(scenario_id, values)

    @changes_routes
    def record_scenario_outcome(self, scenario_id: int, *, errored: bool) -> int:
        count = scenarios.c.consecutive_errors + 1 if errored else 0
        with self._write() as connection:
            result = connection.execute(
                update(scenarios)
                .where(scenarios.c.id == scenario_id)
                .values(consecutive_errors=count)
                .returning(scenarios.c.consecutive_errors)
            ).scalar_one_or_none()
        if result is None:
            raise NotFound("scenario", scenario_id)
        return result

    @changes_routes
    def delete_scenario(self, scenario_id: int) -> None:
        with self._write() as connection:
            deleted = connection.execute(delete(scenarios).where(scenarios.c.id == scenario_id))
            if deleted.rowcount == 0:
                raise NotFound("scenario", scenario_id)

    @changes_routes
    def _update_scenario(self, scenario_id: int, values: dict[str, Any]) -> Scenario:
        with self._write() as connection:
            result = connection.execute(
                update(scenarios)
                .where(scenarios.c.id == scenario_id)
                .values(**values, updated_at=self._now())
            )
            if result.rowcount == 0:
                raise NotFound("scenario", scenario_id)
            return self._scenario(connection, scenario_id)

    def _scenario(self, connection: Connection, scenario_id: int) -> Scenario:
        row = fetch_one(
            connection,
            select(scenarios).where(scenarios.c.id == scenario_id),
            "scenario",
            scenario_id,
        )
        return scenario_from_row(row)

    def _insert_version(
        self,
        connection: Connection,
        scenario_id: int,
        version: int,
        blueprint: str,
        saved_by: str | None,
    ) -> None:
        if not isinstance(blueprint, str):
            raise TypeError("blueprint must be the exported JSON text (str), kept byte-exact")
        connection.execute(
            insert(scenario_versions),
            {
                "scenario_id": scenario_id,
                "version": version,
                "blueprint": blueprint,
                "size_bytes": len(blueprint.encode("utf-8")),
                "created_at": self._now(),
                "saved_by": saved_by,
            },
        )

// The scenario list: name, active switch, schedule, last run, operations; create, rename,
// duplicate, delete, import and export.
import { useEffect, useRef, useState } from "react";
import { api } from "../api";
import type { JsonObject, Scenario, ScenarioDetail } from "../types";
import { settled } from "../leaveGuard";
import { ImportBindings, connectionPlaceholders } from "./ImportBindings";

export function scheduleText(s: JsonObject | null): string {
  if (!s || !s.type) return "On demand";
  switch (s.type) {
    case "immediately":
      return "Immediately";
    case "indefinitely":
    case "interval":
      return `Every ${Math.round(Number(s.interval ?? 900) / 60)} min`;
    case "once":
      return `Once, ${String(s.date ?? "")}`;
    case "daily":
      return `Daily at ${String(s.time ?? (Array.isArray(s.times) ? s.times.join(", ") : ""))}`;
    case "weekly":
      return `Weekly (${Array.isArray(s.days) ? s.days.join(", ") : ""}) at ${String(s.time ?? "")}`;
    case "monthly":
      return `Monthly (${Array.isArray(s.dates) ? s.dates.join(", ") : ""}) at ${String(s.time ?? "")}`;
    case "cron":
      return `Cron ${String(s.cron ?? "")}`;
    case "on-demand":
      return "On demand";
    default:
      return String(s.type);
  }
}

export function ScenarioList({ onOpen }: { onOpen: (id: number) => void }) {
  const [scenarios, setScenarios] = useState<Scenario[] | null>(null);
  const [error, setError] = useState("");
  const [renaming, setRenaming] = useState<{ id: number; name: string } | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const [binding, setBinding] = useState<{ file: File; apps: string[] } | null>(null);

  const reload = () =>
    settled()
      .then(() => api.get<Scenario[] | { items: Scenario[] }>("/api/scenarios"))
      .then((s) => setScenarios(Array.isArray(s) ? s : s.items))
      .catch((e: Error) => setError(e.message));
  useEffect(() => {
    reload();
  }, []);

  const act = async (fn: () => Promise<unknown>) => {
    setError("");
    try {
      await fn();
      await reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  // A new scenario is stored once it is changed (the editor creates it then), as in Make:
  // opening the editor and leaving leaves no empty row.
  const create = () => {
    window.location.hash = "#/scenarios/new";
  };

  const chooseConnections = async (file: File) => {
    const apps = connectionPlaceholders(await file.text());
    if (apps.length > 0) setBinding({ file, apps });
    else await importFile(file, {});
  };

  const importFile = async (file: File, bindings: Record<string, number>) => {
    setBinding(null);
    const form = new FormData();
    form.append("file", file);
    for (const [app, id] of Object.entries(bindings)) form.append("connection", `${app}:${id}`);
    try {
      const detail = await api.upload<ScenarioDetail>("/api/scenarios/import", form);
      onOpen(detail.id);
    } catch (e) {
      setError(`Could not import ${file.name}: ${(e as Error).message}`);
    }
  };

  return (
    <div className="scenario-list">
      <div className="list-header">
        <h1>Scenarios</h1>
        <div className="row">
          <button onClick={() => fileInput.current?.click()}>Import blueprint</button>
          <input
            ref={fileInput}
            type="file"
            accept=".json,application/json"
            hidden
            data-testid="import-file"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) void chooseConnections(file);
              e.target.value = "";
            }}
          />
          <button className="primary" onClick={create}>
            Create a new scenario
          </button>
        </div>
      </div>
      {error && <p className="inline-error">{error}</p>}
      {binding && (
        <ImportBindings
          fileName={binding.file.name}
          apps={binding.apps}
          onImport={(bindings) => void importFile(binding.file, bindings)}
          onCancel={() => setBinding(null)}
        />
      )}
      {scenarios === null && !error && <p className="muted">Loading…</p>}
      {scenarios && scenarios.length === 0 && (
        <p className="muted empty">No scenario yet. Create one or import a blueprint exported from Make.</p>
      )}
      {scenarios && scenarios.length > 0 && (
        <table className="scenarios">
          <thead>
            <tr>
              <th>Name</th>
              <th>Active</th>
              <th>Schedule</th>
              <th>Last run</th>
              <th>Operations</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {scenarios.map((s) => (
              <tr key={s.id} data-testid={`scenario-${s.id}`}>
                <td>
                  {renaming?.id === s.id ? (
                    <form
                      onSubmit={(e) => {
                        e.preventDefault();
                        const name = renaming.name;
                        setRenaming(null);
                        void act(() => api.put(`/api/scenarios/${s.id}`, { name }));
                      }}
                    >
                      <input
                        autoFocus
                        aria-label="New name"
                        value={renaming.name}
                        onChange={(e) => setRenaming({ id: s.id, name: e.target.value })}
                      />
                      <button className="small primary" type="submit">
                        OK
                      </button>
                    </form>
                  ) : (
                    <a href={`#/scenarios/${s.id}`} className="scenario-name-link">
                      {s.name}
                    </a>
                  )}
                </td>
                <td>
                  <label className="switch" title={s.active ? "Active: runs on its schedule" : "Inactive"}>
                    <input
                      type="checkbox"
                      aria-label={`Active ${s.name}`}
                      checked={s.active}
                      onChange={() =>
                        void act(() => api.post(`/api/scenarios/${s.id}/${s.active ? "deactivate" : "activate"}`))
                      }
                    />
                    <span />
                  </label>
                </td>
                <td>{scheduleText(s.scheduling)}</td>
                <td>
                  {s.last_run ? (
                    <span className={`status ${s.last_run.status}`}>
                      {s.last_run.status}
                      {s.last_run.finished_at ? ` · ${new Date(s.last_run.finished_at).toLocaleString()}` : ""}
                    </span>
                  ) : (
                    <span className="muted">never</span>
                  )}
                </td>
                <td>{s.last_run?.operations ?? 0}</td>
                <td className="actions">
                  <button className="small" onClick={() => setRenaming({ id: s.id, name: s.name })}>
                    Rename
                  </button>
                  <button
                    className="small"
                    onClick={() =>
                      void act(() => api.post(`/api/scenarios/${s.id}/duplicate`, { name: `${s.name} (copy)` }))
                    }
                  >
                    Duplicate
                  </button>
                  <a className="button small" href={`#/history?scenario=${s.id}`}>
                    History
                  </a>
                  <a className="button small" href={`/api/scenarios/${s.id}/export`} download>
                    Export
                  </a>
                  <button
                    className="small danger"
                    onClick={() => confirm(`Delete “${s.name}”?`) && void act(() => api.del(`/api/scenarios/${s.id}`))}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

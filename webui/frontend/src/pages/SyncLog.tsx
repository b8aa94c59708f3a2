// The sync log of a scenario: one row per record with its latest outcome (Synced, Error, Not
// Valid, Not Synced), the keys on both sides, the message and when; filter by status.
import { useEffect, useState } from "react";
import { api } from "../api";
import { formatTime, useScenarios } from "./common";

interface SyncEntry {
  status: string;
  source_key: string | null;
  source_name: string | null;
  target_key: string | null;
  message: string | null;
  at: string | null;
  execution_id: string | null;
  writes: number;
}

const STATUSES = ["Synced", "Error", "Not Valid", "Not Synced"];

export function SyncLog({ scenarioId }: { scenarioId: number }) {
  const scenarios = useScenarios();
  const [entries, setEntries] = useState<SyncEntry[] | null>(null);
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");
  const [all, setAll] = useState(false);

  useEffect(() => {
    api
      .get<SyncEntry[]>(`/api/scenarios/${scenarioId}/sync-log?limit=500${all ? "&all=true" : ""}`)
      .then((e) => {
        setEntries(e);
        setError("");
      })
      .catch((e: Error) => setError(e.message));
  }, [scenarioId, all]);

  const counts = new Map<string, number>();
  for (const e of entries ?? []) counts.set(e.status, (counts.get(e.status) ?? 0) + 1);
  const shown = (entries ?? []).filter((e) => !status || e.status === status);
  return (
    <div className="page sync-log-page">
      <div className="list-header">
        <h1>Sync log · {scenarios.get(scenarioId)?.name ?? `scenario ${scenarioId}`}</h1>
        <div className="row">
          <a className="button" href={`#/history?scenario=${scenarioId}`}>
            History
          </a>
          <a className="button" href={`#/scenarios/${scenarioId}`}>
            Open scenario
          </a>
        </div>
      </div>
      <div className="filters">
        <div className="status-tabs" role="tablist" aria-label="Filter by status">
          {["", ...STATUSES].map((s) => (
            <button
              key={s || "all"}
              role="tab"
              aria-selected={status === s}
              className={status === s ? "active" : ""}
              onClick={() => setStatus(s)}
            >
              {s || "All"} <span className="badge">{s ? (counts.get(s) ?? 0) : (entries?.length ?? 0)}</span>
            </button>
          ))}
        </div>
        <label className="checkbox">
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> Every outcome (not only
          each record's latest)
        </label>
      </div>
      {error && <p className="inline-error">{error}</p>}
      {entries === null && !error && <p className="muted">Loading…</p>}
      {entries && shown.length === 0 && (
        <p className="muted empty">No record{status ? ` is ${status}` : " synced yet"}.</p>
      )}
      {shown.length > 0 && (
        <table className="scenarios data-table" data-testid="sync-log-table">
          <thead>
            <tr>
              <th>Status</th>
              <th>Source record</th>
              <th>Source key</th>
              <th>Target key</th>
              <th>Message</th>
              <th>Time</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((e, i) => (
              <tr key={`${e.execution_id}-${e.source_key}-${i}`} data-status={e.status}>
                <td>
                  <span className={`sync-status sync-${e.status.toLowerCase().replace(/\s+/g, "-")}`}>{e.status}</span>
                </td>
                <td>{e.source_name ?? "—"}</td>
                <td>
                  <code>{e.source_key ?? "—"}</code>
                </td>
                <td>
                  <code>{e.target_key ?? "—"}</code>
                </td>
                <td className="error-cell">{e.message ?? ""}</td>
                <td>{formatTime(e.at)}</td>
                <td>
                  {e.execution_id && (
                    <a
                      className="small"
                      href={`#/scenarios/${scenarioId}?execution=${encodeURIComponent(e.execution_id)}`}
                    >
                      Execution
                    </a>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

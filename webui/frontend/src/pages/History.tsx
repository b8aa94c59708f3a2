// Execution history, per scenario or across all, newest first by start (a run not started yet
// by when it was queued): status, start, duration, operations, data size, trigger; filters
// (status, scenario, date range) and keyset paging ("Older" / "Newer").
// A row opens the execution on the canvas in the read-only inspector.
import { useEffect, useState } from "react";
import { ApiError, api } from "../api";
import type { Execution, Page } from "../types";
import { Status, errorText, formatBytes, formatMs, formatTime, useScenarios } from "./common";

const STATUSES = ["success", "warning", "incomplete", "error", "running", "queued"];
const TRIGGERS = ["manual", "schedule", "webhook", "retry"];
const PAGE_SIZE = 20;

function dayStart(date: string): string {
  return new Date(`${date}T00:00:00`).toISOString();
}
/** The start of the next day: `until` is exclusive. */
function dayEnd(date: string): string {
  const d = new Date(`${date}T00:00:00`);
  d.setDate(d.getDate() + 1);
  return d.toISOString();
}

export function History({ scenarioId }: { scenarioId: number | null }) {
  const scenarios = useScenarios();
  const [scenario, setScenario] = useState<number | null>(scenarioId);
  const [status, setStatus] = useState("");
  const [trigger, setTrigger] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  // Keyset paging: the cursors of the pages before this one, for "Newer".
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [page, setPage] = useState<Page<Execution> | null>(null);
  const [error, setError] = useState("");
  const [clientDates, setClientDates] = useState(false);
  const cursor = cursors[cursors.length - 1];

  useEffect(() => setScenario(scenarioId), [scenarioId]);
  useEffect(() => setCursors([null]), [scenario, status, trigger, from, to]);

  useEffect(() => {
    let stale = false;
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (scenario !== null) params.set("scenario_id", String(scenario));
    if (status) params.set("status", status);
    if (trigger) params.set("trigger_kind", trigger);
    if (cursor) params.set("cursor", cursor);
    const dated = new URLSearchParams(params);
    if (from) dated.set("since", dayStart(from));
    if (to) dated.set("until", dayEnd(to));
    const load = async (): Promise<Page<Execution>> => {
      try {
        const answer = await api.get<Page<Execution>>(`/api/executions?${dated}`);
        setClientDates(false);
        return answer;
      } catch (e) {
        // A server without date filters refuses since/until: filter this page here instead.
        if ((from || to) && e instanceof ApiError && (e.status === 400 || e.status === 422)) {
          setClientDates(true);
          const answer = await api.get<Page<Execution>>(`/api/executions?${params}`);
          const lo = from ? Date.parse(dayStart(from)) : -Infinity;
          const hi = to ? Date.parse(dayEnd(to)) : Infinity;
          return {
            ...answer,
            items: answer.items.filter((x) => {
              const t = Date.parse(x.started_at ?? x.created_at);
              return t >= lo && t < hi;
            }),
          };
        }
        throw e;
      }
    };
    load()
      .then((answer) => {
        if (stale) return;
        setPage(answer);
        setError("");
      })
      .catch((e: Error) => !stale && setError(e.message));
    return () => {
      stale = true;
    };
  }, [scenario, status, trigger, from, to, cursor]);

  const name = scenario !== null ? scenarios.get(scenario)?.name : null;
  return (
    <div className="page history-page">
      <div className="list-header">
        <h1>{scenario !== null ? `History of ${name ?? `scenario ${scenario}`}` : "Execution history"}</h1>
        {scenario !== null && (
          <a className="button" href={`#/scenarios/${scenario}`}>
            Open scenario
          </a>
        )}
      </div>
      <div className="filters" role="search">
        <label>
          Scenario
          <select
            aria-label="Scenario"
            value={scenario ?? ""}
            onChange={(e) => {
              const v = e.target.value ? Number(e.target.value) : null;
              setScenario(v);
              window.location.hash = v !== null ? `#/history?scenario=${v}` : "#/history";
            }}
          >
            <option value="">All scenarios</option>
            {[...scenarios.values()].map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select aria-label="Status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Trigger
          <select aria-label="Trigger" value={trigger} onChange={(e) => setTrigger(e.target.value)}>
            <option value="">Any trigger</option>
            {TRIGGERS.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" aria-label="From" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          To
          <input type="date" aria-label="To" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        {(status || trigger || from || to) && (
          <button
            className="small"
            onClick={() => {
              setStatus("");
              setTrigger("");
              setFrom("");
              setTo("");
            }}
          >
            Clear filters
          </button>
        )}
      </div>
      {clientDates && (
        <p className="muted small">The date range filters this page only (the server pages by status and scenario).</p>
      )}
      {error && <p className="inline-error">{error}</p>}
      {page === null && !error && <p className="muted">Loading…</p>}
      {page && page.items.length === 0 && <p className="muted empty">No execution matches.</p>}
      {page && page.items.length > 0 && (
        <table className="scenarios data-table" data-testid="history-table">
          <thead>
            <tr>
              <th>Status</th>
              {scenario === null && <th>Scenario</th>}
              <th>Started</th>
              <th>Duration</th>
              <th>Operations</th>
              <th>Data size</th>
              <th>Trigger</th>
              <th>Error</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((x) => {
              const href = `#/scenarios/${x.scenario_id}?execution=${encodeURIComponent(x.id)}`;
              return (
                <tr
                  key={x.id}
                  className="clickable"
                  data-testid={`execution-${x.id}`}
                  onClick={() => (window.location.hash = href)}
                >
                  <td>
                    <a href={href} className="scenario-name-link" aria-label={`Open execution ${x.id}`}>
                      <Status status={x.status} />
                    </a>
                  </td>
                  {scenario === null && <td>{scenarios.get(x.scenario_id)?.name ?? `#${x.scenario_id}`}</td>}
                  <td data-testid="started">
                    {x.started_at ? (
                      formatTime(x.started_at)
                    ) : (
                      <span className="muted" title="Not started: listed by the time it was queued">
                        queued {formatTime(x.created_at)}
                      </span>
                    )}
                  </td>
                  <td>{formatMs(x.duration_ms)}</td>
                  <td>{x.operations}</td>
                  <td>{formatBytes(x.data_size)}</td>
                  <td>{x.trigger_kind ?? "—"}</td>
                  <td className="error-cell">{errorText(x.error)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <div className="pager">
        <button disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Newer
        </button>
        <span className="muted small">Page {cursors.length}</span>
        <button
          disabled={!page?.next_cursor}
          onClick={() => page?.next_cursor && setCursors([...cursors, page.next_cursor])}
        >
          Older →
        </button>
      </div>
    </div>
  );
}

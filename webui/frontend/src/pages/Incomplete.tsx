// Incomplete executions: list, inspect the stored bundles and error, edit the stored bundles
// (JSON) and retry now, resolve, delete, retry many at once.
import { useEffect, useState } from "react";
import { ApiError, api } from "../api";
import { BundleTree } from "../inspect/BundleTree";
import type { Execution, Incomplete, IncompleteEntry, Json, JsonObject } from "../types";
import { Status, errorText, formatTime, missingEndpoint, useScenarios } from "./common";

/** What a retry resumes from: the incomplete execution's stored state. Read from the API when it
 * has `GET /api/incomplete/{id}`, else from the `incomplete` entry of its execution record. */
async function loadState(item: Incomplete): Promise<{ state: JsonObject | null; editable: boolean }> {
  try {
    const full = await api.get<Incomplete>(`/api/incomplete/${item.id}`);
    if (full.state && typeof full.state === "object" && !Array.isArray(full.state))
      return { state: full.state as JsonObject, editable: true };
  } catch (e) {
    if (!missingEndpoint(e)) throw e;
  }
  if (!item.execution_id) return { state: null, editable: false };
  const execution = await api.get<Execution>(`/api/executions/${encodeURIComponent(item.execution_id)}`);
  const entries: IncompleteEntry[] = execution.record?.incomplete ?? [];
  const entry = entries.find((x) => x.module_id === item.failed_module_id) ?? entries[0];
  if (!entry) return { state: null, editable: true };
  return { state: entry as unknown as JsonObject, editable: true };
}

function Detail({ item, canEdit, onDone }: { item: Incomplete; canEdit: boolean; onDone: (msg: string) => void }) {
  const [state, setState] = useState<JsonObject | null | undefined>(undefined);
  const [text, setText] = useState("");
  const [parseError, setParseError] = useState("");
  const [error, setError] = useState("");
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setState(undefined);
    setEditing(false);
    loadState(item)
      .then(({ state }) => {
        setState(state);
        setText(JSON.stringify(state?.bundles ?? {}, null, 2));
      })
      .catch((e: Error) => setError(e.message));
  }, [item]);

  const saveAndRetry = async (retry: boolean) => {
    let bundles: Json;
    try {
      bundles = JSON.parse(text) as Json;
    } catch (e) {
      setParseError((e as Error).message);
      return;
    }
    setBusy(true);
    setError("");
    try {
      const next: JsonObject = {
        module_id: item.failed_module_id,
        error: (state?.error as Json) ?? null,
        ...(state ?? {}),
        bundles,
      };
      await api.patch(`/api/incomplete/${item.id}`, { state: next });
      if (retry) {
        const execution = await api.post<Execution>(`/api/incomplete/${item.id}/retry`);
        onDone(`Saved and retrying: execution ${execution.id.slice(0, 12)} ${execution.status}`);
      } else onDone("Stored bundles saved");
    } catch (e) {
      if (missingEndpoint(e)) setError("This server cannot edit stored bundles yet (PATCH /api/incomplete/{id}).");
      else setError((e as ApiError).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <aside className="side-panel incomplete-detail" aria-label={`Incomplete execution ${item.id}`}>
      <header>
        <h2>Incomplete execution {item.id}</h2>
      </header>
      <p className="small">
        <Status status={item.status} /> module <span className="badge">{item.failed_module_id ?? "?"}</span> · attempt{" "}
        {item.attempts}
        {item.max_attempts ? ` of ${item.max_attempts}` : ""} · version {item.blueprint_version}
        {item.next_retry_at ? ` · next retry ${formatTime(item.next_retry_at)}` : ""}
      </p>
      {item.error && (
        <div className="run-error" data-testid="incomplete-error">
          {errorText(item.error)}
        </div>
      )}
      {item.execution_id && (
        <a
          className="small"
          href={`#/scenarios/${item.scenario_id}?execution=${encodeURIComponent(item.execution_id)}`}
        >
          Open the execution on the canvas
        </a>
      )}
      {error && <p className="inline-error">{error}</p>}
      {state === undefined && !error && <p className="muted">Loading the stored bundles…</p>}
      {state === null && <p className="muted">No stored bundles (confidential scenario or nothing kept).</p>}
      {state && !editing && (
        <>
          <h4>Stored bundles (by module)</h4>
          <BundleTree label="Bundles" value={state.bundles} />
          {canEdit && item.status !== "resolved" && <button onClick={() => setEditing(true)}>Edit bundles</button>}
        </>
      )}
      {state && editing && (
        <div className="json-editor">
          <label className="field-label" htmlFor="incomplete-json">
            Stored bundles (JSON, by module id)
          </label>
          <textarea
            id="incomplete-json"
            aria-label="Stored bundles JSON"
            rows={16}
            spellCheck={false}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              try {
                JSON.parse(e.target.value);
                setParseError("");
              } catch (err) {
                setParseError((err as Error).message);
              }
            }}
          />
          {parseError && <span className="inline-error">{parseError}</span>}
          <div className="row">
            <button className="primary" disabled={busy || !!parseError} onClick={() => void saveAndRetry(true)}>
              Save and retry now
            </button>
            <button disabled={busy || !!parseError} onClick={() => void saveAndRetry(false)}>
              Save
            </button>
            <button onClick={() => setEditing(false)}>Cancel</button>
          </div>
        </div>
      )}
    </aside>
  );
}

export function IncompletePage({ canEdit }: { canEdit: boolean }) {
  const scenarios = useScenarios();
  const [list, setList] = useState<Incomplete[] | null>(null);
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [open, setOpen] = useState<Incomplete | null>(null);
  const [scenario, setScenario] = useState<number | null>(null);

  const reload = () =>
    api
      .get<Incomplete[] | { items: Incomplete[] }>(
        `/api/incomplete?limit=200${scenario !== null ? `&scenario_id=${scenario}` : ""}`,
      )
      .then((answer) => {
        const found = Array.isArray(answer) ? answer : answer.items;
        setList(found);
        setOpen((o) => (o ? (found.find((x) => x.id === o.id) ?? null) : null));
      })
      .catch((e: Error) => setError(e.message));
  useEffect(() => {
    void reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [scenario]);

  const act = async (label: string, fn: () => Promise<unknown>) => {
    setError("");
    try {
      await fn();
      setMessage(label);
    } catch (e) {
      setError((e as Error).message);
    }
    await reload();
  };

  const bulkRetry = async (ids: number[]) => {
    try {
      const answer = await api.post<{ queued?: unknown[]; skipped?: number[] }>("/api/incomplete/retry", { ids });
      return `Retrying ${answer.queued?.length ?? ids.length}${answer.skipped?.length ? `, ${answer.skipped.length} skipped` : ""}`;
    } catch (e) {
      if (!missingEndpoint(e) && !(e instanceof ApiError && e.status === 422)) throw e;
      // No bulk endpoint on this server: one retry each.
      let queued = 0;
      const failed: string[] = [];
      for (const id of ids) {
        try {
          await api.post(`/api/incomplete/${id}/retry`);
          queued += 1;
        } catch (err) {
          failed.push(`${id}: ${(err as Error).message}`);
        }
      }
      return `Retrying ${queued}${failed.length ? `; not retried: ${failed.join("; ")}` : ""}`;
    }
  };

  const pending = (list ?? []).filter((x) => x.status !== "resolved");
  return (
    <div className="page incomplete-page">
      <div className="list-header">
        <h1>Incomplete executions</h1>
        <div className="row">
          <select
            aria-label="Scenario"
            value={scenario ?? ""}
            onChange={(e) => setScenario(e.target.value ? Number(e.target.value) : null)}
          >
            <option value="">All scenarios</option>
            {[...scenarios.values()].map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
          <button
            disabled={!canEdit || selected.size === 0}
            onClick={() =>
              void (async () => {
                const ids = [...selected];
                setSelected(new Set());
                setError("");
                try {
                  setMessage(await bulkRetry(ids));
                } catch (e) {
                  setError((e as Error).message);
                }
                await reload();
              })()
            }
          >
            Retry selected ({selected.size})
          </button>
        </div>
      </div>
      {message && (
        <p className="toast-line" role="status">
          {message}
        </p>
      )}
      {error && <p className="inline-error">{error}</p>}
      {list === null && !error && <p className="muted">Loading…</p>}
      {list && list.length === 0 && <p className="muted empty">No incomplete execution.</p>}
      <div className="page-split">
        {list && list.length > 0 && (
          <table className="scenarios data-table" data-testid="incomplete-table">
            <thead>
              <tr>
                <th>
                  <input
                    type="checkbox"
                    aria-label="Select all"
                    checked={pending.length > 0 && pending.every((x) => selected.has(x.id))}
                    onChange={(e) => setSelected(new Set(e.target.checked ? pending.map((x) => x.id) : []))}
                  />
                </th>
                <th>Scenario</th>
                <th>Status</th>
                <th>Module</th>
                <th>Error</th>
                <th>Attempts</th>
                <th>Created</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((x) => (
                <tr key={x.id} data-testid={`incomplete-${x.id}`} className={open?.id === x.id ? "selected" : ""}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${x.id}`}
                      disabled={x.status === "resolved"}
                      checked={selected.has(x.id)}
                      onChange={(e) => {
                        const next = new Set(selected);
                        if (e.target.checked) next.add(x.id);
                        else next.delete(x.id);
                        setSelected(next);
                      }}
                    />
                  </td>
                  <td>{scenarios.get(x.scenario_id)?.name ?? `#${x.scenario_id}`}</td>
                  <td>
                    <Status status={x.status} />
                  </td>
                  <td>
                    <span className="badge">{x.failed_module_id ?? "?"}</span>
                  </td>
                  <td className="error-cell">{errorText(x.error)}</td>
                  <td>
                    {x.attempts}
                    {x.max_attempts ? ` / ${x.max_attempts}` : ""}
                  </td>
                  <td>{formatTime(x.created_at)}</td>
                  <td className="actions">
                    <button className="small" onClick={() => setOpen(x)}>
                      Inspect
                    </button>
                    <button
                      className="small"
                      disabled={!canEdit || x.status === "resolved"}
                      onClick={() =>
                        void act(`Retrying incomplete execution ${x.id}`, () =>
                          api.post(`/api/incomplete/${x.id}/retry`),
                        )
                      }
                    >
                      Retry
                    </button>
                    <button
                      className="small"
                      disabled={!canEdit || x.status === "resolved"}
                      onClick={() =>
                        void act(`Resolved incomplete execution ${x.id}`, () =>
                          api.post(`/api/incomplete/${x.id}/resolve`),
                        )
                      }
                    >
                      Resolve
                    </button>
                    <button
                      className="small danger"
                      disabled={!canEdit}
                      onClick={() =>
                        confirm(`Delete incomplete execution ${x.id}?`) &&
                        void act(`Deleted incomplete execution ${x.id}`, () => api.del(`/api/incomplete/${x.id}`))
                      }
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {open && (
          <Detail
            key={open.id}
            item={open}
            canEdit={canEdit}
            onDone={(msg) => {
              setMessage(msg);
              void reload();
            }}
          />
        )}
      </div>
    </div>
  );
}

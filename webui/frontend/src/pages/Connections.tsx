// Connections: every stored connection (never its secrets) with its app; add one of any kind,
// test it, sign in again (OAuth2: a revoked or expired grant), delete it.
import { useEffect, useState } from "react";
import { api, items } from "../api";
import {
  NewConnectionForm,
  TestResult,
  signInWithPopup,
  testConnection,
  type TestOutcome,
} from "../editor/connections";
import type { Connection, ConnectionKind } from "../types";
import { formatTime } from "./common";

export function ConnectionsPage({ canEdit }: { canEdit: boolean }) {
  const [connections, setConnections] = useState<Connection[] | null>(null);
  const [kinds, setKinds] = useState<ConnectionKind[]>([]);
  const [adding, setAdding] = useState<string>("");
  const [outcomes, setOutcomes] = useState<Record<number, TestOutcome>>({});
  const [error, setError] = useState("");
  const reload = () =>
    api.get<Connection[]>("/api/connections").then(
      (c) => setConnections(items(c)),
      (e: Error) => setError(e.message),
    );
  useEffect(() => {
    void reload();
    api.get<ConnectionKind[]>("/api/connection-kinds").then(
      (k) => setKinds(items(k)),
      () => {},
    );
  }, []);
  const kindOf = (c: Connection) => kinds.find((k) => k.id === c.app);
  const addKind = kinds.find((k) => k.id === adding);
  const show = (id: number, outcome: TestOutcome) => setOutcomes((o) => ({ ...o, [id]: outcome }));
  const reauthorize = (c: Connection) =>
    signInWithPopup(c.app, { connection: String(c.id) }).then(
      () => show(c.id, { ok: true, message: "signed in again" }),
      (e: Error) => show(c.id, { ok: false, message: e.message }),
    );
  const remove = (c: Connection) =>
    confirm(`Delete the connection “${c.name}”? Scenarios using it stop working until given another.`) &&
    api.del(`/api/connections/${c.id}`).then(reload, (e: Error) => setError(e.message));
  return (
    <div className="page">
      <div className="list-header">
        <h1>Connections</h1>
        {canEdit && (
          <div className="row">
            <select aria-label="New connection for" value={adding} onChange={(e) => setAdding(e.target.value)}>
              <option value="">Add a connection to…</option>
              {kinds.map((k) => (
                <option key={k.id} value={k.id}>
                  {k.label}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      {addKind && (
        <div className="panel-card" data-testid="new-connection">
          <h2>New {addKind.label} connection</h2>
          <NewConnectionForm
            key={addKind.id}
            kind={addKind}
            onCreated={(id, outcome) => {
              setAdding("");
              if (outcome) show(id, outcome);
              void reload();
            }}
          />
        </div>
      )}
      {error && <p className="inline-error">{error}</p>}
      {connections && connections.length === 0 && (
        <p className="muted empty">No connection yet. Add one here or from a module's panel.</p>
      )}
      {connections && connections.length > 0 && (
        <table className="scenarios data-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>App</th>
              <th>Sign-in</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {connections.map((c) => (
              <tr key={c.id} data-testid={`connection-${c.id}`}>
                <td>
                  {c.name}
                  {outcomes[c.id] && <TestResult outcome={outcomes[c.id]} />}
                </td>
                <td>{kindOf(c)?.label ?? c.app}</td>
                <td>{c.kind}</td>
                <td>{formatTime(c.created_at)}</td>
                <td className="actions">
                  {canEdit && (
                    <button className="small" onClick={() => void testConnection(c.id).then((o) => show(c.id, o))}>
                      Test
                    </button>
                  )}
                  {canEdit && c.kind === "oauth2" && (
                    <button className="small" onClick={() => void reauthorize(c)}>
                      Sign in again
                    </button>
                  )}
                  {canEdit && (
                    <button className="small danger" onClick={() => void remove(c)}>
                      Delete
                    </button>
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

// Making connections, shared by the module panel's picker, the import dialog and the
// Connections page: the form of a connection kind, OAuth2 sign-in in a pop-up, the app's test.
import { useState } from "react";
import { api } from "../api";
import type { Connection, ConnectionKind } from "../types";

export interface TestOutcome {
  ok: boolean;
  message: string;
}

/** Ask the app whether a stored connection works; a failure is an outcome, not a throw. */
export function testConnection(id: number): Promise<TestOutcome> {
  return api
    .post<TestOutcome>(`/api/connections/${id}/test`, {})
    .catch((e) => ({ ok: false, message: (e as Error).message }));
}

export function TestResult({ outcome }: { outcome: TestOutcome }) {
  return (
    <p className={outcome.ok ? "help" : "inline-error"} data-testid="connection-test">
      {outcome.ok ? "Connection works — " : "Connection failed — "}
      {outcome.message}
    </p>
  );
}

/**
 * Open the app's consent page in a pop-up; resolves with the connection the callback stored
 * (``?connection=`` reauthorizes an existing one), rejects with the reason it failed.
 */
export function signInWithPopup(kind: string, query: Record<string, string>): Promise<number> {
  const params = new URLSearchParams(query).toString();
  const popup = window.open(`/oauth/${encodeURIComponent(kind)}/authorize?${params}`, "oauth", "width=600,height=700");
  if (!popup) return Promise.reject(new Error("The browser blocked the sign-in window: allow pop-ups for this site."));
  return new Promise((resolve, reject) => {
    const listener = (e: MessageEvent) => {
      // Only the callback page of this origin speaks for the grant.
      if (e.origin !== window.location.origin) return;
      const outcome = (e.data as { switchboardOAuth?: { connection_id?: number; error?: string } } | null)
        ?.switchboardOAuth;
      if (!outcome) return;
      window.removeEventListener("message", listener);
      if (typeof outcome.connection_id === "number") resolve(outcome.connection_id);
      else reject(new Error(outcome.error || "The connection was not authorized."));
    };
    window.addEventListener("message", listener);
  });
}

function defaults(kind: ConnectionKind): Record<string, string> {
  const form: Record<string, string> = { name: kind.label };
  for (const f of kind.fields) if (f.default !== undefined && f.default !== null) form[f.name] = String(f.default);
  return form;
}

/**
 * The form of a new connection of ``kind``: its fields, or "Sign in" for OAuth2 apps. Saving
 * tests the connection, as Make does: a connection that works is kept and ``onCreated`` gets
 * the test's outcome; one the app refuses is not kept — the form stays open with the app's
 * answer, to fix the fields, or to "Save anyway" untested (the app may be down for a while).
 * An OAuth2 grant is stored by the sign-in itself; its test's outcome is passed on.
 */
export function NewConnectionForm({
  kind,
  onCreated,
}: {
  kind: ConnectionKind;
  onCreated: (id: number, outcome: TestOutcome | null) => void;
}) {
  const [form, setForm] = useState<Record<string, string>>(() => defaults(kind));
  const [error, setError] = useState("");
  const [failed, setFailed] = useState<TestOutcome | null>(null);
  const [busy, setBusy] = useState(false);
  const create = async (name: string) => {
    const data: Record<string, string> = {};
    const secrets: Record<string, string> = {};
    for (const f of kind.fields) {
      const v = form[f.name] ?? "";
      if (v === "") continue;
      if (f.secret) secrets[f.name] = v;
      else data[f.name] = v;
    }
    return (await api.post<Connection>("/api/connections", { kind: kind.id, name, data, secrets })).id;
  };
  const save = async (tested: boolean) => {
    setError("");
    setFailed(null);
    setBusy(true);
    const name = form.name || kind.label;
    try {
      if (kind.auth === "oauth2") {
        const id = await signInWithPopup(kind.id, { name });
        onCreated(id, await testConnection(id));
        return;
      }
      const id = await create(name);
      if (!tested) {
        onCreated(id, null);
        return;
      }
      const outcome = await testConnection(id);
      if (outcome.ok) {
        onCreated(id, outcome);
        return;
      }
      await api.del(`/api/connections/${id}`); // refused: not kept, as in Make
      setFailed(outcome);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="inline-form">
      <label className="field">
        <span className="field-label">Connection name</span>
        <input
          aria-label="Connection name"
          value={form.name ?? ""}
          onChange={(e) => setForm({ ...form, name: e.target.value })}
        />
      </label>
      {kind.auth !== "oauth2" &&
        kind.fields.map((f) => (
          <label className="field" key={f.name}>
            <span className="field-label">
              {f.label}
              {f.required && <span className="required">*</span>}
            </span>
            <input
              type={f.secret ? "password" : "text"}
              aria-label={f.label}
              value={form[f.name] ?? ""}
              onChange={(e) => setForm({ ...form, [f.name]: e.target.value })}
            />
            {f.help && <span className="help">{f.help}</span>}
          </label>
        ))}
      {error && <p className="inline-error">{error}</p>}
      {failed && <TestResult outcome={failed} />}
      <div className="row">
        <button className="primary small" disabled={busy} onClick={() => void save(true)}>
          {busy ? "Testing the connection…" : kind.auth === "oauth2" ? "Sign in" : "Save connection"}
        </button>
        {failed && (
          <button className="small" disabled={busy} onClick={() => void save(false)}>
            Save anyway
          </button>
        )}
      </div>
    </div>
  );
}

// A select whose choices the module's app loads by a request (Make's RPCs, "options":
// "rpc://name"): the API runs the RPC with the module's connection
// (POST /api/modules/{module}/rpcs/{rpc}). Without a connection, or when the app refuses, the
// reason is shown and the value can still be typed ("Map").
import { useEffect, useState } from "react";
import { api } from "../api";
import type { Json, JsonObject } from "../types";

/** What a field needs to load its choices: the module and the values chosen so far. */
export interface RpcSource {
  module: string;
  connection: Json | undefined;
  parameters: JsonObject;
}

interface Choice {
  label: string;
  value: Json;
}

interface RpcAnswer {
  items: Choice[];
  error: string | null;
}

interface Loaded {
  items: Choice[];
  note: string;
  loading: boolean;
}

export function RpcSelect({
  label,
  testId,
  rpc,
  source,
  value,
  onChange,
}: {
  label: string;
  testId: string;
  rpc: string;
  source: RpcSource;
  value: Json | undefined;
  onChange: (value: Json | undefined) => void;
}) {
  const [loaded, setLoaded] = useState<Loaded>({ items: [], note: "", loading: false });
  const [attempt, setAttempt] = useState(0);
  const connection = typeof source.connection === "number" ? source.connection : null;
  const url = `/api/modules/${encodeURIComponent(source.module)}/rpcs/${encodeURIComponent(rpc)}`;
  useEffect(() => {
    if (connection === null) {
      setLoaded({ items: [], note: "Choose a connection to load the choices.", loading: false });
      return;
    }
    let live = true;
    setLoaded((old) => ({ ...old, loading: true }));
    api
      .post<RpcAnswer>(url, { connection, parameters: source.parameters })
      .then((answer) => live && setLoaded({ items: answer.items, note: answer.error ?? "", loading: false }))
      .catch((error: Error) => live && setLoaded({ items: [], note: error.message, loading: false }));
    return () => {
      live = false;
    };
    // The choices depend on the connection; "Reload" asks again after other fields changed.
  }, [url, connection, attempt]);
  const known = loaded.items.some((item) => JSON.stringify(item.value) === JSON.stringify(value));
  return (
    <span className="rpc-select">
      <select
        aria-label={label}
        data-testid={testId}
        value={value === undefined || value === null ? "" : JSON.stringify(value)}
        onChange={(e) => onChange(e.target.value === "" ? undefined : (JSON.parse(e.target.value) as Json))}
      >
        <option value="">{loaded.loading ? "Loading…" : "—"}</option>
        {value !== undefined && value !== null && value !== "" && !known && (
          <option value={JSON.stringify(value)}>{String(value)}</option>
        )}
        {loaded.items.map((item) => (
          <option key={JSON.stringify(item.value)} value={JSON.stringify(item.value)}>
            {item.label}
          </option>
        ))}
      </select>
      <button
        type="button"
        className="small"
        aria-label={`Reload ${label}`}
        disabled={connection === null || loaded.loading}
        onClick={(e) => {
          e.preventDefault();
          setAttempt((n) => n + 1);
        }}
      >
        Reload
      </button>
      {loaded.note && (
        <span className="help" data-testid={`${testId}-note`}>
          {loaded.note}
        </span>
      )}
    </span>
  );
}

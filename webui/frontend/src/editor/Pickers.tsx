// Connection, webhook and data store pickers of the module panel, each with "Add".
import { useEffect, useState } from "react";
import { api, items } from "../api";
import type { Connection, ConnectionKind, DataStore, Json, Webhook } from "../types";
import { NewConnectionForm, TestResult, testConnection, type TestOutcome } from "./connections";

export function ConnectionPicker({
  app,
  value,
  onChange,
}: {
  app: string;
  value: Json | undefined;
  onChange: (id: number | undefined) => void;
}) {
  const [kinds, setKinds] = useState<ConnectionKind[]>([]);
  const [connections, setConnections] = useState<Connection[]>([]);
  const [adding, setAdding] = useState(false);
  const [tested, setTested] = useState<TestOutcome | null>(null);
  const reload = () =>
    api.get<Connection[]>("/api/connections").then(
      (c) => setConnections(items(c).filter((x) => x.app === app)),
      () => {},
    );
  useEffect(() => {
    api.get<ConnectionKind[]>("/api/connection-kinds").then(
      (k) => setKinds(items(k).filter((x) => x.app === app)),
      () => {},
    );
    reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [app]);
  const kind = kinds[0];
  if (!kind && connections.length === 0 && value === undefined) return null;
  const chosen = typeof value === "number" ? value : null;
  return (
    <div className="field picker">
      <span className="field-label">
        Connection<span className="required">*</span>
      </span>
      <div className="row">
        <select
          aria-label="Connection"
          value={value === undefined ? "" : String(value)}
          onChange={(e) => {
            setTested(null);
            onChange(e.target.value ? Number(e.target.value) : undefined);
          }}
        >
          <option value="">Choose a connection</option>
          {connections.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
        {chosen !== null && (
          <button
            className="small"
            onClick={() => {
              setTested(null);
              void testConnection(chosen).then(setTested);
            }}
          >
            Test
          </button>
        )}
        {kind && (
          <button className="small" onClick={() => setAdding(!adding)}>
            Add connection
          </button>
        )}
      </div>
      {tested && <TestResult outcome={tested} />}
      {adding && kind && (
        <NewConnectionForm
          kind={kind}
          onCreated={(id, outcome) => {
            setAdding(false);
            // The outcome shows once the new connection is listed and chosen, so the panel never
            // says "Connection works" beside a picker that still reads "Choose a connection".
            void reload().then(() => {
              onChange(id);
              setTested(outcome);
            });
          }}
        />
      )}
    </div>
  );
}

export function WebhookPicker({
  scenarioId,
  value,
  onChange,
}: {
  scenarioId: number;
  value: Json | undefined;
  onChange: (id: number | undefined) => void;
}) {
  const [hooks, setHooks] = useState<Webhook[]>([]);
  const [name, setName] = useState("");
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState("");
  const [copied, setCopied] = useState(false);
  const [learning, setLearning] = useState(false);
  const reload = () =>
    api.get<Webhook[]>("/api/webhooks").then(
      (h) => setHooks(items(h)),
      () => {},
    );
  useEffect(() => {
    reload();
  }, []);
  const current = hooks.find((h) => h.id === value);
  const create = async () => {
    setError("");
    try {
      const hook = await api.post<Webhook>("/api/webhooks", { name: name || "My webhook", scenario_id: scenarioId });
      await reload();
      onChange(hook.id);
      setAdding(false);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const url = current ? new URL(current.url, window.location.origin).toString() : "";
  return (
    <div className="field picker">
      <span className="field-label">
        Webhook<span className="required">*</span>
      </span>
      <div className="row">
        <select
          aria-label="Webhook"
          value={value === undefined ? "" : String(value)}
          onChange={(e) => onChange(e.target.value ? Number(e.target.value) : undefined)}
        >
          <option value="">Choose a webhook</option>
          {hooks.map((h) => (
            <option key={h.id} value={h.id}>
              {h.name}
            </option>
          ))}
        </select>
        <button className="small" onClick={() => setAdding(!adding)}>
          Add webhook
        </button>
      </div>
      {adding && (
        <div className="inline-form">
          <label className="field">
            <span className="field-label">Webhook name</span>
            <input aria-label="Webhook name" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          {error && <p className="inline-error">{error}</p>}
          <button className="primary small" onClick={create}>
            Save webhook
          </button>
        </div>
      )}
      {current && (
        <div className="webhook-url">
          <code data-testid="webhook-url">{url}</code>
          <button
            className="small"
            onClick={() => {
              navigator.clipboard?.writeText(url).then(
                () => setCopied(true),
                () => setCopied(false),
              );
            }}
          >
            {copied ? "Copied" : "Copy address"}
          </button>
        </div>
      )}
      {current && (
        <div className="row structure">
          <button
            className="small"
            disabled={learning}
            onClick={async () => {
              setError("");
              setLearning(true);
              try {
                await api.post(`/api/webhooks/${current.id}/determine`);
                // Wait for the next request to the address (up to 10 minutes).
                for (let i = 0; i < 600; i++) {
                  await new Promise((resolve) => setTimeout(resolve, 1000));
                  const hook = await api.get<Webhook>(`/api/webhooks/${current.id}`);
                  if (hook.settings?.structure && !hook.settings.learning) {
                    await reload();
                    break;
                  }
                }
              } catch (e) {
                setError((e as Error).message);
              } finally {
                setLearning(false);
              }
            }}
          >
            {current.settings?.structure ? "Redetermine data structure" : "Determine data structure"}
          </button>
          <span className="muted small" data-testid="structure-status">
            {learning
              ? "Waiting for a request to the address above…"
              : current.settings?.structure
                ? `Data structure: ${current.settings.structure.length} field(s)`
                : ""}
          </span>
        </div>
      )}
    </div>
  );
}

export function DataStorePicker({
  value,
  onChange,
}: {
  value: Json | undefined;
  onChange: (id: number | undefined) => void;
}) {
  const [stores, setStores] = useState<DataStore[]>([]);
  const [name, setName] = useState("");
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState("");
  const reload = () =>
    api.get<DataStore[]>("/api/datastores").then(
      (s) => setStores(items(s)),
      () => {},
    );
  useEffect(() => {
    reload();
  }, []);
  const create = async () => {
    setError("");
    try {
      const store = await api.post<DataStore>("/api/datastores", {
        name: name || "My data store",
        structure: null,
        max_size_bytes: 10485760,
      });
      await reload();
      onChange(store.id);
      setAdding(false);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div className="field picker">
      <span className="field-label">
        Data store<span className="required">*</span>
      </span>
      <div className="row">
        <select
          aria-label="Data store"
          value={value === undefined ? "" : String(value)}
          onChange={(e) => onChange(e.target.value ? Number(e.target.value) : undefined)}
        >
          <option value="">Choose a data store</option>
          {stores.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
          {typeof value === "number" && !stores.some((s) => s.id === value) && <option value={value}>#{value}</option>}
        </select>
        <button className="small" onClick={() => setAdding(!adding)}>
          Add data store
        </button>
      </div>
      {adding && (
        <div className="inline-form">
          <label className="field">
            <span className="field-label">Data store name</span>
            <input aria-label="Data store name" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          {error && <p className="inline-error">{error}</p>}
          <button className="primary small" onClick={create}>
            Save data store
          </button>
        </div>
      )}
    </div>
  );
}

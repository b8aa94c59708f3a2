// Connection, webhook and data store pickers of the module panel, each with "Add".
import { useEffect, useState } from "react";
import { api, items } from "../api";
import type { Connection, ConnectionKind, DataStore, Json, Webhook } from "../types";

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
  const [form, setForm] = useState<Record<string, string>>({ name: "" });
  const [error, setError] = useState("");
  const [tested, setTested] = useState<{ ok: boolean; message: string } | null>(null);
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
  const save = async () => {
    if (!kind) return;
    setError("");
    const data: Record<string, string> = {};
    const secrets: Record<string, string> = {};
    for (const f of kind.fields) {
      const v = form[f.name] ?? "";
      if (v === "") continue;
      if (f.secret) secrets[f.name] = v;
      else data[f.name] = v;
    }
    try {
      if (kind.auth === "oauth2") {
        const popup = window.open(
          `/oauth/${encodeURIComponent(kind.id)}/authorize?name=${encodeURIComponent(form.name || kind.label)}`,
          "oauth",
          "width=600,height=700",
        );
        if (!popup) {
          setError("The browser blocked the sign-in window: allow pop-ups for this site.");
          return;
        }
        const listener = (e: MessageEvent) => {
          if (e.origin !== window.location.origin) return;
          const outcome = (e.data as { switchboardOAuth?: { connection_id?: number; error?: string } } | null)
            ?.switchboardOAuth;
          if (!outcome) return;
          window.removeEventListener("message", listener);
          if (typeof outcome.connection_id === "number") {
            const id = outcome.connection_id;
            reload().then(() => onChange(id));
            setAdding(false);
          } else {
            setError(outcome.error || "The connection was not authorized.");
          }
        };
        window.addEventListener("message", listener);
        return;
      }
      const created = await api.post<Connection>("/api/connections", {
        kind: kind.id,
        name: form.name || kind.label,
        data,
        secrets,
      });
      await reload();
      onChange(created.id);
      setAdding(false);
    } catch (e) {
      setError((e as Error).message);
    }
  };
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
        {value !== undefined && value !== null && value !== "" && (
          <button
            className="small"
            onClick={() => {
              setTested(null);
              api
                .post<{ ok: boolean; message: string }>(`/api/connections/${value}/test`, {})
                .then(setTested, (e) => setTested({ ok: false, message: (e as Error).message }));
            }}
          >
            Test
          </button>
        )}
        {kind && (
          <button
            className="small"
            onClick={() => {
              const defaults: Record<string, string> = { name: kind.label };
              for (const f of kind.fields)
                if (f.default !== undefined && f.default !== null) defaults[f.name] = String(f.default);
              setForm(defaults);
              setAdding(!adding);
            }}
          >
            Add connection
          </button>
        )}
      </div>
      {tested && (
        <p className={tested.ok ? "help" : "inline-error"} data-testid="connection-test">
          {tested.ok ? "Connection works — " : "Connection failed — "}
          {tested.message}
        </p>
      )}
      {adding && kind && (
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
          <button className="primary small" onClick={save}>
            {kind.auth === "oauth2" ? "Sign in" : "Save connection"}
          </button>
        </div>
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

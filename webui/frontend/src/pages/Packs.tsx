// Sync packs (docs/guides/packs.md): the list (#/packs) and one pack's setup page
// (#/packs/<name>): connections for both apps, the direction of each module pair, the field
// mapping with static values, record filters per direction, the tax table read live from both
// systems, the pack's options, install (generate or update its scenarios), their health, and
// "Sync historical data from DATE" with progress. API: /api/packs/…
import { useEffect, useState } from "react";
import { api, items } from "../api";
import type { Connection } from "../types";
import { formatTime } from "./common";

interface MappingRow {
  field: string;
  label: string;
  default: string | null;
  static: unknown;
  sources: string[];
}

interface Flow {
  file: string;
  name: string;
  direction: "to_accounting" | "to_crm";
  filter_fields: string[];
  mapping: MappingRow[];
}

interface Pair {
  key: string;
  label: string;
  default: string;
  directions: string[];
  flows: Flow[];
}

interface Option {
  key: string;
  label: string;
  kind: "text" | "choice" | "bool";
  default: unknown;
  choices: string[];
  max_length: number | null;
  help: string;
}

interface Manifest {
  name: string;
  title: string;
  description: string;
  apps: { crm: string; accounting: string };
  connections: string[];
  labels: Record<string, string>;
  interval_minutes: number;
  options: Option[];
  taxes: { label?: string; default?: Record<string, string> } | null;
  pairs: Pair[];
}

interface Rule {
  field: string;
  operator: string;
  value: string;
}

type Choice = { source?: string; static?: string };

interface Settings {
  directions: Record<string, string>;
  options: Record<string, unknown>;
  mapping: Record<string, Record<string, Choice>>;
  filters: Record<string, Rule[]>;
  taxes: Record<string, string>;
  tax_rates: Record<string, number>;
  interval_minutes: number | null;
}

interface Health {
  id: number;
  webhook_url: string | null;
  name: string;
  pair: string;
  flow: string;
  direction: string;
  active: boolean;
  last_sync: string | null;
  last_status: string | null;
  failed_runs: number;
  errors: number;
  not_valid: number;
  not_valid_records: { source_name: string | null; status: string; message: string | null }[];
}

interface Historical {
  since: string;
  total: number;
  done: number;
  records: number;
  current: string | null;
  finished: boolean;
  errors: string[];
}

interface PackState {
  pack: Manifest;
  installed: boolean;
  settings: Settings;
  connections: Record<string, number>;
  health: Health[];
  historical: Historical | null;
}

interface TaxEntry {
  code: string;
  name: string;
  rate: number | null;
}

interface PackSummary {
  name: string;
  title: string;
  description: string;
  installed: boolean;
}

const OPERATORS: [string, string][] = [
  ["text:equal", "equals"],
  ["text:notequal", "does not equal"],
  ["text:contain", "contains"],
  ["text:notcontain", "does not contain"],
  ["text:startwith", "starts with"],
  ["exist", "is not empty"],
  ["notexist", "is empty"],
  ["number:greater", "greater than (number)"],
  ["number:less", "less than (number)"],
];

function directionLabel(direction: string, manifest: Manifest): string {
  const crm = manifest.labels[manifest.apps.crm] ?? manifest.apps.crm;
  const accounting = manifest.labels[manifest.apps.accounting] ?? manifest.apps.accounting;
  if (direction === "both") return "Both ways";
  if (direction === "to_accounting") return `${crm} → ${accounting}`;
  if (direction === "to_crm") return `${accounting} → ${crm}`;
  return "Off";
}

export function PacksPage({ name, canEdit }: { name: string | null; canEdit: boolean }) {
  if (name) return <PackSetup key={name} name={name} canEdit={canEdit} />;
  return <PackList />;
}

function PackList() {
  const [packs, setPacks] = useState<PackSummary[]>([]);
  const [error, setError] = useState("");
  useEffect(() => {
    api.get<PackSummary[]>("/api/packs").then(setPacks, (e: Error) => setError(e.message));
  }, []);
  return (
    <div className="page packs-page">
      <div className="list-header">
        <h1>Sync packs</h1>
      </div>
      {error && <p className="inline-error">{error}</p>}
      <p className="muted">
        A pack is a set of ordinary scenarios that sync a CRM with an accounting system. Set one up here; its scenarios
        then open in the editor like any other.
      </p>
      <ul className="pack-list">
        {packs.map((p) => (
          <li key={p.name} className="pack-card">
            <a href={`#/packs/${p.name}`}>
              <strong>{p.title}</strong>
            </a>{" "}
            {p.installed && <span className="sync-status sync-synced">installed</span>}
            <p className="muted">{p.description}</p>
          </li>
        ))}
      </ul>
    </div>
  );
}

function PackSetup({ name, canEdit }: { name: string; canEdit: boolean }) {
  const [state, setState] = useState<PackState | null>(null);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [connections, setConnections] = useState<Connection[]>([]);
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [taxes, setTaxes] = useState<{ crm: TaxEntry[]; accounting: TaxEntry[] } | null>(null);
  const [since, setSince] = useState("2000-01-01");

  const load = () =>
    api.get<PackState>(`/api/packs/${name}`).then(
      (s) => {
        setState(s);
        setSettings((current) => current ?? s.settings);
        setChosen((c) =>
          Object.keys(c).length
            ? c
            : Object.fromEntries(Object.entries(s.connections).map(([app, id]) => [app, String(id)])),
        );
        return s;
      },
      (e: Error) => setError(e.message),
    );

  useEffect(() => {
    void load();
    api.get<Connection[]>("/api/connections").then(
      (c) => setConnections(items(c)),
      () => {},
    );
  }, [name]);

  // While a historical sync runs, follow its progress.
  const running = state?.historical && !state.historical.finished;
  useEffect(() => {
    if (!running) return;
    const timer = window.setInterval(() => void load(), 1000);
    return () => window.clearInterval(timer);
  }, [running]);

  if (error && !state) return <div className="page">{<p className="inline-error">{error}</p>}</div>;
  if (!state || !settings) return <div className="page-message">Loading…</div>;
  const manifest = state.pack;
  const apps = manifest.connections;
  const label = (app: string) => manifest.labels[app] ?? app;
  const update = (change: Partial<Settings>) => setSettings({ ...settings, ...change });
  const enabledFlows = manifest.pairs.flatMap((pair) =>
    pair.flows.filter((flow) => {
      const direction = settings.directions[pair.key] ?? pair.default;
      return direction === "both" || direction === flow.direction;
    }),
  );

  const install = () => {
    setBusy(true);
    setError("");
    setMessage("");
    const bindings = Object.fromEntries(apps.filter((a) => chosen[a]).map((a) => [a, Number(chosen[a])]));
    api
      .post<{ scenarios: { name: string; change: string; active: boolean }[] }>(`/api/packs/${name}/install`, {
        connections: bindings,
        settings,
      })
      .then((r) => {
        const made = r.scenarios.filter((s) => s.change !== "unchanged").length;
        setMessage(`Installed: ${r.scenarios.length} scenarios (${made} created or updated).`);
        return load();
      })
      .catch((e: Error) => setError(e.message))
      .finally(() => setBusy(false));
  };

  const readTaxes = () => {
    setError("");
    const query = new URLSearchParams(apps.filter((a) => chosen[a]).map((a) => [a, chosen[a]]));
    api
      .get<{ crm: TaxEntry[]; accounting: TaxEntry[]; table: Record<string, string> }>(
        `/api/packs/${name}/taxes?${query}`,
      )
      .then((t) => {
        setTaxes(t);
        const rates = Object.fromEntries(t.crm.filter((x) => x.rate !== null).map((x) => [x.name, x.rate as number]));
        update({ taxes: { ...t.table, ...settings.taxes }, tax_rates: { ...settings.tax_rates, ...rates } });
      })
      .catch((e: Error) => setError(e.message));
  };

  const startHistorical = () => {
    setError("");
    api
      .post(`/api/packs/${name}/historical`, { since })
      .then(() => load())
      .catch((e: Error) => setError(e.message));
  };

  const setMapping = (file: string, field: string, choice: Choice) =>
    update({ mapping: { ...settings.mapping, [file]: { ...(settings.mapping[file] ?? {}), [field]: choice } } });
  const setRules = (file: string, rules: Rule[]) => update({ filters: { ...settings.filters, [file]: rules } });
  const taxNames = Array.from(
    new Set([
      ...(taxes?.crm.map((t) => t.name) ?? []),
      ...Object.keys(settings.taxes),
      ...Object.keys(manifest.taxes?.default ?? {}),
    ]),
  ).sort();

  return (
    <div className="page pack-setup">
      <div className="list-header">
        <h1>{manifest.title}</h1>
        <a href="#/packs">All packs</a>
      </div>
      <p className="muted">{manifest.description}</p>
      {error && <p className="inline-error">{error}</p>}
      {message && <p className="notice">{message}</p>}

      <section className="pack-section" aria-label="Connections">
        <h2>1. Connections</h2>
        <div className="filters">
          {apps.map((app) => (
            <label key={app}>
              {label(app)} connection
              <select
                aria-label={`${label(app)} connection`}
                value={chosen[app] ?? ""}
                onChange={(e) => setChosen((c) => ({ ...c, [app]: e.target.value }))}
              >
                <option value="">Choose…</option>
                {connections
                  .filter((c) => c.app === app)
                  .map((c) => (
                    <option key={c.id} value={String(c.id)}>
                      {c.name}
                    </option>
                  ))}
              </select>
            </label>
          ))}
          <a href="#/connections">Add a connection</a>
        </div>
      </section>

      <section className="pack-section" aria-label="Sync direction">
        <h2>2. Sync direction</h2>
        <table className="table">
          <tbody>
            {manifest.pairs.map((pair) => (
              <tr key={pair.key}>
                <td>{pair.label}</td>
                <td>
                  <select
                    aria-label={`Direction of ${pair.key}`}
                    value={settings.directions[pair.key] ?? pair.default}
                    onChange={(e) => update({ directions: { ...settings.directions, [pair.key]: e.target.value } })}
                  >
                    {pair.directions.map((d) => (
                      <option key={d} value={d}>
                        {directionLabel(d, manifest)}
                      </option>
                    ))}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {manifest.options.length > 0 && (
        <section className="pack-section" aria-label="Options">
          <h2>3. Options</h2>
          <div className="pack-options">
            {manifest.options.map((o) => {
              const value = settings.options[o.key] ?? o.default;
              const set = (v: unknown) => update({ options: { ...settings.options, [o.key]: v } });
              return (
                <label key={o.key} title={o.help}>
                  {o.label}
                  {o.kind === "choice" ? (
                    <select aria-label={o.label} value={String(value)} onChange={(e) => set(e.target.value)}>
                      {o.choices.map((c) => (
                        <option key={c}>{c}</option>
                      ))}
                    </select>
                  ) : o.kind === "bool" ? (
                    <input
                      aria-label={o.label}
                      type="checkbox"
                      checked={Boolean(value)}
                      onChange={(e) => set(e.target.checked)}
                    />
                  ) : (
                    <input
                      aria-label={o.label}
                      value={String(value ?? "")}
                      maxLength={o.max_length ?? undefined}
                      onChange={(e) => set(e.target.value)}
                    />
                  )}
                  {o.help && <small className="muted">{o.help}</small>}
                </label>
              );
            })}
          </div>
        </section>
      )}

      <section className="pack-section" aria-label="Field mapping">
        <h2>4. Field mapping and record filters</h2>
        {enabledFlows.map((flow) => (
          <div key={flow.file} className="pack-flow">
            <h3>{flow.name}</h3>
            {flow.mapping.length > 0 && (
              <table className="table" aria-label={`Mapping of ${flow.file}`}>
                <thead>
                  <tr>
                    <th>Field</th>
                    <th>From</th>
                    <th>Static value</th>
                  </tr>
                </thead>
                <tbody>
                  {flow.mapping.map((row) => {
                    const choice = settings.mapping[flow.file]?.[row.field];
                    const isStatic = choice ? choice.static !== undefined : row.default === null && row.static !== null;
                    const staticValue = choice?.static ?? (row.static === null ? "" : String(row.static));
                    const source = choice?.source ?? (choice ? "" : (row.default ?? ""));
                    return (
                      <tr key={row.field}>
                        <td>{row.label}</td>
                        <td>
                          <select
                            aria-label={`Source of ${row.field}`}
                            disabled={isStatic}
                            value={source}
                            onChange={(e) => setMapping(flow.file, row.field, { source: e.target.value })}
                          >
                            <option value="">(not mapped)</option>
                            {Array.from(new Set([...(row.default ? [row.default] : []), ...row.sources])).map((s) => (
                              <option key={s}>{s}</option>
                            ))}
                          </select>
                        </td>
                        <td>
                          <input
                            type="checkbox"
                            aria-label={`Static ${row.field}`}
                            checked={isStatic}
                            onChange={(e) =>
                              setMapping(
                                flow.file,
                                row.field,
                                e.target.checked ? { static: staticValue } : { source: "" },
                              )
                            }
                          />{" "}
                          {isStatic && (
                            <input
                              aria-label={`Static value of ${row.field}`}
                              value={staticValue}
                              onChange={(e) => setMapping(flow.file, row.field, { static: e.target.value })}
                            />
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
            <RuleEditor
              flow={flow}
              rules={settings.filters[flow.file] ?? []}
              onChange={(r) => setRules(flow.file, r)}
            />
          </div>
        ))}
      </section>

      {manifest.taxes && (
        <section className="pack-section" aria-label="Tax table">
          <h2>5. Tax table</h2>
          <button onClick={readTaxes} disabled={!apps.every((a) => chosen[a])}>
            Read taxes from both systems
          </button>
          <table className="table" aria-label="Taxes">
            <thead>
              <tr>
                <th>{label(manifest.apps.crm)} tax</th>
                <th>Rate</th>
                <th>{label(manifest.apps.accounting)} tax</th>
              </tr>
            </thead>
            <tbody>
              {taxNames.map((taxName) => (
                <tr key={taxName}>
                  <td>{taxName}</td>
                  <td>{settings.tax_rates[taxName] ?? taxes?.crm.find((t) => t.name === taxName)?.rate ?? "—"}</td>
                  <td>
                    {taxes ? (
                      <select
                        aria-label={`Tax for ${taxName}`}
                        value={settings.taxes[taxName] ?? ""}
                        onChange={(e) => update({ taxes: { ...settings.taxes, [taxName]: e.target.value } })}
                      >
                        <option value="">(none)</option>
                        {taxes.accounting.map((t) => (
                          <option key={t.code} value={t.code}>
                            {t.name} ({t.code}
                            {t.rate !== null ? `, ${t.rate} %` : ""})
                          </option>
                        ))}
                      </select>
                    ) : (
                      (settings.taxes[taxName] ?? manifest.taxes?.default?.[taxName] ?? "—")
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      <section className="pack-section" aria-label="Install">
        <h2>6. Install</h2>
        <label>
          Sync every{" "}
          <input
            aria-label="Interval in minutes"
            type="number"
            min={1}
            value={settings.interval_minutes ?? manifest.interval_minutes}
            onChange={(e) => update({ interval_minutes: Number(e.target.value) || null })}
          />{" "}
          minutes
        </label>{" "}
        <button className="primary" disabled={!canEdit || busy || !apps.every((a) => chosen[a])} onClick={install}>
          {busy ? "Installing…" : state.installed ? "Update the scenarios" : "Install"}
        </button>
      </section>

      {state.installed && (
        <section className="pack-section" aria-label="Health">
          <h2>Health</h2>
          <table className="table" aria-label="Scenario health">
            <thead>
              <tr>
                <th>Scenario</th>
                <th>State</th>
                <th>Last sync</th>
                <th>Errors</th>
                <th>Not Valid</th>
              </tr>
            </thead>
            <tbody>
              {state.health.map((h) => (
                <tr key={h.id}>
                  <td>
                    <a href={`#/scenarios/${h.id}`}>{h.name}</a>
                    {h.webhook_url && (
                      <div className="muted" title="Set this URL in the CRM's webhook settings">
                        Webhook: <code>{new URL(h.webhook_url, window.location.origin).href}</code>
                      </div>
                    )}
                  </td>
                  <td>{h.active ? "active" : "off"}</td>
                  <td>
                    {h.last_sync ? formatTime(h.last_sync) : "never"} {h.last_status ?? ""}
                  </td>
                  <td>{h.errors + h.failed_runs}</td>
                  <td>
                    <a
                      href={`#/scenarios/${h.id}/sync-log`}
                      title={h.not_valid_records.map((r) => `${r.source_name}: ${r.message}`).join("\n")}
                    >
                      {h.not_valid}
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Sync historical data</h3>
          <label>
            Sync historical data from{" "}
            <input aria-label="Historical date" type="date" value={since} onChange={(e) => setSince(e.target.value)} />
          </label>{" "}
          <button disabled={!canEdit || Boolean(running)} onClick={startHistorical}>
            Sync historical data
          </button>
          {state.historical && (
            <div className="pack-progress" role="status">
              <progress max={state.historical.total || 1} value={state.historical.done} />{" "}
              {state.historical.finished ? "Done" : "Syncing"}: {state.historical.done} of {state.historical.total}{" "}
              scenarios, {state.historical.records} records since {state.historical.since}
              {state.historical.current ? ` — ${state.historical.current}` : ""}
              {state.historical.errors.map((e) => (
                <p key={e} className="inline-error">
                  {e}
                </p>
              ))}
            </div>
          )}
        </section>
      )}
    </div>
  );
}

function RuleEditor({ flow, rules, onChange }: { flow: Flow; rules: Rule[]; onChange: (rules: Rule[]) => void }) {
  const set = (index: number, change: Partial<Rule>) =>
    onChange(rules.map((r, i) => (i === index ? { ...r, ...change } : r)));
  return (
    <div className="pack-filters" aria-label={`Filters of ${flow.file}`}>
      <strong>Record filters</strong>{" "}
      {rules.map((rule, index) => (
        <div key={index} className="filters">
          <select aria-label="Filter field" value={rule.field} onChange={(e) => set(index, { field: e.target.value })}>
            {flow.filter_fields.map((f) => (
              <option key={f}>{f}</option>
            ))}
          </select>
          <select
            aria-label="Filter condition"
            value={rule.operator}
            onChange={(e) => set(index, { operator: e.target.value })}
          >
            {OPERATORS.map(([id, text]) => (
              <option key={id} value={id}>
                {text}
              </option>
            ))}
          </select>
          <input
            aria-label="Filter value"
            value={rule.value ?? ""}
            onChange={(e) => set(index, { value: e.target.value })}
          />
          <button className="small" onClick={() => onChange(rules.filter((_, i) => i !== index))}>
            Remove
          </button>
        </div>
      ))}
      <button
        className="small"
        onClick={() => onChange([...rules, { field: flow.filter_fields[0] ?? "", operator: "text:equal", value: "" }])}
      >
        + Add a filter
      </button>
    </div>
  );
}

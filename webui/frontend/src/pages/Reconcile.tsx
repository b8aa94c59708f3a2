// Reconciliation: 1CRM's books against Xero's or QuickBooks Online's, record by record
// (GET /api/reconcile/<library>). Every difference links to the sync-log entries of its record.
import { useEffect, useState } from "react";
import { api, items } from "../api";
import type { Connection } from "../types";
import { formatTime, hashQuery } from "./common";

interface SyncLink {
  scenario_id: number;
  scenario: string;
  status: string;
  message: string | null;
  execution_id: string | null;
  at: string | null;
}

interface Difference {
  kind: string;
  key: string;
  label: string;
  field: string;
  crm: unknown;
  accounting: unknown;
  /** The library's rule that leaves this difference; empty for a defect. */
  known?: string;
  sync_log: SyncLink[];
}

interface Reconciliation {
  library: string;
  balanced: boolean;
  checked_at: string;
  connections: Record<string, number>;
  scenarios: { id: number; name: string }[];
  records: Record<string, Record<string, number>>;
  differences: Difference[];
}

const LIBRARIES: [string, string][] = [
  ["xero", "Xero"],
  ["quickbooks", "QuickBooks Online"],
];
const KINDS: [string, string][] = [
  ["customer", "Customers"],
  ["invoice", "Invoices"],
  ["payment", "Payments"],
  ["quote", "Quotes"],
];
const APP_LABELS: Record<string, string> = { onecrm: "1CRM", xero: "Xero", quickbooks: "QuickBooks" };

function shown(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (value === true) return "yes";
  if (value === false) return "no";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function statusClass(status: string): string {
  return `sync-status sync-${status.toLowerCase().replace(/\s+/g, "-")}`;
}

export function ReconcilePage() {
  const initial = hashQuery(window.location.hash).get("library");
  const [library, setLibrary] = useState(initial === "quickbooks" ? "quickbooks" : "xero");
  const [connections, setConnections] = useState<Connection[]>([]);
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const [result, setResult] = useState<Reconciliation | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [kind, setKind] = useState("");

  useEffect(() => {
    api.get<Connection[]>("/api/connections").then(
      (c) => setConnections(items(c)),
      () => {},
    );
  }, []);

  const compare = () => {
    setBusy(true);
    setError("");
    const query = new URLSearchParams();
    for (const app of ["onecrm", library]) if (chosen[app]) query.append("connection", `${app}:${chosen[app]}`);
    const suffix = query.toString() ? `?${query}` : "";
    api
      .get<Reconciliation>(`/api/reconcile/${library}${suffix}`)
      .then((r) => {
        setResult(r);
        setKind("");
      })
      .catch((e: Error) => {
        setResult(null);
        setError(e.message);
      })
      .finally(() => setBusy(false));
  };

  const picker = (app: string) => (
    <label key={app}>
      {APP_LABELS[app]} connection
      <select value={chosen[app] ?? ""} onChange={(e) => setChosen((c) => ({ ...c, [app]: e.target.value }))}>
        <option value="">The one its scenarios use</option>
        {connections
          .filter((c) => c.app === app)
          .map((c) => (
            <option key={c.id} value={String(c.id)}>
              {c.name}
            </option>
          ))}
      </select>
    </label>
  );

  const differences = result?.differences ?? [];
  const counts = new Map<string, number>();
  for (const d of differences) counts.set(d.kind, (counts.get(d.kind) ?? 0) + 1);
  const visible = differences.filter((d) => !kind || d.kind === kind);
  const other = APP_LABELS[result?.library ?? library];
  const names = new Map(connections.map((c) => [c.id, c.name]));
  return (
    <div className="page reconcile-page">
      <div className="list-header">
        <h1>Reconciliation</h1>
      </div>
      <div className="filters">
        <label>
          Library
          <select
            aria-label="Library"
            value={library}
            onChange={(e) => {
              setLibrary(e.target.value);
              setResult(null);
            }}
          >
            {LIBRARIES.map(([id, label]) => (
              <option key={id} value={id}>
                1CRM ⇄ {label}
              </option>
            ))}
          </select>
        </label>
        {picker("onecrm")}
        {picker(library)}
        <button className="primary" disabled={busy} onClick={compare}>
          {busy ? "Comparing…" : "Compare"}
        </button>
      </div>
      {error && <p className="inline-error">{error}</p>}
      {!result && !error && !busy && (
        <p className="muted">
          Reads every customer, invoice and payment from both systems and lists what differs, with the sync-log entry of
          each record.
        </p>
      )}
      {result && (
        <>
          <p data-testid="reconcile-summary">
            Checked {formatTime(result.checked_at)}:{" "}
            {Object.entries(result.records)
              .map(
                ([app, n]) =>
                  `${APP_LABELS[app] ?? app} (${names.get(result.connections[app]) ?? `connection ${result.connections[app]}`}): ` +
                  `${n.customers} customers, ${n.invoices} invoices, ${n.payments} payments, ${n.quotes ?? 0} quotes`,
              )
              .join(" · ")}
          </p>
          {result.balanced ? (
            <p className="sync-status sync-synced" role="status">
              {differences.length === 0
                ? "The books balance: no difference."
                : `The books balance: ${differences.length} known difference${differences.length === 1 ? "" : "s"} (${[...new Set(differences.map((d) => d.known))].join("; ")}).`}
            </p>
          ) : (
            <div className="status-tabs" role="tablist" aria-label="Filter by record">
              {[["", "All"], ...KINDS].map(([id, label]) => (
                <button
                  key={id || "all"}
                  role="tab"
                  aria-selected={kind === id}
                  className={kind === id ? "active" : ""}
                  onClick={() => setKind(id)}
                >
                  {label} <span className="badge">{id ? (counts.get(id) ?? 0) : differences.length}</span>
                </button>
              ))}
            </div>
          )}
          {visible.length > 0 && (
            <table className="scenarios data-table" data-testid="reconcile-table">
              <thead>
                <tr>
                  <th>Record</th>
                  <th>Field</th>
                  <th>1CRM</th>
                  <th>{other}</th>
                  <th>Sync log</th>
                </tr>
              </thead>
              <tbody>
                {visible.map((d, i) => (
                  <tr key={`${d.kind}-${d.key}-${d.label}-${d.field}-${i}`} data-kind={d.kind} data-field={d.field}>
                    <td>
                      <span className="muted">{d.kind}</span> {d.label || d.key}
                    </td>
                    <td>{d.field}</td>
                    <td>
                      <code>{shown(d.crm)}</code>
                    </td>
                    <td>
                      <code>{shown(d.accounting)}</code>
                    </td>
                    <td>
                      {d.sync_log.length === 0 && <span className="muted">no entry</span>}
                      {d.sync_log.map((link) => (
                        <div key={`${link.scenario_id}-${link.execution_id}`} className="sync-link">
                          <a href={`#/scenarios/${link.scenario_id}/sync-log`}>{link.scenario}</a>{" "}
                          <span className={statusClass(link.status)}>{link.status}</span>{" "}
                          {link.message && <span className="error-cell">{link.message}</span>}{" "}
                          {link.execution_id && (
                            <a
                              className="small"
                              href={`#/scenarios/${link.scenario_id}?execution=${encodeURIComponent(link.execution_id)}`}
                            >
                              Execution
                            </a>
                          )}
                        </div>
                      ))}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}

// The dashboard: runs, operations and errors per day (a small SVG chart per scenario and for
// all), active scenarios, queue depth, workers online.
import { useEffect, useState } from "react";
import { api } from "../api";
import { missingEndpoint, useScenarios } from "./common";

interface Day {
  day: string;
  runs: number;
  operations: number;
  errors: number;
}

interface DashboardData {
  days?: string[];
  scenarios?: { scenario_id: number; name?: string | null; days: Day[] }[] | Record<string, Day[]>;
  totals?: Day[];
  active_scenarios?: number;
  queue_depth?: number;
  workers_online?: string[] | number;
  workers?: string[];
}

type Metric = "runs" | "operations" | "errors";
const COLORS: Record<Metric, string> = { runs: "#6d28d9", operations: "#0891b2", errors: "#dc2626" };

/** Bars for runs and errors, a line for operations (its own scale), one group per day. */
export function DayChart({
  days,
  label,
  width = 360,
  height = 110,
}: {
  days: Day[];
  label: string;
  width?: number;
  height?: number;
}) {
  const top = 10;
  const bottom = 18;
  const inner = height - top - bottom;
  const maxRuns = Math.max(1, ...days.map((d) => d.runs));
  const maxOps = Math.max(1, ...days.map((d) => d.operations));
  const step = width / Math.max(days.length, 1);
  const y = (v: number, max: number) => top + inner - (v / max) * inner;
  const points = days.map((d, i) => `${i * step + step / 2},${y(d.operations, maxOps)}`).join(" ");
  return (
    <svg className="day-chart" viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-label={label}>
      <line x1={0} x2={width} y1={top + inner} y2={top + inner} stroke="#d1d5db" />
      {days.map((d, i) => (
        <g key={d.day}>
          <title>{`${d.day}: ${d.runs} run(s), ${d.operations} operation(s), ${d.errors} error(s)`}</title>
          <rect
            x={i * step + step * 0.2}
            width={step * 0.6}
            y={y(d.runs, maxRuns)}
            height={top + inner - y(d.runs, maxRuns)}
            fill={COLORS.runs}
            opacity={0.75}
          />
          {d.errors > 0 && (
            <rect
              x={i * step + step * 0.2}
              width={step * 0.6}
              y={y(d.errors, maxRuns)}
              height={top + inner - y(d.errors, maxRuns)}
              fill={COLORS.errors}
            />
          )}
          {/* Every few days counted back from the last, so the last day's label never sits
              against the one before it. */}
          {(days.length - 1 - i) % Math.ceil(days.length / 7) === 0 && (
            <text x={i * step + step / 2} y={height - 4} fontSize={9} textAnchor="middle" fill="#6b7280">
              {d.day.slice(5)}
            </text>
          )}
        </g>
      ))}
      <polyline points={points} fill="none" stroke={COLORS.operations} strokeWidth={2} />
    </svg>
  );
}

function sum(days: Day[], metric: Metric): number {
  return days.reduce((n, d) => n + (d[metric] ?? 0), 0);
}

export function Dashboard() {
  const scenarios = useScenarios();
  const [data, setData] = useState<DashboardData | null>(null);
  const [error, setError] = useState("");
  const [missing, setMissing] = useState(false);
  const [days, setDays] = useState(14);

  useEffect(() => {
    // A period chosen while the previous one's answer is on its way: that answer, arriving
    // last, must not replace the chosen period's charts.
    let current = true;
    api
      .get<DashboardData>(`/api/dashboard?days=${days}`)
      .then((d) => {
        if (!current) return;
        setData(d);
        setError("");
      })
      .catch((e: Error) => {
        if (!current) return;
        if (missingEndpoint(e)) setMissing(true);
        else setError(e.message);
      });
    return () => {
      current = false;
    };
  }, [days]);

  if (missing)
    return (
      <div className="page">
        <h1>Dashboard</h1>
        <p className="muted">This server has no dashboard yet (GET /api/dashboard).</p>
      </div>
    );
  const totals = data?.totals ?? [];
  const online = data?.workers_online;
  const workers = data?.workers ?? (Array.isArray(online) ? online : []);
  const workerCount = typeof online === "number" ? online : workers.length;
  const raw = data?.scenarios ?? [];
  const per: [string, Day[], string | null][] = (
    Array.isArray(raw)
      ? raw.map((s) => [String(s.scenario_id), s.days, s.name ?? null] as [string, Day[], string | null])
      : Object.entries(raw).map(([id, days]) => [id, days, null] as [string, Day[], string | null])
  ).sort((a, b) => sum(b[1], "operations") - sum(a[1], "operations"));
  return (
    <div className="page dashboard-page">
      <div className="list-header">
        <h1>Dashboard</h1>
        <select aria-label="Period" value={days} onChange={(e) => setDays(Number(e.target.value))}>
          <option value={7}>Last 7 days</option>
          <option value={14}>Last 14 days</option>
          <option value={30}>Last 30 days</option>
        </select>
      </div>
      {error && <p className="inline-error">{error}</p>}
      {!data && !error && <p className="muted">Loading…</p>}
      {data && (
        <>
          <div className="cards">
            <div className="card" data-testid="card-runs">
              <span className="card-value">{sum(totals, "runs")}</span>
              <span className="card-label">runs</span>
            </div>
            <div className="card" data-testid="card-operations">
              <span className="card-value">{sum(totals, "operations")}</span>
              <span className="card-label">operations</span>
            </div>
            <div className="card" data-testid="card-errors">
              <span className="card-value error-text">{sum(totals, "errors")}</span>
              <span className="card-label">errors</span>
            </div>
            <div className="card" data-testid="card-active">
              <span className="card-value">{data.active_scenarios ?? 0}</span>
              <span className="card-label">active scenarios</span>
            </div>
            <div className="card" data-testid="card-queue">
              <span className="card-value">{data.queue_depth ?? 0}</span>
              <span className="card-label">queued webhook requests</span>
            </div>
            <div className="card" data-testid="card-workers" title={workers.join("\n")}>
              <span className="card-value">{workerCount}</span>
              <span className="card-label">workers running now</span>
            </div>
          </div>
          <div className="legend small">
            <span style={{ color: COLORS.runs }}>■ runs</span>
            <span style={{ color: COLORS.errors }}>■ errors</span>
            <span style={{ color: COLORS.operations }}>━ operations</span>
          </div>
          <section className="chart-card">
            <h2>All scenarios</h2>
            <DayChart
              days={totals}
              label="Runs, operations and errors per day, all scenarios"
              width={1000}
              height={170}
            />
          </section>
          <div className="chart-grid">
            {per.map(([id, series, name]) => (
              <section key={id} className="chart-card" data-testid={`chart-${id}`}>
                <h3>
                  <a href={`#/history?scenario=${id}`}>{name ?? scenarios.get(Number(id))?.name ?? `Scenario ${id}`}</a>
                </h3>
                <p className="muted small">
                  {sum(series, "runs")} run(s) · {sum(series, "operations")} operation(s) · {sum(series, "errors")}{" "}
                  error(s)
                </p>
                <DayChart days={series} label={`Scenario ${id} per day`} />
              </section>
            ))}
          </div>
        </>
      )}
    </div>
  );
}

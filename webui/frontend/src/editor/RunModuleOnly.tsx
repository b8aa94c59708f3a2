// "Run this module only": one operation of the open module with sample bundles of the modules
// before it (POST /api/scenarios/{id}/modules/{module}/run). It runs the saved version, and it
// really calls the app: an action that creates a record creates it.
import { useState } from "react";
import { api, ApiError } from "../api";
import type { Blueprint, Json, JsonObject, ModuleInfo } from "../types";
import { predecessors } from "./blueprint";
import { JsonEditor } from "./JsonEditor";

/** Whether a module can run alone: triggers run with "Run once"; routers, directives and
 * aggregators do nothing with one bundle. */
export function canRunAlone(info: ModuleInfo | undefined | null): boolean {
  return !!info && !["trigger", "instant_trigger", "router", "directive", "aggregator"].includes(info.kind);
}

/** The modules `moduleId` maps from with the bundle each output in the last run, by module id:
 * what "Run this module only" starts from, as Make pre-fills it with the last run's data. */
export function lastInputBundles(bp: Blueprint, moduleId: number, lastBundles: Map<number, JsonObject>): JsonObject {
  const out: JsonObject = {};
  for (const m of predecessors(bp, moduleId)) {
    const bundle = lastBundles.get(m.id);
    if (bundle) out[String(m.id)] = bundle;
  }
  return out;
}

interface ModuleRunResult {
  status: string;
  operations: number;
  output: Json[];
  error: { message?: string; type?: string } | null;
}

export function RunModuleOnly({
  scenarioId,
  moduleId,
  initial,
  open = false,
}: {
  scenarioId: number;
  moduleId: number;
  /** The last run's bundles of the modules before it (empty: none yet). */
  initial?: JsonObject;
  /** Opened from the right-click menu. */
  open?: boolean;
}) {
  const prefilled = initial !== undefined && Object.keys(initial).length > 0;
  const [bundles, setBundles] = useState<Json>(prefilled ? initial : { "1": {} });
  const [result, setResult] = useState<ModuleRunResult | null>(null);
  const [problem, setProblem] = useState("");
  const [running, setRunning] = useState(false);

  const run = async () => {
    setRunning(true);
    setProblem("");
    setResult(null);
    try {
      setResult(await api.post<ModuleRunResult>(`/api/scenarios/${scenarioId}/modules/${moduleId}/run`, { bundles }));
    } catch (err) {
      setProblem(err instanceof ApiError ? err.message : String(err));
    } finally {
      setRunning(false);
    }
  };

  return (
    <details className="run-module-only" data-testid="run-module-only" open={open}>
      <summary>Run this module only</summary>
      <p className="hint">
        Sample bundles of the modules before it, by module id
        {prefilled ? " (from the last run)" : ""}. Runs the saved version and really calls the app.
      </p>
      <JsonEditor label="Sample bundles" value={bundles} onChange={setBundles} />
      <button className="small" onClick={run} disabled={running}>
        {running ? "Running…" : "Run this module only"}
      </button>
      {problem && <p className="inline-error">{problem}</p>}
      {result && (
        <div data-testid="run-module-result">
          <p>
            {result.status}: {result.operations} operation(s)
            {result.error ? ` — ${result.error.type ?? "Error"}: ${result.error.message ?? ""}` : ""}
          </p>
          <pre>{JSON.stringify(result.output, null, 2)}</pre>
        </div>
      )}
    </details>
  );
}

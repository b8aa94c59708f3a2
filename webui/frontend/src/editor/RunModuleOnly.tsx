// "Run this module only": one operation of the open module with sample bundles of the modules
// before it (POST /api/scenarios/{id}/modules/{module}/run). It runs the saved version, and it
// really calls the app: an action that creates a record creates it.
import { useState } from "react";
import { api, ApiError } from "../api";
import type { Json } from "../types";
import { JsonEditor } from "./JsonEditor";

interface ModuleRunResult {
  status: string;
  operations: number;
  output: Json[];
  error: { message?: string; type?: string } | null;
}

export function RunModuleOnly({ scenarioId, moduleId }: { scenarioId: number; moduleId: number }) {
  const [bundles, setBundles] = useState<Json>({ "1": {} });
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
    <details className="run-module-only" data-testid="run-module-only">
      <summary>Run this module only</summary>
      <p className="hint">
        Sample bundles of the modules before it, by module id. Runs the saved version and really calls the app.
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

import { useCallback, useEffect, useState } from "react";
import { api, items } from "../api";
import type { Execution, JsonObject, RunCall } from "../types";

export interface ModuleRun {
  /** The module's id in the catalogue (a router's calls are the bundles it passed on). */
  module: string;
  operations: number;
  bundles: number;
  errors: number;
  filtered: number;
  calls: RunCall[];
  omitted: number;
}

/** The first output bundle and the counts of every module in one execution's record: the newest
 * of the scenario, or `executionId` when given (the read-only inspector of a past run). */
export function useLastBundles(
  scenarioId: number,
  executionId: string | null = null,
): {
  bundles: Map<number, JsonObject>;
  runs: Map<number, ModuleRun>;
  status: string | null;
  executionId: string | null;
  execution: Execution | null;
  error: string;
  refresh: () => void;
} {
  const [execution, setExecution] = useState<Execution | null>(null);
  const [bundles, setBundles] = useState<Map<number, JsonObject>>(new Map());
  const [runs, setRuns] = useState<Map<number, ModuleRun>>(new Map());
  const [error, setError] = useState("");
  const refresh = useCallback(() => {
    // A new scenario is not stored yet (id 0): it has no runs.
    if (!scenarioId && !executionId) return;
    const pick = executionId
      ? Promise.resolve(executionId)
      : api
          .get<Execution[] | { items: Execution[] }>(`/api/executions?scenario_id=${scenarioId}&limit=1`)
          .then((page) => items(page)[0]?.id ?? null);
    pick
      .then(async (id) => {
        if (!id) return;
        const full = await api.get<Execution>(`/api/executions/${encodeURIComponent(id)}`);
        const map = new Map<number, JsonObject>();
        const counts = new Map<number, ModuleRun>();
        for (const m of full.record?.modules ?? []) {
          counts.set(m.id, {
            module: m.module ?? "",
            operations: m.operations ?? 0,
            bundles: m.bundles_out ?? 0,
            errors: m.errors ?? 0,
            filtered: m.filtered ?? 0,
            calls: m.calls ?? [],
            omitted: m.calls_omitted ?? 0,
          });
          const bundle = m.calls?.find((c) => (c.output?.length ?? 0) > 0)?.output?.[0];
          if (bundle) map.set(m.id, bundle);
        }
        setExecution(full);
        setBundles(map);
        setRuns(counts);
      })
      .catch((e: Error) => setError(e.message));
  }, [scenarioId, executionId]);
  useEffect(() => refresh(), [refresh]);
  return {
    bundles,
    runs,
    status: execution?.status ?? null,
    executionId: execution?.id ?? null,
    execution,
    error,
    refresh,
  };
}

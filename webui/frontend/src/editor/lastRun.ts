import { useCallback, useEffect, useState } from "react";
import { api, items } from "../api";
import type { Execution, JsonObject, RunCall } from "../types";

export interface ModuleRun {
  operations: number;
  bundles: number;
  errors: number;
  calls: RunCall[];
  omitted: number;
}

/** The first output bundle and the counts of every module in the newest execution's record. */
export function useLastBundles(scenarioId: number): {
  bundles: Map<number, JsonObject>;
  runs: Map<number, ModuleRun>;
  status: string | null;
  executionId: string | null;
  refresh: () => void;
} {
  const [executionId, setExecutionId] = useState<string | null>(null);
  const [bundles, setBundles] = useState<Map<number, JsonObject>>(new Map());
  const [runs, setRuns] = useState<Map<number, ModuleRun>>(new Map());
  const [status, setStatus] = useState<string | null>(null);
  const refresh = useCallback(() => {
    api
      .get<Execution[] | { items: Execution[] }>(`/api/executions?scenario_id=${scenarioId}&limit=1`)
      .then(async (page) => {
        const newest = items(page)[0];
        if (!newest) return;
        setStatus(newest.status);
        setExecutionId(newest.id);
        const full = await api.get<Execution>(`/api/executions/${encodeURIComponent(newest.id)}`);
        const map = new Map<number, JsonObject>();
        const counts = new Map<number, ModuleRun>();
        for (const m of full.record?.modules ?? []) {
          counts.set(m.id, {
            operations: m.operations ?? 0,
            bundles: m.bundles_out ?? 0,
            errors: m.errors ?? 0,
            calls: m.calls ?? [],
            omitted: m.calls_omitted ?? 0,
          });
          const bundle = m.calls?.find((c) => (c.output?.length ?? 0) > 0)?.output?.[0];
          if (bundle) map.set(m.id, bundle);
        }
        setBundles(map);
        setRuns(counts);
      })
      .catch(() => {});
  }, [scenarioId]);
  useEffect(() => refresh(), [refresh]);
  return { bundles, runs, status, executionId, refresh };
}

// Small pieces the history, incomplete, sync-log, webhook and dashboard pages share.
import { useEffect, useState } from "react";
import { api } from "../api";
import type { RecordError, Scenario } from "../types";

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function errorText(error: RecordError | string | null | undefined): string {
  if (!error) return "";
  if (typeof error === "string") return error;
  return `${error.type ? `${error.type}: ` : ""}${error.message ?? ""}`;
}

export function Status({ status }: { status: string }) {
  return <span className={`status ${status}`}>{status}</span>;
}

/** Every scenario, by id (for names and the scenario filter). */
export function useScenarios(): Map<number, Scenario> {
  const [scenarios, setScenarios] = useState<Map<number, Scenario>>(new Map());
  useEffect(() => {
    api
      .get<Scenario[] | { items: Scenario[] }>("/api/scenarios")
      .then((s) => setScenarios(new Map((Array.isArray(s) ? s : s.items).map((x) => [x.id, x]))))
      .catch(() => {});
  }, []);
  return scenarios;
}

/** The hash route's query (`#/history?scenario=3&status=error`). */
export function hashQuery(hash: string): URLSearchParams {
  const at = hash.indexOf("?");
  return new URLSearchParams(at >= 0 ? hash.slice(at + 1) : "");
}

/** Whether an API answer means "this server does not have that endpoint yet". */
export function missingEndpoint(e: unknown): boolean {
  const status = (e as { status?: number }).status;
  return status === 404 || status === 405;
}

import { createContext, useContext } from "react";

/** A module's state while "Run once" streams the run's events. */
export type LiveState = { state: "running" | "done" | "failed"; operations: number };

export const LiveRunContext = createContext<Map<number, LiveState>>(new Map());

export function useLiveRun(moduleId: number): LiveState | undefined {
  return useContext(LiveRunContext).get(moduleId);
}

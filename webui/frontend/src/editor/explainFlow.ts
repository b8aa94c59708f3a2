// "Explain flow", as in Make: a bundle walks the scenario in the order it runs — each module,
// each router's routes in turn, through or up to each filter. With a last run, the walk follows
// that run: a filtered route whose module did not run there stops at its filter; without one, every
// route is shown in order. Error routes run only on errors and are not walked.
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { EditorNode, LinkEdge } from "./graph";

export type ExplainStep = { kind: "node"; id: string } | { kind: "edge"; id: string; stopped: boolean };

export interface ExplainState {
  /** The node or link the bundle is on now. */
  current: string | null;
  /** The order in which each module was reached (1 = the trigger). */
  order: Map<string, number>;
  passed: Set<string>;
  stopped: Set<string>;
  done: boolean;
}

const IDLE: ExplainState = { current: null, order: new Map(), passed: new Set(), stopped: new Set(), done: false };

// The walk's state is read by every node and link of the canvas. It lives in a small store of
// its own rather than a context around the canvas: one editor is open at a time, and the
// canvas' JSX stays as it is.
let shown: ExplainState = IDLE;
const listeners = new Set<() => void>();
function publish(state: ExplainState): void {
  shown = state;
  listeners.forEach((listener) => listener());
}
function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The walk as it is now (for a module node or a link). */
export const useExplain = (): ExplainState => useSyncExternalStore(subscribe, () => shown);

/** The steps of the walk, from the trigger (the first module node). */
export function explainSteps(nodes: EditorNode[], edges: LinkEdge[]): ExplainStep[] {
  const modules = new Map(nodes.filter((n) => n.type === "module").map((n) => [n.id, n]));
  const hasRun = [...modules.values()].some((n) => n.type === "module" && n.data.run);
  const ran = (id: string) => {
    const n = modules.get(id);
    return n?.type === "module" && (n.data.run?.operations ?? 0) > 0;
  };
  const start = [...modules.values()].find((n) => n.type === "module" && n.data.trigger) ?? [...modules.values()][0];
  const steps: ExplainStep[] = [];
  const seen = new Set<string>();
  const walk = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    steps.push({ kind: "node", id });
    for (const edge of edges) {
      if (edge.source !== id || edge.data?.error || !modules.has(edge.target)) continue;
      // Only a filter (or a fallback, when another route passed) stops a bundle; a router
      // counts no operation of its own, so "did not run" says nothing for other links.
      const gated = (edge.data?.filter?.conditions?.flat().length ?? 0) > 0 || edge.data?.fallback;
      const blocked = edge.data?.disabled || (hasRun && gated && !ran(edge.target));
      steps.push({ kind: "edge", id: edge.id, stopped: Boolean(blocked) });
      if (!blocked) walk(edge.target);
    }
  };
  if (start) walk(start.id);
  return steps;
}

/** Plays the walk one step at a time; `start` again restarts it, `stop` clears it. */
export function useExplainFlow(nodes: EditorNode[], edges: LinkEdge[], stepMs = 650) {
  const [state, setOwn] = useState<ExplainState>(IDLE);
  const setState = useCallback((next: ExplainState) => {
    setOwn(next);
    publish(next);
  }, []);
  const [playing, setPlaying] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const clear = () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = null;
  };
  useEffect(
    () => () => {
      clear();
      publish(IDLE);
    },
    [],
  );

  const start = useCallback(() => {
    clear();
    const steps = explainSteps(nodes, edges);
    const next: ExplainState = { current: null, order: new Map(), passed: new Set(), stopped: new Set(), done: false };
    setPlaying(true);
    let index = 0;
    const tick = () => {
      const step = steps[index++];
      if (!step) {
        setState({ ...next, current: null, done: true });
        setPlaying(false);
        return;
      }
      if (step.kind === "node") next.order.set(step.id, next.order.size + 1);
      else (step.stopped ? next.stopped : next.passed).add(step.id);
      setState({ ...next, order: new Map(next.order), current: step.id });
      timer.current = setTimeout(tick, stepMs);
    };
    tick();
  }, [nodes, edges, stepMs, setState]);

  const stop = useCallback(() => {
    clear();
    setPlaying(false);
    setState(IDLE);
  }, [setState]);

  const active = playing || state.done;
  return { state, playing, active, start, stop };
}

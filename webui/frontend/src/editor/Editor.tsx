// The scenario editor: the canvas, its toolbar and panels. The blueprint (with undo/redo) is the
// only state that matters; nodes and edges are derived from it.
import {
  Background,
  ControlButton,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  applyNodeChanges,
  useNodesInitialized,
  useReactFlow,
  type NodeChange,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, api, items } from "../api";
import { finishAfterLeaving, setLeaveGuard } from "../leaveGuard";
import { useCatalog } from "../catalog";
import type {
  Blueprint,
  Execution,
  Filter,
  Json,
  JsonObject,
  Module,
  ModuleInfo,
  Page,
  ScenarioDetail,
  Validation,
  Webhook,
} from "../types";
import { EditorActionsContext, type EditorActions } from "./actions";
import { ActiveFieldContext, type ActiveField } from "./activeField";
import {
  addErrorHandler,
  addRoute,
  allModules,
  autoAlign,
  clone,
  deleteModule,
  deleteRoute,
  designerOf,
  emptyBlueprint,
  fallbackIndex,
  insertModules,
  locate,
  maxId,
  newModule,
  notesOf,
  overlapping,
  patchModule,
  renumber,
  routeOf,
  setDesigner,
  setFallback,
  setFilter,
  setNote,
  type Anchor,
} from "./blueprint";
import { Catalogue } from "./Catalogue";
import { ContextMenu } from "./ContextMenu";
import { ErrorHandlerDialog } from "./ErrorHandlerDialog";
import { FilterPanel } from "./FilterPanel";
import { toGraph, type EditorNode, type LinkEdge as LinkEdgeType } from "./graph";
import { fitClear, useRefitOnHeightChange } from "./clearFit";
import { useLastBundles, type ModuleRun } from "./lastRun";
import { LiveRunContext, type LiveState } from "./liveRun";
import { ExplainBanner } from "./ExplainBanner";
import { useExplainFlow } from "./explainFlow";
import { LinkEdge } from "./LinkEdge";
import { MappingPanel } from "./MappingPanel";
import { ModuleNode } from "./ModuleNode";
import { ModulePanel } from "./ModulePanel";
import { PlaceholderNode } from "./PlaceholderNode";
import { RunPanel } from "./RunPanel";
import { canRunAlone, lastInputBundles } from "./RunModuleOnly";
import { SettingsPanel } from "./SettingsPanel";
import { ProblemsBar } from "./ProblemsBar";
import { useHistory } from "./useHistory";
import { VersionsDialog } from "./VersionsDialog";

const nodeTypes = { module: ModuleNode, placeholder: PlaceholderNode };
const edgeTypes = { link: LinkEdge };
const CLIPBOARD_KEY = "switchboard.clipboard";
const READ_ONLY_MENU = ["Settings", "Copy module"];

type Panel =
  | { kind: "module"; id: number }
  | { kind: "run"; id: number }
  | { kind: "filter"; edgeId: string }
  | { kind: "settings" }
  | null;

export function Editor({
  scenarioId,
  onBack,
  readOnly = false,
  executionId = null,
}: {
  /** null: a new scenario, stored once it is changed. */
  scenarioId: number | null;
  onBack: () => void;
  readOnly?: boolean;
  /** Open this past execution in the read-only inspector. */
  executionId?: string | null;
}) {
  return (
    <ReactFlowProvider>
      <EditorInner
        scenarioId={scenarioId}
        onBack={onBack}
        readOnly={readOnly || executionId !== null}
        executionId={executionId}
      />
    </ReactFlowProvider>
  );
}

/** The bundle Make's custom webhook makes of a request: its JSON or form body and its query. */
function requestBundle(
  request: { body_text?: string; content_type?: string; query?: JsonObject } | undefined,
): JsonObject {
  const bundle: JsonObject = { ...(request?.query ?? {}) };
  const text = request?.body_text ?? "";
  if (!text) return bundle;
  if ((request?.content_type ?? "").includes("form")) {
    for (const [k, v] of new URLSearchParams(text)) bundle[k] = v;
    return bundle;
  }
  try {
    const body = JSON.parse(text) as Json;
    if (body && typeof body === "object" && !Array.isArray(body)) return { ...bundle, ...body };
    return { ...bundle, value: body };
  } catch {
    return { ...bundle, value: text };
  }
}

const NO_RUNS = new Map<number, ModuleRun>();
const NO_LIVE = new Map<number, LiveState>();

function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function EditorInner({
  scenarioId: givenId,
  onBack,
  readOnly,
  executionId,
}: {
  scenarioId: number | null;
  onBack: () => void;
  readOnly: boolean;
  executionId: string | null;
}) {
  const catalog = useCatalog();
  const undoable = useHistory<Blueprint>(emptyBlueprint(""));
  // The read-only views (a past run, a viewer) change nothing: every edit goes through here.
  const history = readOnly
    ? { ...undoable, commit: () => {}, undo: () => {}, redo: () => {}, canUndo: false, canRedo: false }
    : undoable;
  // A new scenario gets its id when it is first changed (see ensureCreated).
  const [createdId, setCreatedId] = useState<number | null>(null);
  const scenarioId = givenId ?? createdId ?? 0;
  const [savedOnce, setSavedOnce] = useState(false);
  const bp = history.value;
  const flow = useReactFlow();
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState("");
  const [scheduling, setScheduling] = useState<JsonObject>({ type: "on-demand" });
  const [saved, setSaved] = useState("");
  const [validation, setValidation] = useState<Validation>({ problems: [], unsupported: {} });
  const [panel, setPanel] = useState<Panel>(null);
  const [anchor, setAnchor] = useState<Anchor | null>(null);
  const [menu, setMenu] = useState<{ id: number; x: number; y: number } | null>(null);
  const [errorFor, setErrorFor] = useState<number | null>(null);
  const [runOnlyFor, setRunOnlyFor] = useState<number | null>(null);
  const [showNotes, setShowNotes] = useState(true);
  useEffect(() => {
    // "Run this module only" opens from the menu once: another panel closes it.
    if (panel?.kind !== "module" || panel.id !== runOnlyFor) setRunOnlyFor(null);
  }, [panel, runOnlyFor]);
  const [message, setMessage] = useState<{ text: string; error?: boolean } | null>(null);
  const [active, setActive] = useState<ActiveField | null>(null);
  const [busy, setBusy] = useState(false);
  const [currentVersion, setCurrentVersion] = useState(0);
  const [versionsOpen, setVersionsOpen] = useState(false);
  const last = useLastBundles(scenarioId, executionId);
  const [live, setLive] = useState<Map<number, LiveState> | null>(null);
  const [waiting, setWaiting] = useState<{ url: string } | null>(null);
  const liveRef = useRef<EventSource | null>(null);
  useEffect(() => () => liveRef.current?.close(), []);

  const snapshot = JSON.stringify({ bp, scheduling });
  const dirty = loaded && snapshot !== saved;

  /** Store a new scenario (empty, as the server's default) the first time it is changed, so
   * webhooks and runs have its id; its address becomes the scenario's without reloading. */
  const creating = useRef<Promise<number> | null>(null);
  const ensureCreated = (): Promise<number> => {
    if (givenId !== null) return Promise.resolve(givenId);
    creating.current ??= api
      .post<ScenarioDetail>("/api/scenarios", { name: bp.name || "New scenario", blueprint: emptyBlueprint(bp.name) })
      .then((detail) => {
        setCreatedId(detail.id);
        const { pathname, search } = window.location;
        window.history.replaceState(window.history.state, "", `${pathname}${search}#/scenarios/${detail.id}`);
        return detail.id;
      });
    return creating.current;
  };
  useEffect(() => {
    if (dirty && givenId === null && !readOnly)
      ensureCreated().catch((e: Error) => flash(`Could not create the scenario: ${e.message}`, true));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dirty, givenId]);

  // Unsaved changes: ask before a link or Back leaves the editor, and before reload or close.
  const leaving = useRef({ dirty, savedOnce });
  leaving.current = { dirty, savedOnce };
  useEffect(() => {
    const removeGuard = setLeaveGuard(() => {
      const { dirty, savedOnce } = leaving.current;
      if (!dirty) return true;
      if (!confirm("Leave without saving? Your changes will be lost.")) return false;
      // A new scenario never saved leaves no empty row behind (once its creation, which may
      // still be on its way, is done).
      if (creating.current && !savedOnce)
        finishAfterLeaving(creating.current.then((id) => api.del(`/api/scenarios/${id}`)));
      return true;
    });
    const beforeUnload = (e: BeforeUnloadEvent) => {
      if (!leaving.current.dirty) return;
      e.preventDefault();
      e.returnValue = "";
    };
    window.addEventListener("beforeunload", beforeUnload);
    return () => {
      removeGuard();
      window.removeEventListener("beforeunload", beforeUnload);
    };
  }, []);

  useEffect(() => {
    if (givenId === null) {
      const name = "New scenario";
      showScenario({
        id: 0,
        name,
        blueprint: emptyBlueprint(name),
        scheduling: { type: "indefinitely", interval: 900 },
        validation: { problems: [], unsupported: {} },
        current_version: 0,
      } as unknown as ScenarioDetail);
      return;
    }
    api
      .get<ScenarioDetail>(`/api/scenarios/${scenarioId}`)
      .then(async (detail) => {
        // A past execution shows the blueprint version it ran.
        if (executionId) {
          const ran = await api.get<Execution>(`/api/executions/${encodeURIComponent(executionId)}`).catch(() => null);
          const version = ran?.scenario_version;
          if (version && version !== detail.current_version) {
            const old = await api
              .get<Blueprint>(`/api/scenarios/${scenarioId}/export?version=${version}`)
              .catch(() => null);
            if (old && Array.isArray(old.flow)) detail = { ...detail, blueprint: old };
          }
        }
        showScenario(detail);
      })
      .catch((e: Error) => setLoadError(e.message));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [givenId, executionId]);

  /** Put a scenario as the server has it on the canvas (on open, and after a restore). */
  const showScenario = (detail: ScenarioDetail) => {
    let blueprint = detail.blueprint ?? emptyBlueprint(detail.name);
    if (!blueprint.name) blueprint.name = detail.name;
    // Modules placed on top of each other (an imported layout) are laid out; the stored text
    // keeps its positions until the next save.
    if (overlapping(blueprint)) blueprint = autoAlign(blueprint);
    const sched = (detail.scheduling ?? { type: "on-demand" }) as JsonObject;
    history.reset(blueprint);
    setScheduling(sched);
    setSaved(JSON.stringify({ bp: blueprint, scheduling: sched }));
    setValidation(detail.validation ?? { problems: [], unsupported: {} });
    setCurrentVersion(detail.current_version);
    setPanel(null);
    setLoaded(true);
    firstFit.current = true;
    setTimeout(() => fitCanvas(), 50);
  };

  const graph = useMemo(
    () =>
      toGraph(bp, {
        modules: catalog.byId,
        apps: catalog.appsById,
        problems: validation.problems,
        runs: live ? NO_RUNS : last.runs,
      }),
    [bp, catalog, validation, last.runs, live],
  );
  const [nodes, setNodes] = useState<EditorNode[]>([]);
  useEffect(() => {
    setNodes((prev) => {
      const selected = new Set(prev.filter((n) => n.selected).map((n) => n.id));
      return graph.nodes.map((n) => ({ ...n, selected: selected.has(n.id) }) as EditorNode);
    });
  }, [graph.nodes]);
  const edges: LinkEdgeType[] = useMemo(
    () => graph.edges.map((e) => ({ ...e, selected: panel?.kind === "filter" && panel.edgeId === e.id })),
    [graph.edges, panel],
  );

  const explain = useExplainFlow(nodes, edges);

  const flash = (text: string, error = false) => {
    setMessage({ text, error });
    if (!error) setTimeout(() => setMessage((m) => (m?.text === text ? null : m)), 3000);
  };

  const selectedId = (): number | null => {
    if (panel?.kind === "module") return panel.id;
    const n = nodes.find((x) => x.selected && x.type === "module");
    return n ? Number(n.id) : null;
  };

  const positionFor = (a: Anchor): { x: number; y: number } => {
    const pos = (id: number) => {
      const m = locate(bp, id)?.module;
      const d = m ? designerOf(m) : {};
      const node = nodes.find((n) => n.id === String(id));
      return { x: d.x ?? node?.position.x ?? 0, y: d.y ?? node?.position.y ?? 0 };
    };
    if (a.kind === "after") {
      const m = locate(bp, a.id)?.module;
      const p = pos(a.id);
      return { x: p.x + 300, y: p.y + (m?.routes ? m.routes.length * 180 : 0) };
    }
    if (a.kind === "before") {
      const p = pos(a.id);
      return { x: p.x - 150, y: p.y + 120 };
    }
    if (a.kind === "route" || a.kind === "newRoute") {
      const p = pos(a.routerId);
      const router = locate(bp, a.routerId)?.module;
      const index = a.kind === "route" ? a.routeIndex : (router?.routes?.length ?? 0);
      return { x: p.x + 300, y: p.y + index * 180 };
    }
    const lastRoot = bp.flow[bp.flow.length - 1];
    if (!lastRoot) return { x: 0, y: 0 };
    const p = pos(lastRoot.id);
    return { x: p.x + 300, y: p.y };
  };

  /** A fresh module id: past the blueprint's and the shown run's, so a new module never takes
   * the run bubble of a deleted one that had its id. */
  const nextId = (): number => Math.max(maxId(bp), ...last.runs.keys()) + 1;

  /** The toolbar's "Add module": after the selected module (a router gets a new route), else
   * at the end of the main flow. */
  const addFromToolbar = () => {
    const id = selectedId();
    const module = id !== null ? locate(bp, id)?.module : undefined;
    const directive = module?.module.startsWith("builtin:") && !module.module.startsWith("builtin:Basic");
    setAnchor(module && !directive ? { kind: "after", id: module.id } : { kind: "root" });
  };

  const addModule = (info: ModuleInfo) => {
    if (!anchor) return;
    const lastRoot = bp.flow[bp.flow.length - 1];
    if (anchor.kind === "root" && lastRoot?.routes) {
      // Nothing follows a router in its flow: the module starts a new route.
      setAnchor({ kind: "newRoute", routerId: lastRoot.id });
      return addModuleAt({ kind: "newRoute", routerId: lastRoot.id }, info);
    }
    return addModuleAt(anchor, info);
  };

  const addModuleAt = (anchor: Anchor, info: ModuleInfo) => {
    const id = nextId();
    const { x, y } = positionFor(anchor);
    const module = newModule(id, info.id, info.version ?? 1, Math.round(x), Math.round(y));
    let next = insertModules(bp, anchor, [module]);
    // Inserted where another module sits (between two, or as a route above the fallback): lay
    // the scenario out rather than stack them.
    if (overlapping(next) && !overlapping(bp)) next = autoAlign(next);
    if (next.flow[0]?.id === id && info.kind === "instant_trigger") {
      next = { ...next, metadata: { ...(next.metadata ?? {}), instant: true } };
    }
    if (next.flow[0]?.id === id && bp.flow.length === 0) {
      // A new trigger picks Make's default schedule: instant triggers run immediately, as
      // data arrives; the others every 15 minutes.
      const instant = info.kind === "instant_trigger";
      const timed = scheduling.type === "indefinitely" || scheduling.type === "interval";
      if (instant && (timed || scheduling.type === "on-demand")) setScheduling({ type: "immediately" });
      if (!instant && scheduling.type === "immediately") setScheduling({ type: "indefinitely", interval: 900 });
    }
    history.commit(next);
    setAnchor(null);
    setPanel({ kind: "module", id });
  };

  /** Copy a module, or every selected module of the same flow (in their order). */
  const copy = (id: number) => {
    const first = locate(bp, id);
    if (!first) return;
    const selected = new Set(nodes.filter((n) => n.selected && n.type === "module").map((n) => Number(n.id)));
    selected.add(id);
    const modules = first.flow.filter((m) => selected.has(m.id));
    localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(modules));
    flash(modules.length > 1 ? `Copied ${modules.length} modules` : `Copied module ${id}`);
  };

  const paste = (after: number | null = selectedId()) => {
    const text = localStorage.getItem(CLIPBOARD_KEY);
    if (!text) return;
    const modules = renumber(JSON.parse(text) as Module[], nextId());
    const target = after !== null && locate(bp, after) ? after : null;
    const a: Anchor = target !== null ? { kind: "after", id: target } : { kind: "root" };
    {
      const p = positionFor(a);
      const d = designerOf(modules[0]);
      const dx = p.x - (d.x ?? 0);
      const dy = p.y - (d.y ?? 0);
      modules.forEach((m) => {
        const md = designerOf(m);
        setDesigner(m, { x: (md.x ?? 0) + dx, y: (md.y ?? 0) + dy });
      });
    }
    history.commit(insertModules(bp, a, modules));
    flash(`Pasted module ${modules[0].id}`);
  };

  const remove = (id: number) => {
    history.commit(deleteModule(bp, id));
    if (panel?.kind === "module" && panel.id === id) setPanel(null);
  };

  const save = async (): Promise<boolean> => {
    setBusy(true);
    try {
      const id = await ensureCreated();
      const detail = await api.put<ScenarioDetail>(`/api/scenarios/${id}`, {
        name: bp.name,
        blueprint: bp,
        scheduling,
      });
      setSaved(JSON.stringify({ bp, scheduling }));
      setSavedOnce(true);
      setValidation(detail.validation ?? { problems: [], unsupported: {} });
      setCurrentVersion(detail.current_version);
      const count = detail.validation?.problems.length ?? 0;
      flash(count ? `Saved, with ${count} problem(s)` : "Saved");
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.problems.length) {
        setValidation({ problems: e.problems, unsupported: validation.unsupported });
        flash(`Not saved: ${e.problems.length} problem(s), marked on the modules`, true);
      } else {
        flash(`Could not save: ${(e as Error).message}`, true);
      }
      return false;
    } finally {
      setBusy(false);
    }
  };

  const validate = async () => {
    try {
      const v = await api.post<Validation>("/api/validate", { blueprint: bp });
      setValidation(v);
      flash(v.problems.length ? `${v.problems.length} problem(s)` : "No problems found");
    } catch (e) {
      flash((e as Error).message, true);
    }
  };

  // Problems shown follow the blueprint: after an edit or an Undo they are checked again
  // (quietly), so a problem that is gone does not stay until the next Validate.
  const shownProblems = validation.problems.length > 0;
  useEffect(() => {
    if (!loaded || readOnly || !shownProblems) return;
    let live = true;
    const timer = setTimeout(() => {
      api.post<Validation>("/api/validate", { blueprint: bp }).then(
        (v) => live && setValidation(v),
        () => {},
      );
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [bp]);

  const exportFile = async () => {
    if (dirty && !(await save())) return;
    const a = document.createElement("a");
    a.href = `/api/scenarios/${scenarioId}/export`;
    a.download = `${bp.name || "blueprint"}.blueprint.json`;
    document.body.appendChild(a);
    a.click();
    a.remove();
  };

  /** Light each module up as it runs, from the run's server-sent events (when the server has
   * them; the poll in runOnce follows the run either way). */
  const stream = (id: string) => {
    liveRef.current?.close();
    if (typeof EventSource === "undefined") return;
    const triggerId = bp.flow[0]?.id;
    const source = new EventSource(`/api/executions/${encodeURIComponent(id)}/events`);
    liveRef.current = source;
    const onEvent = (raw: MessageEvent<string>) => {
      let event: { event?: string; module_id?: number; module_operations?: number; error?: unknown };
      try {
        event = JSON.parse(raw.data) as typeof event;
      } catch {
        return;
      }
      const kind = event.event ?? raw.type;
      if (kind === "finished") {
        source.close();
        return;
      }
      const moduleId = event.module_id;
      if (typeof moduleId !== "number") return;
      setWaiting(null);
      setMessage((m) => (m && !m.error && m.text.startsWith("Run queued") ? { text: "Running…" } : m));
      setLive((prev) => {
        const next = new Map(prev ?? []);
        const state: LiveState["state"] = kind === "module_started" ? "running" : event.error ? "failed" : "done";
        // The module's own operations so far (`operations` is the whole run's).
        const before = next.get(moduleId)?.operations ?? 0;
        const operations = event.module_operations ?? (kind === "module_started" ? before + 1 : before);
        next.set(moduleId, { state, operations });
        // The trigger's operation lasts while its bundles go through the flow: once a later
        // module starts, show the trigger as done (as Make does).
        const trigger = next.get(triggerId ?? -1);
        if (kind === "module_started" && moduleId !== triggerId && trigger?.state === "running")
          next.set(triggerId!, { ...trigger, state: "done" });
        return next;
      });
    };
    source.onmessage = onEvent;
    for (const kind of ["module_started", "module_finished", "finished"])
      source.addEventListener(kind, onEvent as EventListener);
    source.onerror = () => {
      // A server without the stream (404) closes it: the poll in runOnce follows the run. A
      // stream that ends after its time reconnects by itself (Last-Event-ID skips what came).
      if (source.readyState === EventSource.CLOSED) source.close();
    };
  };

  /** The webhook of an instant trigger: null for other scenarios. */
  const triggerHook = async (): Promise<{ url: string; id: number | null } | null> => {
    const trigger = bp.flow[0];
    if (!trigger) return null;
    const info = catalog.byId.get(trigger.module);
    const instant = info?.kind === "instant_trigger" || trigger.module === "gateway:CustomWebHook";
    if (!instant) return null;
    const hook = trigger.parameters?.hook;
    if (typeof hook !== "number") return { url: "", id: null };
    try {
      return { url: (await api.get<Webhook>(`/api/webhooks/${hook}`)).url, id: hook };
    } catch {
      return { url: "", id: hook };
    }
  };

  const stopWaiting = useRef(false);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Follow a run to its end (its events light the modules up), then show it on the modules. */
  const follow = async (execution: Execution) => {
    stream(execution.id);
    const started = Date.now();
    let status = execution.status;
    while ((status === "queued" || status === "running") && Date.now() - started < 120_000) {
      await sleep(500);
      status = (await api.get<Execution>(`/api/executions/${encodeURIComponent(execution.id)}`)).status;
    }
    // Let the last events arrive before the bubbles replace the live marks.
    await sleep(150);
    return status;
  };

  /** Make's Run once for a webhook scenario: wait for the next request to its address, then run
   * it. An active scenario runs the request itself; an inactive one queues it, and it is taken
   * from the queue and run here. */
  const waitForRequest = async (hook: { url: string; id: number | null }): Promise<string> => {
    const newest = async () =>
      items(await api.get<Page<Execution>>(`/api/executions?scenario_id=${scenarioId}&limit=1`))[0]?.id ?? null;
    type Queued = { id: number; request?: { body_text?: string; content_type?: string; query?: JsonObject } };
    const queued = async (): Promise<Queued[]> =>
      hook.id === null ? [] : api.get<Queued[]>(`/api/webhooks/${hook.id}/queue?limit=500`).catch(() => []);
    const before = await newest();
    const seen = new Set((await queued()).map((q) => q.id));
    setWaiting({ url: hook.url });
    stopWaiting.current = false;
    const started = Date.now();
    while (!stopWaiting.current && Date.now() - started < 600_000) {
      await sleep(700);
      const latest = await newest();
      if (latest && latest !== before) {
        setWaiting(null);
        return follow(await api.get<Execution>(`/api/executions/${encodeURIComponent(latest)}`));
      }
      const fresh = (await queued()).find((q) => !seen.has(q.id));
      if (fresh && hook.id !== null) {
        setWaiting(null);
        const item = await api.get<Queued>(`/api/webhooks/${hook.id}/queue/${fresh.id}`);
        const bundle = requestBundle(item.request);
        await api.del(`/api/webhooks/${hook.id}/queue/${fresh.id}`).catch(() => {});
        const execution = await api.post<Execution>(`/api/scenarios/${scenarioId}/run`, { bundle });
        return follow(execution);
      }
    }
    setWaiting(null);
    return "stopped waiting";
  };

  const runOnce = async () => {
    if (dirty && !(await save())) return;
    try {
      const hook = await triggerHook();
      setPanel((p) => (p?.kind === "run" ? null : p));
      setLive(new Map());
      let status: string;
      if (hook) {
        flash("Waiting for the next request…");
        status = await waitForRequest(hook);
      } else {
        const execution = await api.post<Execution>(`/api/scenarios/${scenarioId}/run`, {});
        flash(`Run ${execution.status}…`);
        status = await follow(execution);
      }
      liveRef.current?.close();
      setWaiting(null);
      setLive(null);
      last.refresh();
      flash(status === "stopped waiting" ? "Stopped waiting" : `Run ${status}`, status === "error");
    } catch (e) {
      liveRef.current?.close();
      setWaiting(null);
      setLive(null);
      flash(`Could not run: ${(e as Error).message}`, true);
    }
  };

  const align = () => {
    history.commit(autoAlign(bp));
    setTimeout(() => fitCanvas(200), 50);
  };

  // Keyboard: undo/redo, copy/paste, delete — not while typing in a field.
  const keyRef = useRef<(e: KeyboardEvent) => void>(() => {});
  keyRef.current = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      setMenu(null);
      setAnchor(null);
      setErrorFor(null);
      setPanel(null);
      return;
    }
    const el = e.target as HTMLElement | null;
    if (el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable))
      return;
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key.toLowerCase();
    if (readOnly && !(mod && key === "c")) return; // a read-only view only copies
    if (mod && key === "z" && !e.shiftKey) {
      e.preventDefault();
      history.undo();
    } else if (mod && (key === "y" || (key === "z" && e.shiftKey))) {
      e.preventDefault();
      history.redo();
    } else if (mod && key === "c") {
      const id = selectedId();
      if (id !== null) copy(id);
    } else if (mod && key === "v") {
      e.preventDefault();
      paste();
    } else if (key === "delete" || key === "backspace") {
      const ids = nodes.filter((n) => n.selected && n.type === "module").map((n) => Number(n.id));
      const id = selectedId();
      if (id !== null && !ids.includes(id)) ids.push(id);
      if (ids.length === 0) return;
      let next = bp;
      for (const each of ids) next = deleteModule(next, each);
      history.commit(next);
      setPanel(null);
    }
  };
  useEffect(() => {
    const handler = (e: KeyboardEvent) => keyRef.current(e);
    window.addEventListener("keydown", handler);
    return () => window.removeEventListener("keydown", handler);
  }, []);

  const actions: EditorActions = useMemo(
    () => ({
      readOnly,
      openCatalogue: (a) => !readOnly && setAnchor(a),
      openMenu: (id, x, y) => setMenu({ id, x, y }),
      selectEdge: (edgeId) => setPanel({ kind: "filter", edgeId }),
      openRun: (id) => setPanel({ kind: "run", id }),
    }),
    [readOnly],
  );

  // Keep the module being edited in view when a panel narrows the canvas.
  const canvasRef = useRef<HTMLDivElement>(null);
  // Fit-to-view keeps the modules clear of the minimap and the zoom buttons, and is redone when
  // the problems bar comes or goes, unless the user moved the view since.
  const fitted = useRef(false);
  const fitCanvas = (duration?: number) => {
    fitted.current = true;
    fitClear(flow, canvasRef.current, duration);
  };
  useRefitOnHeightChange(canvasRef, fitted, () => fitCanvas(), loaded && catalog.loaded);
  // The first fit of an opened scenario once its modules are measured (the canvas may mount
  // after the scenario arrives, when the catalogue is still loading).
  const firstFit = useRef(true);
  const measured = useNodesInitialized();
  useEffect(() => {
    if (!measured || !firstFit.current) return;
    firstFit.current = false;
    fitCanvas();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [measured]);
  const focusId =
    panel?.kind === "module"
      ? String(panel.id)
      : panel?.kind === "filter"
        ? (graph.edges.find((e) => e.id === panel.edgeId)?.target ?? null)
        : null;
  useEffect(() => {
    if (!focusId) return;
    const timer = setTimeout(() => {
      const node = flow.getNode(focusId);
      const rect = canvasRef.current?.getBoundingClientRect();
      if (!node || !rect) return;
      const p = flow.flowToScreenPosition({ x: node.position.x + 65, y: node.position.y + 42 });
      if (p.x < rect.left + 40 || p.x > rect.right - 40 || p.y < rect.top + 40 || p.y > rect.bottom - 40) {
        fitted.current = false;
        void flow.setCenter(node.position.x + 65, node.position.y + 42, { zoom: flow.getZoom(), duration: 200 });
      }
    }, 60);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [focusId]);

  const onNodesChange = useCallback(
    (changes: NodeChange<EditorNode>[]) => setNodes((ns) => applyNodeChanges(changes, ns)),
    [],
  );

  const activeApi = useMemo(() => ({ active, setActive }), [active]);
  // The mapping panel's hint and preview belong to a field of the open panel: another panel
  // (or none) starts without them.
  const panelKey =
    panel === null ? "" : `${panel.kind}-${"id" in panel ? panel.id : "edgeId" in panel ? panel.edgeId : ""}`;
  useEffect(() => setActive(null), [panelKey]);

  if (loadError) return <div className="page-message error">Could not open the scenario: {loadError}</div>;

  const panelModule = panel?.kind === "module" ? (locate(bp, panel.id)?.module ?? null) : null;
  const filterEdge = panel?.kind === "filter" ? graph.edges.find((e) => e.id === panel.edgeId) : undefined;
  const filterTarget = filterEdge?.data?.targetId ?? null;
  const filterRoute = filterTarget !== null ? routeOf(bp, filterTarget) : null;
  const menuModule = menu ? (locate(bp, menu.id) ?? null) : null;
  const branchOf = filterEdge?.data?.branchOf ?? null;
  const branch = branchOf ? locate(bp, branchOf.ifElseId)?.module.branches?.[branchOf.index] : undefined;
  const mappingFor = panelModule?.id ?? filterTarget ?? branchOf?.ifElseId ?? null;
  const timezone =
    typeof bp.metadata?.scenario?.timezone === "string" ? (bp.metadata.scenario.timezone as string) : undefined;

  const inspected = executionId ? last.execution : null;
  return (
    <EditorActionsContext.Provider value={actions}>
      <LiveRunContext.Provider value={live ?? NO_LIVE}>
        <ActiveFieldContext.Provider value={activeApi}>
          <div className="editor">
            <div className="toolbar" role="toolbar">
              <button onClick={onBack} aria-label="Back to scenarios">
                ← Scenarios
              </button>
              <input
                className="scenario-name"
                aria-label="Scenario name"
                readOnly={readOnly}
                value={bp.name}
                onChange={(e) => history.commit({ ...bp, name: e.target.value }, "scenario-name")}
              />
              {readOnly && <span className="badge">{executionId ? "Inspector · read only" : "Read only"}</span>}
              <button className="primary" onClick={() => void save()} disabled={busy || readOnly} data-testid="save">
                Save{dirty ? " •" : ""}
              </button>
              <button onClick={() => void runOnce()} disabled={readOnly || live !== null}>
                {live !== null ? "Running…" : "Run once"}
              </button>
              <a className="button" href={`#/history?scenario=${scenarioId}`}>
                History
              </a>
              <a className="button" href={`#/scenarios/${scenarioId}/sync-log`}>
                Sync log
              </a>
              <span className="sep" />
              <button onClick={history.undo} disabled={!history.canUndo} title="Undo (Ctrl+Z)">
                Undo
              </button>
              <button onClick={history.redo} disabled={!history.canRedo} title="Redo (Ctrl+Y)">
                Redo
              </button>
              <button onClick={align} disabled={readOnly} title="Lay the modules out left to right">
                Auto-align
              </button>
              <button onClick={addFromToolbar} disabled={readOnly}>
                Add module
              </button>
              <span className="sep" />
              <button
                onClick={() => setShowNotes(!showNotes)}
                aria-pressed={showNotes}
                className={showNotes ? "on" : ""}
                title="Show or hide the modules' notes on the canvas"
              >
                Notes
              </button>
              <button
                onClick={explain.active ? explain.stop : explain.start}
                className={explain.active ? "on" : ""}
                aria-pressed={explain.active}
                title="Animate a bundle's path through the routes and filters (as the last run took it)"
              >
                Explain flow
              </button>
              <button onClick={() => void validate()}>Validate</button>
              <button onClick={() => setPanel({ kind: "settings" })}>Settings</button>
              <button onClick={() => void exportFile()}>Export blueprint</button>
              <button onClick={() => setVersionsOpen(true)} disabled={executionId !== null}>
                Versions
              </button>
              {message && (
                <span className={`toast${message.error ? " error" : ""}`} role="status">
                  {message.text}
                </span>
              )}
            </div>
            {executionId && (
              <div className="inspector-banner" data-testid="inspector-banner">
                {last.error ? (
                  <span className="inline-error">
                    Could not load execution {executionId}: {last.error}
                  </span>
                ) : inspected ? (
                  <>
                    <strong>Execution</strong> <code>{inspected.id.slice(0, 12)}</code>{" "}
                    <span className={`status ${inspected.status}`}>{inspected.status}</span>
                    <span>
                      {inspected.started_at ? new Date(inspected.started_at).toLocaleString() : ""}
                      {inspected.duration_ms !== null && inspected.duration_ms !== undefined
                        ? ` · ${formatMs(inspected.duration_ms)}`
                        : ""}
                      {` · ${inspected.operations} operation(s)`}
                      {inspected.trigger_kind ? ` · ${inspected.trigger_kind}` : ""}
                      {inspected.scenario_version ? ` · version ${inspected.scenario_version}` : ""}
                    </span>
                    {inspected.record?.error?.message && (
                      <span className="inline-error">{inspected.record.error.message}</span>
                    )}
                    <span className="muted">Click a bubble to see its bundles.</span>
                  </>
                ) : (
                  <span className="muted">Loading execution…</span>
                )}
                <span className="spacer" />
                <a className="button small" href={`#/history?scenario=${scenarioId}`}>
                  Back to history
                </a>
                <a className="button small" href={`#/scenarios/${scenarioId}`}>
                  Open the editor
                </a>
              </div>
            )}
            {explain.active && (
              <ExplainBanner state={explain.state} edges={edges} playing={explain.playing} onStop={explain.stop} />
            )}
            {waiting && (
              <div className="waiting-banner" role="status" data-testid="waiting">
                <span className="pulse" /> Waiting for the next request to{" "}
                {waiting.url ? <code>{waiting.url}</code> : "the scenario's webhook"}…
                {waiting.url && (
                  <button className="small" onClick={() => void navigator.clipboard?.writeText(waiting.url)}>
                    Copy address
                  </button>
                )}
                <button className="small" onClick={() => (stopWaiting.current = true)}>
                  Stop waiting
                </button>
              </div>
            )}
            <div className="workspace">
              <div className={`canvas${showNotes ? "" : " hide-notes"}`} data-testid="canvas" ref={canvasRef}>
                {loaded && catalog.loaded && (
                  <ReactFlow<EditorNode, LinkEdgeType>
                    nodes={nodes}
                    edges={edges}
                    nodeTypes={nodeTypes}
                    edgeTypes={edgeTypes}
                    onNodesChange={onNodesChange}
                    onNodeDragStop={(_e, _n, dragged) => {
                      const moved = dragged.filter((n) => n.type === "module");
                      if (!moved.length) return;
                      let next = bp;
                      for (const n of moved)
                        next = patchModule(next, Number(n.id), (m) =>
                          setDesigner(m, { x: Math.round(n.position.x), y: Math.round(n.position.y) }),
                        );
                      history.commit(next);
                    }}
                    onNodeClick={(_e, node) => {
                      if (node.type === "module") setPanel({ kind: "module", id: Number(node.id) });
                    }}
                    onEdgeClick={(_e, edge) => {
                      if ((edge.data?.targetId !== null && edge.data?.targetId !== undefined) || edge.data?.branchOf)
                        setPanel({ kind: "filter", edgeId: edge.id });
                    }}
                    onPaneClick={() => {
                      setPanel(null);
                      setMenu(null);
                    }}
                    onMoveStart={(event) => {
                      if (event) fitted.current = false; // the user pans or zooms
                    }}
                    nodesConnectable={false}
                    nodesDraggable={!readOnly}
                    deleteKeyCode={null}
                    fitView
                    minZoom={0.1}
                    maxZoom={2}
                    proOptions={{ hideAttribution: true }}
                  >
                    <Background gap={24} />
                    <Controls showInteractive={false} showFitView={false}>
                      <ControlButton
                        className="react-flow__controls-fitview"
                        onClick={() => fitCanvas(200)}
                        title="Fit View"
                        aria-label="Fit View"
                      >
                        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 30" aria-hidden="true">
                          <path d="M3.692 4.63c0-.53.4-.938.939-.938h5.215V0H4.708C2.13 0 0 2.054 0 4.63v5.216h3.692V4.631zM27.354 0h-5.2v3.692h5.17c.53 0 .984.4.984.939v5.215H32V4.631A4.624 4.624 0 0027.354 0zm.954 24.83c0 .532-.4.94-.939.94h-5.215v3.768h5.215c2.577 0 4.631-2.13 4.631-4.707v-5.139h-3.692v5.139zm-23.677.94c-.531 0-.939-.4-.939-.94v-5.138H0v5.139c0 2.577 2.13 4.707 4.708 4.707h5.138V25.77H4.631z" />
                        </svg>
                      </ControlButton>
                    </Controls>
                    <MiniMap
                      pannable
                      zoomable
                      nodeBorderRadius={40}
                      nodeColor={(n) => {
                        const data = n.data as { app?: { color?: string } | null; module?: { module: string } };
                        return data.app?.color ?? (data.module ? "#8a94a6" : "#e5e7eb");
                      }}
                    />
                  </ReactFlow>
                )}
              </div>
              {(panelModule || filterEdge) && mappingFor !== null && (
                <MappingPanel
                  bp={bp}
                  moduleId={mappingFor}
                  catalog={catalog}
                  lastBundles={last.bundles}
                  timezone={timezone}
                />
              )}
              {panelModule && (
                <ModulePanel
                  key={panelModule.id}
                  bp={bp}
                  module={panelModule}
                  catalog={catalog}
                  scenarioId={scenarioId}
                  problems={validation.problems.filter((p) => p.module_id === panelModule.id)}
                  runOnly={{
                    bundles: lastInputBundles(bp, panelModule.id, last.bundles),
                    open: runOnlyFor === panelModule.id,
                  }}
                  note={notesOf(bp, panelModule.id)}
                  onChange={(fn, key) =>
                    history.commit(patchModule(bp, panelModule.id, fn), `${panelModule.id}-${key}`)
                  }
                  onNote={(content) => history.commit(setNote(bp, panelModule.id, content), `${panelModule.id}-note`)}
                  onAddRoute={() => history.commit(addRoute(bp, panelModule.id))}
                  onDeleteRoute={(i) => history.commit(deleteRoute(bp, panelModule.id, i))}
                  onClose={() => setPanel(null)}
                  readOnly={readOnly}
                />
              )}
              {filterEdge && filterTarget !== null && (
                <FilterPanel
                  key={filterEdge.id}
                  targetLabel={`module ${filterTarget}`}
                  filter={locate(bp, filterTarget)?.module.filter ?? null}
                  route={filterRoute}
                  fallback={
                    filterRoute
                      ? fallbackIndex(locate(bp, filterRoute.routerId)!.module) === filterRoute.routeIndex
                      : false
                  }
                  onSave={(filter, fallback) => {
                    let next = setFilter(bp, filterTarget, filter);
                    if (filterRoute) next = setFallback(next, filterRoute.routerId, filterRoute.routeIndex, fallback);
                    history.commit(next);
                    setPanel(null);
                  }}
                  onClose={() => setPanel(null)}
                />
              )}
              {branchOf && branch && (
                <FilterPanel
                  key={filterEdge?.id}
                  targetLabel={`branch ${branchOf.index + 1} of If-else ${branchOf.ifElseId}`}
                  filter={{
                    name: typeof branch.label === "string" ? branch.label : undefined,
                    conditions: (branch.conditions as Filter["conditions"]) ?? [],
                  }}
                  route={null}
                  fallback={false}
                  onSave={(filter) => {
                    history.commit(
                      patchModule(bp, branchOf.ifElseId, (m) => {
                        const target = m.branches?.[branchOf.index];
                        if (!target) return;
                        if (filter?.name) target.label = filter.name;
                        else delete target.label;
                        target.conditions = (filter?.conditions ?? []) as unknown as Json;
                      }),
                    );
                    setPanel(null);
                  }}
                  onClose={() => setPanel(null)}
                />
              )}
              {panel?.kind === "run" && last.runs.get(panel.id) && (
                <RunPanel
                  moduleId={panel.id}
                  run={last.runs.get(panel.id)!}
                  status={last.status}
                  executionId={last.executionId}
                  historic={executionId !== null}
                  onClose={() => setPanel(null)}
                />
              )}
              {panel?.kind === "settings" && (
                <SettingsPanel
                  bp={bp}
                  scheduling={scheduling}
                  onSettings={(patch: Record<string, Json | undefined>) => {
                    const next = clone(bp);
                    const metadata = (next.metadata ??= { version: 1 });
                    const scenario = { ...((metadata.scenario ?? {}) as JsonObject) };
                    for (const [k, v] of Object.entries(patch)) {
                      if (v === undefined) delete scenario[k];
                      else scenario[k] = v;
                    }
                    metadata.scenario = scenario;
                    history.commit(next, `settings-${Object.keys(patch).join()}`);
                  }}
                  onScheduling={setScheduling}
                  onClose={() => setPanel(null)}
                />
              )}
            </div>
            <ProblemsBar
              validation={validation}
              known={new Set(allModules(bp).map((m) => m.id))}
              onSelect={(id) => setPanel({ kind: "module", id })}
            />
            {anchor && <Catalogue catalog={catalog} onPick={addModule} onClose={() => setAnchor(null)} />}
            {menu && menuModule && (
              <ContextMenu
                x={menu.x}
                y={menu.y}
                onClose={() => setMenu(null)}
                items={[
                  { label: "Settings", onClick: () => setPanel({ kind: "module", id: menu.id }) },
                  { label: "Rename", onClick: () => setPanel({ kind: "module", id: menu.id }) },
                  {
                    label: "Add a module after",
                    onClick: () => setAnchor({ kind: "after", id: menu.id }),
                    hidden:
                      menuModule.module.module.startsWith("builtin:") &&
                      !menuModule.module.module.startsWith("builtin:Basic"),
                  },
                  { label: "Insert a module before", onClick: () => setAnchor({ kind: "before", id: menu.id }) },
                  {
                    label: "Add a route",
                    onClick: () => history.commit(addRoute(bp, menu.id)),
                    hidden: !menuModule.module.routes,
                  },
                  {
                    label: "Add error handler",
                    onClick: () => setErrorFor(menu.id),
                    hidden: menuModule.container === "onerror" || menuModule.module.module.startsWith("builtin:"),
                  },
                  {
                    label: "Run this module only",
                    onClick: () => {
                      setRunOnlyFor(menu.id);
                      setPanel({ kind: "module", id: menu.id });
                    },
                    hidden: readOnly || !canRunAlone(catalog.byId.get(menuModule.module.module)),
                  },
                  { label: "Add a note", onClick: () => setPanel({ kind: "module", id: menu.id }) },
                  { label: "Copy module", onClick: () => copy(menu.id) },
                  { label: "Paste after", onClick: () => paste(menu.id), hidden: !localStorage.getItem(CLIPBOARD_KEY) },
                  { label: "Delete module", onClick: () => remove(menu.id), danger: true },
                  // A read-only view shows a module and copies it; it changes nothing.
                ].filter((item) => !readOnly || READ_ONLY_MENU.includes(item.label))}
              />
            )}
            {versionsOpen && (
              <VersionsDialog
                scenarioId={scenarioId}
                currentVersion={currentVersion}
                dirty={dirty}
                readOnly={readOnly}
                onClose={() => setVersionsOpen(false)}
                onRestored={(detail) => {
                  setVersionsOpen(false);
                  showScenario(detail);
                  flash(`Restored as version ${detail.current_version}`);
                }}
              />
            )}
            {errorFor !== null && (
              <ErrorHandlerDialog
                moduleId={errorFor}
                catalog={catalog}
                onClose={() => setErrorFor(null)}
                onAdd={(directive, before) => {
                  history.commit(addErrorHandler(bp, errorFor, directive, before, nextId()));
                  setErrorFor(null);
                }}
              />
            )}
          </div>
        </ActiveFieldContext.Provider>
      </LiveRunContext.Provider>
    </EditorActionsContext.Provider>
  );
}

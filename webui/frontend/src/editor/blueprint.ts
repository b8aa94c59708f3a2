// Pure operations on the blueprint tree. The editor never keeps a second model: every edit is a
// function (blueprint) -> blueprint on a deep copy, so unknown keys survive untouched.
import type { Blueprint, Filter, Json, JsonObject, Module } from "../types";

export const DIRECTIVES = [
  "builtin:Ignore",
  "builtin:Resume",
  "builtin:Commit",
  "builtin:Rollback",
  "builtin:Break",
] as const;

export type Container = "root" | "route" | "onerror" | "branch";

export interface Location {
  module: Module;
  flow: Module[];
  index: number;
  parent: Module | null;
  container: Container;
  routeIndex: number;
}

export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function emptyBlueprint(name: string): Blueprint {
  return {
    name,
    flow: [],
    metadata: {
      version: 1,
      scenario: {
        roundtrips: 1,
        maxErrors: 3,
        autoCommit: true,
        autoCommitTriggerLast: true,
        sequential: false,
        confidential: false,
        dataloss: false,
        dlq: false,
      },
      designer: { orphans: [] },
    },
  };
}

/** Visit every module of the tree, depth first, in execution order. */
export function walk(
  flow: Module[],
  visit: (loc: Location) => void,
  parent: Module | null = null,
  container: Container = "root",
  routeIndex = 0,
): void {
  flow.forEach((module, index) => {
    if (!module || typeof module !== "object") return;
    visit({ module, flow, index, parent, container, routeIndex });
    (module.routes ?? []).forEach((route, i) => walk(route.flow ?? [], visit, module, "route", i));
    (module.branches ?? []).forEach((branch, i) => walk(branch.flow ?? [], visit, module, "branch", i));
    if (Array.isArray(module.onerror)) walk(module.onerror, visit, module, "onerror", 0);
  });
}

export function allModules(bp: Blueprint): Module[] {
  const out: Module[] = [];
  walk(bp.flow, (loc) => out.push(loc.module));
  return out;
}

export function locate(bp: Blueprint, id: number): Location | null {
  let found: Location | null = null;
  walk(bp.flow, (loc) => {
    if (!found && loc.module.id === id) found = loc;
  });
  return found;
}

export function maxId(bp: Blueprint): number {
  return allModules(bp).reduce((m, mod) => (typeof mod.id === "number" ? Math.max(m, mod.id) : m), 0);
}

export function designerOf(module: Module): { x?: number; y?: number; name?: string } {
  const d = module.metadata?.designer;
  return d && typeof d === "object" ? d : {};
}

export function setDesigner(module: Module, patch: { x?: number; y?: number; name?: string }): void {
  const metadata = (module.metadata ??= {});
  const designer = { ...(metadata.designer ?? {}) } as JsonObject;
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || v === "") delete designer[k];
    else designer[k] = v as Json;
  }
  metadata.designer = designer;
}

export function newModule(id: number, moduleId: string, version = 1, x = 0, y = 0): Module {
  const isRouter = moduleId === "builtin:BasicRouter";
  const module: Module = {
    id,
    module: moduleId,
    version,
    parameters: {},
    mapper: isRouter ? null : {},
    metadata: { designer: { x, y } },
  };
  if (isRouter) module.routes = [{ flow: [] }, { flow: [] }];
  return module;
}

function update(bp: Blueprint, fn: (copy: Blueprint) => void): Blueprint {
  const copy = clone(bp);
  fn(copy);
  return copy;
}

/** Where a new module goes: after a module, into a router's route, or at the end of the root. */
export type Anchor =
  | { kind: "after"; id: number }
  | { kind: "before"; id: number }
  | { kind: "route"; routerId: number; routeIndex: number }
  | { kind: "newRoute"; routerId: number }
  | { kind: "root" };

export function insertModules(bp: Blueprint, anchor: Anchor, modules: Module[]): Blueprint {
  return update(bp, (copy) => {
    if (anchor.kind === "root") {
      copy.flow.push(...modules);
      return;
    }
    if (anchor.kind === "after" || anchor.kind === "before") {
      const loc = locate(copy, anchor.id);
      if (!loc) throw new Error(`module ${anchor.id} is not in the scenario`);
      const at = anchor.kind === "after" ? loc.index + 1 : loc.index;
      // A router's routes are its successors: a module added "after" one goes into a new route.
      if (anchor.kind === "after" && loc.module.routes) {
        pushRoute(loc.module, modules);
        return;
      }
      loc.flow.splice(at, 0, ...modules);
      return;
    }
    const router = locate(copy, anchor.routerId)?.module;
    if (!router) throw new Error(`router ${anchor.routerId} is not in the scenario`);
    router.routes ??= [];
    if (anchor.kind === "newRoute") pushRoute(router, modules);
    else {
      while (router.routes.length <= anchor.routeIndex) router.routes.push({ flow: [] });
      router.routes[anchor.routeIndex].flow.push(...modules);
    }
  });
}

export function addRoute(bp: Blueprint, routerId: number): Blueprint {
  return update(bp, (copy) => {
    const router = locate(copy, routerId)?.module;
    if (router) pushRoute(router, []);
  });
}

/** A new route of a router: before its fallback route when that is the last one, so the
 * fallback stays last (the route Make takes when no other route's filter passes). */
function pushRoute(router: Module, flow: Module[]): void {
  const routes = (router.routes ??= []);
  const fallback = fallbackIndex(router);
  if (fallback !== null && fallback === routes.length - 1) {
    routes.splice(fallback, 0, { flow });
    router.parameters = { ...(router.parameters ?? {}), else: fallback + 1 };
  } else routes.push({ flow });
}

/** Delete a module; its routes and error route go with it, the modules after it stay. */
export function deleteModule(bp: Blueprint, id: number): Blueprint {
  return update(bp, (copy) => {
    const loc = locate(copy, id);
    if (!loc) return;
    if (loc.container === "route" && loc.parent && loc.module.filter && loc.flow[loc.index + 1]) {
      // The route condition lives on the first module: keep it on the new first module.
      loc.flow[loc.index + 1].filter ??= loc.module.filter;
    }
    loc.flow.splice(loc.index, 1);
    if (loc.container === "onerror" && loc.parent && loc.flow.length === 0) delete loc.parent.onerror;
    const notes = copy.metadata?.notes;
    if (Array.isArray(notes)) {
      copy.metadata!.notes = notes.filter(
        (n) => !(Array.isArray(n.moduleIds) && n.moduleIds.length === 1 && n.moduleIds[0] === id),
      );
    }
  });
}

export function deleteRoute(bp: Blueprint, routerId: number, routeIndex: number): Blueprint {
  return update(bp, (copy) => {
    const router = locate(copy, routerId)?.module;
    if (!router?.routes) return;
    router.routes.splice(routeIndex, 1);
    const params = router.parameters;
    if (params && typeof params.else === "number") {
      if (params.else === routeIndex) delete params.else;
      else if (params.else > routeIndex) params.else -= 1;
    }
  });
}

export function setFilter(bp: Blueprint, targetId: number, filter: Filter | null): Blueprint {
  return update(bp, (copy) => {
    const loc = locate(copy, targetId);
    if (!loc) return;
    if (filter === null) delete loc.module.filter;
    else loc.module.filter = filter;
  });
}

/** The router route a module starts, if it is the first module of one. */
export function routeOf(bp: Blueprint, id: number): { routerId: number; routeIndex: number } | null {
  const loc = locate(bp, id);
  if (loc && loc.container === "route" && loc.index === 0 && loc.parent)
    return { routerId: loc.parent.id, routeIndex: loc.routeIndex };
  return null;
}

export function fallbackIndex(router: Module): number | null {
  const value = router.parameters?.else;
  return typeof value === "number" ? value : null;
}

export function setFallback(bp: Blueprint, routerId: number, routeIndex: number, on: boolean): Blueprint {
  return update(bp, (copy) => {
    const router = locate(copy, routerId)?.module;
    if (!router) return;
    const params = (router.parameters ??= {});
    if (on) params.else = routeIndex;
    else if (params.else === routeIndex) delete params.else;
  });
}

export function patchModule(bp: Blueprint, id: number, fn: (m: Module) => void): Blueprint {
  return update(bp, (copy) => {
    const loc = locate(copy, id);
    if (loc) fn(loc.module);
  });
}

/** Add (or replace the directive of) the error route of a module. */
export function addErrorHandler(
  bp: Blueprint,
  id: number,
  directive: string,
  before: string | null,
  firstId = maxId(bp) + 1,
): Blueprint {
  let next = firstId;
  return update(bp, (copy) => {
    const loc = locate(copy, id);
    if (!loc) return;
    const { x = 0, y = 0 } = designerOf(loc.module);
    const route: Module[] = [];
    if (before) route.push(newModule(next++, before, 1, x + 300, y + 200));
    const directiveModule = newModule(next++, directive, 1, x + 300 * (route.length + 1), y + 200);
    directiveModule.parameters = {};
    directiveModule.mapper = directive === "builtin:Break" ? { retry: true, count: 3, interval: 15 } : null;
    route.push(directiveModule);
    loc.module.onerror = route;
  });
}

/** Copies of modules with fresh ids; references `{{old.` inside them are rewritten. */
export function renumber(modules: Module[], firstId: number, dx = 40, dy = 40): Module[] {
  const mapping = new Map<number, number>();
  let next = firstId;
  walk(modules, (loc) => {
    mapping.set(loc.module.id, next++);
  });
  let text = JSON.stringify(modules);
  text = text.replace(/(\{\{[^}]*?)\b(\d+)\./g, (whole, head: string, num: string) => {
    const to = mapping.get(Number(num));
    return to === undefined ? whole : `${head}${to}.`;
  });
  const copies = JSON.parse(text) as Module[];
  walk(copies, (loc) => {
    const to = mapping.get(loc.module.id);
    if (to !== undefined) loc.module.id = to;
    const d = designerOf(loc.module);
    setDesigner(loc.module, { x: (d.x ?? 0) + dx, y: (d.y ?? 0) + dy });
  });
  return copies;
}

/** Modules whose output a module can map: everything before it on its path. */
export function predecessors(bp: Blueprint, id: number): Module[] {
  const chain: Module[] = [];
  const search = (flow: Module[], before: Module[]): boolean => {
    for (let i = 0; i < flow.length; i++) {
      const module = flow[i];
      if (module.id === id) {
        chain.push(...before, ...flow.slice(0, i));
        return true;
      }
      const upTo = [...before, ...flow.slice(0, i + 1)];
      for (const route of module.routes ?? []) if (search(route.flow ?? [], upTo)) return true;
      for (const branch of module.branches ?? []) if (search(branch.flow ?? [], upTo)) return true;
      if (module.onerror && search(module.onerror, upTo)) return true;
    }
    return false;
  };
  search(bp.flow, []);
  return chain.filter((m) => !NO_OUTPUT.has(m.module));
}

/** Modules whose bundles carry nothing to map. */
const NO_OUTPUT = new Set(["builtin:BasicRouter", "builtin:BasicIfElse", ...DIRECTIVES]);

/** The module whose error route `id` is in (directly), if any: its `error` can be mapped. */
export function handledBy(bp: Blueprint, id: number): Module | null {
  let found: Module | null = null;
  walk(bp.flow, (loc) => {
    if (loc.module.id === id && loc.container === "onerror" && loc.parent) found = loc.parent;
  });
  return found;
}

export function notesOf(bp: Blueprint, id: number): string {
  const notes = bp.metadata?.notes;
  if (!Array.isArray(notes)) return "";
  const note = notes.find((n) => Array.isArray(n.moduleIds) && n.moduleIds.includes(id));
  return typeof note?.content === "string" ? note.content : "";
}

export function setNote(bp: Blueprint, id: number, content: string): Blueprint {
  return update(bp, (copy) => {
    const metadata = (copy.metadata ??= { version: 1 });
    const notes = Array.isArray(metadata.notes) ? metadata.notes : [];
    const index = notes.findIndex((n) => Array.isArray(n.moduleIds) && n.moduleIds.includes(id));
    if (!content.trim()) {
      if (index >= 0) notes.splice(index, 1);
    } else if (index >= 0) {
      notes[index].content = content;
    } else {
      notes.push({ moduleIds: [id], content, isFilterNote: false, metadata: { color: "#9138FE" } });
    }
    metadata.notes = notes;
  });
}

export const GRID_X = 300;
export const GRID_Y = 180;

/** A left-to-right tree layout: every route and error route gets its own row band. */
export function layout(bp: Blueprint): Map<number, { x: number; y: number }> {
  const positions = new Map<number, { x: number; y: number }>();
  let nextRow = 1;
  const place = (flow: Module[], col: number, row: number): void => {
    let c = col;
    // Error routes go below everything the flow's routes take, so links do not cross them.
    const errorRoutes: [Module[], number][] = [];
    for (const module of flow) {
      positions.set(module.id, { x: c * GRID_X, y: row * GRID_Y });
      const subflows = [
        ...(module.routes ?? []).map((r) => r.flow ?? []),
        ...(module.branches ?? []).map((b) => b.flow ?? []),
      ];
      subflows.forEach((sub, i) => {
        const r = i === 0 ? row : nextRow++;
        place(sub, c + 1, r);
      });
      if (module.onerror?.length) errorRoutes.push([module.onerror, c + 1]);
      c += 1;
    }
    for (const [errorFlow, errorCol] of errorRoutes) place(errorFlow, errorCol, nextRow++);
  };
  place(bp.flow, 0, 0);
  return positions;
}

export function autoAlign(bp: Blueprint): Blueprint {
  const positions = layout(bp);
  return update(bp, (copy) => {
    walk(copy.flow, ({ module }) => {
      const p = positions.get(module.id);
      if (p) setDesigner(module, p);
    });
  });
}

/** Whether two placed modules sit on top of each other (their circles or labels would
 * overlap): a blueprint whose designer positions collide is laid out again when opened. */
export function overlapping(bp: Blueprint): boolean {
  const placed: { x: number; y: number }[] = [];
  walk(bp.flow, ({ module }) => {
    const d = designerOf(module);
    if (typeof d.x === "number" && typeof d.y === "number") placed.push({ x: d.x, y: d.y });
  });
  return placed.some((a, i) =>
    placed.slice(i + 1).some((b) => Math.abs(a.x - b.x) < OVERLAP_X && Math.abs(a.y - b.y) < OVERLAP_Y),
  );
}
// A node is a 90 px circle under a label up to 180 px wide.
const OVERLAP_X = 180;
const OVERLAP_Y = 120;

// Blueprint -> React Flow nodes and edges. Derived on every change; positions come from
// metadata.designer (Make's own key) and, for modules without one, from the tree layout.
import type { Edge, Node } from "@xyflow/react";
import type { AppInfo, Blueprint, Filter, Module, ModuleInfo, Problem } from "../types";
import { designerOf, fallbackIndex, layout, notesOf } from "./blueprint";
import type { ModuleRun } from "./lastRun";

export interface ModuleNodeData extends Record<string, unknown> {
  module: Module;
  info: ModuleInfo | null;
  app: AppInfo | null;
  trigger: boolean;
  problems: Problem[];
  note: string;
  inErrorRoute: boolean;
  run: ModuleRun | null;
}

export interface PlaceholderNodeData extends Record<string, unknown> {
  label: string;
  routerId: number | null;
  routeIndex: number;
}

export interface LinkEdgeData extends Record<string, unknown> {
  targetId: number | null;
  filter: Filter | null;
  error: boolean;
  fallback: boolean;
  routerId: number | null;
  routeIndex: number;
  label: string;
  /** An If-else condition branch: its conditions are edited like a filter. */
  branchOf: { ifElseId: number; index: number } | null;
  disabled: boolean;
}

export type ModuleNode = Node<ModuleNodeData, "module">;
export type PlaceholderNode = Node<PlaceholderNodeData, "placeholder">;
export type EditorNode = ModuleNode | PlaceholderNode;
export type LinkEdge = Edge<LinkEdgeData, "link">;

export interface GraphContext {
  modules: Map<string, ModuleInfo>;
  apps: Map<string, AppInfo>;
  problems: Problem[];
  runs?: Map<number, ModuleRun>;
}

export function toGraph(bp: Blueprint, ctx: GraphContext): { nodes: EditorNode[]; edges: LinkEdge[] } {
  const nodes: EditorNode[] = [];
  const edges: LinkEdge[] = [];
  const auto = layout(bp);

  const position = (module: Module) => {
    const d = designerOf(module);
    if (typeof d.x === "number" && typeof d.y === "number") return { x: d.x, y: d.y };
    return auto.get(module.id) ?? { x: 0, y: 0 };
  };

  const link = (source: string, target: string, data: Partial<LinkEdgeData>, sourceHandle = "out"): void => {
    const full: LinkEdgeData = {
      targetId: null,
      filter: null,
      error: false,
      fallback: false,
      routerId: null,
      routeIndex: 0,
      label: "",
      branchOf: null,
      disabled: false,
      ...data,
    };
    if (!full.label) full.label = full.filter?.name ?? "";
    edges.push({
      id: `e-${source}-${target}`,
      source,
      target,
      sourceHandle,
      targetHandle: "in",
      type: "link",
      data: full,
      className: full.error ? "edge-error" : undefined,
    });
  };

  const addFlow = (flow: Module[], inError: boolean, first: boolean): void => {
    flow.forEach((module, index) => {
      if (!module || typeof module !== "object") return;
      const info = ctx.modules.get(module.module) ?? null;
      const appId = module.module.split(":")[0];
      nodes.push({
        id: String(module.id),
        type: "module",
        position: position(module),
        data: {
          module,
          info,
          app: ctx.apps.get(info?.app ?? appId) ?? null,
          trigger: first && index === 0,
          problems: ctx.problems.filter((p) => p.module_id === module.id),
          note: notesOf(bp, module.id),
          inErrorRoute: inError,
          run: ctx.runs?.get(module.id) ?? null,
        },
      });
      const next = flow[index + 1];
      if (next) {
        link(String(module.id), String(next.id), {
          targetId: next.id,
          filter: next.filter ?? null,
          error: inError,
        });
      }
      const routes = module.routes ?? [];
      const fallback = fallbackIndex(module);
      routes.forEach((route, i) => {
        const head = route.flow?.[0];
        const base = position(module);
        if (head) {
          link(String(module.id), String(head.id), {
            targetId: head.id,
            filter: head.filter ?? null,
            error: inError,
            disabled: route.disabled === true,
            fallback: fallback === i,
            routerId: module.id,
            routeIndex: i,
          });
          addFlow(route.flow, inError, false);
        } else {
          const id = `route-${module.id}-${i}`;
          nodes.push({
            id,
            type: "placeholder",
            draggable: false,
            position: { x: base.x + 300, y: base.y + i * 180 },
            data: { label: `Route ${i + 1}`, routerId: module.id, routeIndex: i },
          });
          link(String(module.id), id, {
            error: inError,
            disabled: route.disabled === true,
            fallback: fallback === i,
            routerId: module.id,
            routeIndex: i,
          });
        }
      });
      (module.branches ?? []).forEach((branch, i) => {
        const head = branch.flow?.[0];
        if (!head) return;
        const isCondition = branch.type !== "else";
        link(String(module.id), String(head.id), {
          targetId: null,
          label: String(branch.label ?? (isCondition ? `Condition ${i + 1}` : "Else")),
          error: inError,
          filter: isCondition ? { conditions: (branch.conditions as Filter["conditions"]) ?? [] } : null,
          branchOf: isCondition ? { ifElseId: module.id, index: i } : null,
        });
        addFlow(branch.flow, inError, false);
        const tail = branch.flow[branch.flow.length - 1];
        if (next && branch.merge !== false && tail) {
          link(String(tail.id), String(next.id), { targetId: null, error: inError });
        }
      });
      if (module.onerror?.length) {
        const head = module.onerror[0];
        link(
          String(module.id),
          String(head.id),
          { targetId: head.id, filter: head.filter ?? null, error: true },
          "error",
        );
        addFlow(module.onerror, true, false);
      }
    });
  };

  addFlow(bp.flow, false, true);
  if (bp.flow.length === 0) {
    nodes.push({
      id: "start",
      type: "placeholder",
      draggable: false,
      position: { x: 0, y: 0 },
      data: { label: "Add the first module", routerId: null, routeIndex: 0 },
    });
  }
  return { nodes, edges };
}

// Which module titles to print when the canvas is zoomed out (fit-to-view of a large scenario):
// every title printed is scaled to a readable size on screen, and a title that would overlap
// another title or another module's circle is left out (its module keeps its id in the
// circle). The trigger, routers and modules with problems are labelled first.
import { useStore, type Node } from "@xyflow/react";
import type { EditorNode } from "./graph";

/** Below this zoom a two-line title would print smaller than ~8 px. */
export const SUMMARY_ZOOM = 0.6;
/** The height a summarized title prints at on screen, in px. */
export const LABEL_PX = 11;
const TITLE_FONT_PX = 13; // .module-title strong
const CIRCLE = 84;

/** The canvas zoom, rounded (nodes re-render when it changes by 1 %, not on every frame). */
export function useZoomBucket(): number {
  return useStore((s) => {
    const zoom = s.transform[2];
    return zoom >= SUMMARY_ZOOM ? 1 : Math.max(0.01, Math.round(zoom * 100) / 100);
  });
}

/** How much a summarized title is scaled so it prints `LABEL_PX` high at `zoom`. */
export function labelScale(zoom: number): number {
  return LABEL_PX / (TITLE_FONT_PX * zoom);
}

export function shortTitle(title: string): string {
  return title.length > 22 ? `${title.slice(0, 21)}…` : title;
}

let measurer: CanvasRenderingContext2D | null = null;
function textWidth(text: string): number {
  measurer ??= document.createElement("canvas").getContext("2d");
  if (!measurer) return text.length * LABEL_PX * 0.6;
  measurer.font = `600 ${LABEL_PX}px system-ui, sans-serif`;
  return measurer.measureText(text).width;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
const overlaps = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

export function titleOf(node: EditorNode): string {
  if (node.type !== "module") return "";
  const { module, info } = node.data;
  const name = module.metadata?.designer?.name;
  if (module.module === "builtin:BasicRouter") return `${module.routes?.length ?? 0} routes`;
  return (typeof name === "string" && name) || info?.label || module.module;
}

/** The ids of the modules whose summarized title fits at `zoom`. */
export function placeLabels(nodes: EditorNode[], zoom: number): Set<string> {
  const modules = nodes.filter((n) => n.type === "module");
  const centre = (n: EditorNode) => n.position.x + (n.measured?.width ?? 130) / 2;
  const circles = new Map<string, Box>(
    modules.map((n) => [n.id, { x: centre(n) - CIRCLE / 2, y: n.position.y, w: CIRCLE, h: CIRCLE }]),
  );
  const rank = (n: EditorNode) =>
    n.type !== "module" ? 9 : n.data.trigger ? 0 : n.data.module.routes ? 1 : n.data.problems.length ? 2 : 3;
  const order = [...modules].sort((a, b) => rank(a) - rank(b));
  const placed: Box[] = [];
  const out = new Set<string>();
  for (const node of order) {
    const w = (textWidth(shortTitle(titleOf(node))) + 8) / zoom;
    const h = (LABEL_PX + 6) / zoom;
    const box = { x: centre(node) - w / 2, y: node.position.y + CIRCLE + 6, w, h };
    const blocked =
      placed.some((p) => overlaps(p, box)) ||
      [...circles].some(([id, circle]) => id !== node.id && overlaps(circle, box));
    if (blocked) continue;
    placed.push(box);
    out.add(node.id);
  }
  return out;
}

// One placement per (nodes, zoom), shared by every node that asks.
const placements = new WeakMap<Node[], { zoom: number; labelled: Set<string> }>();

/** Whether module `id` shows its (summarized) title at the current zoom: always when zoomed in;
 * zoomed out, when its title has room. Read from the canvas' own store, so no context is
 * needed; a node re-renders only when its answer changes. */
export function useLabelled(id: string): boolean {
  return useStore((s) => {
    const zoom = s.transform[2];
    if (zoom >= SUMMARY_ZOOM) return true;
    const bucket = Math.max(0.01, Math.round(zoom * 100) / 100);
    let placed = placements.get(s.nodes);
    if (!placed || placed.zoom !== bucket) {
      placed = { zoom: bucket, labelled: placeLabels(s.nodes as EditorNode[], bucket) };
      placements.set(s.nodes, placed);
    }
    return placed.labelled.has(id);
  });
}

// The mapping panel's tree: the flat output fields of a module (`order`, `order.lines`,
// `order.lines[].sku`) nested as Make shows them, with Make's type names.
import type { Json } from "../types";
import type { OutputField } from "./outputFields";

export interface TreeNode {
  field: OutputField;
  /** Make's name of the type: text, number, boolean, date, collection, array, any. */
  type: string;
  children: TreeNode[];
}

const ISO_DATE = /^\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?$/;

/** The path's segments, split on dots outside backquoted keys (`` `a.b`.c `` is two). */
export function segments(path: string): string[] {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  for (const ch of path) {
    if (ch === "`") quoted = !quoted;
    if (ch === "." && !quoted) {
      out.push(current);
      current = "";
    } else current += ch;
  }
  out.push(current);
  return out;
}

/** The path of the field a field belongs to: `order.lines[].sku` → `order.lines`. */
export function parentPath(path: string): string | null {
  const parts = segments(path);
  if (parts.length < 2) return null;
  return parts.slice(0, -1).join(".").replace(/\[\]$/, "");
}

/** Make's type name for a schema, structure or sample type. */
export function makeType(type: string, sample?: Json): string {
  const t = type.split("|").find((x) => x !== "null") ?? type;
  if (t === "string" || t === "text") return typeof sample === "string" && ISO_DATE.test(sample) ? "date" : "text";
  if (t === "integer" || t === "number") return "number";
  if (t === "object" || t === "collection") return "collection";
  if (t === "array" || t === "boolean" || t === "date") return t;
  if (sample !== undefined && sample !== null)
    return Array.isArray(sample)
      ? "array"
      : typeof sample === "object"
        ? "collection"
        : makeType(typeof sample, sample);
  return t === "null" ? "any" : t || "any";
}

/** The fields of one module as a tree; a field whose parent is missing hangs at the top. */
export function buildTree(fields: OutputField[]): TreeNode[] {
  const nodes = new Map<string, TreeNode>();
  for (const field of fields) nodes.set(field.path, { field, type: makeType(field.type, field.sample), children: [] });
  const roots: TreeNode[] = [];
  for (const node of nodes.values()) {
    let parent = parentPath(node.field.path);
    while (parent !== null && !nodes.has(parent)) parent = parentPath(parent);
    if (parent === null) roots.push(node);
    else {
      const owner = nodes.get(parent)!;
      owner.children.push(node);
      if (owner.type !== "array") owner.type = "collection";
    }
  }
  return roots;
}

/** The tree without the nodes that neither match `query` nor hold a node that does. */
export function filterTree(nodes: TreeNode[], query: string): TreeNode[] {
  if (!query) return nodes;
  const out: TreeNode[] = [];
  for (const node of nodes) {
    const children = filterTree(node.children, query);
    const own = node.field.path.toLowerCase().includes(query) || node.field.label.toLowerCase().includes(query);
    if (own || children.length) out.push({ ...node, children: own ? node.children : children });
  }
  return out;
}

/** A sample value as one short line. */
export function sampleText(node: TreeNode): string {
  const sample = node.field.sample;
  if (sample === undefined) return "";
  if (Array.isArray(sample)) return `${sample.length} item${sample.length === 1 ? "" : "s"}`;
  if (sample !== null && typeof sample === "object") return "";
  const text = sample === null ? "null" : String(sample);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

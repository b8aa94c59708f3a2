// A bundle as a collapsible tree with types (Make's bundle inspector): strings, numbers,
// booleans, dates, arrays and collections look different; each value can be copied as text or
// as JSON; a search narrows the tree to the matching keys and values.
import { useState, type ReactNode } from "react";
import type { Json } from "../types";

export type ValueType = "string" | "number" | "boolean" | "date" | "array" | "collection" | "empty";

const LONG_TEXT = 300;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function typeOf(value: Json | undefined): ValueType {
  if (value === null || value === undefined) return "empty";
  if (Array.isArray(value)) return "array";
  if (typeof value === "object") return "collection";
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "boolean";
  if (ISO_DATE.test(value)) return "date";
  return "string";
}

const TYPE_LABEL: Record<ValueType, string> = {
  string: "Text",
  number: "Number",
  boolean: "Boolean",
  date: "Date",
  array: "Array",
  collection: "Collection",
  empty: "Empty",
};

export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Without the clipboard API (plain http), fall back to a hidden text area.
    const area = document.createElement("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

/** Whether the value or any key or value inside it contains the search text. */
function matches(key: string, value: Json | undefined, needle: string): boolean {
  if (!needle) return true;
  if (key.toLowerCase().includes(needle)) return true;
  if (value === null || value === undefined) return "null".includes(needle);
  if (typeof value !== "object") return String(value).toLowerCase().includes(needle);
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i + 1), v] as const) : Object.entries(value);
  return entries.some(([k, v]) => matches(k, v, needle));
}

function highlight(text: string, needle: string): ReactNode {
  if (!needle) return text;
  const at = text.toLowerCase().indexOf(needle);
  if (at < 0) return text;
  return (
    <>
      {text.slice(0, at)}
      <mark>{text.slice(at, at + needle.length)}</mark>
      {text.slice(at + needle.length)}
    </>
  );
}

function scalarText(value: Json | undefined): string {
  if (value === null || value === undefined) return "empty";
  if (typeof value === "string") return value;
  return String(value);
}

function TreeNode({
  name,
  value,
  depth,
  needle,
  onCopied,
}: {
  name: string;
  value: Json | undefined;
  depth: number;
  needle: string;
  onCopied: (what: string) => void;
}) {
  const type = typeOf(value);
  const nested = type === "array" || type === "collection";
  const [open, setOpen] = useState(depth < 2);
  const [full, setFull] = useState(false);
  if (!matches(name, value, needle)) return null;
  const text = scalarText(value);
  const cut = !full && !needle && text.length > LONG_TEXT;
  const shown = cut ? `${text.slice(0, LONG_TEXT)}…` : text;
  const expanded = open || (needle !== "" && nested);
  const children: [string, Json][] = !nested
    ? []
    : Array.isArray(value)
      ? value.map((v, i) => [String(i + 1), v])
      : Object.entries(value as Record<string, Json>);
  return (
    <li className={`tree-node type-${type}`} data-type={type} data-key={name}>
      <div className="tree-row">
        {nested ? (
          <button
            className="tree-toggle"
            aria-expanded={expanded}
            aria-label={`${expanded ? "Collapse" : "Expand"} ${name}`}
            onClick={() => setOpen(!expanded)}
          >
            {expanded ? "▾" : "▸"}
          </button>
        ) : (
          <span className="tree-toggle-space" />
        )}
        <span className="tree-key">{highlight(name, needle)}</span>
        {nested ? (
          <span className="tree-summary">
            {type === "array" ? `Array (${children.length})` : `Collection (${children.length})`}
          </span>
        ) : (
          <span className={`tree-value value-${type}`} title={TYPE_LABEL[type]}>
            {type === "string" ? <>“{highlight(shown, needle)}”</> : highlight(shown, needle)}
            {cut && (
              <button className="link" onClick={() => setFull(true)}>
                show all {text.length} characters
              </button>
            )}
          </span>
        )}
        <span className={`type-tag tag-${type}`}>{TYPE_LABEL[type]}</span>
        <span className="tree-actions">
          {!nested && (
            <button
              className="link"
              title="Copy value"
              onClick={() => void copyText(scalarText(value)).then(() => onCopied(`value of ${name}`))}
            >
              copy
            </button>
          )}
          <button
            className="link"
            title="Copy as JSON"
            onClick={() =>
              void copyText(JSON.stringify(value ?? null, null, 2)).then(() => onCopied(`${name} as JSON`))
            }
          >
            JSON
          </button>
        </span>
      </div>
      {nested && expanded && (
        <ul className="tree">
          {children.map(([k, v]) => (
            <TreeNode key={k} name={k} value={v} depth={depth + 1} needle={needle} onCopied={onCopied} />
          ))}
        </ul>
      )}
    </li>
  );
}

/** One bundle (or input) as a tree. `search` comes from the surrounding inspector. */
export function BundleTree({
  label,
  value,
  search = "",
  onCopied = () => {},
  collapsed = false,
}: {
  label: string;
  value: Json | undefined;
  search?: string;
  onCopied?: (what: string) => void;
  /** Start closed (the inspector opens only the first few bundles of an operation). */
  collapsed?: boolean;
}) {
  const needle = search.trim().toLowerCase();
  if (needle && !matches(label, value, needle)) return null;
  return (
    <ul className="tree root" data-testid="bundle-tree" aria-label={label}>
      <TreeNode name={label} value={value} depth={collapsed ? 2 : 0} needle={needle} onCopied={onCopied} />
    </ul>
  );
}

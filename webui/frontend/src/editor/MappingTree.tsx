// One earlier module's output in the mapping panel, as Make shows it: a collapsible tree of
// collections and arrays (`lines[]`), each item with its type and its last-run sample. Clicking
// an item inserts `{{N.path}}` at the caret of the focused field.
import { useMemo, useState } from "react";
import { buildTree, filterTree, sampleText, segments, type TreeNode } from "./mappingTree";
import type { OutputField } from "./outputFields";
import "./mappingTree.css";

const TYPE_MARK: Record<string, string> = {
  text: "T",
  number: "#",
  boolean: "✓",
  date: "D",
  collection: "{ }",
  array: "[ ]",
  any: "?",
};

export function MappingTree({
  moduleId,
  title,
  fields,
  query,
  disabled,
  onInsert,
}: {
  moduleId: number;
  title: string;
  fields: OutputField[];
  query: string;
  disabled: boolean;
  onInsert: (token: string) => void;
}) {
  const [closed, setClosed] = useState<Set<string>>(new Set());
  const [moduleOpen, setModuleOpen] = useState(true);
  const tree = useMemo(() => filterTree(buildTree(fields), query), [fields, query]);
  if (query && tree.length === 0) return null;
  const toggle = (path: string) =>
    setClosed((prev) => {
      const next = new Set(prev);
      if (next.has(path)) next.delete(path);
      else next.add(path);
      return next;
    });

  const render = (node: TreeNode) => {
    const path = node.field.path;
    const open = !closed.has(path) || query !== "";
    const key = segments(path).pop()!.replace(/\[\]$/, "").replace(/`/g, "");
    const name = node.field.label && node.field.label !== key ? node.field.label : key;
    const token = `{{${moduleId}.${path}}}`;
    const sample = sampleText(node);
    return (
      <li key={path} className={`tree-item type-${node.type}`} data-path={path}>
        <div className="tree-row">
          {node.children.length > 0 ? (
            <button
              className="tree-toggle"
              aria-expanded={open}
              aria-label={`${open ? "Collapse" : "Expand"} ${moduleId}.${path}`}
              data-testid={`toggle-${moduleId}.${path}`}
              onClick={() => toggle(path)}
            >
              {open ? "▾" : "▸"}
            </button>
          ) : (
            <span className="tree-toggle-space" />
          )}
          <button
            className="pill tree-pill"
            data-token={token}
            data-type={node.type}
            disabled={disabled}
            onClick={() => onInsert(token)}
            title={`${token}\n${node.type}${name !== key ? ` (${key})` : ""}`}
          >
            <span className="type-mark" aria-label={node.type}>
              {TYPE_MARK[node.type] ?? "?"}
            </span>
            <span className="tree-name">
              {name}
              {node.type === "array" ? "[]" : ""}
            </span>
            {sample && <span className="sample">{sample}</span>}
          </button>
          <span className="tree-type">{node.type}</span>
        </div>
        {node.children.length > 0 && open && <ul className="tree">{node.children.map(render)}</ul>}
      </li>
    );
  };

  return (
    <section className="mapping-module" data-module-id={moduleId}>
      <h4>
        <button
          className="tree-toggle"
          aria-expanded={moduleOpen}
          aria-label={`${moduleOpen ? "Collapse" : "Expand"} module ${moduleId}`}
          onClick={() => setModuleOpen(!moduleOpen)}
        >
          {moduleOpen ? "▾" : "▸"}
        </button>
        <span className="badge">{moduleId}</span> {title}
      </h4>
      {moduleOpen && fields.length === 0 && (
        <p className="muted small">No known fields: run the scenario once to see this module's output.</p>
      )}
      {moduleOpen && <ul className="tree root">{tree.map(render)}</ul>}
    </section>
  );
}

// The mapping panel: every field of every earlier module, the functions, and a live preview of
// the focused field on the last run's bundles.
import { useEffect, useMemo, useState } from "react";
import { api, items } from "../api";
import type { Catalog } from "../catalog";
import type { Blueprint, Json, JsonObject, Webhook } from "../types";
import { useActiveField } from "./activeField";
import { handledBy, predecessors } from "./blueprint";
import { FunctionLibrary } from "./FunctionLibrary";
import { MappingTree } from "./MappingTree";
import {
  bundleFields,
  mergeFields,
  outputSchema,
  schemaFields,
  structureFields,
  type OutputField,
} from "./outputFields";

interface PreviewAnswer {
  value?: Json;
  error?: { message: string; column?: number | null };
}

export function MappingPanel({
  bp,
  moduleId,
  catalog,
  lastBundles,
  timezone,
}: {
  bp: Blueprint;
  moduleId: number;
  catalog: Catalog;
  lastBundles: Map<number, JsonObject>;
  timezone?: string;
}) {
  const { active } = useActiveField();
  const [tab, setTab] = useState<"items" | "functions">("items");
  const [query, setQuery] = useState("");
  const [preview, setPreview] = useState<PreviewAnswer | null>(null);
  const earlier = useMemo(() => predecessors(bp, moduleId), [bp, moduleId]);
  const failed = useMemo(() => handledBy(bp, moduleId)?.id ?? null, [bp, moduleId]);
  // Webhook triggers map the fields of their webhook's determined data structure.
  const [hooks, setHooks] = useState<Map<number, Webhook>>(new Map());
  useEffect(() => {
    api.get<Webhook[]>("/api/webhooks").then(
      (list) => setHooks(new Map(items(list).map((h) => [h.id, h]))),
      () => {},
    );
  }, [moduleId]);
  const bundles = useMemo(() => {
    const out: Record<string, JsonObject> = {};
    for (const m of earlier) {
      const b = lastBundles.get(m.id);
      if (b) out[String(m.id)] = b;
    }
    return out;
  }, [earlier, lastBundles]);

  const template = active?.value ?? "";
  useEffect(() => {
    if (!template.includes("{{")) {
      setPreview(null);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      api
        .post<PreviewAnswer>("/api/expressions/preview", { template, bundles, ...(timezone ? { timezone } : {}) })
        .then((answer) => live && setPreview(answer))
        .catch((e: Error & { column?: number }) => live && setPreview({ error: { message: e.message } }));
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [template, bundles, timezone]);

  const insert = (text: string) => active?.insert(text);
  const q = query.trim().toLowerCase();
  return (
    <aside className="mapping-panel" aria-label="Mapping panel">
      <header>
        <div className="tabs">
          <button className={tab === "items" ? "on" : ""} onClick={() => setTab("items")}>
            Items
          </button>
          <button className={tab === "functions" ? "on" : ""} onClick={() => setTab("functions")}>
            Functions
          </button>
        </div>
        <input
          className="search"
          placeholder="Search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          aria-label="Search the mapping panel"
        />
      </header>
      <p className="muted small">
        {active ? (
          <>Click an item to insert it into “{active.label}”.</>
        ) : (
          <>Click a field first, then an item to map it.</>
        )}
      </p>
      {tab === "items" && (
        <div className="mapping-modules">
          {earlier.length === 0 && <p className="muted">No module runs before this one.</p>}
          {earlier.map((m) => {
            const info = catalog.byId.get(m.module);
            const errorFields: OutputField[] =
              m.id === failed
                ? [
                    { path: "error", label: "error", type: "collection" },
                    ...["message", "type", "detail"].map((f) => ({ path: `error.${f}`, label: f, type: "text" })),
                  ]
                : [];
            const fields = mergeFields(
              [
                ...errorFields,
                ...schemaFields(outputSchema(info, m)),
                ...structureFields(
                  hooks.get(Number(m.parameters?.hook ?? m.parameters?.__IMTHOOK__))?.settings?.structure,
                ),
              ],
              bundleFields(lastBundles.get(m.id) ?? null),
            );
            const name = m.metadata?.designer?.name;
            return (
              <MappingTree
                key={m.id}
                moduleId={m.id}
                title={(typeof name === "string" && name) || info?.label || m.module}
                fields={fields}
                query={q}
                disabled={!active}
                onInsert={insert}
              />
            );
          })}
        </div>
      )}
      {tab === "functions" && (
        <FunctionLibrary
          functions={catalog.functions}
          keywords={catalog.keywords}
          query={q}
          disabled={!active}
          onInsert={insert}
        />
      )}
      {active && template.includes("{{") && (
        <footer className="preview" data-testid="preview">
          <strong>Preview</strong>
          {preview?.error ? (
            <div className="inline-error" data-testid="preview-error">
              {preview.error.message}
              {typeof preview.error.column === "number" && (
                <pre className="caret">
                  {template}
                  {"\n"}
                  {" ".repeat(Math.max(0, preview.error.column - 1))}^
                </pre>
              )}
            </div>
          ) : (
            <code data-testid="preview-value">{preview ? JSON.stringify(preview.value) : "…"}</code>
          )}
        </footer>
      )}
    </aside>
  );
}

// An aggregator's own settings, as Make's panel has them: the source module (its feeder), and
// for the Array aggregator the target structure (a later module's array field) with the fields
// each collected item gets, mapped like any field.
import type { Catalog } from "../catalog";
import type { Blueprint, Json, JsonObject, JsonSchema, Module } from "../types";
import { allModules, predecessors } from "./blueprint";
import { MappableInput } from "./MappableInput";
import { resolve } from "./SchemaForm";

/** The array-of-collections fields of a module's input: what an Array aggregator can fill. */
export function arrayTargets(module: Module, catalog: Catalog): { field: string; label: string; item: JsonSchema }[] {
  const schema = catalog.byId.get(module.module)?.input_schema;
  if (!schema) return [];
  const root = resolve(schema, schema);
  return Object.entries(root.properties ?? {}).flatMap(([field, prop]) => {
    const s = resolve(prop, schema);
    const item = s.items ? resolve(s.items as JsonSchema, schema) : null;
    if (!item?.properties) return [];
    return [{ field, label: s.title ?? field, item }];
  });
}

/** "Xero — Create an invoice [5]" */
export function moduleName(module: Module, catalog: Catalog): string {
  const info = catalog.byId.get(module.module);
  const named = module.metadata?.designer?.name;
  const title = typeof named === "string" && named ? named : info ? `${info.app_label} — ${info.label}` : module.module;
  return `${title} [${module.id}]`;
}

/** The Array aggregator that fills `moduleId`'s field `field` (its `target` is `id.field`). */
export function filledBy(bp: Blueprint, moduleId: number, field: string): Module | null {
  return (
    allModules(bp).find(
      (m) =>
        m.module === "builtin:BasicAggregator" &&
        (m.parameters as JsonObject | undefined)?.target === `${moduleId}.${field}`,
    ) ?? null
  );
}

export function AggregatorFields({
  bp,
  module,
  catalog,
  onChange,
}: {
  bp: Blueprint;
  module: Module;
  catalog: Catalog;
  onChange: (fn: (m: Module) => void, key: string) => void;
}) {
  const params = (module.parameters ?? {}) as JsonObject;
  const mapper = (module.mapper ?? {}) as JsonObject;
  const earlier = predecessors(bp, module.id);
  const later = allModules(bp).filter((m) => predecessors(bp, m.id).some((p) => p.id === module.id));
  const targets = later.flatMap((m) =>
    arrayTargets(m, catalog).map((t) => ({ ...t, value: `${m.id}.${t.field}`, module: m })),
  );
  const target = typeof params.target === "string" ? params.target : "";
  const chosen = targets.find((t) => t.value === target);
  const isArray = module.module === "builtin:BasicAggregator";
  // The target's item fields first, then any other mapped key (kept, editable).
  const names = [...Object.keys(chosen?.item.properties ?? {}), ...Object.keys(mapper)].filter(
    (name, i, all) => all.indexOf(name) === i,
  );
  const setParam = (key: string, value: Json | undefined) =>
    onChange((m) => {
      const p = { ...(m.parameters ?? {}) };
      if (value === undefined) delete p[key];
      else p[key] = value;
      m.parameters = p;
    }, `param-${key}`);
  const setField = (name: string, value: string) =>
    onChange((m) => {
      const next = { ...((m.mapper ?? {}) as JsonObject) };
      if (value === "") delete next[name];
      else next[name] = value;
      m.mapper = next;
    }, `mapper-${name}`);
  return (
    <section className="aggregator" data-testid="aggregator-fields">
      <label className="field">
        <span className="field-label">
          Source module<span className="required">*</span>
        </span>
        <select
          aria-label="Source module"
          value={typeof params.feeder === "number" ? String(params.feeder) : ""}
          onChange={(e) => setParam("feeder", e.target.value ? Number(e.target.value) : undefined)}
        >
          <option value="">Choose the module whose bundles are collected</option>
          {earlier.map((m) => (
            <option key={m.id} value={m.id}>
              {moduleName(m, catalog)}
            </option>
          ))}
        </select>
      </label>
      {isArray && (
        <>
          <label className="field">
            <span className="field-label">Target structure type</span>
            <select
              aria-label="Target structure type"
              value={target}
              onChange={(e) => setParam("target", e.target.value || undefined)}
            >
              <option value="">Custom (the fields below)</option>
              {targets.map((t) => (
                <option key={t.value} value={t.value}>
                  {moduleName(t.module, catalog)} — {t.label}
                </option>
              ))}
              {target && !chosen && <option value={target}>{target}</option>}
            </select>
            <span className="help">
              {chosen
                ? `The array fills ${t(chosen.label)} of module ${chosen.module.id}: each bundle becomes one item.`
                : "Each collected bundle becomes one item with the fields below."}
            </span>
          </label>
          <h3>Aggregated fields</h3>
          {names.length === 0 && <p className="muted small">No field yet: add one, or pick a target structure.</p>}
          {names.map((name) => (
            <label className="field" key={name} data-field={`mapper.${name}`}>
              <span className="field-label">{name}</span>
              <MappableInput
                label={name}
                value={typeof mapper[name] === "string" ? (mapper[name] as string) : JSON.stringify(mapper[name] ?? "")}
                onChange={(value) => setField(name, value)}
              />
            </label>
          ))}
          <button
            className="small"
            onClick={() => {
              const name = prompt("Name of the new field");
              if (name) onChange((m) => (m.mapper = { ...((m.mapper ?? {}) as JsonObject), [name]: "" }), "mapper-add");
            }}
          >
            Add a field
          </button>
        </>
      )}
    </section>
  );
}

function t(label: string): string {
  return `“${label}”`;
}

// The module panel: name, connection / webhook / data store pickers, and the forms generated
// from the module's parameters and input schemas.
import { useEffect, useRef } from "react";
import type { Catalog } from "../catalog";
import type { Blueprint, Json, JsonObject, Module, Problem } from "../types";
import { AggregatorFields, filledBy, moduleName } from "./AggregatorFields";
import { DataStorePicker, ConnectionPicker, WebhookPicker } from "./Pickers";
import { Fields } from "./SchemaForm";
import { JsonEditor } from "./JsonEditor";
import { RunModuleOnly, canRunAlone } from "./RunModuleOnly";

const PICKED = ["__IMTCONN__", "account", "hook", "__IMTHOOK__", "datastore", "feeder", "target"];
// Built-in apps that need no connection; the others pick one in ``__IMTCONN__`` — except
// Make's Email app, whose modules keep their connection in ``account``.
const CONNECTIONLESS_APPS = [
  "builtin",
  "gateway",
  "datastore",
  "util",
  "json",
  "regexp",
  "http",
  "xml",
  "csv",
  "markdown",
  "rss",
];
const CONNECTION_PARAMS: Record<string, string> = { email: "account" };

export function ModulePanel({
  bp,
  module,
  catalog,
  scenarioId,
  problems,
  note,
  onChange,
  onNote,
  runOnly,
  onAddRoute,
  onDeleteRoute,
  onClose,
  readOnly = false,
}: {
  /** The scenario: an aggregator picks its source and target among its modules. */
  bp: Blueprint;
  module: Module;
  catalog: Catalog;
  scenarioId: number;
  problems: Problem[];
  note: string;
  onChange: (fn: (m: Module) => void, key: string) => void;
  onNote: (content: string) => void;
  /** "Run this module only": the last run's bundles to start from, and whether it is open. */
  runOnly?: { bundles: JsonObject; open: boolean };
  onAddRoute: () => void;
  onDeleteRoute: (index: number) => void;
  onClose: () => void;
  /** A past run or a viewer: the fields are shown, not editable. */
  readOnly?: boolean;
}) {
  // Read only: every control but Close and OK is disabled, whatever the forms below render.
  const panelRef = useRef<HTMLElement>(null);
  useEffect(() => {
    if (!readOnly) return;
    panelRef.current
      ?.querySelectorAll<HTMLElement>("input, select, textarea, button, [contenteditable]")
      .forEach((el) => {
        if (el.closest("header, footer")) return;
        if (el.isContentEditable) el.contentEditable = "false";
        else (el as HTMLInputElement).disabled = true;
      });
  });
  const info = catalog.byId.get(module.module) ?? null;
  // A field an Array aggregator targets says so (Make fills it with the aggregator's array).
  const aggregatorHints: Record<string, string> = {};
  for (const name of Object.keys(info?.input_schema?.properties ?? {})) {
    const aggregator = filledBy(bp, module.id, name);
    if (aggregator)
      aggregatorHints[name] =
        `Filled by the Array aggregator ${moduleName(aggregator, catalog)}: map its Array, {{${aggregator.id}.array}}.`;
  }
  const app = module.module.split(":")[0];
  const params = (module.parameters ?? {}) as JsonObject;
  const mapper = (module.mapper ?? {}) as JsonObject;
  const name = typeof module.metadata?.designer?.name === "string" ? module.metadata.designer.name : "";
  const setParam = (key: string, value: Json | undefined) =>
    onChange((m) => {
      const p = { ...(m.parameters ?? {}) };
      if (value === undefined) delete p[key];
      else p[key] = value;
      m.parameters = p;
    }, `param-${key}`);
  const isRouter = module.module === "builtin:BasicRouter";
  const connectionParam = CONNECTION_PARAMS[app] ?? "__IMTCONN__";
  const paramSchema = info?.parameters_schema ?? null;
  const inputSchema = info?.input_schema ?? null;
  // Selects an app fills by an RPC load their choices with the module's connection.
  const rpc = { module: module.module, connection: params[connectionParam], parameters: { ...params, ...mapper } };
  return (
    <aside
      ref={panelRef}
      className="side-panel module-panel"
      aria-label={`Module ${module.id}`}
      data-testid="module-panel"
    >
      <header>
        <h2>
          {info ? `${info.app_label} — ${info.label}` : module.module} <span className="badge">{module.id}</span>
        </h2>
        <button className="icon" onClick={onClose} aria-label="Close">
          ×
        </button>
      </header>
      {!info && (
        <p className="warning">
          Switchboard does not have this module: its settings are kept as they are and shown as JSON.
        </p>
      )}
      {info?.description && <p className="muted small">{info.description}</p>}
      {problems.map((p, i) => (
        <p key={i} className="inline-error" data-testid="module-problem">
          {p.path ? <code>{p.path}</code> : null} {p.message}
        </p>
      ))}
      <label className="field">
        <span className="field-label">Name on the canvas</span>
        <input
          aria-label="Name on the canvas"
          value={name}
          placeholder={info?.label ?? ""}
          onChange={(e) =>
            onChange((m) => {
              const metadata = (m.metadata ??= {});
              const designer = { ...(metadata.designer ?? {}) };
              if (e.target.value) designer.name = e.target.value;
              else delete designer.name;
              metadata.designer = designer;
            }, "name")
          }
        />
      </label>
      {!CONNECTIONLESS_APPS.includes(app) ||
      connectionParam in params ||
      connectionParam in (paramSchema?.properties ?? {}) ? (
        <ConnectionPicker app={app} value={params[connectionParam]} onChange={(id) => setParam(connectionParam, id)} />
      ) : null}
      {module.module === "gateway:CustomWebHook" && (
        <WebhookPicker scenarioId={scenarioId} value={params.hook} onChange={(id) => setParam("hook", id)} />
      )}
      {module.module !== "gateway:CustomWebHook" &&
        ("__IMTHOOK__" in (paramSchema?.properties ?? {}) || "__IMTHOOK__" in params) && (
          <WebhookPicker
            scenarioId={scenarioId}
            value={params.__IMTHOOK__}
            onChange={(id) => setParam("__IMTHOOK__", id)}
          />
        )}
      {app === "datastore" && <DataStorePicker value={params.datastore} onChange={(id) => setParam("datastore", id)} />}
      {isRouter && (
        <section className="routes">
          <h3>Routes</h3>
          <ol>
            {(module.routes ?? []).map((route, i) => (
              <li key={i}>
                Route {i + 1} — {route.flow?.length ?? 0} module(s)
                {route.flow?.[0]?.filter?.name ? ` — “${route.flow[0].filter.name}”` : ""}
                <button
                  className="small"
                  onClick={() =>
                    onChange((m) => {
                      const r = m.routes?.[i];
                      if (!r) return;
                      if (r.disabled) delete r.disabled;
                      else r.disabled = true;
                    }, `route-${i}`)
                  }
                >
                  {route.disabled ? "Enable route" : "Disable route"}
                </button>
                <button className="small danger" onClick={() => onDeleteRoute(i)}>
                  Delete route
                </button>
              </li>
            ))}
          </ol>
          <button className="small" onClick={onAddRoute}>
            Add a route
          </button>
        </section>
      )}
      {info?.kind === "aggregator" && (
        <AggregatorFields bp={bp} module={module} catalog={catalog} onChange={onChange} />
      )}
      {info && paramSchema && Object.keys(paramSchema.properties ?? {}).some((k) => !PICKED.includes(k)) && (
        <section>
          <h3>Settings</h3>
          <Fields
            schema={paramSchema}
            root={paramSchema}
            value={params}
            skip={PICKED}
            mappable={false}
            path="parameters"
            rpc={rpc}
            onChange={(value) => onChange((m) => (m.parameters = value), "parameters")}
          />
        </section>
      )}
      {info && inputSchema && Object.keys(inputSchema.properties ?? {}).length > 0 && (
        <section>
          <h3>Fields</h3>
          <Fields
            schema={inputSchema}
            root={inputSchema}
            value={mapper}
            mappable
            path="mapper"
            hints={aggregatorHints}
            rpc={rpc}
            onChange={(value) => onChange((m) => (m.mapper = value), "mapper")}
          />
        </section>
      )}
      {(!info ||
        (Object.keys(inputSchema?.properties ?? {}).length === 0 &&
          ["action", "responder", "builtin:Resume"].some((k) => k === info.kind || k === module.module))) && (
        <section>
          <h3>{info ? "Fields (JSON)" : "Mapper (JSON)"}</h3>
          <JsonEditor
            label="Mapper"
            value={module.mapper ?? null}
            onChange={(v) => onChange((m) => (m.mapper = v as JsonObject | null), "mapper-json")}
          />
          {!info && (
            <>
              <h3>Parameters (JSON)</h3>
              <JsonEditor
                label="Parameters"
                value={module.parameters ?? {}}
                onChange={(v) => onChange((m) => (m.parameters = (v ?? {}) as JsonObject), "parameters-json")}
              />
            </>
          )}
        </section>
      )}
      {canRunAlone(info) && (
        <RunModuleOnly
          key={`${module.id}-${runOnly?.open ? "open" : "closed"}`}
          scenarioId={scenarioId}
          moduleId={module.id}
          initial={runOnly?.bundles}
          open={runOnly?.open}
        />
      )}
      <label className="field">
        <span className="field-label">Note</span>
        <textarea
          aria-label="Note"
          rows={2}
          value={note.replace(/<[^>]+>/g, "")}
          onChange={(e) => onNote(e.target.value)}
        />
      </label>
      <footer>
        <button className="primary" onClick={onClose}>
          OK
        </button>
      </footer>
    </aside>
  );
}

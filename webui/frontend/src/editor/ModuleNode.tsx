import { Handle, Position, type NodeProps } from "@xyflow/react";
import { useEditorActions } from "./actions";
import { AppIcon, appColor } from "./appIcon";
import { NamedIcon } from "./icons";
import { ModuleTitle, NoteCard } from "./NodeLabel";
import { useExplain } from "./explainFlow";
import "./explainFlow.css";
import { useLiveRun } from "./liveRun";
import type { ModuleNode as ModuleNodeType } from "./graph";

const UNKNOWN_GREY = "#a3a9b3";

const DIRECTIVE_LABELS: Record<string, string> = {
  "builtin:Ignore": "Ignore",
  "builtin:Resume": "Resume",
  "builtin:Commit": "Commit",
  "builtin:Rollback": "Rollback",
  "builtin:Break": "Break",
};

const FLOW_KINDS: Record<string, string> = {
  "builtin:BasicFeeder": "iterator",
  "builtin:BasicAggregator": "aggregator",
  "builtin:BasicRepeater": "repeater",
};

/** A module: a round node in its app's colour, with the module id, as in Make. */
export function ModuleNode({ data, selected }: NodeProps<ModuleNodeType>) {
  const actions = useEditorActions();
  const { module, info, app, trigger, problems, note, run } = data;
  const live = useLiveRun(module.id);
  const explain = useExplain();
  const explained = explain.order.get(String(module.id));
  const appId = module.module.split(":")[0];
  const isRouter = module.module === "builtin:BasicRouter";
  const directive = DIRECTIVE_LABELS[module.module];
  // A module this installation lacks is greyed out (its app's colour would say it works).
  const color = directive ? "#5b6770" : !info ? UNKNOWN_GREY : appColor(app, appId);
  const name = module.metadata?.designer?.name;
  const title = (typeof name === "string" && name) || info?.label || directive || module.module;
  const appLabel = info?.app_label ?? app?.label ?? appId;
  // Iterators and aggregators get their own glyph (the flow-control ones instead of the app's).
  const flowKind =
    FLOW_KINDS[module.module] ?? (info?.kind === "iterator" || info?.kind === "aggregator" ? info.kind : null);
  const classes = ["module-node"];
  if (flowKind) classes.push(`kind-${flowKind}`);
  if (isRouter) classes.push("router");
  if (directive) classes.push("directive");
  if (trigger) classes.push("trigger");
  if (selected) classes.push("selected");
  if (problems.length) classes.push("has-problems");
  if (!info) classes.push("unknown");
  if (live) classes.push(`live-${live.state}`);
  if (explained) classes.push("explain-visited");
  if (explain.current === String(module.id)) classes.push("explain-current");
  return (
    <div
      className={classes.join(" ")}
      data-testid={`module-${module.id}`}
      data-module={module.module}
      onContextMenu={(e) => {
        e.preventDefault();
        e.stopPropagation();
        actions.openMenu(module.id, e.clientX, e.clientY);
      }}
    >
      <div className="module-circle" style={{ background: color }} title={module.module}>
        <Handle type="target" position={Position.Left} id="in" />
        <Handle type="source" position={Position.Right} id="out" />
        <Handle type="source" position={Position.Bottom} id="error" />
        {isRouter ? (
          <NamedIcon name="router" size={30} />
        ) : directive ? (
          <NamedIcon name={directive.toLowerCase()} size={26} />
        ) : appId === "builtin" && flowKind ? (
          <span className="app-icon" data-testid={`kind-${module.id}`} data-kind={flowKind}>
            <NamedIcon name={flowKind} size={40} />
          </span>
        ) : (
          <AppIcon app={app} appId={appId} size={40} />
        )}
        {flowKind && appId !== "builtin" && (
          <span className="flow-kind-mark" data-testid={`kind-${module.id}`} data-kind={flowKind} title={flowKind}>
            <NamedIcon name={flowKind} size={16} />
          </span>
        )}
        <span className="module-id">{module.id}</span>
        {explained && (
          <span className="explain-order" data-testid={`explain-${module.id}`} title="Order in the flow">
            {explained}
          </span>
        )}
        {trigger && (
          <span className="trigger-mark" title="Trigger: the scenario starts here">
            ⚡
          </span>
        )}
        {problems.length > 0 && (
          <span className="problem-mark" title={problems.map((p) => p.message).join("\n")}>
            !
          </span>
        )}
        {live && !run && (
          <span className={`run-bubble live ${live.state}`} data-testid={`live-${module.id}`} title="Running now">
            {live.state === "running" ? "…" : live.operations}
          </span>
        )}
        {run && (
          <button
            className={`run-bubble${run.errors ? " failed" : ""}`}
            onClick={(e) => {
              e.stopPropagation();
              actions.openRun(module.id);
            }}
            data-testid={`run-${module.id}`}
            title={
              isRouter
                ? `${run.bundles} bundle(s) passed through (a router uses no operation) — click to inspect`
                : `${run.operations} operation(s), ${run.bundles} bundle(s) out${run.errors ? `, ${run.errors} error(s)` : ""} — click to inspect`
            }
            aria-label={
              isRouter
                ? `Inspect module ${module.id}: ${run.bundles} bundle(s)`
                : `Inspect module ${module.id}: ${run.operations} operation(s)`
            }
          >
            {/* A router is no operation (as in Make): its bubble counts the bundles it passed. */}
            {isRouter ? run.bundles : run.operations}
            {run.errors ? <span className="bubble-error">!</span> : null}
          </button>
        )}
        {note && (
          <span className="note-mark" title={note.replace(/<[^>]+>/g, " ")}>
            ✎
          </span>
        )}
      </div>
      <ModuleTitle
        moduleId={module.id}
        app={isRouter ? "Router" : directive ? "Error handler" : appLabel}
        title={isRouter ? `${module.routes?.length ?? 0} routes` : title}
      />
      {note && <NoteCard note={note} moduleId={module.id} />}
      {problems.length > 0 && <div className="module-problems">{problems[0].message}</div>}
      {!directive && !actions.readOnly && (
        <button
          className="add-after"
          title={isRouter ? "Add a route" : "Add a module after this one"}
          aria-label={`Add after ${module.id}`}
          onClick={(e) => {
            e.stopPropagation();
            actions.openCatalogue(
              isRouter ? { kind: "newRoute", routerId: module.id } : { kind: "after", id: module.id },
            );
          }}
        >
          +
        </button>
      )}
    </div>
  );
}

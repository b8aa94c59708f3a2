import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps } from "@xyflow/react";
import { useEditorActions } from "./actions";
import { useExplain } from "./explainFlow";
import { useZoomBucket } from "./legibleLabels";
import { NamedIcon } from "./icons";
import type { LinkEdge as LinkEdgeType } from "./graph";

/** A link. Its filter (on the target module) shows as a label; error routes are dashed red. */
export function LinkEdge(props: EdgeProps<LinkEdgeType>) {
  const { id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, data, selected } = props;
  const actions = useEditorActions();
  const [path, labelX, labelY] = getBezierPath({
    sourceX,
    sourceY,
    targetX,
    targetY,
    sourcePosition,
    targetPosition,
  });
  const error = data?.error ?? false;
  const filter = data?.filter;
  const conditions = filter?.conditions?.flat().length ?? 0;
  const editable = (data?.targetId !== null && data?.targetId !== undefined) || Boolean(data?.branchOf);
  const disabled = data?.disabled ?? false;
  const explain = useExplain();
  // Zoomed out, a filter's label would print too small to read: the funnel stays, its label
  // shows in the funnel's tooltip.
  const zoomedOut = useZoomBucket() !== 1;
  const explained = explain.stopped.has(id) ? "stopped" : explain.passed.has(id) ? "passed" : undefined;
  const style = explained
    ? explained === "passed"
      ? { stroke: "#6d00cc", strokeWidth: 3 }
      : { stroke: "#d0312d", strokeDasharray: "4 4", strokeWidth: 2 }
    : disabled
      ? { stroke: "#c0c6cf", strokeDasharray: "2 6", strokeWidth: 2 }
      : error
        ? { stroke: "#d0312d", strokeDasharray: "6 5", strokeWidth: 2 }
        : { stroke: selected ? "#6d00cc" : "#9aa3ad", strokeWidth: selected ? 3 : 2 };
  return (
    <>
      <BaseEdge id={id} path={path} style={style} interactionWidth={24} />
      {explain.current === id && (
        // The bundle on its way: along the whole link, or up to the filter that stops it.
        <circle
          r={7}
          className={`explain-bundle${explained === "stopped" ? " stopped" : ""}`}
          data-testid="explain-bundle"
        >
          {explained === "stopped" ? (
            <animateMotion dur="0.5s" fill="freeze" path={path} keyPoints="0;0.5" keyTimes="0;1" calcMode="linear" />
          ) : (
            <animateMotion dur="0.5s" fill="freeze" path={path} />
          )}
        </circle>
      )}
      <EdgeLabelRenderer>
        <div
          className={`edge-label nodrag nopan${error ? " error" : ""}${conditions ? " filtered" : ""}`}
          data-explain={explained}
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
        >
          {editable && (
            <button
              className="filter-button"
              data-testid={
                data?.branchOf ? `branch-${data.branchOf.ifElseId}-${data.branchOf.index}` : `filter-${data?.targetId}`
              }
              title={data?.label ? `Filter: ${data.label}` : "Set up a filter"}
              onClick={(e) => {
                e.stopPropagation();
                actions.selectEdge(id);
              }}
            >
              <NamedIcon name="funnel" size={14} />
            </button>
          )}
          {!zoomedOut && (data?.label || data?.fallback || disabled) && (
            <span className="edge-text">
              {data?.label}
              {data?.fallback ? " (fallback)" : ""}
              {disabled ? " (disabled)" : ""}
            </span>
          )}
        </div>
      </EdgeLabelRenderer>
    </>
  );
}

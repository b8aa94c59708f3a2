import { Handle, Position, type NodeProps } from "@xyflow/react";
import { useEditorActions } from "./actions";
import type { PlaceholderNode as PlaceholderNodeType } from "./graph";

/** An empty spot: the first module of the scenario or of an empty router route. */
export function PlaceholderNode({ data }: NodeProps<PlaceholderNodeType>) {
  const actions = useEditorActions();
  const { routerId, routeIndex, label } = data;
  const open = () =>
    actions.openCatalogue(routerId === null ? { kind: "root" } : { kind: "route", routerId, routeIndex });
  return (
    <div className="placeholder-node">
      <div className="placeholder-wrap">
        <Handle type="target" position={Position.Left} id="in" />
        <button
          className="placeholder-circle"
          aria-label={label}
          data-testid={routerId === null ? "add-first" : `add-route-${routerId}-${routeIndex}`}
          onClick={open}
        >
          +
        </button>
      </div>
      {/* The label opens the catalogue too, as the circle does. */}
      <div className="module-title clickable" onClick={open}>
        <span>{label}</span>
      </div>
    </div>
  );
}

// What "Explain flow" found, in words, under the toolbar while the walk plays and after it.
import type { ExplainState } from "./explainFlow";
import type { LinkEdge } from "./graph";

export function ExplainBanner({
  state,
  edges,
  playing,
  onStop,
}: {
  state: ExplainState;
  edges: LinkEdge[];
  playing: boolean;
  onStop: () => void;
}) {
  const path = [...state.order.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
  const stops = edges
    .filter((e) => state.stopped.has(e.id))
    .map((e) => {
      const why = e.data?.disabled ? "disabled route" : e.data?.label ? `filter “${e.data.label}”` : "filter";
      return `${e.target} (${why})`;
    });
  return (
    <div className="explain-banner" role="status" data-testid="explain-banner">
      <strong>{playing ? "Explaining the flow…" : "Flow explained"}</strong>
      <span>
        The bundle goes through {path.join(" → ") || "nothing yet"}
        {stops.length > 0 && <> · it stops before {stops.join(", ")}</>}
      </span>
      <span className="spacer" />
      <button className="small" onClick={onStop}>
        {playing ? "Stop" : "Close"}
      </button>
    </div>
  );
}

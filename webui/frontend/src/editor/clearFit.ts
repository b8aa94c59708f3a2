// Fit-to-view that leaves no module under the canvas's overlays: the minimap (bottom right)
// and the zoom buttons (bottom left). The problems bar sits under the canvas, so it narrows the
// canvas itself; a fitted view is fitted again when the canvas's height changes (the bar comes
// or goes), unless the user has moved the view since.
import type { FitViewOptions, Rect, ReactFlowInstance } from "@xyflow/react";
import { useEffect, type MutableRefObject, type RefObject } from "react";

const MAX_ZOOM = 1.1;
const OVERLAYS = [".react-flow__minimap", ".react-flow__controls"];

type Padding = { top: `${number}px`; right: `${number}px`; bottom: `${number}px`; left: `${number}px` };

/** The padding that keeps `bounds` clear of the overlays: a band along the bottom edge, or a band
 * along each side, whichever lets the modules be drawn larger. */
function clearPadding(canvas: HTMLElement, bounds: Rect): Padding {
  const box = canvas.getBoundingClientRect();
  const margin = Math.max(24, Math.round(Math.min(box.width, box.height) * 0.06));
  let bottom = margin;
  let left = margin;
  let right = margin;
  for (const selector of OVERLAYS) {
    const r = canvas.querySelector(selector)?.getBoundingClientRect();
    if (!r || r.width === 0) continue;
    bottom = Math.max(bottom, box.bottom - r.top + margin);
    if (r.left + r.width / 2 > box.left + box.width / 2) right = Math.max(right, box.right - r.left + margin);
    else left = Math.max(left, r.right - box.left + margin);
  }
  const width = Math.max(bounds.width, 1);
  const height = Math.max(bounds.height, 1);
  const underBand = Math.min((box.width - 2 * margin) / width, (box.height - margin - bottom) / height);
  const besideBands = Math.min((box.width - left - right) / width, (box.height - 2 * margin) / height);
  const px = (n: number) => `${Math.round(n)}px` as const;
  return underBand >= besideBands
    ? { top: px(margin), right: px(margin), bottom: px(bottom), left: px(margin) }
    : { top: px(margin), right: px(right), bottom: px(margin), left: px(left) };
}

/** Fit every module into the canvas, clear of its overlays. */
export function fitClear(flow: ReactFlowInstance, canvas: HTMLElement | null, duration?: number): void {
  const nodes = flow.getNodes();
  const options: FitViewOptions = { maxZoom: MAX_ZOOM, duration };
  options.padding = canvas && nodes.length ? clearPadding(canvas, flow.getNodesBounds(nodes)) : 0.2;
  void flow.fitView(options);
}

/** Fit again when the canvas's height changes while the view is fitted (`fitted`). */
export function useRefitOnHeightChange(
  canvas: RefObject<HTMLElement | null>,
  fitted: MutableRefObject<boolean>,
  fit: () => void,
  ready: boolean,
): void {
  useEffect(() => {
    const el = canvas.current;
    if (!el || !ready) return;
    let height = el.clientHeight;
    const observer = new ResizeObserver(() => {
      if (el.clientHeight === height) return;
      height = el.clientHeight;
      if (fitted.current) fit();
    });
    observer.observe(el);
    return () => observer.disconnect();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ready]);
}

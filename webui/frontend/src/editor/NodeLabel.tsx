// What a module shows under its circle: its title, which stays legible when the canvas is
// zoomed out (fit-to-view of a large scenario: see legibleLabels.ts), and its note as a sticky
// card, as Make shows notes on the canvas.
import { labelScale, shortTitle, useLabelled, useZoomBucket } from "./legibleLabels";
import "./nodeLabel.css";

export function noteText(note: string): string {
  return note
    .replace(/<br\s*\/?>|<\/p>\s*<p[^>]*>/gi, "\n")
    .replace(/<[^>]+>/g, " ")
    .replace(/&nbsp;/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/[ \t]+/g, " ")
    .trim();
}

export function ModuleTitle({ app, title, moduleId }: { app: string; title: string; moduleId: number }) {
  const zoom = useZoomBucket();
  const labelled = useLabelled(String(moduleId));
  if (zoom === 1) {
    return (
      <div className="module-title">
        <strong>{app}</strong>
        <span>{title}</span>
      </div>
    );
  }
  // Zoomed out: one short line scaled to a readable size on screen, when it has room.
  if (!labelled) return null;
  return (
    <div
      className="module-title summary"
      data-testid={`title-${moduleId}`}
      style={{ transform: `scale(${labelScale(zoom)})` }}
      title={`${app}: ${title}`}
    >
      <strong>{shortTitle(title)}</strong>
    </div>
  );
}

export function NoteCard({ note, moduleId }: { note: string; moduleId: number }) {
  const zoom = useZoomBucket();
  const text = noteText(note);
  if (!text || zoom !== 1) return null;
  return (
    <div className="module-note" data-testid={`note-${moduleId}`} title={text}>
      {text.length > 160 ? `${text.slice(0, 159)}…` : text}
    </div>
  );
}

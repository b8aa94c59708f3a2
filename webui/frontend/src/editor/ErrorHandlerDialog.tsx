import { useState } from "react";
import type { Catalog } from "../catalog";
import { DIRECTIVES } from "./blueprint";

const DESCRIPTIONS: Record<string, string> = {
  "builtin:Ignore": "Ignore — drop the bundle, the run goes on and ends in success",
  "builtin:Resume": "Resume — replace the failed module's output with a substitute and go on",
  "builtin:Commit": "Commit — stop, commit what was done, end in success",
  "builtin:Rollback": "Rollback — stop, roll back, end in error",
  "builtin:Break": "Break — store an incomplete execution to retry later",
};

/** "Add error handler": pick a directive and, optionally, a module to run before it. */
export function ErrorHandlerDialog({
  moduleId,
  catalog,
  onAdd,
  onClose,
}: {
  moduleId: number;
  catalog: Catalog;
  onAdd: (directive: string, before: string | null) => void;
  onClose: () => void;
}) {
  const [directive, setDirective] = useState<string>("builtin:Ignore");
  const [before, setBefore] = useState("");
  const candidates = catalog.modules.filter(
    (m) => m.kind !== "directive" && m.kind !== "instant_trigger" && m.kind !== "trigger",
  );
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal" role="dialog" aria-label="Add error handler" onClick={(e) => e.stopPropagation()}>
        <header>
          <h2>Add an error handler to module {moduleId}</h2>
          <button className="icon" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        <fieldset className="directives">
          <legend>Directive</legend>
          {DIRECTIVES.map((d) => (
            <label key={d} className="radio">
              <input
                type="radio"
                name="directive"
                value={d}
                checked={directive === d}
                onChange={() => setDirective(d)}
                aria-label={d.replace("builtin:", "")}
              />
              {DESCRIPTIONS[d]}
            </label>
          ))}
        </fieldset>
        <label className="field">
          <span className="field-label">Run a module before the directive (optional)</span>
          <select aria-label="Module before the directive" value={before} onChange={(e) => setBefore(e.target.value)}>
            <option value="">None</option>
            {candidates.map((m) => (
              <option key={m.id} value={m.id}>
                {m.app_label} — {m.label}
              </option>
            ))}
          </select>
        </label>
        <footer>
          <button onClick={onClose}>Cancel</button>
          <button className="primary" onClick={() => onAdd(directive, before || null)}>
            Add error handler
          </button>
        </footer>
      </div>
    </div>
  );
}

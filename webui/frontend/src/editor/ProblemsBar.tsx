import type { Validation } from "../types";

/** Validation problems and modules this installation lacks, under the canvas. */
export function ProblemsBar({
  validation,
  known,
  onSelect,
}: {
  validation: Validation;
  known: Set<number>;
  onSelect: (id: number) => void;
}) {
  const unsupported = Object.entries(validation.unsupported ?? {});
  if (validation.problems.length === 0 && unsupported.length === 0) return null;
  return (
    <div className="problems-bar" data-testid="problems">
      {validation.problems.map((p, i) => (
        <button
          key={i}
          className="problem"
          onClick={() => p.module_id !== null && known.has(p.module_id) && onSelect(p.module_id)}
        >
          {p.module_id !== null && <span className="badge error">{p.module_id}</span>} {p.message}
          {p.path && <code>{p.path}</code>}
        </button>
      ))}
      {unsupported.map(([id, ids]) => (
        <span key={id} className="unsupported">
          Not available here: <code>{id}</code> (modules {ids.join(", ")})
        </span>
      ))}
    </div>
  );
}

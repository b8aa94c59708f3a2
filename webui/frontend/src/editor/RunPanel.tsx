// The last run of one module, operation by operation (Make's bundle inspector).
import type { ModuleRun } from "./lastRun";

export function RunPanel({
  moduleId,
  run,
  status,
  onClose,
}: {
  moduleId: number;
  run: ModuleRun;
  status: string | null;
  onClose: () => void;
}) {
  return (
    <aside className="side-panel run-panel" aria-label={`Last run of module ${moduleId}`}>
      <header>
        <h2>
          Last run of module <span className="badge">{moduleId}</span>
        </h2>
        <button className="icon" onClick={onClose} aria-label="Close">
          ×
        </button>
      </header>
      <p className="muted small">
        Execution {status ?? ""}: {run.operations} operation(s), {run.bundles} bundle(s) out
        {run.errors ? `, ${run.errors} error(s)` : ""}.
      </p>
      {run.calls.length === 0 && <p className="muted">No operation data (confidential scenario or nothing kept).</p>}
      {run.calls.map((call, i) => (
        <section key={i} className="run-call" data-testid={`run-call-${i}`}>
          <h3>
            Operation {i + 1}
            {call.directive ? ` — ${call.directive}` : ""}
          </h3>
          {call.error && (
            <p className="inline-error">
              {call.error.type ? `${call.error.type}: ` : ""}
              {call.error.message}
            </p>
          )}
          {call.input !== undefined && call.input !== null && (
            <>
              <h4>Input</h4>
              <pre className="bundle">{JSON.stringify(call.input, null, 2)}</pre>
            </>
          )}
          <h4>Output ({call.output_count ?? call.output?.length ?? 0} bundle(s))</h4>
          {(call.output ?? []).map((bundle, j) => (
            <pre key={j} className="bundle">
              {JSON.stringify(bundle, null, 2)}
            </pre>
          ))}
        </section>
      ))}
      {run.omitted > 0 && <p className="muted small">{run.omitted} more operation(s) not kept.</p>}
    </aside>
  );
}

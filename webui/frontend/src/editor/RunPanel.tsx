// One module of a run, operation by operation (Make's bundle inspector): every bundle in and
// out as a typed tree, the error and the directive applied, what was not stored counted.
import { useState } from "react";
import { BundleTree } from "../inspect/BundleTree";
import type { ModuleRun } from "./lastRun";

const DIRECTIVES: Record<string, string> = {
  ignore: "Ignore: the error was dropped, the route ended",
  resume: "Resume: a substitute output was used",
  commit: "Commit: the run stopped and committed",
  rollback: "Rollback: the run stopped and rolled back",
  break: "Break: stored as an incomplete execution",
};

export function RunPanel({
  moduleId,
  run,
  status,
  executionId,
  historic = false,
  onClose,
}: {
  moduleId: number;
  run: ModuleRun;
  status: string | null;
  executionId?: string | null;
  historic?: boolean;
  onClose: () => void;
}) {
  const [search, setSearch] = useState("");
  const [copied, setCopied] = useState("");
  const onCopied = (what: string) => {
    setCopied(`Copied ${what}`);
    setTimeout(() => setCopied(""), 2000);
  };
  const label = historic ? `Execution of module ${moduleId}` : `Last run of module ${moduleId}`;
  // A router runs no operation: each of its calls is a bundle that passed through it.
  const router = run.module === "builtin:BasicRouter";
  return (
    <aside className="side-panel run-panel" aria-label={label}>
      <header>
        <h2>
          {historic ? "Execution" : "Last run"} of module <span className="badge">{moduleId}</span>
        </h2>
        <button className="icon" onClick={onClose} aria-label="Close">
          ×
        </button>
      </header>
      <p className="muted small">
        {status && <span className={`status ${status}`}>{status}</span>}{" "}
        {router
          ? `${run.bundles} bundle(s) passed through (a router uses no operation)`
          : `${run.operations} operation(s), ${run.bundles} bundle(s) out`}
        {run.errors ? `, ${run.errors} error(s)` : ""}
        {run.filtered ? `, ${run.filtered} stopped by the filter` : ""}
        {executionId ? (
          <>
            {" "}
            · <code title="Execution id">{executionId.slice(0, 12)}</code>
          </>
        ) : null}
      </p>
      <input
        type="search"
        className="bundle-search"
        placeholder="Search in bundles"
        aria-label="Search in bundles"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
      />
      {copied && (
        <span className="copied" role="status">
          {copied}
        </span>
      )}
      {run.calls.length === 0 && <p className="muted">No operation data (confidential scenario or nothing kept).</p>}
      {run.calls.map((call, i) => {
        const output = call.output ?? [];
        const count = call.output_count ?? output.length;
        return (
          <section key={i} className={`run-call${call.error ? " failed" : ""}`} data-testid={`run-call-${i}`}>
            <h3>
              {router ? "Bundle" : "Operation"} {i + 1}
              {!router && typeof call.duration_ms === "number" && (
                <span className="muted small"> · {call.duration_ms.toFixed(call.duration_ms < 10 ? 2 : 0)} ms</span>
              )}
            </h3>
            {call.error && (
              <div className="run-error" data-testid="run-error">
                <strong>{call.error.type ?? "Error"}</strong>: {call.error.message}
                {call.error.detail ? (
                  <div className="muted small">
                    {typeof call.error.detail === "string" ? call.error.detail : JSON.stringify(call.error.detail)}
                  </div>
                ) : null}
              </div>
            )}
            {call.directive && (
              <p className="directive-applied" data-testid="run-directive">
                Directive applied: <strong>{call.directive}</strong>
                {DIRECTIVES[call.directive] ? <span className="muted"> — {DIRECTIVES[call.directive]}</span> : null}
              </p>
            )}
            {call.input !== undefined && call.input !== null && (
              <>
                <h4>Input</h4>
                <BundleTree label="Input" value={call.input} search={search} onCopied={onCopied} />
              </>
            )}
            {!router && <h4>Output ({count} bundle(s))</h4>}
            {output.map((bundle, j) => (
              <BundleTree
                key={j}
                label={router ? `Bundle ${i + 1}` : `Bundle ${j + 1}`}
                value={bundle}
                search={search}
                onCopied={onCopied}
                collapsed={j >= 5}
              />
            ))}
            {count > output.length && (
              <p className="muted small" data-testid="bundles-omitted">
                {count - output.length} more bundle(s) output, not stored.
              </p>
            )}
          </section>
        );
      })}
      {run.omitted > 0 && (
        <p className="muted small" data-testid="calls-omitted">
          {run.omitted} more {router ? "bundle(s)" : "operation(s)"} not stored (beyond the stored limit).
        </p>
      )}
    </aside>
  );
}

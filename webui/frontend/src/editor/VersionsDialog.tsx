// "Versions": every saved version of the scenario, newest first, each restorable. Restoring
// saves the old blueprint as a new version on the server (history is never rewritten) and
// hands the scenario back for the canvas to reload.
import { useEffect, useState } from "react";
import { api } from "../api";
import { formatBytes, formatTime } from "../pages/common";
import type { ScenarioDetail } from "../types";

const NO_WRAP = { whiteSpace: "nowrap" } as const;

export interface VersionInfo {
  version: number;
  created_at: string;
  size_bytes: number;
  /** Who saved it (an email); null when unknown. */
  saved_by?: string | null;
}

export function VersionsDialog({
  scenarioId,
  currentVersion,
  dirty,
  readOnly,
  onRestored,
  onClose,
}: {
  scenarioId: number;
  currentVersion: number;
  /** Unsaved edits on the canvas: restoring discards them, so the confirmation says so. */
  dirty: boolean;
  readOnly: boolean;
  onRestored: (detail: ScenarioDetail) => void;
  onClose: () => void;
}) {
  const [versions, setVersions] = useState<VersionInfo[] | null>(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .get<VersionInfo[]>(`/api/scenarios/${scenarioId}/versions`)
      .then(setVersions)
      .catch((e: Error) => setError(e.message));
  }, [scenarioId]);

  const restore = async (version: number) => {
    const discard = dirty ? " Your unsaved changes on the canvas will be lost." : "";
    const question = `Restore version ${version}? It is saved as a new version; nothing is deleted.${discard}`;
    if (!confirm(question)) return;
    setBusy(true);
    try {
      onRestored(await api.post<ScenarioDetail>(`/api/scenarios/${scenarioId}/versions/${version}/restore`));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div
        className="modal"
        role="dialog"
        aria-label="Versions"
        style={{ width: "min(820px, 95vw)", maxWidth: "none" }}
        onClick={(e) => e.stopPropagation()}
      >
        <header>
          <h2>Versions</h2>
          <button className="icon" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        <p className="muted small">
          Every save is a version. Restoring one saves its blueprint again as the newest version.
        </p>
        {error && <div className="page-message error">{error}</div>}
        {versions === null && !error && <p className="muted">Loading…</p>}
        {versions && (
          <table className="scenarios data-table" data-testid="versions-table">
            <thead>
              <tr>
                <th>Version</th>
                <th>Saved</th>
                <th>By</th>
                <th>Size</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.version} data-testid={`version-${v.version}`}>
                  <td style={NO_WRAP}>
                    {v.version}
                    {v.version === currentVersion && <span className="muted"> (current)</span>}
                  </td>
                  <td style={NO_WRAP}>{formatTime(v.created_at)}</td>
                  <td>{v.saved_by ?? <span className="muted">—</span>}</td>
                  <td style={NO_WRAP}>{formatBytes(v.size_bytes)}</td>
                  <td className="actions" style={NO_WRAP}>
                    <a
                      className="button small"
                      href={`/api/scenarios/${scenarioId}/export?version=${v.version}`}
                      download
                      title="Download this version's blueprint"
                    >
                      Download
                    </a>{" "}
                    {v.version !== currentVersion && !readOnly && (
                      <button className="small" disabled={busy} onClick={() => void restore(v.version)}>
                        Restore
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

// Importing a prebuilt blueprint: it names its connections as placeholders
// ("__IMTCONN__": "connection:xero"); ask which stored connection each app gets before import.
import { useEffect, useState } from "react";
import { api, items } from "../api";
import { ConnectionPicker } from "../editor/Pickers";
import type { ConnectionKind } from "../types";

const PLACEHOLDER = /"__IMTCONN__"\s*:\s*"connection:([^"\\]+)"/g;

/** The apps whose connections a blueprint's text leaves as placeholders, in order of first use. */
export function connectionPlaceholders(text: string): string[] {
  const apps: string[] = [];
  for (const match of text.matchAll(PLACEHOLDER)) if (!apps.includes(match[1])) apps.push(match[1]);
  return apps;
}

export function ImportBindings({
  fileName,
  apps,
  onImport,
  onCancel,
}: {
  fileName: string;
  apps: string[];
  onImport: (bindings: Record<string, number>) => void;
  onCancel: () => void;
}) {
  const [chosen, setChosen] = useState<Record<string, number | undefined>>({});
  const [labels, setLabels] = useState<Record<string, string>>({});
  useEffect(() => {
    api.get<ConnectionKind[]>("/api/connection-kinds").then(
      (kinds) => setLabels(Object.fromEntries(items(kinds).map((k) => [k.app, k.label]))),
      () => {},
    );
  }, []);
  const complete = apps.every((app) => chosen[app] !== undefined);
  return (
    <div className="modal-backdrop" onClick={onCancel}>
      <div className="modal" role="dialog" aria-label="Choose connections" onClick={(e) => e.stopPropagation()}>
        <header>
          <h2>Connections for {fileName}</h2>
          <button className="icon" onClick={onCancel} aria-label="Close">
            ×
          </button>
        </header>
        <p className="muted">
          This blueprint uses {apps.length === 1 ? "an app" : `${apps.length} apps`}. Choose the connection each of its
          modules should use, or add one.
        </p>
        {apps.map((app) => (
          <div key={app} className="binding" data-testid={`binding-${app}`}>
            <h3>{labels[app] ?? app}</h3>
            <ConnectionPicker
              app={app}
              value={chosen[app]}
              onChange={(id) => setChosen((c) => ({ ...c, [app]: id }))}
            />
          </div>
        ))}
        <footer className="row">
          <button
            className="primary"
            disabled={!complete}
            onClick={() => onImport(Object.fromEntries(apps.map((app) => [app, chosen[app] as number])))}
          >
            Import
          </button>
          <button onClick={() => onImport({})} title="Import now and pick each module's connection in the editor">
            Skip, choose later
          </button>
          <button onClick={onCancel}>Cancel</button>
        </footer>
      </div>
    </div>
  );
}

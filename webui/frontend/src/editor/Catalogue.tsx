import { useMemo, useState } from "react";
import type { Catalog } from "../catalog";
import type { ModuleInfo } from "../types";
import { AppIcon, appColor } from "./appIcon";

const HIDDEN_KINDS = new Set(["directive"]);

/** The searchable module catalogue, grouped by app as in Make. */
export function Catalogue({
  catalog,
  onPick,
  onClose,
}: {
  catalog: Catalog;
  onPick: (module: ModuleInfo) => void;
  onClose: () => void;
}) {
  const [query, setQuery] = useState("");
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    const matching = catalog.modules.filter(
      (m) =>
        !HIDDEN_KINDS.has(m.kind) &&
        // An older version or an alias is not offered (Make lists one "Make a request"); its
        // exact id ("http:ActionSendData", or "ActionSendData") still finds it.
        (!m.superseded_by || [m.id, m.id.split(":").pop()].some((id) => id?.toLowerCase() === q)) &&
        (!q ||
          m.label.toLowerCase().includes(q) ||
          m.id.toLowerCase().includes(q) ||
          m.app_label.toLowerCase().includes(q) ||
          (m.description ?? "").toLowerCase().includes(q)),
    );
    const order = catalog.apps.map((a) => a.app);
    const byApp = new Map<string, ModuleInfo[]>();
    for (const m of matching) byApp.set(m.app, [...(byApp.get(m.app) ?? []), m]);
    return [...byApp.entries()].sort(([a], [b]) => (order.indexOf(a) + 1 || 999) - (order.indexOf(b) + 1 || 999));
  }, [catalog, query]);
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div className="modal catalogue" role="dialog" aria-label="Add a module" onClick={(e) => e.stopPropagation()}>
        <header>
          <h2>Add a module</h2>
          <button className="icon" onClick={onClose} aria-label="Close">
            ×
          </button>
        </header>
        <input
          autoFocus
          className="search"
          placeholder="Search apps and modules"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <div className="catalogue-groups">
          {!catalog.loaded && <p className="muted">Loading…</p>}
          {catalog.loaded && groups.length === 0 && <p className="muted">No module matches “{query}”.</p>}
          {groups.map(([app, modules]) => {
            const info = catalog.appsById.get(app) ?? null;
            return (
              <section key={app} className="catalogue-group" data-app={app}>
                <h3>
                  <span className="app-dot" style={{ background: appColor(info, app) }}>
                    <AppIcon app={info} appId={app} size={18} />
                  </span>
                  {info?.label ?? modules[0].app_label}
                </h3>
                <ul>
                  {modules.map((m) => (
                    <li key={m.id}>
                      <button
                        className="catalogue-item"
                        data-module={m.id}
                        onClick={() => onPick(m)}
                        title={m.description}
                      >
                        <span className="label">{m.label}</span>
                        <span className="kind">{m.kind.replace("_", " ")}</span>
                      </button>
                    </li>
                  ))}
                </ul>
              </section>
            );
          })}
        </div>
      </div>
    </div>
  );
}

// The mapping panel's function library, in Make's tabs: every function of the engine's
// registry (GET /api/functions) by its category, and the parser's keywords (GET /api/keywords).
// Pointing at an item shows its signature and help below the list.
import { useMemo, useState } from "react";
import type { FunctionInfo, KeywordInfo } from "../types";
import "./mappingTree.css";

const LABELS: Record<string, string> = {
  general: "General",
  math: "Math",
  text: "Text",
  dates: "Date",
  arrays: "Array",
};
const ORDER = ["general", "math", "text", "dates", "arrays"];
const KEYWORDS = "keywords";

interface Help {
  title: string;
  text: string;
}

function label(group: string): string {
  return LABELS[group] ?? group.charAt(0).toUpperCase() + group.slice(1);
}

export function FunctionLibrary({
  functions,
  keywords,
  query,
  disabled,
  onInsert,
}: {
  functions: FunctionInfo[];
  keywords: KeywordInfo[];
  query: string;
  disabled: boolean;
  onInsert: (text: string) => void;
}) {
  const [tab, setTab] = useState("all");
  const [help, setHelp] = useState<Help | null>(null);
  const groups = useMemo(() => {
    const seen = [...new Set(functions.map((f) => f.group))];
    seen.sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99));
    return seen;
  }, [functions]);
  const shownFunctions = functions.filter(
    (f) => (tab === "all" || tab === f.group) && (!query || f.name.toLowerCase().includes(query)),
  );
  const shownKeywords = keywords.filter(
    (k) => (tab === "all" || tab === KEYWORDS) && (!query || k.name.toLowerCase().includes(query)),
  );
  const byGroup = groups
    .map((g) => [g, shownFunctions.filter((f) => f.group === g)] as const)
    .filter(([, fns]) => fns.length > 0);
  const show = (h: Help) => () => setHelp(h);

  return (
    <div className="mapping-functions" data-testid="function-library">
      <div className="function-tabs" role="tablist" aria-label="Function categories">
        {["all", ...groups, KEYWORDS].map((g) => (
          <button
            key={g}
            role="tab"
            aria-selected={tab === g}
            className={tab === g ? "on" : ""}
            data-tab={g}
            onClick={() => setTab(g)}
          >
            {g === "all" ? "All" : g === KEYWORDS ? "Keywords" : label(g)}
          </button>
        ))}
      </div>
      {byGroup.length === 0 && shownKeywords.length === 0 && <p className="muted">Nothing matches.</p>}
      {byGroup.map(([group, fns]) => (
        <section key={group}>
          <h4>{label(group)}</h4>
          <ul>
            {fns.map((f) => {
              const h = { title: f.signature, text: f.description };
              return (
                <li key={f.name}>
                  <button
                    className="pill function"
                    data-function={f.name}
                    disabled={disabled}
                    title={`${f.signature}\n${f.description}`}
                    onMouseEnter={show(h)}
                    onFocus={show(h)}
                    onClick={() => onInsert(`{{${f.name}()}}`)}
                  >
                    {f.name}
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
      ))}
      {shownKeywords.length > 0 && (
        <section>
          <h4>Keywords</h4>
          <ul>
            {shownKeywords.map((k) => {
              const h = { title: k.name, text: k.description };
              return (
                <li key={k.name}>
                  <button
                    className="pill keyword"
                    data-keyword={k.name}
                    disabled={disabled}
                    title={k.description}
                    onMouseEnter={show(h)}
                    onFocus={show(h)}
                    onClick={() => onInsert(`{{${k.name}}}`)}
                  >
                    {k.name}
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
      )}
      <div className="function-help" data-testid="function-help" aria-live="polite">
        {help ? (
          <>
            <code>{help.title}</code>
            {help.text || "No description."}
          </>
        ) : (
          <span className="muted">Point at a function or keyword to see what it does.</span>
        )}
      </div>
    </div>
  );
}

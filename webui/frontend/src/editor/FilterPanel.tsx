// The filter on a link: its label, the fallback flag of a router route (the router's
// parameters.else), and conditions as OR-groups of AND-ed rules.
import { useMemo, useState } from "react";
import type { Condition, Filter, Json } from "../types";
import { MappableInput } from "./MappableInput";
import { useCatalog } from "../catalog";
import type { OperatorGroup } from "../types";

/** "equal to" as the picker shows it: "Equal to". */
const capitalized = (label: string) => label.charAt(0).toUpperCase() + label.slice(1);

/** The operator codes the engine knows, and those that compare nothing (no value B). */
function operatorSets(groups: OperatorGroup[]): { known: Set<string>; unary: Set<string> } {
  const operators = groups.flatMap((g) => g.operators);
  return {
    known: new Set(operators.map((o) => o.code)),
    unary: new Set(operators.filter((o) => o.unary).map((o) => o.code)),
  };
}

function asText(value: Json | undefined): string {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function FilterPanel({
  targetLabel,
  filter,
  route,
  fallback,
  onSave,
  onClose,
}: {
  targetLabel: string;
  filter: Filter | null;
  route: { routerId: number; routeIndex: number } | null;
  fallback: boolean;
  onSave: (filter: Filter | null, fallback: boolean) => void;
  onClose: () => void;
}) {
  const [name, setName] = useState(filter?.name ?? "");
  const [groups, setGroups] = useState<Condition[][]>(() =>
    (filter?.conditions ?? []).map((g) => g.map((c) => ({ ...c }))),
  );
  const [isFallback, setFallback] = useState(fallback);
  const catalog = useCatalog();
  const { known, unary } = useMemo(() => operatorSets(catalog.operators), [catalog.operators]);

  const updateCondition = (gi: number, ci: number, patch: Partial<Condition>) =>
    setGroups(
      groups.map((g, i) => (i !== gi ? g : g.map((c, j) => (j !== ci ? c : ({ ...c, ...patch } as Condition))))),
    );
  const removeCondition = (gi: number, ci: number) =>
    setGroups(groups.map((g, i) => (i !== gi ? g : g.filter((_, j) => j !== ci))).filter((g) => g.length > 0));

  const save = () => {
    const conditions = groups.map((g) =>
      g.map((c) => {
        const out: Condition = { ...c };
        if (!known.has(c.o)) return out; // operators not loaded (or not known): keep it as it is
        if (unary.has(c.o)) delete out.b;
        else if (out.b === undefined) out.b = "";
        return out;
      }),
    );
    const rest = { ...(filter ?? {}) };
    delete rest.name;
    delete rest.conditions;
    const next: Filter = { ...(name ? { name } : {}), conditions, ...rest };
    const empty = !name && conditions.length === 0 && Object.keys(rest).length === 0;
    onSave(empty ? null : next, isFallback);
  };

  return (
    <aside className="side-panel filter-panel" aria-label="Set up a filter">
      <header>
        <h2>Set up a filter</h2>
        <button className="icon" onClick={onClose} aria-label="Close">
          ×
        </button>
      </header>
      <p className="muted small">
        The filter on the link into {targetLabel}. Rules in a group must all pass (AND); any group may pass (OR).
      </p>
      <label className="field">
        <span className="field-label">Label</span>
        <input aria-label="Label" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      {route && (
        <label className="checkbox">
          <input
            type="checkbox"
            aria-label="Fallback route"
            checked={isFallback}
            onChange={(e) => setFallback(e.target.checked)}
          />
          Fallback route (runs only when no other route's filter passed)
        </label>
      )}
      <div className="condition-groups">
        {groups.map((group, gi) => (
          <div className="condition-group" key={gi} data-testid={`group-${gi}`}>
            {gi > 0 && <div className="or-divider">OR</div>}
            {group.map((c, ci) => (
              <div className="condition" key={ci} data-testid={`condition-${gi}-${ci}`}>
                {ci > 0 && <div className="and-divider">AND</div>}
                <MappableInput
                  label={`Condition ${gi + 1}.${ci + 1} value A`}
                  testId={`cond-a-${gi}-${ci}`}
                  value={asText(c.a)}
                  onChange={(v) => updateCondition(gi, ci, { a: v })}
                />
                <select
                  aria-label={`Condition ${gi + 1}.${ci + 1} operator`}
                  data-testid={`cond-o-${gi}-${ci}`}
                  value={c.o}
                  onChange={(e) => updateCondition(gi, ci, { o: e.target.value })}
                >
                  {!known.has(c.o) && <option value={c.o}>{c.o}</option>}
                  {catalog.operators.map((g) => (
                    <optgroup key={g.label} label={g.label}>
                      {g.operators.map((o) => (
                        <option key={o.code} value={o.code}>
                          {g.label.replace(" operators", "")}: {capitalized(o.label)}
                        </option>
                      ))}
                    </optgroup>
                  ))}
                </select>
                {!unary.has(c.o) && (
                  <MappableInput
                    label={`Condition ${gi + 1}.${ci + 1} value B`}
                    testId={`cond-b-${gi}-${ci}`}
                    value={asText(c.b)}
                    onChange={(v) => updateCondition(gi, ci, { b: v })}
                  />
                )}
                <div className="row">
                  <button
                    className="small"
                    data-testid={`add-and-${gi}`}
                    onClick={() =>
                      setGroups(groups.map((g, i) => (i === gi ? [...g, { a: "", o: "text:equal", b: "" }] : g)))
                    }
                    hidden={ci !== group.length - 1}
                  >
                    Add AND rule
                  </button>
                  <button className="small danger" onClick={() => removeCondition(gi, ci)}>
                    Delete rule
                  </button>
                </div>
              </div>
            ))}
          </div>
        ))}
      </div>
      <button
        className="small"
        data-testid="add-or"
        onClick={() => setGroups([...groups, [{ a: "", o: "text:equal", b: "" }]])}
      >
        {groups.length ? "Add OR rule" : "Add a condition"}
      </button>
      <footer>
        <button onClick={onClose}>Cancel</button>
        <button className="primary" onClick={save}>
          OK
        </button>
      </footer>
    </aside>
  );
}

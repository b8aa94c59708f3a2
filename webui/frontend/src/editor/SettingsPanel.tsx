// Scenario settings (metadata.scenario) and scheduling.
import type { Blueprint, Json, JsonObject } from "../types";

const SCHEDULES = [
  ["on-demand", "On demand"],
  ["immediately", "Immediately (as data arrives)"],
  ["indefinitely", "At regular intervals"],
  ["once", "Once"],
  ["daily", "Every day"],
  ["weekly", "Days of the week"],
  ["monthly", "Days of the month"],
  ["cron", "Cron expression"],
] as const;

export function SettingsPanel({
  bp,
  scheduling,
  onSettings,
  onScheduling,
  onClose,
}: {
  bp: Blueprint;
  scheduling: JsonObject;
  onSettings: (patch: Record<string, Json | undefined>) => void;
  onScheduling: (s: JsonObject) => void;
  onClose: () => void;
}) {
  const s = (bp.metadata?.scenario ?? {}) as JsonObject;
  const bool = (key: string, fallback: boolean) => (typeof s[key] === "boolean" ? (s[key] as boolean) : fallback);
  const num = (key: string, fallback: number) => (typeof s[key] === "number" ? (s[key] as number) : fallback);
  const check = (key: string, label: string, fallback: boolean) => (
    <label className="checkbox">
      <input
        type="checkbox"
        aria-label={label}
        checked={bool(key, fallback)}
        onChange={(e) => onSettings({ [key]: e.target.checked })}
      />
      {label}
    </label>
  );
  const type = typeof scheduling.type === "string" ? scheduling.type : "on-demand";
  const set = (patch: JsonObject) => onScheduling({ ...scheduling, ...patch });
  const csv = (v: Json | undefined) => (Array.isArray(v) ? v.join(", ") : "");
  const parseList = (text: string) =>
    text
      .split(/[,\s]+/)
      .filter(Boolean)
      .map(Number)
      .filter((n) => !Number.isNaN(n));
  return (
    <aside className="side-panel settings-panel" aria-label="Scenario settings">
      <header>
        <h2>Scenario settings</h2>
        <button className="icon" onClick={onClose} aria-label="Close">
          ×
        </button>
      </header>
      <section>
        <h3>Scheduling</h3>
        <label className="field">
          <span className="field-label">Run scenario</span>
          <select
            aria-label="Run scenario"
            value={type}
            onChange={(e) =>
              onScheduling(
                e.target.value === "indefinitely" ? { type: e.target.value, interval: 900 } : { type: e.target.value },
              )
            }
          >
            {SCHEDULES.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </select>
        </label>
        {type === "indefinitely" && (
          <label className="field">
            <span className="field-label">Minutes between runs</span>
            <input
              type="number"
              min={1}
              aria-label="Minutes between runs"
              value={Math.round(Number(scheduling.interval ?? 900) / 60)}
              onChange={(e) => set({ interval: Math.max(1, Number(e.target.value)) * 60 })}
            />
          </label>
        )}
        {type === "once" && (
          <label className="field">
            <span className="field-label">Date (UTC)</span>
            <input
              type="datetime-local"
              aria-label="Date"
              value={String(scheduling.date ?? "").slice(0, 16)}
              onChange={(e) => set({ date: `${e.target.value}:00Z` })}
            />
          </label>
        )}
        {["daily", "weekly", "monthly"].includes(type) && (
          <label className="field">
            <span className="field-label">Time</span>
            <input
              type="time"
              aria-label="Time"
              value={String(scheduling.time ?? "08:00")}
              onChange={(e) => set({ time: e.target.value })}
            />
          </label>
        )}
        {type === "weekly" && (
          <label className="field">
            <span className="field-label">Days (1 = Monday … 7 = Sunday)</span>
            <input
              aria-label="Days"
              value={csv(scheduling.days)}
              onChange={(e) => set({ days: parseList(e.target.value) })}
            />
          </label>
        )}
        {type === "monthly" && (
          <label className="field">
            <span className="field-label">Days of the month</span>
            <input
              aria-label="Days of the month"
              value={csv(scheduling.dates)}
              onChange={(e) => set({ dates: parseList(e.target.value) })}
            />
          </label>
        )}
        {type === "cron" && (
          <label className="field">
            <span className="field-label">Cron (minute hour day month weekday)</span>
            <input
              aria-label="Cron"
              value={String(scheduling.cron ?? "")}
              onChange={(e) => set({ cron: e.target.value })}
            />
          </label>
        )}
      </section>
      <section>
        <h3>Settings</h3>
        {check("sequential", "Sequential processing", false)}
        {check("confidential", "Data is confidential", false)}
        {check("dlq", "Allow storing of incomplete executions", false)}
        {check("autoCommit", "Auto commit", true)}
        {check("dataloss", "Enable data loss", false)}
        <label className="field">
          <span className="field-label">Max number of cycles</span>
          <input
            type="number"
            min={1}
            aria-label="Max number of cycles"
            value={num("roundtrips", 1)}
            onChange={(e) => onSettings({ roundtrips: Number(e.target.value) })}
          />
        </label>
        <label className="field">
          <span className="field-label">Number of consecutive errors</span>
          <input
            type="number"
            min={1}
            aria-label="Number of consecutive errors"
            value={num("maxErrors", 3)}
            onChange={(e) => onSettings({ maxErrors: Number(e.target.value) })}
          />
        </label>
        <label className="field">
          <span className="field-label">Time zone (IANA, e.g. Europe/Prague)</span>
          <input
            aria-label="Time zone"
            value={typeof s.timezone === "string" ? s.timezone : ""}
            placeholder="UTC"
            onChange={(e) => onSettings({ timezone: e.target.value || undefined })}
          />
        </label>
      </section>
      <footer>
        <button className="primary" onClick={onClose}>
          OK
        </button>
      </footer>
    </aside>
  );
}

import { useState } from "react";
import type { Json } from "../types";

/** A JSON text area that reports parse errors inline and only commits valid JSON. */
export function JsonEditor({ label, value, onChange }: { label: string; value: Json; onChange: (v: Json) => void }) {
  const [text, setText] = useState(() => JSON.stringify(value, null, 2));
  const [error, setError] = useState("");
  return (
    <div className="json-editor">
      <textarea
        aria-label={label}
        rows={6}
        spellCheck={false}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          try {
            onChange(JSON.parse(e.target.value || "null") as Json);
            setError("");
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      />
      {error && <span className="inline-error">{error}</span>}
    </div>
  );
}

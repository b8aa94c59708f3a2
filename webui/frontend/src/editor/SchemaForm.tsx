// A form generated from a module's JSON Schema (pydantic's): required fields, selects for enums,
// nested collections, arrays with "Add item", and a "Map" toggle to type an expression instead.
import { useState } from "react";
import type { Json, JsonObject, JsonSchema } from "../types";
import { MappableInput } from "./MappableInput";
import { RpcSelect, type RpcSource } from "./RpcSelect";

type Root = JsonSchema;

export function resolve(schema: JsonSchema | undefined, root: Root): JsonSchema {
  let s: JsonSchema = schema ?? {};
  for (let depth = 0; depth < 10; depth++) {
    if (s.$ref) {
      const name = s.$ref.split("/").pop() ?? "";
      const target = root.$defs?.[name] ?? root.definitions?.[name] ?? {};
      s = { ...target, ...s, $ref: undefined, title: s.title ?? target.title };
      continue;
    }
    const variants = s.anyOf ?? s.oneOf;
    if (variants) {
      const real = variants.filter((v) => v.type !== "null");
      if (real.length === 1) {
        s = {
          ...s, // keeps what sits beside anyOf (a select's enum and labels)
          ...real[0],
          title: s.title ?? real[0].title,
          default: s.default,
          description: s.description ?? real[0].description,
          anyOf: undefined,
          oneOf: undefined,
        };
        continue;
      }
    }
    if (s.allOf?.length === 1) {
      s = { ...s.allOf[0], ...s, allOf: undefined };
      continue;
    }
    break;
  }
  return s;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return "enum";
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== "null") : s.type;
  if (t) return t;
  if (s.properties) return "object";
  if (s.items) return "array";
  return "any";
}

/** Words a label writes in capitals, as Make does ("URL", "JSON string"). */
const ACRONYMS = new Set([
  "api",
  "csv",
  "gfm",
  "html",
  "http",
  "https",
  "id",
  "imap",
  "ip",
  "json",
  "smtp",
  "ssl",
  "tls",
  "uri",
  "url",
  "utc",
  "uuid",
  "xml",
]);
const SPELLED: Record<string, string> = { oauth: "OAuth", ids: "IDs", urls: "URLs", regexp: "regular expression" };

/**
 * A field's label: its schema's title when it has one of its own (pydantic's default title is
 * the name again), else its name in sentence case as Make writes labels: words split at case
 * changes, digits and underscores, only the first capitalised, acronyms in capitals
 * (``jsonStringBodyContent`` → "JSON string body content", ``oAuthKeychain`` → "OAuth keychain").
 */
export function humanize(name: string, s: JsonSchema): string {
  const title = s.title && s.title.replace(/\s/g, "").toLowerCase() !== name.toLowerCase() ? s.title : null;
  if (title) return title;
  const words = name
    .replace(/^__|__$/g, "")
    .replace(/\b[oO]Auth/g, "Oauth ")
    .replace(/RegExp/g, "Regexp")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  return words
    .map((w, i) => {
      const spelled = ACRONYMS.has(w) ? w.toUpperCase() : (SPELLED[w] ?? w);
      return i === 0 ? spelled.charAt(0).toUpperCase() + spelled.slice(1) : spelled;
    })
    .join(" ");
}

/** The label of one of a select's values (``x-enum-labels``), else the value itself. */
function optionLabel(s: JsonSchema, option: Json): string {
  const index = (s.enum ?? []).findIndex((o) => JSON.stringify(o) === JSON.stringify(option));
  return s["x-enum-labels"]?.[index] ?? String(option);
}

function emptyFor(s: JsonSchema, root: Root): Json {
  const r = resolve(s, root);
  if (r.default !== undefined && r.default !== null) return r.default;
  switch (typeOf(r)) {
    case "object":
      return {};
    case "array":
      return [];
    default:
      return "";
  }
}

interface FieldProps {
  name: string;
  schema: JsonSchema;
  root: Root;
  value: Json | undefined;
  onChange: (value: Json | undefined) => void;
  required: boolean;
  mappable: boolean;
  path: string;
  hint?: string;
  rpc?: RpcSource;
}

function Field({ name, schema, root, value, onChange, required, mappable, path, hint, rpc }: FieldProps) {
  const s = resolve(schema, root);
  const rpcName = rpc ? s["x-make-rpc"] : undefined;
  const type = rpcName ? "rpc" : typeOf(s);
  const label = humanize(name, s);
  const isExpression = typeof value === "string" && value.includes("{{");
  const [mapOn, setMapOn] = useState(isExpression);
  const canMap = (mappable || type === "rpc") && ["enum", "boolean", "integer", "number", "rpc"].includes(type);
  const mapped = canMap && (mapOn || isExpression);
  const missing = required && (value === undefined || value === "" || value === null);

  let control: React.ReactNode;
  if (type === "rpc" && !mapped && rpc && rpcName) {
    control = (
      <RpcSelect label={label} testId={`field-${path}`} rpc={rpcName} source={rpc} value={value} onChange={onChange} />
    );
  } else if (
    mapped ||
    (mappable && type === "string") ||
    (mappable && type === "any" && (value === undefined || typeof value === "string")) ||
    // An array mapped whole (an aggregator's `{{4.array}}`) is an expression, not items.
    (mappable && type === "array" && (typeof value === "string" || (hint !== undefined && value === undefined)))
  ) {
    control = (
      <MappableInput
        label={label}
        testId={`field-${path}`}
        value={value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value)}
        onChange={(v) => onChange(v === "" ? undefined : v)}
        multiline={/^(value|text|json|body)$|content$/i.test(name)}
        placeholder={typeof s.default === "string" || typeof s.default === "number" ? String(s.default) : undefined}
      />
    );
  } else if (type === "string") {
    control = (
      <input
        type="text"
        aria-label={label}
        data-testid={`field-${path}`}
        value={typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value)}
        placeholder={typeof s.default === "string" ? s.default : ""}
        onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value)}
      />
    );
  } else if (type === "enum") {
    control = (
      <select
        aria-label={label}
        data-testid={`field-${path}`}
        value={value === undefined ? "" : JSON.stringify(value)}
        onChange={(e) => onChange(e.target.value === "" ? undefined : (JSON.parse(e.target.value) as Json))}
      >
        {/* Unset, the module uses its default: say which (Set variable's scope was blank). */}
        <option value="">
          {s.default !== undefined && s.default !== null ? `${optionLabel(s, s.default)} (default)` : "—"}
        </option>
        {(s.enum ?? []).map((option) => (
          <option key={JSON.stringify(option)} value={JSON.stringify(option)}>
            {optionLabel(s, option)}
          </option>
        ))}
        {/* A value the list lacks (an older export's "GET") stays shown and kept. */}
        {value !== undefined && !(s.enum ?? []).some((o) => JSON.stringify(o) === JSON.stringify(value)) && (
          <option value={JSON.stringify(value)}>{String(value)}</option>
        )}
      </select>
    );
  } else if (type === "boolean") {
    control = (
      <select
        aria-label={label}
        data-testid={`field-${path}`}
        value={value === undefined ? "" : String(value)}
        onChange={(e) => onChange(e.target.value === "" ? undefined : e.target.value === "true")}
      >
        <option value="">{s.default === undefined ? "—" : `default (${s.default ? "Yes" : "No"})`}</option>
        <option value="true">Yes</option>
        <option value="false">No</option>
      </select>
    );
  } else if (type === "integer" || type === "number") {
    control = (
      <input
        type="number"
        aria-label={label}
        data-testid={`field-${path}`}
        value={value === undefined || value === null ? "" : String(value)}
        placeholder={s.default !== undefined && s.default !== null ? String(s.default) : ""}
        onChange={(e) => onChange(e.target.value === "" ? undefined : Number(e.target.value))}
      />
    );
  } else if (type === "object" && s.properties) {
    const obj = value && typeof value === "object" && !Array.isArray(value) ? (value as JsonObject) : {};
    return (
      <fieldset className="collection" data-field={path}>
        <legend>
          {label}
          {required && <span className="required">*</span>}
        </legend>
        <Fields
          schema={s}
          root={root}
          value={obj}
          onChange={(v) => onChange(v)}
          mappable={mappable}
          path={path}
          rpc={rpc}
        />
      </fieldset>
    );
  } else if (type === "array") {
    const list = Array.isArray(value) ? value : [];
    const itemSchema = s.items ?? {};
    return (
      <fieldset className="array" data-field={path}>
        <legend>
          {label}
          {required && <span className="required">*</span>}
        </legend>
        {list.map((item, i) => (
          <div className="array-item" key={i}>
            <Field
              name={`Item ${i + 1}`}
              schema={{ ...resolve(itemSchema, root), title: undefined }}
              root={root}
              value={item}
              required={false}
              mappable={mappable}
              path={`${path}.${i}`}
              rpc={rpc}
              onChange={(v) => onChange(list.map((old, j) => (j === i ? (v ?? "") : old)))}
            />
            <button
              className="icon remove"
              aria-label={`Remove item ${i + 1}`}
              onClick={() => onChange(list.filter((_, j) => j !== i))}
            >
              ×
            </button>
          </div>
        ))}
        <button
          className="small"
          data-testid={`add-item-${path}`}
          onClick={() => onChange([...list, emptyFor(itemSchema, root)])}
        >
          + Add item
        </button>
      </fieldset>
    );
  } else {
    // Free-form values (objects without a schema): edited as JSON.
    control = <JsonInput label={label} value={value} onChange={onChange} />;
  }

  return (
    <label className={`field${missing ? " missing" : ""}`} data-field={path}>
      <span className="field-label">
        {label}
        {required && <span className="required">*</span>}
        {canMap && (
          <button
            type="button"
            className={`map-toggle${mapped ? " on" : ""}`}
            aria-label={`Map ${label}`}
            onClick={(e) => {
              e.preventDefault();
              setMapOn(!mapped);
              if (mapped && isExpression) onChange(undefined);
            }}
          >
            Map
          </button>
        )}
      </span>
      {control}
      {s.description && <span className="help">{s.description}</span>}
      {hint && (
        <span className="help hint" data-testid={`hint-${path}`}>
          {hint}
        </span>
      )}
    </label>
  );
}

function JsonInput({
  label,
  value,
  onChange,
}: {
  label: string;
  value: Json | undefined;
  onChange: (v: Json | undefined) => void;
}) {
  const [text, setText] = useState(value === undefined ? "" : JSON.stringify(value, null, 1));
  const [error, setError] = useState("");
  return (
    <>
      <textarea
        aria-label={label}
        rows={3}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (!e.target.value.trim()) {
            setError("");
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(e.target.value) as Json);
            setError("");
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      />
      {error && <span className="inline-error">{error}</span>}
    </>
  );
}

export function Fields({
  schema,
  root,
  value,
  onChange,
  mappable,
  path,
  skip = [],
  hints = {},
  rpc,
}: {
  schema: JsonSchema;
  root: Root;
  value: JsonObject;
  onChange: (value: JsonObject) => void;
  mappable: boolean;
  path: string;
  skip?: string[];
  /** A line under a field, by its name (e.g. the aggregator that fills it). */
  hints?: Record<string, string>;
  /** Where fields filled by an app's RPC load their choices from (apps defined as data). */
  rpc?: RpcSource;
}) {
  const s = resolve(schema, root);
  const required = new Set(s.required ?? []);
  const entries = Object.entries(s.properties ?? {}).filter(([name]) => !skip.includes(name));
  if (entries.length === 0) return <p className="muted">No settings.</p>;
  return (
    <div className="fields">
      {entries.map(([name, prop]) => (
        <Field
          key={name}
          name={name}
          schema={prop}
          root={root}
          value={value[name]}
          required={required.has(name)}
          mappable={mappable}
          path={path ? `${path}.${name}` : name}
          hint={hints[name]}
          rpc={rpc}
          onChange={(v) => {
            const next = { ...value };
            if (v === undefined) delete next[name];
            else next[name] = v;
            onChange(next);
          }}
        />
      ))}
    </div>
  );
}

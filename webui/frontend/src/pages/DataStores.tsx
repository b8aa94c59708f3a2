// Data stores (Make's "Data stores"): every store with its record count and size limit; create,
// rename, edit the data structure of, and delete stores. A store's records are on their own page (DataStoreRecords.tsx).
import { Fragment, useEffect, useState } from "react";
import { api, items } from "../api";
import type { DataStore, JsonObject } from "../types";
import { formatBytes, formatTime } from "./common";

export interface StoreInfo extends DataStore {
  structure: JsonObject | null;
  max_size_bytes: number;
  records: number;
  size_bytes: number;
  created_at: string;
  updated_at: string;
}

export const MEGABYTE = 1024 * 1024;

/** A JSON object from text, or why the text is not one (shown next to the text area). */
export function parseObject(text: string): { value: JsonObject | null; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { value: null, error: `Not valid JSON: ${(e as Error).message}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { value: null, error: "This must be a JSON object: { … }" };
  }
  return { value: value as JsonObject, error: "" };
}

export function DataStoresPage({ canEdit }: { canEdit: boolean }) {
  const [stores, setStores] = useState<StoreInfo[] | null>(null);
  const [creating, setCreating] = useState(false);
  const [error, setError] = useState("");
  const reload = () =>
    api.get<StoreInfo[]>("/api/datastores").then(
      (s) => setStores(items(s)),
      (e: Error) => setError(e.message),
    );
  useEffect(() => {
    void reload();
  }, []);
  const remove = (s: StoreInfo) =>
    confirm(`Delete the data store “${s.name}” and its ${s.records} record(s)? Scenarios using it will fail.`) &&
    api.del(`/api/datastores/${s.id}`).then(reload, (e: Error) => setError(e.message));
  return (
    <div className="page">
      <div className="list-header">
        <h1>Data stores</h1>
        {canEdit && !creating && (
          <button className="primary" onClick={() => setCreating(true)}>
            New data store
          </button>
        )}
      </div>
      {creating && (
        <NewStoreForm
          onCancel={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            void reload();
          }}
        />
      )}
      {error && <p className="inline-error">{error}</p>}
      {stores && stores.length === 0 && (
        <p className="muted empty">No data store yet. Create one here or from a data store module's panel.</p>
      )}
      {stores && stores.length > 0 && (
        <table className="scenarios data-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Records</th>
              <th>Size limit</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {stores.map((s) => (
              <StoreRow key={s.id} store={s} canEdit={canEdit} onChanged={reload} onDelete={() => void remove(s)} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function StoreRow({
  store,
  canEdit,
  onChanged,
  onDelete,
}: {
  store: StoreInfo;
  canEdit: boolean;
  onChanged: () => Promise<unknown>;
  onDelete: () => void;
}) {
  const [name, setName] = useState<string | null>(null);
  const [structure, setStructure] = useState<string | null>(null);
  const [error, setError] = useState("");
  const rename = async () => {
    try {
      await api.patch(`/api/datastores/${store.id}`, { name });
      setName(null);
      setError("");
      await onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const editStructure = () => setStructure(store.structure ? JSON.stringify(store.structure, null, 2) : "");
  return (
    <Fragment>
      <tr data-testid={`datastore-${store.id}`}>
        <td>
          {name === null ? (
            <a className="scenario-name-link" href={`#/datastores/${store.id}`}>
              {store.name}
            </a>
          ) : (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void rename();
              }}
            >
              <input aria-label="New name" autoFocus value={name} onChange={(e) => setName(e.target.value)} />
              <button className="small primary" type="submit" disabled={!name.trim()}>
                Save
              </button>
              <button className="small" type="button" onClick={() => setName(null)}>
                Cancel
              </button>
            </form>
          )}
          {error && <p className="inline-error">{error}</p>}
        </td>
        <td>{store.records}</td>
        <td>
          {formatBytes(store.max_size_bytes)}{" "}
          <span className="muted small">({formatBytes(store.size_bytes)} used)</span>
        </td>
        <td>{formatTime(store.created_at)}</td>
        <td className="actions">
          <a className="button small" href={`#/datastores/${store.id}`}>
            Records
          </a>
          {canEdit && (
            <button className="small" onClick={() => setName(store.name)}>
              Rename
            </button>
          )}
          {canEdit && (
            <button className="small" onClick={editStructure}>
              Structure
            </button>
          )}
          {canEdit && (
            <button className="small danger" onClick={onDelete}>
              Delete
            </button>
          )}
        </td>
      </tr>
      {structure !== null && (
        <tr>
          <td colSpan={5}>
            <StructureForm
              store={store}
              text={structure}
              onText={setStructure}
              onDone={() => {
                setStructure(null);
                void onChanged();
              }}
            />
          </td>
        </tr>
      )}
    </Fragment>
  );
}

/** Edit a store's data structure (the fields modules offer for its records); empty removes it. */
function StructureForm({
  store,
  text,
  onText,
  onDone,
}: {
  store: StoreInfo;
  text: string;
  onText: (text: string) => void;
  onDone: () => void;
}) {
  const [error, setError] = useState("");
  const parsed = text.trim() ? parseObject(text) : { value: null, error: "" };
  const save = async () => {
    try {
      await api.patch(`/api/datastores/${store.id}`, { structure: parsed.value });
      onDone();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section className="panel-card wide" data-testid={`structure-${store.id}`}>
      <h2>Data structure of {store.name}</h2>
      <label className="field json-editor">
        <span className="field-label">Data structure (JSON; empty: none)</span>
        <textarea aria-label="Data structure" rows={8} value={text} onChange={(e) => onText(e.target.value)} />
        {parsed.error && <span className="inline-error">{parsed.error}</span>}
      </label>
      {error && <p className="inline-error">{error}</p>}
      <div className="row">
        <button className="primary small" disabled={!!parsed.error} onClick={() => void save()}>
          Save structure
        </button>
        <button className="small" onClick={onDone}>
          Cancel
        </button>
      </div>
    </section>
  );
}

function NewStoreForm({ onCreated, onCancel }: { onCreated: () => void; onCancel: () => void }) {
  const [name, setName] = useState("");
  const [structure, setStructure] = useState("");
  const [megabytes, setMegabytes] = useState("1");
  const [error, setError] = useState("");
  const parsed = structure.trim() ? parseObject(structure) : { value: null, error: "" };
  const size = Math.round(Number(megabytes) * MEGABYTE);
  const sizeOk = Number.isFinite(size) && size > 0;
  const create = async () => {
    try {
      await api.post("/api/datastores", { name: name.trim(), structure: parsed.value, max_size_bytes: size });
      onCreated();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section className="panel-card" data-testid="new-datastore">
      <h2>New data store</h2>
      <label className="field">
        <span className="field-label">
          Name<span className="required">*</span>
        </span>
        <input aria-label="Data store name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label className="field json-editor">
        <span className="field-label">Data structure (JSON, optional)</span>
        <textarea
          aria-label="Data structure"
          rows={4}
          placeholder='{"spec": [{"name": "email", "type": "text"}]}'
          value={structure}
          onChange={(e) => setStructure(e.target.value)}
        />
        {parsed.error && <span className="inline-error">{parsed.error}</span>}
      </label>
      <label className="field">
        <span className="field-label">Size limit (MB)</span>
        <input
          aria-label="Size limit (MB)"
          type="number"
          min="0.01"
          step="any"
          value={megabytes}
          onChange={(e) => setMegabytes(e.target.value)}
        />
      </label>
      {error && <p className="inline-error">{error}</p>}
      <div className="row">
        <button
          className="primary small"
          disabled={!name.trim() || !!parsed.error || !sizeOk}
          onClick={() => void create()}
        >
          Create data store
        </button>
        <button className="small" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </section>
  );
}

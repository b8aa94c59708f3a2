// One data store's records: fifty to a page, a record's data as a tree in the side panel; add,
// edit (as JSON) and delete records, or empty the store. Viewers only read.
import { useEffect, useState } from "react";
import { api, ApiError } from "../api";
import { BundleTree } from "../inspect/BundleTree";
import type { Json, JsonObject } from "../types";
import { formatBytes, formatTime } from "./common";
import { MEGABYTE, parseObject, type StoreInfo } from "./DataStores";

interface StoredRecord {
  key: string;
  data: JsonObject;
  size_bytes: number;
  created_at: string;
  updated_at: string;
}

interface RecordPage {
  items: StoredRecord[];
  total: number;
  next_offset: number | null;
}

const PAGE_SIZE = 50;

/** A starting record for a store with a data structure (Make's `spec`): each field empty. */
function template(structure: JsonObject | null): string {
  const spec = structure?.spec;
  if (!Array.isArray(spec)) return "{\n  \n}";
  const empty: Record<string, Json> = { number: 0, boolean: false, array: [], collection: {} };
  const fields = spec.filter((f): f is JsonObject => !!f && typeof f === "object" && !Array.isArray(f));
  const record = Object.fromEntries(
    fields.filter((f) => typeof f.name === "string").map((f) => [f.name as string, empty[String(f.type)] ?? ""]),
  );
  return JSON.stringify(record, null, 2);
}

/** One line of a record's data for the table; the side panel shows all of it. */
function preview(data: JsonObject): string {
  const text = JSON.stringify(data);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

function recordUrl(storeId: number, key: string): string {
  return `/api/datastores/${storeId}/records/${encodeURIComponent(key)}`;
}

type Panel = { mode: "view" | "edit"; record: StoredRecord } | { mode: "add" } | null;

export function DataStoreRecords({ storeId, canEdit }: { storeId: number; canEdit: boolean }) {
  const [store, setStore] = useState<StoreInfo | null>(null);
  const [page, setPage] = useState<RecordPage | null>(null);
  const [offset, setOffset] = useState(0);
  const [panel, setPanel] = useState<Panel>(null);
  const [message, setMessage] = useState("");
  const [error, setError] = useState("");

  const reload = async (at = offset) => {
    try {
      setStore(await api.get<StoreInfo>(`/api/datastores/${storeId}`));
      const got = await api.get<RecordPage>(`/api/datastores/${storeId}/records?limit=${PAGE_SIZE}&offset=${at}`);
      // Deleting the last records of the last page leaves it empty: step back a page.
      if (got.items.length === 0 && at > 0) setOffset(Math.max(0, at - PAGE_SIZE));
      else setPage(got);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    void reload(offset);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [storeId, offset]);

  const act = async (done: string, fn: () => Promise<unknown>) => {
    setError("");
    setMessage("");
    try {
      await fn();
      setMessage(done);
      setPanel(null);
    } catch (e) {
      setError((e as Error).message);
    }
    await reload();
  };
  const deleteRecord = (r: StoredRecord) =>
    confirm(`Delete the record “${r.key}”?`) &&
    void act(`Deleted record ${r.key}`, () => api.del(recordUrl(storeId, r.key)));
  const deleteAll = () =>
    confirm(`Delete all ${page?.total ?? 0} record(s) of “${store?.name}”? This cannot be undone.`) &&
    void act("Deleted every record", async () => {
      const answer = await api.del<{ deleted: number }>(`/api/datastores/${storeId}/records`);
      setOffset(0);
      return answer;
    });
  const saved = async (record: StoredRecord, added: boolean) => {
    setMessage(added ? `Added record ${record.key}` : `Saved record ${record.key}`);
    setError("");
    setPanel({ mode: "view", record });
    await reload();
  };

  const last = page ? offset + page.items.length : 0;
  return (
    <div className="page datastore-page">
      <div className="list-header">
        <h1>{store?.name ?? `Data store ${storeId}`}</h1>
        <div className="row">
          <a className="button" href="#/datastores">
            All data stores
          </a>
          {canEdit && (
            <button className="primary" onClick={() => setPanel({ mode: "add" })}>
              Add record
            </button>
          )}
          {canEdit && (
            <button className="danger" disabled={!page?.total} onClick={deleteAll}>
              Delete all records
            </button>
          )}
        </div>
      </div>
      {store && (
        <p className="muted small" data-testid="datastore-summary">
          {store.records} record(s) · <SizeLimit store={store} canEdit={canEdit} onChanged={setStore} /> · created{" "}
          {formatTime(store.created_at)}
        </p>
      )}
      {message && (
        <p className="toast-line" role="status">
          {message}
        </p>
      )}
      {error && <p className="inline-error">{error}</p>}
      {page && page.total === 0 && <p className="muted empty">No record yet. Scenarios add them, or add one here.</p>}
      <div className="page-split">
        {page && page.items.length > 0 && (
          <table className="scenarios data-table" data-testid="records-table">
            <thead>
              <tr>
                <th>Key</th>
                <th>Data</th>
                <th>Size</th>
                <th>Updated</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {page.items.map((r) => (
                <tr
                  key={r.key}
                  data-testid={`record-${r.key}`}
                  className={`clickable${panel && panel.mode !== "add" && panel.record.key === r.key ? " selected" : ""}`}
                  onClick={() => setPanel({ mode: "view", record: r })}
                >
                  <td>
                    <code>{r.key}</code>
                  </td>
                  <td className="record-preview">
                    <code>{preview(r.data)}</code>
                  </td>
                  <td>{formatBytes(r.size_bytes)}</td>
                  <td>{formatTime(r.updated_at)}</td>
                  <td className="actions" onClick={(e) => e.stopPropagation()}>
                    {canEdit && (
                      <button className="small" onClick={() => setPanel({ mode: "edit", record: r })}>
                        Edit
                      </button>
                    )}
                    {canEdit && (
                      <button className="small danger" onClick={() => deleteRecord(r)}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {panel && (
          <RecordPanel
            key={panel.mode === "add" ? "add" : `${panel.mode}-${panel.record.key}`}
            storeId={storeId}
            panel={panel}
            template={template(store?.structure ?? null)}
            canEdit={canEdit}
            onEdit={(record) => setPanel({ mode: "edit", record })}
            onSaved={(record, added) => void saved(record, added)}
            onClose={() => setPanel(null)}
          />
        )}
      </div>
      {page && page.total > PAGE_SIZE && (
        <div className="pager">
          <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
            ← Previous
          </button>
          <span className="muted small">
            {offset + 1}–{last} of {page.total}
          </span>
          <button
            disabled={page.next_offset === null}
            onClick={() => page.next_offset !== null && setOffset(page.next_offset)}
          >
            Next →
          </button>
        </div>
      )}
    </div>
  );
}

function RecordPanel({
  storeId,
  panel,
  template,
  canEdit,
  onEdit,
  onSaved,
  onClose,
}: {
  storeId: number;
  panel: NonNullable<Panel>;
  template: string;
  canEdit: boolean;
  onEdit: (record: StoredRecord) => void;
  onSaved: (record: StoredRecord, added: boolean) => void;
  onClose: () => void;
}) {
  const title = panel.mode === "add" ? "New record" : panel.record.key;
  return (
    <aside className="side-panel" aria-label={panel.mode === "add" ? "New record" : `Record ${title}`}>
      <header>
        <h2>{title}</h2>
        <button className="icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </header>
      {panel.mode === "view" && (
        <>
          <p className="muted small">
            {formatBytes(panel.record.size_bytes)} · created {formatTime(panel.record.created_at)} · updated{" "}
            {formatTime(panel.record.updated_at)}
          </p>
          <BundleTree label="Data" value={panel.record.data} />
          {canEdit && (
            <footer>
              <button className="small" onClick={() => onEdit(panel.record)}>
                Edit JSON
              </button>
            </footer>
          )}
        </>
      )}
      {panel.mode !== "view" && (
        <RecordForm
          storeId={storeId}
          record={panel.mode === "edit" ? panel.record : null}
          template={template}
          onSaved={onSaved}
          onCancel={onClose}
        />
      )}
    </aside>
  );
}

/** Add a record (key + JSON) or replace one's data; the JSON is checked as it is typed. */
function RecordForm({
  storeId,
  record,
  template,
  onSaved,
  onCancel,
}: {
  storeId: number;
  record: StoredRecord | null;
  template: string;
  onSaved: (record: StoredRecord, added: boolean) => void;
  onCancel: () => void;
}) {
  const [key, setKey] = useState(record?.key ?? "");
  const [text, setText] = useState(record ? JSON.stringify(record.data, null, 2) : template);
  const [error, setError] = useState("");
  const parsed = parseObject(text);
  const save = async () => {
    setError("");
    try {
      // PUT replaces: a new record must not silently overwrite one that has its key, so it
      // is sent "only if none" (no lookup first, which answered 404 for every new key).
      const onlyNew = record ? undefined : { "If-None-Match": "*" };
      onSaved(await api.put<StoredRecord>(recordUrl(storeId, key), { data: parsed.value }, onlyNew), !record);
    } catch (e) {
      if (!record && e instanceof ApiError && e.status === 409)
        setError(`A record with the key “${key}” exists already; edit that one instead.`);
      else setError((e as Error).message);
    }
  };
  return (
    <div className="record-form" data-testid="record-form">
      {record ? (
        <p className="muted small">Replaces the record's data.</p>
      ) : (
        <label className="field">
          <span className="field-label">
            Key<span className="required">*</span>
          </span>
          <input aria-label="Key" autoFocus value={key} onChange={(e) => setKey(e.target.value)} />
        </label>
      )}
      <label className="field json-editor">
        <span className="field-label">Data (JSON)</span>
        <textarea
          aria-label="Data (JSON)"
          rows={14}
          spellCheck={false}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        {parsed.error && (
          <span className="inline-error" data-testid="json-error">
            {parsed.error}
          </span>
        )}
      </label>
      {error && <p className="inline-error">{error}</p>}
      <div className="row">
        <button className="primary small" disabled={!key || !parsed.value} onClick={() => void save()}>
          {record ? "Save record" : "Add record"}
        </button>
        <button className="small" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

/** "12 KB of 1 MB used", and for editors a way to change the limit (a record that does not fit
 * says to raise it). */
function SizeLimit({
  store,
  canEdit,
  onChanged,
}: {
  store: StoreInfo;
  canEdit: boolean;
  onChanged: (store: StoreInfo) => void;
}) {
  const [megabytes, setMegabytes] = useState<string | null>(null);
  const [error, setError] = useState("");
  const used = `${formatBytes(store.size_bytes)} of ${formatBytes(store.max_size_bytes)} used`;
  if (megabytes === null)
    return (
      <>
        {used}
        {canEdit && (
          <>
            {" "}
            <button className="link" onClick={() => setMegabytes(String(store.max_size_bytes / MEGABYTE))}>
              change limit
            </button>
          </>
        )}
      </>
    );
  const save = async () => {
    try {
      const size = Math.round(Number(megabytes) * MEGABYTE);
      onChanged(await api.patch<StoreInfo>(`/api/datastores/${store.id}`, { max_size_bytes: size }));
      setMegabytes(null);
      setError("");
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <span className="size-limit-form">
      {formatBytes(store.size_bytes)} used · limit{" "}
      <input
        aria-label="Size limit (MB)"
        type="number"
        min="0.01"
        step="any"
        value={megabytes}
        onChange={(e) => setMegabytes(e.target.value)}
      />{" "}
      MB{" "}
      <button className="small primary" disabled={!(Number(megabytes) > 0)} onClick={() => void save()}>
        Save
      </button>{" "}
      <button className="small" onClick={() => setMegabytes(null)}>
        Cancel
      </button>
      {error && <span className="inline-error"> {error}</span>}
    </span>
  );
}

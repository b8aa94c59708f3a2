// Webhooks and their queues: each webhook with its address and queued requests; a queue lists
// what waits (size, received at); inspect the stored request, delete it, process the queue now.
import { useEffect, useState } from "react";
import { api } from "../api";
import { BundleTree, copyText } from "../inspect/BundleTree";
import type { Json, Webhook } from "../types";
import { formatBytes, formatTime, missingEndpoint, useScenarios } from "./common";

interface QueueItem {
  id: number;
  received_at: string;
  size?: number;
  size_bytes?: number;
  status?: string;
  attempts?: number;
  request?: Json;
}

export function WebhookList() {
  const scenarios = useScenarios();
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api
      .get<Webhook[] | { items: Webhook[] }>("/api/webhooks")
      .then((w) => setHooks(Array.isArray(w) ? w : w.items))
      .catch((e: Error) => setError(e.message));
  }, []);
  return (
    <div className="page">
      <div className="list-header">
        <h1>Webhooks</h1>
      </div>
      {error && <p className="inline-error">{error}</p>}
      {hooks && hooks.length === 0 && <p className="muted empty">No webhook yet. Add one from a trigger's panel.</p>}
      {hooks && hooks.length > 0 && (
        <table className="scenarios data-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Scenario</th>
              <th>Address</th>
              <th>Queued</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {hooks.map((h) => (
              <tr key={h.id} data-testid={`webhook-${h.id}`}>
                <td>{h.name}</td>
                <td>
                  {h.scenario_id !== null ? (
                    <a href={`#/scenarios/${h.scenario_id}`}>
                      {scenarios.get(h.scenario_id)?.name ?? `#${h.scenario_id}`}
                    </a>
                  ) : (
                    <span className="muted">none</span>
                  )}
                </td>
                <td>
                  <code>{h.url}</code>
                </td>
                <td>{h.queued ?? 0}</td>
                <td className="actions">
                  <a className="button small" href={`#/webhooks/${h.id}`}>
                    Queue
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function WebhookQueue({ webhookId, canEdit }: { webhookId: number; canEdit: boolean }) {
  const [hook, setHook] = useState<Webhook | null>(null);
  const [queue, setQueue] = useState<QueueItem[] | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState("");
  const [message, setMessage] = useState("");
  const [open, setOpen] = useState<QueueItem | null>(null);

  const reload = async () => {
    try {
      setHook(await api.get<Webhook>(`/api/webhooks/${webhookId}`));
      const answer = await api.get<QueueItem[] | { items: QueueItem[] }>(`/api/webhooks/${webhookId}/queue`);
      setQueue(Array.isArray(answer) ? answer : answer.items);
    } catch (e) {
      if (missingEndpoint(e)) setMissing(true);
      else setError((e as Error).message);
    }
  };
  useEffect(() => {
    void reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [webhookId]);

  const inspect = async (item: QueueItem) => {
    try {
      setOpen(await api.get<QueueItem>(`/api/webhooks/${webhookId}/queue/${item.id}`));
    } catch {
      setOpen(item);
    }
  };

  const act = async (label: string, fn: () => Promise<unknown>) => {
    setError("");
    setMessage("");
    try {
      const answer = await fn();
      const count = (answer as { dispatched?: number; count?: number } | undefined)?.dispatched;
      setMessage(count !== undefined ? `${label}: ${count}` : label);
    } catch (e) {
      setError((e as Error).message);
    }
    await reload();
  };

  return (
    <div className="page webhook-queue-page">
      <div className="list-header">
        <h1>Queue of {hook?.name ?? `webhook ${webhookId}`}</h1>
        <div className="row">
          <a className="button" href="#/webhooks">
            All webhooks
          </a>
          <button
            className="primary"
            disabled={!canEdit || missing || !queue?.length}
            onClick={() => void act("Processing now", () => api.post(`/api/webhooks/${webhookId}/queue/process`))}
          >
            Process now
          </button>
        </div>
      </div>
      {hook && (
        <p className="webhook-url">
          <code>{hook.url}</code>
          <button className="small" onClick={() => void copyText(hook.url)}>
            Copy address
          </button>
          <span className="muted small">{hook.queued ?? 0} queued</span>
        </p>
      )}
      {message && (
        <p className="toast-line" role="status">
          {message}
        </p>
      )}
      {error && <p className="inline-error">{error}</p>}
      {missing && (
        <p className="muted">
          This server does not list queued requests yet (GET /api/webhooks/{webhookId}/queue); {hook?.queued ?? 0}{" "}
          request(s) wait.
        </p>
      )}
      {queue && queue.length === 0 && <p className="muted empty">Nothing waits in this queue.</p>}
      <div className="page-split">
        {queue && queue.length > 0 && (
          <table className="scenarios data-table" data-testid="queue-table">
            <thead>
              <tr>
                <th>#</th>
                <th>Received</th>
                <th>Size</th>
                <th>Status</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {queue.map((item) => (
                <tr key={item.id} data-testid={`queue-item-${item.id}`}>
                  <td>{item.id}</td>
                  <td>{formatTime(item.received_at)}</td>
                  <td>{formatBytes(item.size ?? item.size_bytes)}</td>
                  <td>{item.status ?? "queued"}</td>
                  <td className="actions">
                    <button className="small" onClick={() => void inspect(item)}>
                      Inspect
                    </button>
                    <button
                      className="small danger"
                      disabled={!canEdit}
                      onClick={() =>
                        void act(`Deleted request ${item.id}`, () =>
                          api.del(`/api/webhooks/${webhookId}/queue/${item.id}`),
                        )
                      }
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {open && (
          <aside className="side-panel" aria-label={`Request ${open.id}`}>
            <header>
              <h2>Request {open.id}</h2>
              <button className="icon" aria-label="Close" onClick={() => setOpen(null)}>
                ×
              </button>
            </header>
            <p className="muted small">
              {formatTime(open.received_at)} · {formatBytes(open.size ?? open.size_bytes)}
            </p>
            <BundleTree label="Request" value={open.request ?? null} />
          </aside>
        )}
      </div>
    </div>
  );
}

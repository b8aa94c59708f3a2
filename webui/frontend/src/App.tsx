import { useEffect, useRef, useState } from "react";
import { api, setCsrfToken } from "./api";
import { AuthPage } from "./components/AuthPage";
import { ScenarioList } from "./components/ScenarioList";
import { Editor } from "./editor/Editor";
import { mayLeave } from "./leaveGuard";
import { hashQuery } from "./pages/common";
import { Dashboard } from "./pages/Dashboard";
import { History } from "./pages/History";
import { IncompletePage } from "./pages/Incomplete";
import { SyncLog } from "./pages/SyncLog";
import { ReconcilePage } from "./pages/Reconcile";
import { PacksPage } from "./pages/Packs";
import { WebhookList, WebhookQueue } from "./pages/Webhooks";
import { ConnectionsPage } from "./pages/Connections";
import { DataStoresPage } from "./pages/DataStores";
import { DataStoreRecords } from "./pages/DataStoreRecords";
import { AccountPage } from "./pages/Account";
import type { AuthState, User } from "./types";

function useHashRoute(): string {
  const [hash, setHash] = useState(window.location.hash);
  const current = useRef(hash);
  const allowed = useRef<string | null>(null);
  useEffect(() => {
    // A link is asked about before it is followed, so refusing leaves history as it was.
    const onClick = (e: MouseEvent) => {
      const link = (e.target as Element | null)?.closest?.("a[href^='#']");
      if (!link || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
      const href = link.getAttribute("href") ?? "";
      if (href === window.location.hash) return;
      if (mayLeave()) allowed.current = href;
      else e.preventDefault();
    };
    // Back, Forward and code that sets the hash are asked about once the address changed.
    const onChange = (e: HashChangeEvent) => {
      const next = window.location.hash;
      if (next === current.current) return;
      const asked = allowed.current === next;
      allowed.current = null;
      if (!asked && !mayLeave()) {
        // Stay: put the page's address back (a new entry, so Back asks again).
        window.history.pushState(null, "", e.oldURL);
        return;
      }
      current.current = next;
      setHash(next);
    };
    document.addEventListener("click", onClick, true);
    window.addEventListener("hashchange", onChange);
    return () => {
      document.removeEventListener("click", onClick, true);
      window.removeEventListener("hashchange", onChange);
    };
  }, []);
  return hash;
}

export function App() {
  const [state, setState] = useState<AuthState | null>(null);
  const [error, setError] = useState("");
  const hash = useHashRoute();

  const refresh = () =>
    api
      .get<AuthState>("/api/auth/state")
      .then((s) => {
        setCsrfToken(s.csrf_token ?? ""); // null before signing in
        setState(s);
      })
      .catch((e: Error) => setError(e.message));

  useEffect(() => {
    refresh();
  }, []);

  if (error) return <div className="page-message error">Switchboard is not reachable: {error}</div>;
  if (!state) return <div className="page-message">Loading…</div>;
  if (!state.user)
    return <AuthPage setup={state.needs_setup} rule={state.password_rule} onDone={(_u: User) => void refresh()} />;

  const path = hash.split("?")[0];
  const query = hashQuery(hash);
  const match = /^#\/scenarios\/(\d+|new)$/.exec(path);
  const syncLog = /^#\/scenarios\/(\d+)\/sync-log$/.exec(path);
  const webhook = /^#\/webhooks\/(\d+)$/.exec(path);
  const dataStore = /^#\/datastores\/(\d+)$/.exec(path);
  const canEdit = state.user.role !== "viewer";
  const section = path.startsWith("#/history")
    ? "history"
    : path.startsWith("#/incomplete")
      ? "incomplete"
      : path.startsWith("#/webhooks")
        ? "webhooks"
        : path.startsWith("#/dashboard")
          ? "dashboard"
          : path.startsWith("#/connections")
            ? "connections"
            : path.startsWith("#/datastores")
              ? "datastores"
              : path.startsWith("#/account")
                ? "account"
                : path.startsWith("#/reconcile")
                  ? "reconcile"
                  : path.startsWith("#/packs")
                    ? "packs"
                    : "scenarios";
  const scenarioParam = query.get("scenario");
  let content;
  if (syncLog) content = <SyncLog key={syncLog[1]} scenarioId={Number(syncLog[1])} />;
  else if (match)
    content = (
      <Editor
        key={`${match[1]}-${query.get("execution") ?? ""}`}
        scenarioId={match[1] === "new" ? null : Number(match[1])}
        readOnly={!canEdit}
        executionId={query.get("execution")}
        onBack={() => (window.location.hash = "#/")}
      />
    );
  else if (section === "history") content = <History scenarioId={scenarioParam ? Number(scenarioParam) : null} />;
  else if (section === "incomplete") content = <IncompletePage canEdit={canEdit} />;
  else if (webhook) content = <WebhookQueue key={webhook[1]} webhookId={Number(webhook[1])} canEdit={canEdit} />;
  else if (section === "webhooks") content = <WebhookList />;
  else if (section === "dashboard") content = <Dashboard />;
  else if (section === "connections") content = <ConnectionsPage canEdit={canEdit} />;
  else if (dataStore)
    content = <DataStoreRecords key={dataStore[1]} storeId={Number(dataStore[1])} canEdit={canEdit} />;
  else if (section === "datastores") content = <DataStoresPage canEdit={canEdit} />;
  else if (section === "account") content = <AccountPage me={state.user} rule={state.password_rule} />;
  else if (section === "reconcile") content = <ReconcilePage />;
  else if (section === "packs")
    content = <PacksPage name={/^#\/packs\/([\w-]+)/.exec(path)?.[1] ?? null} canEdit={canEdit} />;
  else content = <ScenarioList onOpen={(id) => (window.location.hash = `#/scenarios/${id}`)} />;
  const nav = (name: string, href: string, label: string) => (
    <a href={href} className={`nav-link${section === name ? " active" : ""}`}>
      {label}
    </a>
  );
  const logout = async () => {
    await api.post("/api/auth/logout").catch(() => {});
    window.location.hash = "";
    await refresh();
  };
  return (
    <div className="app">
      <nav className="topbar">
        <a href="#/" className="brand">
          Switchboard
        </a>
        {nav("scenarios", "#/", "Scenarios")}
        {nav("history", "#/history", "History")}
        {nav("incomplete", "#/incomplete", "Incomplete")}
        {nav("webhooks", "#/webhooks", "Webhooks")}
        {nav("connections", "#/connections", "Connections")}
        {nav("datastores", "#/datastores", "Data stores")}
        {nav("dashboard", "#/dashboard", "Dashboard")}
        {canEdit && nav("reconcile", "#/reconcile", "Reconciliation")}
        {nav("packs", "#/packs", "Sync packs")}
        <span className="spacer" />
        <a href="#/account" className={`user nav-link${section === "account" ? " active" : ""}`} title="Your account">
          {state.user.name} <span className="muted">({state.user.role})</span>
        </a>
        <button className="small" onClick={() => void logout()}>
          Sign out
        </button>
      </nav>
      {content}
    </div>
  );
}

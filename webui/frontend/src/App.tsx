import { useEffect, useState } from "react";
import { api, setCsrfToken } from "./api";
import { AuthPage } from "./components/AuthPage";
import { ScenarioList } from "./components/ScenarioList";
import { Editor } from "./editor/Editor";
import type { AuthState, User } from "./types";

function useHashRoute(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
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
        setCsrfToken(s.csrf_token);
        setState(s);
      })
      .catch((e: Error) => setError(e.message));

  useEffect(() => {
    refresh();
  }, []);

  if (error) return <div className="page-message error">Switchboard is not reachable: {error}</div>;
  if (!state) return <div className="page-message">Loading…</div>;
  if (!state.user) return <AuthPage setup={state.needs_setup} onDone={(_u: User) => void refresh()} />;

  const match = /^#\/scenarios\/(\d+)/.exec(hash);
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
        <span className="spacer" />
        <span className="user">
          {state.user.name} <span className="muted">({state.user.role})</span>
        </span>
        <button className="small" onClick={() => void logout()}>
          Sign out
        </button>
      </nav>
      {match ? (
        <Editor
          key={match[1]}
          scenarioId={Number(match[1])}
          readOnly={state.user.role === "viewer"}
          onBack={() => (window.location.hash = "#/")}
        />
      ) : (
        <ScenarioList onOpen={(id) => (window.location.hash = `#/scenarios/${id}`)} />
      )}
    </div>
  );
}

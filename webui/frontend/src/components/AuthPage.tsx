import { useState } from "react";
import { api } from "../api";
import type { PasswordRule, User } from "../types";
import { PasswordRuleHint, readable, usePasswordCheck } from "./PasswordCheck";

/** First start (create the owner account) or sign in. */
export function AuthPage({
  setup,
  rule,
  onDone,
}: {
  setup: boolean;
  rule: PasswordRule;
  onDone: (user: User) => void;
}) {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const verdict = usePasswordCheck(setup ? password : "", email, name);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const user = setup
        ? await api.post<User>("/api/auth/setup", { email, name, password })
        : await api.post<User>("/api/auth/login", { email, password });
      onDone(user);
    } catch (err) {
      setError(readable((err as Error).message));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="auth-page">
      <form className="auth-card" onSubmit={submit}>
        <h1>Switchboard</h1>
        <p className="muted">{setup ? "Welcome! Create the owner account to start." : "Sign in to your scenarios."}</p>
        {setup && (
          <label className="field">
            <span className="field-label">Name</span>
            <input
              aria-label="Name"
              value={name}
              onChange={(e) => setName(e.target.value)}
              required
              autoComplete="name"
            />
          </label>
        )}
        <label className="field">
          <span className="field-label">Email</span>
          <input
            aria-label="Email"
            type="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            required
            autoComplete="email"
          />
        </label>
        <label className="field">
          <span className="field-label">Password</span>
          <input
            aria-label="Password"
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            autoComplete={setup ? "new-password" : "current-password"}
          />
        </label>
        {setup && <PasswordRuleHint rule={rule} password={password} verdict={verdict} />}
        {error && <p className="inline-error">{error}</p>}
        <button className="primary" type="submit" disabled={busy || (setup && !verdict?.ok)}>
          {setup ? "Create account" : "Sign in"}
        </button>
      </form>
    </div>
  );
}

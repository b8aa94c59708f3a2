// The signed-in user's account: their password and personal API tokens; for owners, the team
// (add a user with a role, change roles, remove users).
import { useEffect, useState } from "react";
import { api, items } from "../api";
import { PasswordRuleHint, readable, usePasswordCheck } from "../components/PasswordCheck";
import type { PasswordRule, User } from "../types";
import { formatTime } from "./common";

interface ApiToken {
  id: number;
  name: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string;
  expired: boolean;
  token?: string | null;
}

const ROLES = ["viewer", "editor", "owner"];
const TOKEN_DAYS = [7, 30, 90, 180, 365]; // the server allows 1 to 365; 90 is its default

function PasswordForm({ rule }: { rule: PasswordRule }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const verdict = usePasswordCheck(next);
  const change = async () => {
    try {
      await api.post("/api/auth/password", { current_password: current, new_password: next });
      setCurrent("");
      setNext("");
      setMessage({
        ok: true,
        text: "Password changed. Your other sessions were signed out and your API tokens revoked.",
      });
    } catch (e) {
      setMessage({ ok: false, text: readable((e as Error).message) });
    }
  };
  return (
    <section className="panel-card" data-testid="password">
      <h2>Password</h2>
      <label className="field">
        <span className="field-label">Current password</span>
        <input
          type="password"
          aria-label="Current password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
      </label>
      <label className="field">
        <span className="field-label">New password</span>
        <input type="password" aria-label="New password" value={next} onChange={(e) => setNext(e.target.value)} />
      </label>
      <PasswordRuleHint
        rule={rule}
        password={next}
        verdict={verdict}
        note="Changing it signs you out everywhere else and revokes your API tokens."
      />
      {message && <p className={message.ok ? "help" : "inline-error"}>{message.text}</p>}
      {/* Sent only once the rule accepts it: a refusal shows while typing, not after. */}
      <button className="primary small" disabled={!current || !verdict?.ok} onClick={() => void change()}>
        Change password
      </button>
    </section>
  );
}

function TokensSection() {
  const [tokens, setTokens] = useState<ApiToken[]>([]);
  const [copied, setCopied] = useState("");
  const [name, setName] = useState("");
  const [days, setDays] = useState(90);
  const [created, setCreated] = useState<ApiToken | null>(null);
  const [error, setError] = useState("");
  const reload = () =>
    api.get<ApiToken[]>("/api/tokens").then(
      (t) => setTokens(items(t)),
      (e: Error) => setError(e.message),
    );
  useEffect(() => {
    void reload();
  }, []);
  const create = async () => {
    try {
      setCreated(await api.post<ApiToken>("/api/tokens", { name, expires_in_days: days }));
      setName("");
      await reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const revoke = (t: ApiToken) =>
    confirm(`Revoke the token “${t.name}”? Programs using it lose access at once.`) &&
    api.del(`/api/tokens/${t.id}`).then(reload, (e: Error) => setError(e.message));
  return (
    <section className="panel-card wide" data-testid="tokens">
      <h2>API tokens</h2>
      <p className="muted">
        A token acts as you, with your role, on the REST API: send it as <code>Authorization: Bearer …</code>. It
        expires after the days you choose, and when your password changes. A token cannot make tokens or change
        passwords: that takes a signed-in browser.
      </p>
      <div className="row">
        <input
          aria-label="Token name"
          placeholder="What it is for"
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <select aria-label="Expires after" value={days} onChange={(e) => setDays(Number(e.target.value))}>
          {TOKEN_DAYS.map((d) => (
            <option key={d} value={d}>
              {d} days
            </option>
          ))}
        </select>
        <button className="small" disabled={!name} onClick={() => void create()}>
          Create token
        </button>
      </div>
      {created?.token && (
        <p className="help" data-testid="new-token">
          Copy it now, it is shown only once: <code>{created.token}</code>{" "}
          <button
            className="small"
            onClick={() => {
              const token = created.token ?? "";
              void navigator.clipboard?.writeText(token).then(
                () => setCopied(token),
                () => setCopied(""),
              );
            }}
          >
            {copied === created.token ? "Copied" : "Copy"}
          </button>
        </p>
      )}
      {error && <p className="inline-error">{error}</p>}
      {tokens.length > 0 && (
        <table className="scenarios data-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Created</th>
              <th>Last used</th>
              <th>Expires</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={t.id} data-testid={`token-${t.id}`}>
                <td>{t.name}</td>
                <td>{formatTime(t.created_at)}</td>
                <td>{t.last_used_at ? formatTime(t.last_used_at) : "never"}</td>
                <td className={t.expired ? "inline-error" : undefined}>
                  {t.expired ? "expired" : formatTime(t.expires_at)}
                </td>
                <td className="actions">
                  <button className="small danger" onClick={() => void revoke(t)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function TeamSection({ me, rule }: { me: User; rule: PasswordRule }) {
  const [users, setUsers] = useState<User[]>([]);
  const [form, setForm] = useState({ name: "", email: "", password: "", role: "editor" });
  const [error, setError] = useState("");
  const reload = () =>
    api.get<User[]>("/api/users").then(
      (u) => setUsers(items(u)),
      (e: Error) => setError(e.message),
    );
  useEffect(() => {
    void reload();
  }, []);
  const act = async (work: () => Promise<unknown>) => {
    setError("");
    try {
      await work();
      await reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section className="panel-card wide" data-testid="team">
      <h2>Team</h2>
      <p className="muted">
        Viewers see scenarios and runs; editors also build, run and connect apps; owners also manage the team.
      </p>
      {error && <p className="inline-error">{error}</p>}
      <table className="scenarios data-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Role</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} data-testid={`user-${u.id}`}>
              <td>{u.name}</td>
              <td>{u.email}</td>
              <td>
                <select
                  aria-label={`Role of ${u.email}`}
                  value={u.role}
                  onChange={(e) => void act(() => api.patch(`/api/users/${u.id}`, { role: e.target.value }))}
                >
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              </td>
              <td className="actions">
                {u.id !== me.id && (
                  <button
                    className="small danger"
                    onClick={() => confirm(`Remove ${u.email}?`) && void act(() => api.del(`/api/users/${u.id}`))}
                  >
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Add a user</h3>
      <div className="row wrap">
        <input
          aria-label="Name"
          placeholder="Name"
          value={form.name}
          onChange={(e) => setForm({ ...form, name: e.target.value })}
        />
        <input
          aria-label="Email"
          placeholder="Email"
          value={form.email}
          onChange={(e) => setForm({ ...form, email: e.target.value })}
        />
        <input
          type="password"
          aria-label="First password"
          placeholder="First password"
          value={form.password}
          onChange={(e) => setForm({ ...form, password: e.target.value })}
        />
        <select aria-label="Role" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
        <button
          className="small primary"
          onClick={() =>
            void act(async () => {
              await api.post("/api/users", form);
              setForm({ name: "", email: "", password: "", role: "editor" });
            })
          }
        >
          Add user
        </button>
      </div>
      <p className="help">First password: {rule.text}</p>
    </section>
  );
}

export function AccountPage({ me, rule }: { me: User; rule: PasswordRule }) {
  return (
    <div className="page account">
      <div className="list-header">
        <h1>Account</h1>
        <span className="muted">
          {me.name} · {me.email} · {me.role}
        </span>
      </div>
      <PasswordForm rule={rule} />
      <TokensSection />
      {me.role === "owner" && <TeamSection me={me} rule={rule} />}
    </div>
  );
}

// The password rule where a password is chosen (first start, Account): the rule as a sentence,
// and what the server's rule says of the password as it is typed (POST /api/auth/password-check),
// so a refusal is known before anything is submitted.
import { useEffect, useState } from "react";
import { api } from "../api";
import type { PasswordRule } from "../types";

export interface PasswordVerdict {
  ok: boolean;
  problem: string | null;
}

/** A refusal of the API as a sentence: without its field path ("new_password: …"), capitalised. */
export function readable(message: string): string {
  const text = message.replace(/^[a-z_]+(\.[a-z_0-9]+)*: /, "").trim();
  if (!text) return message;
  const sentence = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

/**
 * What the rule says of ``password`` (for the account ``email``/``name`` when given), asked a
 * moment after the typing stops; ``null`` while it is empty or not judged yet (a verdict on an
 * earlier text never counts for the current one).
 */
export function usePasswordCheck(password: string, email = "", name = ""): PasswordVerdict | null {
  const [verdict, setVerdict] = useState<{ text: string; verdict: PasswordVerdict } | null>(null);
  useEffect(() => {
    if (!password) return;
    let live = true;
    const timer = setTimeout(() => {
      api
        .post<PasswordVerdict>("/api/auth/password-check", { password, email, name })
        .then((answer) => live && setVerdict({ text: password, verdict: answer }))
        .catch(() => {});
    }, 200);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [password, email, name]);
  return password && verdict?.text === password ? verdict.verdict : null;
}

/** The rule, readable, and the live verdict on what is typed. */
export function PasswordRuleHint({
  rule,
  password,
  verdict,
  note,
}: {
  rule: PasswordRule;
  password: string;
  verdict: PasswordVerdict | null;
  /** A sentence after the rule (what changing the password does). */
  note?: string;
}) {
  const short = password.trim().length < rule.min_length;
  return (
    <div className="password-rule" data-testid="password-rule">
      <p className="help">
        {rule.text}
        {note ? ` ${note}` : ""}
      </p>
      {password && (
        <p
          role="status"
          data-testid="password-check"
          className={`password-check ${verdict?.ok ? "ok" : verdict ? "weak" : ""}`}
        >
          {verdict === null
            ? short
              ? `${password.trim().length} of at least ${rule.min_length} characters…`
              : "Checking the password…"
            : verdict.ok
              ? "✓ This password meets the rule."
              : `✗ ${readable(verdict.problem ?? "")}`}
        </p>
      )}
    </div>
  );
}

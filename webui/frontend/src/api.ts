// The REST API client (docs/api.md): JSON in and out, the CSRF header on writes.
import type { components } from "./api.gen";

type ErrorDetail = components["schemas"]["ErrorDetail"];
type Problem = components["schemas"]["ProblemOut"];
/** A refusal's body; anything in front of the API (a proxy) may answer without one. */
type ErrorBody = { error?: Partial<ErrorDetail> };

let csrfToken = "";

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public path: string | null = null,
    public problems: Problem[] = [],
  ) {
    super(message);
  }
}

async function request<T>(method: string, url: string, body?: unknown, extra?: Record<string, string>): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...extra };
  let payload: BodyInit | undefined;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const response = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
  // A sign-in or a password change starts a new session with a new token: use it from now on.
  const renewed = response.headers.get("X-CSRF-Token");
  if (renewed) csrfToken = renewed;
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const err = (data as ErrorBody | null)?.error;
    throw new ApiError(
      response.status,
      err?.code ?? "error",
      err?.message ?? `${response.status} ${response.statusText}`,
      err?.path ?? null,
      err?.problems ?? [],
    );
  }
  return data as T;
}

export const api = {
  get: <T>(url: string) => request<T>("GET", url),
  post: <T>(url: string, body?: unknown) => request<T>("POST", url, body ?? {}),
  put: <T>(url: string, body: unknown, headers?: Record<string, string>) => request<T>("PUT", url, body, headers),
  patch: <T>(url: string, body: unknown) => request<T>("PATCH", url, body),
  del: <T>(url: string) => request<T>("DELETE", url),
  upload: <T>(url: string, form: FormData) => request<T>("POST", url, form),
};

/** Lists may come bare or paged (`{items, next_cursor}`). */
export function items<T>(data: T[] | { items: T[] } | null | undefined): T[] {
  if (!data) return [];
  return Array.isArray(data) ? data : (data.items ?? []);
}

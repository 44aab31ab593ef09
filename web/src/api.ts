// Calls to the server's HTTP API: the Prometheus v1 API, whose answers are
// {status, data}, and the Alertmanager v2 API, whose answers are bare JSON.
// Paths are relative to the document's base, which the server sets to
// where it serves its routes: the root, or its route_prefix.

/**
 * basePath is the path the server's routes are under, "" for the root or
 * "/vigil", as the document's <base> says; "" without one (npx vite).
 */
export const basePath = document.querySelector('base') ? new URL(document.baseURI).pathname.replace(/\/+$/, '') : '';

/** APIError is an error the server answered, with its type. */
export class APIError extends Error {
  constructor(public readonly errorType: string, message: string) {
    super(message);
  }

  /** The error as the pages show it: "type: message". */
  override toString(): string {
    return `${this.errorType}: ${this.message}`;
  }
}

/** V1Answer is a successful answer of the v1 API. */
export interface V1Answer<T> {
  data: T;
  warnings?: string[];
  infos?: string[];
}

async function decode(resp: Response): Promise<any> {
  const text = await resp.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new APIError(`HTTP ${resp.status}`, text.trim() || resp.statusText);
  }
}

/** v1 fetches a path of the v1 API with GET and returns its answer. */
export async function v1<T>(path: string, params?: Record<string, string> | URLSearchParams): Promise<V1Answer<T>> {
  const query = params ? `?${new URLSearchParams(params)}` : '';
  const resp = await fetch(`api/v1/${path}${query}`, { headers: { Accept: 'application/json' } });
  const body = await decode(resp);
  if (body.status !== 'success') {
    throw new APIError(body.errorType ?? `HTTP ${resp.status}`, body.error ?? resp.statusText);
  }
  return body;
}

/** v2 calls the Alertmanager v2 API; a body is sent as JSON. */
export async function v2<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, 'Content-Type': 'application/json' };
  }
  const resp = await fetch(`api/v2/${path}`, init);
  if (!resp.ok) {
    const text = (await resp.text()).trim();
    let msg = text;
    try {
      const parsed = JSON.parse(text);
      msg = typeof parsed === 'string' ? parsed : parsed.message ?? parsed.error ?? text;
    } catch {
      // The body is plain text.
    }
    throw new APIError(`HTTP ${resp.status}`, msg || resp.statusText);
  }
  if (resp.status === 204) return undefined as T;
  const text = await resp.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** errorText writes any thrown value as the pages show errors. */
export function errorText(err: unknown): string {
  if (err instanceof APIError) return err.toString();
  if (err instanceof Error) return err.message;
  return String(err);
}

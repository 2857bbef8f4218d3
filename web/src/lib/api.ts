// The persona API (persona/README.md): requests with the caller's token, and its
// error shape {"error": {"code", "message"}} turned into ApiError, with the
// form field an error concerns when the message names one.

import { SessionEnded } from "./auth";

export type Status = "requested" | "provisioning" | "ready" | "failed";

export interface Spec {
  name: string;
  instructions: string;
  description?: string;
  model?: string;
  temperature?: number;
  tools?: string[];
}

export interface Profile {
  version: number;
  personaId: string;
  systemPrompt: string;
  model: string;
  temperature: number;
  tools: string[];
  issuedAt: string;
  signature: string;
}

export interface Persona extends Spec {
  id: string;
  status: Status;
  statusReason?: string;
  createdAt: string;
  updatedAt: string;
  profile?: Profile;
}

export const specFields = ["name", "description", "instructions", "model", "temperature", "tools"] as const;
export type SpecField = (typeof specFields)[number];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: SpecField,
  ) {
    super(message);
  }
}

// A persona id as the API gives it: a lowercase canonical UUID.
export const personaIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// fieldOf finds the field a 400 message is about: the API words field errors
// "name: is required", "tools[2]: ..." and type errors "...: temperature: found
// a string where a number is expected".
export function fieldOf(message: string): { field: SpecField; problem: string } | undefined {
  const m = /(?:^|: )(name|description|instructions|model|temperature|tools)(?:\[\d+\])?: (.*)$/.exec(message);
  if (!m) return undefined;
  return { field: m[1] as SpecField, problem: m[2] };
}

export interface Client {
  list(nextToken?: string): Promise<{ personas: Persona[]; nextToken?: string }>;
  get(id: string): Promise<Persona>;
  request(spec: Spec, idempotencyKey: string): Promise<Persona>;
}

export function client(apiUrl: string, token: () => Promise<string>, onSessionEnded: () => void): Client {
  async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
    let bearer: string;
    try {
      bearer = await token();
    } catch (err) {
      if (err instanceof SessionEnded) onSessionEnded();
      throw err;
    }
    let res: Response;
    try {
      res = await fetch(apiUrl + path, {
        ...init,
        headers: { ...init.headers, authorization: `Bearer ${bearer}`, accept: "application/json" },
      });
    } catch {
      throw new ApiError(0, "network", "The API could not be reached. Check your connection; this page keeps trying.");
    }
    const body = await res.json().catch(() => null);
    if (res.ok) return body as T;
    if (res.status === 401) {
      onSessionEnded();
      throw new ApiError(401, "unauthorized", "Your session has ended. Sign in again.");
    }
    const code: string = body?.error?.code ?? `http_${res.status}`;
    const message: string = body?.error?.message ?? `The API answered ${res.status}.`;
    const field = res.status === 400 && code === "invalid_request" ? fieldOf(message) : undefined;
    throw new ApiError(res.status, code, field ? field.problem : message, field?.field);
  }

  return {
    list: (nextToken) =>
      call(`/personas?limit=20${nextToken ? `&nextToken=${encodeURIComponent(nextToken)}` : ""}`),
    get: async (id) => (await call<{ persona: Persona }>(`/personas/${encodeURIComponent(id)}`)).persona,
    request: async (spec, idempotencyKey) =>
      (
        await call<{ persona: Persona }>("/personas", {
          method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": idempotencyKey },
          body: JSON.stringify(spec),
        })
      ).persona,
  };
}

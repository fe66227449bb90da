// Test doubles for the two things the browser talks to: fetch (routes keyed
// by "METHOD /path") and WebSocket (sockets the test drives by hand).
import { vi } from "vitest";

export type Route = (req: { body: unknown; headers: Record<string, string>; url: URL }) =>
  | [number, unknown]
  | [number, unknown, Record<string, string>];

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: Record<string, string>;
}

export function fakeFetch(routes: Record<string, Route>) {
  const calls: Call[] = [];
  const fn = vi.fn(async (input: string, init: RequestInit = {}) => {
    const url = new URL(input, "http://shop.test");
    const method = init.method ?? "GET";
    const headers = (init.headers ?? {}) as Record<string, string>;
    const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
    calls.push({ method, path: url.pathname, query: url.searchParams, body, headers });
    const route = routes[`${method} ${url.pathname}`];
    if (!route) return new Response(JSON.stringify({ message: "no route", code: "not_found" }), { status: 404 });
    const [status, answer, extra] = route({ body, headers, url });
    return new Response(answer === null ? "" : JSON.stringify(answer), {
      status,
      headers: { "Content-Type": "application/json", ...(extra ?? {}) },
    });
  });
  vi.stubGlobal("fetch", fn);
  return calls;
}

export class FakeSocket {
  static all: FakeSocket[] = [];
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  sent: string[] = [];
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.closed = true;
  }
  // Driven by the test:
  open() {
    this.onopen?.(new Event("open"));
  }
  push(msg: unknown) {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(msg) }));
  }
  drop() {
    this.onclose?.(new CloseEvent("close"));
  }
}

export function installFakeSockets() {
  FakeSocket.all = [];
  vi.stubGlobal("WebSocket", FakeSocket);
}

export const session = {
  token: "jwt-token",
  accessToken: "jwt-token",
  userId: "u-1",
  email: "ann@example.com",
  role: "customer",
  expiresAt: Date.now() + 15 * 60_000,
  tokenType: "Bearer",
};

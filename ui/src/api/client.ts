// One fetch wrapper for every API call: JSON in and out, and every failure
// turned into an ApiError whose message a person can read.
import type {
  Cart,
  ClusterStats,
  Order,
  PaymentConfig,
  PlacedOrder,
  Product,
  ProductPage,
  ProductQuery,
  Session,
  StockView,
} from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string = "",
    readonly field: string = "",
    readonly retryAfter: number = 0,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** What to tell a person about a failed call. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 0) return "The shop cannot be reached. Check your connection and try again.";
    if (e.status === 401) return e.message || "Please log in again.";
    if (e.status === 429)
      return `${e.message || "Too many attempts"}${e.retryAfter ? ` (wait ${e.retryAfter} s)` : ""}.`;
    if (e.status === 503) return "The shop is busy right now. Please try again in a moment.";
    if (e.status >= 500) return `Something went wrong on our side (${e.status}). Please try again.`;
    const field = e.field ? `${e.field}: ` : "";
    return `${field}${e.message}`;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export async function call<T>(path: string, opts: CallOptions = {}): Promise<{ data: T; headers: Headers }> {
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? "GET",
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: "same-origin",
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "network error");
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const body = (parsed ?? {}) as { message?: string; code?: string; field?: string };
    throw new ApiError(
      res.status,
      body.message ?? res.statusText ?? "request failed",
      body.code ?? "",
      body.field ?? "",
      Number(res.headers.get("Retry-After") ?? 0),
    );
  }
  return { data: parsed as T, headers: res.headers };
}

async function json<T>(path: string, opts: CallOptions = {}): Promise<T> {
  return (await call<T>(path, opts)).data;
}

function queryString(q: ProductQuery): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== "") params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : "";
}

// The refresh token lives in an HttpOnly cookie; this header asks for that.
const cookieSession = { "X-Session-Cookie": "1" };

export const api = {
  async products(q: ProductQuery, signal?: AbortSignal): Promise<ProductPage> {
    const { data, headers } = await call<Product[]>(`/api/products${queryString(q)}`, { signal });
    return { items: data, total: Number(headers.get("X-Total-Count") ?? data.length) };
  },
  product: (id: number) => json<Product>(`/api/products/${id}`),
  categories: () => json<string[]>("/api/products/categories"),

  register: (body: { email: string; password: string; confirmPassword: string; firstName?: string; lastName?: string }) =>
    json<{ message: string }>("/api/auth/register", { method: "POST", body }),
  login: (email: string, password: string) =>
    json<Session>("/api/auth/login", { method: "POST", body: { email, password }, headers: cookieSession }),
  refresh: () => json<Session>("/api/auth/refresh", { method: "POST", body: {}, headers: cookieSession }),
  logout: (token: string) => json<{ message: string }>("/api/auth/revoke", { method: "POST", token }),

  cart: (token: string) => json<Cart>("/api/cart", { token }),
  addToCart: (token: string, productId: number, quantity: number) =>
    json<Cart>("/api/cart/add", { method: "POST", token, body: { productId, quantity } }),
  setQuantity: (token: string, productId: number, quantity: number) =>
    json<Cart>(`/api/cart/items/${productId}`, { method: "PUT", token, body: { quantity } }),
  removeLine: (token: string, productId: number) =>
    json<Cart>(`/api/cart/items/${productId}`, { method: "DELETE", token }),
  clearCart: (token: string) => json<Cart>("/api/cart", { method: "DELETE", token }),

  paymentConfig: () => json<PaymentConfig>("/api/payments/config"),
  placeOrder: (token: string, paymentMethodId: string, idempotencyKey: string) =>
    json<PlacedOrder>("/api/orders/place", {
      method: "POST",
      token,
      body: { paymentMethodId },
      headers: { "Idempotency-Key": idempotencyKey },
    }),
  orders: (token: string) => json<Order[]>("/api/orders/history", { token }),
  order: (token: string, id: number) => json<Order>(`/api/orders/${id}`, { token }),
  cancelOrder: (token: string, id: number) => json<Order>(`/api/orders/${id}/cancel`, { method: "POST", token }),
  checkPayment: (token: string, id: number) =>
    json<Order>(`/api/orders/${id}/payment/check`, { method: "POST", token, body: {} }),

  stats: (token: string, signal?: AbortSignal) => json<ClusterStats>("/api/admin/stats", { token, signal }),

  createProduct: (token: string, p: Omit<Product, "id">) =>
    json<Product>("/api/products", { method: "POST", token, body: p }),
  updateProduct: (token: string, p: Product) =>
    json<Product>(`/api/products/${p.id}`, { method: "PUT", token, body: p }),
  deleteProduct: (token: string, id: number) =>
    json<{ message: string }>(`/api/products/${id}`, { method: "DELETE", token }),
  setStock: (token: string, id: number, quantity: number) =>
    json<StockView>(`/api/products/${id}/stock`, { method: "PUT", token, body: { quantity } }),
};

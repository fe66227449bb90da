import { describe, expect, it, vi } from "vitest";
import { api, ApiError, describeError } from "./client";
import { fakeFetch } from "../test/fakeServer";

describe("api client", () => {
  it("turns error bodies into ApiErrors a person can read", async () => {
    fakeFetch({
      "POST /api/auth/register": () => [400, { message: "must be at least 8 characters", code: "invalid_argument", field: "password" }],
      "POST /api/auth/login": () => [429, { message: "too many failed logins; try again later" }, { "Retry-After": "30" }],
      "GET /api/cart": () => [500, null],
    });
    const reg = await api.register({ email: "a@b.c", password: "x", confirmPassword: "x" }).catch((e) => e);
    expect(reg).toBeInstanceOf(ApiError);
    expect(reg.status).toBe(400);
    expect(describeError(reg)).toBe("password: must be at least 8 characters");
    const login = await api.login("a@b.c", "nope").catch((e) => e);
    expect(login.retryAfter).toBe(30);
    expect(describeError(login)).toBe("too many failed logins; try again later (wait 30 s).");
    expect(describeError(await api.cart("t").catch((e) => e))).toMatch(/on our side \(500\)/);
  });

  it("reports an unreachable server as status 0", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => { throw new TypeError("Failed to fetch"); }));
    const e = await api.categories().catch((x) => x);
    expect(e.status).toBe(0);
    expect(describeError(e)).toMatch(/cannot be reached/);
  });

  it("sends the token, the cookie opt-in and the idempotency key", async () => {
    const calls = fakeFetch({
      "POST /api/auth/refresh": () => [200, { token: "t" }],
      "POST /api/orders/place": () => [200, { orderId: 3 }],
      "GET /api/products": () => [200, [{ id: 1 }], { "X-Total-Count": "41" }],
    });
    await api.refresh();
    await api.placeOrder("tok", "pm_card_visa", "key-1");
    const page = await api.products({ search: "lamp", category: "", page: 2, pageSize: 12 });
    expect(calls[0].headers["X-Session-Cookie"]).toBe("1");
    expect(calls[1].headers.Authorization).toBe("Bearer tok");
    expect(calls[1].headers["Idempotency-Key"]).toBe("key-1");
    expect(calls[1].body).toEqual({ paymentMethodId: "pm_card_visa" });
    expect(calls[2].query.toString()).toBe("search=lamp&page=2&pageSize=12");
    expect(page.total).toBe(41);
  });
});

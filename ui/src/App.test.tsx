import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "./App";
import { fakeFetch, FakeSocket, installFakeSockets, session } from "./test/fakeServer";
import type { Route } from "./test/fakeServer";
import type { CardChange, CardElement, NextActionResult, PaymentMethodResult } from "./payments/stripeJs";

const products = [
  { id: 1, name: "Brass Lamp", description: "Warm light", price: 40, category: "Home", stockQuantity: 3 },
  { id: 2, name: "Oak Desk", description: "Solid", price: 250.5, category: "Home", stockQuantity: 0 },
  { id: 3, name: "Trail Shoes", description: "Grippy", price: 89.99, category: "Sport", stockQuantity: 50 },
];

const loggedOut: Route = () => [401, { message: "invalid or expired refresh token", code: "unauthenticated" }];
const loggedIn: Route = () => [200, session];
const testProvider: Route = () => [200, { provider: "test", livemode: false, publishableKey: null }];

function visit(path: string) {
  window.history.pushState({}, "", path);
  return render(<App />);
}

beforeEach(() => installFakeSockets());

describe("catalog", () => {
  it("shows products with their stock and filters through the URL", async () => {
    const calls = fakeFetch({
      "POST /api/auth/refresh": loggedOut,
      "GET /api/products": ({ url }) => [
        200,
        products.filter((p) => !url.searchParams.get("category") || p.category === url.searchParams.get("category")),
        { "X-Total-Count": url.searchParams.get("category") ? "1" : "30" },
      ],
      "GET /api/products/categories": () => [200, ["Home", "Sport"]],
    });
    visit("/");
    const lamp = (await screen.findByRole("link", { name: "Brass Lamp" })).closest("li")!;
    expect(within(lamp).getByText("Only 3 left")).toBeTruthy();
    expect(within(lamp).getByText("$40.00")).toBeTruthy();
    expect(screen.getByText("Out of stock")).toBeTruthy();
    expect(screen.getAllByText("to buy")).toHaveLength(3); // visitors are asked to log in
    expect(screen.getByText("Page 1 of 3")).toBeTruthy();

    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Next" }));
    await screen.findByText("Page 2 of 3");
    expect(calls.at(-1)!.query.get("page")).toBe("2");

    await user.selectOptions(await screen.findByLabelText("Category"), "Sport");
    await screen.findByText("1 product");
    const last = calls.filter((c) => c.path === "/api/products").at(-1)!;
    expect(last.query.get("category")).toBe("Sport");
    expect(last.query.get("page")).toBe("1"); // a new filter starts at page 1
    expect(window.location.search).toBe("?category=Sport");

    await user.selectOptions(screen.getByLabelText("Sort by"), "price-desc");
    await waitFor(() => expect(calls.at(-1)!.query.get("sortBy")).toBe("price"));
    expect(calls.at(-1)!.query.get("sortOrder")).toBe("desc");
  });

  it("shows the API's message when a filter is refused", async () => {
    fakeFetch({
      "POST /api/auth/refresh": loggedOut,
      "GET /api/products": () => [400, { message: "must be a number", field: "minPrice", code: "invalid_argument" }],
      "GET /api/products/categories": () => [200, []],
    });
    visit("/?minPrice=abc");
    expect((await screen.findByRole("alert")).textContent).toBe("minPrice: must be a number");
  });
});

describe("cart and checkout", () => {
  it("changes quantities, places the order with an idempotency key and follows it live", async () => {
    let cart = {
      userId: "u-1",
      items: [{ productId: 1, quantity: 1, priceAtAddition: 40, productName: "Brass Lamp", lineTotal: 40 }],
      totalPrice: 40,
    };
    const order = {
      id: 9, userId: "u-1", orderDate: "2026-11-24T10:00:00Z", totalAmount: 80, status: "Pending",
      state: "Submitted", reason: "", paymentMethodId: "pm_card_mastercard",
      items: [{ productId: 1, quantity: 2, unitPrice: 40, productName: "Brass Lamp" }],
      timeline: [{ status: "Submitted", reason: "", at: "2026-11-24T10:00:00Z" }],
    };
    const calls = fakeFetch({
      "POST /api/auth/refresh": loggedIn,
      "GET /api/cart": () => [200, cart],
      "PUT /api/cart/items/1": ({ body }) => {
        const q = (body as { quantity: number }).quantity;
        cart = { ...cart, items: [{ ...cart.items[0], quantity: q, lineTotal: 40 * q }], totalPrice: 40 * q };
        return [200, cart];
      },
      "POST /api/orders/place": () => [200, { message: "Order placed", orderId: 9, status: "Submitted", totalAmount: 80, priceChanges: [] }],
      "GET /api/orders/9": () => [200, order],
      "GET /api/payments/config": testProvider,
    });
    visit("/cart");
    const user = userEvent.setup();
    const qty = await screen.findByLabelText("Quantity of Brass Lamp");
    // Both cart loads (the header's and the page's) are in before typing: a
    // late one re-sets the field, and "2" typed after it would read "12".
    await screen.findByRole("link", { name: "Cart (1)" });
    await waitFor(() => expect(screen.getByTestId("cart-total").textContent).toBe("$40.00"));
    await user.clear(qty);
    await waitFor(() => expect((qty as HTMLInputElement).value).toBe(""));
    await user.type(qty, "2{Enter}");
    await waitFor(() => expect(screen.getByTestId("cart-total").textContent).toBe("$80.00"));
    expect(calls.find((c) => c.method === "PUT")!.body).toEqual({ quantity: 2 });
    expect(screen.getByRole("link", { name: "Cart (2)" })).toBeTruthy();

    await user.click(screen.getByLabelText(/Mastercard/));
    await user.click(screen.getByRole("button", { name: /Place order/ }));
    await screen.findByRole("heading", { name: "Order #9" });
    const place = calls.find((c) => c.path === "/api/orders/place")!;
    expect(place.body).toEqual({ paymentMethodId: "pm_card_mastercard" });
    expect(place.headers["Idempotency-Key"]).toMatch(/^[0-9a-f]{32}$/);
    expect(screen.getByText("Submitted", { selector: ".order-status .status" })).toBeTruthy();

    // The live feed pushes the rest of the saga.
    const socket = FakeSocket.all.at(-1)!;
    expect(socket.url).toContain("access_token=jwt-token");
    cart = { ...cart, items: [], totalPrice: 0 };
    act(() => {
      socket.open();
      for (const [seq, status] of [[1, "StockReserved"], [2, "PaymentAuthorized"], [3, "Confirmed"]] as const)
        socket.push({ type: "order.status", orderId: 9, status, reason: "", seq, at: "2026-11-24T10:00:01Z" });
    });
    await screen.findByText("Confirmed", { selector: ".order-status .status" });
    const steps = within(screen.getByRole("list", { name: "Status timeline" })).getAllByRole("listitem");
    expect(steps.map((s) => s.querySelector(".status")!.textContent)).toEqual([
      "Submitted", "Stock reserved", "Payment authorized", "Confirmed",
    ]);
    expect(screen.queryByRole("button", { name: "Cancel order" })).toBeNull();
    await screen.findByRole("link", { name: "Cart (0)" }); // the cart was reloaded after Confirmed
  });

  it("reloads the orders shown when the server says missed events are gone", async () => {
    const order = (state: string) => ({
      id: 7, userId: "u-1", orderDate: "2026-11-24T10:00:00Z", totalAmount: 40, status: state === "Confirmed" ? "Completed" : "Pending",
      state, reason: "", items: [{ productId: 1, quantity: 1, unitPrice: 40, productName: "Brass Lamp" }],
      timeline: [{ status: state, reason: "", at: "2026-11-24T10:00:00Z" }],
    });
    let current = order("Submitted");
    const calls = fakeFetch({
      "POST /api/auth/refresh": loggedIn,
      "GET /api/cart": () => [200, { userId: "u-1", items: [], totalPrice: 0 }],
      "GET /api/orders/history": () => [200, [current]],
    });
    visit("/orders");
    const badge = () => document.querySelector(".orders h2 .status")?.textContent;
    await waitFor(() => expect(badge()).toBe("Submitted"));
    const loads = () => calls.filter((c) => c.path === "/api/orders/history").length;
    expect(loads()).toBe(1);
    const socket = FakeSocket.all.at(-1)!;
    current = order("Confirmed"); // confirmed while the events of it were pruned
    act(() => {
      socket.open();
      socket.push({ type: "reset", seq: 50 });
    });
    await waitFor(() => expect(badge()).toBe("Confirmed"));
    expect(loads()).toBe(2);
  });

  it("explains a refused quantity and keeps the old one", async () => {
    const cart = { userId: "u-1", items: [{ productId: 1, quantity: 1, priceAtAddition: 40, productName: "Brass Lamp", lineTotal: 40 }], totalPrice: 40 };
    fakeFetch({
      "POST /api/auth/refresh": loggedIn,
      "GET /api/cart": () => [200, cart],
      "PUT /api/cart/items/1": () => [409, { message: "only 3 in stock", code: "insufficient_stock", available: 3 }],
      "GET /api/payments/config": testProvider,
    });
    visit("/cart");
    const user = userEvent.setup();
    const qty = await screen.findByLabelText("Quantity of Brass Lamp");
    await user.clear(qty);
    await user.type(qty, "5{Enter}");
    expect((await screen.findByRole("alert")).textContent).toBe("only 3 in stock");
    expect((qty as HTMLInputElement).value).toBe("1");
  });
});

describe("paying by card with Stripe's card form", () => {
  const cart = { userId: "u-1", items: [{ productId: 1, quantity: 1, priceAtAddition: 40, productName: "Brass Lamp", lineTotal: 40 }], totalPrice: 40 };

  /** A stand-in for Stripe.js: one card element, and the answers its
   * createPaymentMethod gives, in order. */
  function fakeStripeJs(results: PaymentMethodResult[]) {
    const seen = {
      keys: [] as string[], mounted: null as HTMLElement | null, created: 0, change: (_: CardChange) => {},
      actions: [] as string[], nextAction: { paymentIntent: { id: "pi_1", status: "succeeded" } } as NextActionResult,
    };
    const card: CardElement = {
      mount: (el) => { seen.mounted = el; },
      destroy: () => {},
      on: ((event: string, handler: (e: CardChange) => void) => { if (event === "change") seen.change = handler; }) as CardElement["on"],
    };
    window.Stripe = (key: string) => {
      seen.keys.push(key);
      return {
        elements: () => ({ create: () => card }),
        createPaymentMethod: async (data) => {
          expect(data).toEqual({ type: "card", card });
          seen.created++;
          return results.shift() ?? { error: { message: "no more answers" } };
        },
        handleNextAction: async ({ clientSecret }) => {
          seen.actions.push(clientSecret);
          return seen.nextAction;
        },
      };
    };
    return seen;
  }

  afterEach(() => { delete window.Stripe; });

  it("turns the card into a PaymentMethod with the shop's key and places the order with it", async () => {
    const stripe = fakeStripeJs([
      { error: { message: "Your card number is incomplete.", code: "incomplete_number" } },
      { paymentMethod: { id: "pm_1PqRsTuVwXyZ" } },
    ]);
    const calls = fakeFetch({
      "POST /api/auth/refresh": loggedIn,
      "GET /api/cart": () => [200, cart],
      "GET /api/payments/config": () => [200, { provider: "stripe", livemode: false, publishableKey: "pk_test_51Shop" }],
      "POST /api/orders/place": () => [200, { message: "Order placed", orderId: 9, status: "Submitted", totalAmount: 40, priceChanges: [] }],
      "GET /api/orders/9": () => [200, { id: 9, userId: "u-1", orderDate: "2026-11-24T10:00:00Z", totalAmount: 40, status: "Pending", state: "Submitted", reason: "", paymentMethodId: "pm_1PqRsTuVwXyZ", items: [], timeline: [] }],
    });
    visit("/cart");
    await screen.findByRole("group", { name: "Card" });
    await waitFor(() => expect(stripe.mounted).toBe(screen.getByTestId("card-element")));
    expect(stripe.keys).toEqual(["pk_test_51Shop"]);
    expect(screen.queryByLabelText(/Visa/)).toBeNull(); // no test cards beside the real form
    expect(screen.getByText(/never reach this shop/)).toBeTruthy();

    // Stripe's live validation is shown as the shopper types.
    act(() => stripe.change({ complete: false, error: { message: "Your card's expiration year is in the past." } }));
    expect((await screen.findByRole("alert")).textContent).toBe("Your card's expiration year is in the past.");
    act(() => stripe.change({ complete: true }));
    await waitFor(() => expect(screen.queryByRole("alert")).toBeNull());

    const user = userEvent.setup();
    const place = screen.getByRole("button", { name: /Place order/ });
    await waitFor(() => expect((place as HTMLButtonElement).disabled).toBe(false));
    await user.click(place);
    // Stripe refused the card: its message, and no order was asked for.
    expect((await screen.findByRole("alert")).textContent).toBe("Your card number is incomplete.");
    expect(calls.filter((c) => c.path === "/api/orders/place")).toHaveLength(0);

    await user.click(place);
    await screen.findByRole("heading", { name: "Order #9" });
    const placed = calls.filter((c) => c.path === "/api/orders/place");
    expect(placed).toHaveLength(1);
    expect(placed[0].body).toEqual({ paymentMethodId: "pm_1PqRsTuVwXyZ" });
    expect(stripe.created).toBe(2);
  });

  it("retries after a network error with the same PaymentMethod and Idempotency-Key", async () => {
    const stripe = fakeStripeJs([{ paymentMethod: { id: "pm_1First" } }, { paymentMethod: { id: "pm_1Second" } }]);
    let attempts = 0;
    const calls = fakeFetch({
      "POST /api/auth/refresh": loggedIn,
      "GET /api/cart": () => [200, cart],
      "GET /api/payments/config": () => [200, { provider: "stripe", livemode: true, publishableKey: "pk_live_51Shop" }],
      "POST /api/orders/place": () => {
        if (++attempts === 1) throw new TypeError("Failed to fetch"); // the answer was lost
        return [200, { message: "Order placed", orderId: 9, status: "Submitted", totalAmount: 40, priceChanges: [] }];
      },
      "GET /api/orders/9": () => [200, { id: 9, userId: "u-1", orderDate: "2026-11-24T10:00:00Z", totalAmount: 40, status: "Pending", state: "Submitted", reason: "", paymentMethodId: "pm_1First", items: [], timeline: [] }],
    });
    visit("/cart");
    await screen.findByRole("group", { name: "Card" });
    expect(screen.getByText(/charged when the order is confirmed/)).toBeTruthy();
    const user = userEvent.setup();
    const place = screen.getByRole("button", { name: /Place order/ });
    await waitFor(() => expect((place as HTMLButtonElement).disabled).toBe(false));
    await user.click(place);
    expect((await screen.findByRole("alert")).textContent).toMatch(/cannot be reached/);
    await user.click(place);
    await screen.findByRole("heading", { name: "Order #9" });
    const placed = calls.filter((c) => c.path === "/api/orders/place");
    expect(placed.map((c) => c.body)).toEqual([{ paymentMethodId: "pm_1First" }, { paymentMethodId: "pm_1First" }]);
    expect(placed[1].headers["Idempotency-Key"]).toBe(placed[0].headers["Idempotency-Key"]);
    expect(stripe.created).toBe(1);
  });

  const waitingOrder = {
    id: 12, userId: "u-1", orderDate: "2026-11-24T10:00:00Z", totalAmount: 40, status: "Pending",
    state: "AuthenticationRequired", reason: "", paymentMethodId: "pm_1Card", items: [],
    timeline: [
      { status: "Submitted", reason: "", at: "2026-11-24T10:00:00Z" },
      { status: "StockReserved", reason: "", at: "2026-11-24T10:00:00Z" },
      { status: "AuthenticationRequired", reason: "", at: "2026-11-24T10:00:01Z" },
    ],
    paymentAction: { type: "authenticate", clientSecret: "pi_1_secret_abc" },
  };
  const stripeConfig: Route = () => [200, { provider: "stripe", livemode: false, publishableKey: "pk_test_51Shop" }];

  it("runs the card's 3-D Secure on the order page, then asks the shop how the payment stands", async () => {
    const stripe = fakeStripeJs([]);
    const calls = fakeFetch({
      "POST /api/auth/refresh": loggedIn,
      "GET /api/cart": () => [200, { userId: "u-1", items: [], totalPrice: 0 }],
      "GET /api/payments/config": stripeConfig,
      "GET /api/orders/12": () => [200, waitingOrder],
      "POST /api/orders/12/payment/check": () => [200, {
        ...waitingOrder, state: "PaymentAuthorized", paymentAction: undefined,
        timeline: [...waitingOrder.timeline, { status: "PaymentAuthorized", reason: "", at: "2026-11-24T10:00:09Z" }],
      }],
    });
    visit("/orders/12");
    await screen.findByText("Payment authorized", { selector: ".order-status .status" });
    expect(stripe.actions).toEqual(["pi_1_secret_abc"]);
    expect(stripe.keys).toEqual(["pk_test_51Shop"]);
    expect(calls.filter((c) => c.path === "/api/orders/12/payment/check")).toHaveLength(1);
    expect(screen.queryByRole("button", { name: /Confirm the payment/ })).toBeNull();
  });

  it("a 3-D Secure the holder did not finish can be tried again; a failed one ends the order", async () => {
    const stripe = fakeStripeJs([]);
    stripe.nextAction = { error: { message: "We are unable to authenticate your payment method.", code: "payment_intent_authentication_failure" } };
    let checks = 0;
    fakeFetch({
      "POST /api/auth/refresh": loggedIn,
      "GET /api/cart": () => [200, { userId: "u-1", items: [], totalPrice: 0 }],
      "GET /api/payments/config": stripeConfig,
      "GET /api/orders/12": () => [200, waitingOrder],
      "POST /api/orders/12/payment/check": () =>
        ++checks === 1
          ? [200, waitingOrder] // Stripe still waits: the holder closed the page
          : [200, { ...waitingOrder, state: "Cancelled", status: "Cancelled", reason: "authentication_failed", paymentAction: undefined }],
    });
    visit("/orders/12");
    expect((await screen.findByRole("alert")).textContent).toBe("We are unable to authenticate your payment method.");
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: /Confirm the payment/ }));
    await screen.findByText("Cancelled", { selector: ".order-status .status" });
    expect(screen.getByTestId("cancel-reason").textContent).toMatch(/authentication \(3-D Secure\) did not pass/);
    expect(stripe.actions).toHaveLength(2);
  });

  it("a live shop without a card form says so and takes no order", async () => {
    fakeFetch({
      "POST /api/auth/refresh": loggedIn,
      "GET /api/cart": () => [200, cart],
      "GET /api/payments/config": () => [200, { provider: "stripe", livemode: true, publishableKey: null }],
    });
    visit("/cart");
    expect((await screen.findByRole("alert")).textContent).toMatch(/not available/);
    expect(screen.queryByLabelText(/Visa/)).toBeNull(); // test cards would only be declined
    expect((screen.getByRole("button", { name: /Place order/ }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("Stripe's test mode without a card form offers Stripe's test cards", async () => {
    fakeFetch({
      "POST /api/auth/refresh": loggedIn,
      "GET /api/cart": () => [200, cart],
      "GET /api/payments/config": () => [200, { provider: "stripe", livemode: false, publishableKey: null }],
    });
    visit("/cart");
    expect(await screen.findByLabelText(/Visa/)).toBeTruthy();
    expect(screen.getByText(/through Stripe in test mode/)).toBeTruthy();
  });
});

describe("accounts", () => {
  it("shows why a login failed", async () => {
    fakeFetch({
      "POST /api/auth/refresh": loggedOut,
      "POST /api/auth/login": () => [401, { message: "Invalid credentials", code: "unauthenticated" }],
    });
    visit("/login");
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Email"), "ann@example.com");
    await user.type(screen.getByLabelText("Password"), "wrong-pass");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Invalid credentials");
  });

  it("checks the password confirmation before asking the server", async () => {
    const calls = fakeFetch({ "POST /api/auth/refresh": loggedOut });
    visit("/register");
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Email"), "ann@example.com");
    await user.type(screen.getByLabelText("Password"), "secret-1");
    await user.type(screen.getByLabelText("Confirm password"), "secret-2");
    await user.click(screen.getByRole("button", { name: "Create account" }));
    expect((await screen.findByRole("alert")).textContent).toBe("The two passwords do not match.");
    expect(calls.filter((c) => c.path === "/api/auth/register")).toEqual([]);
  });

  it("sends visitors of private pages to the login and keeps admins' pages for admins", async () => {
    fakeFetch({ "POST /api/auth/refresh": loggedOut });
    visit("/orders");
    await screen.findByRole("heading", { name: "Log in" });
    expect(window.location.pathname).toBe("/login");
  });

  it("refuses the admin page to a customer", async () => {
    fakeFetch({ "POST /api/auth/refresh": loggedIn, "GET /api/cart": () => [200, { userId: "u-1", items: [], totalPrice: 0 }], "GET /api/products": () => [200, []] });
    visit("/admin");
    expect((await screen.findByRole("alert")).textContent).toBe("This page is for admin accounts.");
    expect(screen.queryByRole("link", { name: "Admin" })).toBeNull();
  });
});

describe("admin", () => {
  const adminSession: Route = () => [200, { ...session, role: "admin", email: "boss@example.com" }];

  it("creates a product with its stock and deletes one after confirmation", async () => {
    let list = [...products];
    const calls = fakeFetch({
      "POST /api/auth/refresh": adminSession,
      "GET /api/cart": () => [200, { userId: "u-1", items: [], totalPrice: 0 }],
      "GET /api/products": () => [200, list, { "X-Total-Count": String(list.length) }],
      "POST /api/products": ({ body }) => {
        const p = { id: 4, ...(body as object) } as (typeof products)[number];
        list = [...list, p];
        return [201, p];
      },
      "DELETE /api/products/2": () => {
        list = list.filter((p) => p.id !== 2);
        return [200, { message: "Product deleted" }];
      },
    });
    visit("/admin");
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "New product" }));
    const form = screen.getByRole("form", { name: "New product" });
    await user.type(within(form).getByLabelText("Name"), "Copper Kettle");
    await user.type(within(form).getByLabelText("Price"), "12.345");
    await user.click(within(form).getByRole("button", { name: "Save" }));
    expect(within(form).getByRole("alert").textContent).toBe("Price has at most two decimals.");
    expect(calls.filter((c) => c.method === "POST" && c.path === "/api/products")).toEqual([]);

    await user.clear(within(form).getByLabelText("Price"));
    await user.type(within(form).getByLabelText("Price"), "12.5");
    await user.type(within(form).getByLabelText("Category"), "Kitchen");
    await user.clear(within(form).getByLabelText("Stock on hand"));
    await user.type(within(form).getByLabelText("Stock on hand"), "7");
    await user.click(within(form).getByRole("button", { name: "Save" }));
    await screen.findByRole("cell", { name: "Copper Kettle" });
    expect(calls.find((c) => c.method === "POST" && c.path === "/api/products")!.body).toEqual({
      name: "Copper Kettle", description: "", price: 12.5, category: "Kitchen", stockQuantity: 7,
    });

    window.confirm = () => true;
    await user.click(screen.getByRole("button", { name: "Delete Oak Desk" }));
    await waitFor(() => expect(screen.queryByRole("cell", { name: "Oak Desk" })).toBeNull());
  });
});

describe("session timing", () => {
  it("refreshes a minute before expiry, never sooner than 5 s", async () => {
    const { refreshDelay } = await import("./auth/session");
    expect(refreshDelay(1_000_000, 100_000)).toBe(840_000);
    expect(refreshDelay(1_000_000, 990_000)).toBe(5_000);
  });
});

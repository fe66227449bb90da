import { describe, expect, it } from "vitest";
import { formatMoney, isFinal, reasonText, stateLabel, stockLabel } from "./format";
import { applyEvent } from "./orders/applyEvent";
import type { Order } from "./api/types";

describe("wording", () => {
  it("words stock levels", () => {
    expect(stockLabel(0)).toEqual({ text: "Out of stock", tone: "out" });
    expect(stockLabel(-2).tone).toBe("out");
    expect(stockLabel(3)).toEqual({ text: "Only 3 left", tone: "low" });
    expect(stockLabel(9).text).toBe("Only 9 left");
    expect(stockLabel(10)).toEqual({ text: "In stock", tone: "ok" });
  });
  it("formats money, states and reasons", () => {
    expect(formatMoney(1234.5)).toBe("$1,234.50");
    expect(stateLabel("PaymentAuthorized")).toBe("Payment authorized");
    expect(stateLabel("Weird")).toBe("Weird");
    expect(reasonText("insufficient_funds")).toBe("the card has insufficient funds");
    // A reported card reads as a plain decline (Stripe's advice).
    for (const code of ["stolen_card", "lost_card", "fraudulent"]) expect(reasonText(code)).toBe("the card was declined");
    expect(reasonText("authentication_required")).toMatch(/3-D Secure/);
    expect(reasonText("cart_changed")).toBe("its items were no longer in the cart (another order took them)");
    expect(reasonText("something_new")).toBe("something new");
    expect(reasonText("")).toBe("");
    expect(isFinal("Cancelled")).toBe(true);
    expect(isFinal("StockReserved")).toBe(false);
  });
});

describe("applyEvent", () => {
  const order: Order = {
    id: 7, userId: "u", orderDate: "", totalAmount: 10, status: "Pending", state: "Submitted", reason: "",
    paymentMethodId: "pm_card_visa", items: [], timeline: [{ status: "Submitted", reason: "", at: "t0" }],
  };
  const ev = (status: Order["state"], reason = "", orderId = 7) =>
    ({ type: "order.status" as const, orderId, status, reason, seq: 1, at: "t1" });

  it("moves the order forward and records the step", () => {
    const o = applyEvent(applyEvent(order, ev("StockReserved")), ev("Cancelled", "card_declined"));
    expect(o.state).toBe("Cancelled");
    expect(o.status).toBe("Cancelled");
    expect(o.reason).toBe("card_declined");
    expect(o.timeline.map((t) => t.status)).toEqual(["Submitted", "StockReserved", "Cancelled"]);
  });
  it("ignores other orders, repeats, and never reopens a finished order", () => {
    expect(applyEvent(order, ev("Confirmed", "", 8))).toBe(order);
    expect(applyEvent(order, ev("Submitted"))).toBe(order);
    const done = applyEvent(order, ev("Confirmed"));
    expect(done.status).toBe("Completed");
    const late = applyEvent(done, ev("PaymentAuthorized"));
    expect(late.state).toBe("Confirmed");
    expect(late.timeline).toHaveLength(3);
  });
});

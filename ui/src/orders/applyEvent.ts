// Folds a pushed status change into an order already on screen.
import type { Order, OrderEvent } from "../api/types";

const seedName = (state: string) =>
  state === "Confirmed" ? "Completed" : state === "Cancelled" ? "Cancelled" : "Pending";

export function applyEvent(order: Order, e: OrderEvent): Order {
  if (e.orderId !== order.id) return order;
  if (order.timeline.some((t) => t.status === e.status)) return order; // seen (each state happens once)
  const final = order.state === "Confirmed" || order.state === "Cancelled";
  const timeline = [...order.timeline, { status: e.status, reason: e.reason, at: e.at }];
  if (final) return { ...order, timeline }; // a late event never reopens a finished order
  return { ...order, state: e.status, status: seedName(e.status), reason: e.reason, timeline };
}

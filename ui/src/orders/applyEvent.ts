// Folds a pushed status change into an order already on screen.
import { useEffect, useState } from "react";
import type { Order, OrderEvent } from "../api/types";
import { useLive } from "../live/LiveProvider";

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

/** Every status change pushed since the page opened (for order `id`, or
 *  all); after a reset, since the reload it triggers. */
export function useOrderEvents(id?: number): OrderEvent[] {
  const live = useLive();
  const [events, setEvents] = useState<OrderEvent[]>([]);
  useEffect(() => {
    setEvents([]);
  }, [id, live.resets]);
  useEffect(
    () => live.subscribe((e) => (id === undefined || e.orderId === id) && setEvents((list) => [...list, e])),
    [live, id],
  );
  return events;
}

/** The order as loaded, with every later pushed change folded in: an
 *  answer older than an event is corrected, a newer one is left alone. */
export function withEvents(order: Order, events: OrderEvent[]): Order {
  return events.reduce(applyEvent, order);
}

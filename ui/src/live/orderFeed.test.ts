import { describe, expect, it } from "vitest";
import { backoffMs, OrderFeed, socketUrl } from "./orderFeed";
import type { OrderEvent } from "../api/types";
import { FakeSocket } from "../test/fakeServer";

function harness(token: string | null = "t1") {
  const sockets: FakeSocket[] = [];
  const timers: { fn: () => void; ms: number }[] = [];
  let current = token;
  const feed = new OrderFeed({
    url: (t) => `ws://shop.test/ws?access_token=${t}`,
    token: () => current,
    open: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    schedule: (fn, ms) => timers.push({ fn, ms }),
    cancel: () => undefined,
  });
  const events: OrderEvent[] = [];
  const states: string[] = [];
  feed.onEvent((e) => events.push(e));
  feed.onState((s) => states.push(s));
  return { feed, sockets, timers, events, states, setToken: (t: string | null) => (current = t) };
}

const event = (seq: number, status = "Confirmed", orderId = 7) => ({
  type: "order.status",
  orderId,
  status,
  reason: "",
  seq,
  at: "2026-11-24T10:00:00Z",
});

describe("OrderFeed", () => {
  it("delivers pushed status changes in order and ignores other messages", () => {
    const h = harness();
    h.feed.start();
    h.sockets[0].open();
    h.sockets[0].push({ type: "hello", userId: "u-1" });
    h.sockets[0].push(event(1, "Submitted"));
    h.sockets[0].push(event(2, "Confirmed"));
    h.sockets[0].onmessage?.(new MessageEvent("message", { data: "not json" }));
    expect(h.events.map((e) => [e.seq, e.status])).toEqual([
      [1, "Submitted"],
      [2, "Confirmed"],
    ]);
    expect(h.states).toEqual(["connecting", "live"]);
    expect(h.sockets[0].sent).toEqual([]); // nothing to resume on a first connection
  });

  it("reconnects after a drop with backoff and resumes from the last sequence number", () => {
    const h = harness();
    h.feed.start();
    h.sockets[0].open();
    h.sockets[0].push(event(4, "StockReserved"));
    h.setToken("t2"); // refreshed meanwhile: the new socket uses the new token
    h.sockets[0].drop();
    expect(h.feed.state).toBe("reconnecting");
    expect(h.timers.map((t) => t.ms)).toEqual([500]);
    h.timers[0].fn();
    expect(h.sockets[1].url).toContain("access_token=t2");
    h.sockets[1].drop(); // refused again: the wait doubles
    expect(h.timers.map((t) => t.ms)).toEqual([500, 1000]);
    h.timers[1].fn();
    h.sockets[2].open();
    expect(h.sockets[2].sent).toEqual([JSON.stringify({ resume: 4 })]);
    // The replay may overlap what was already seen: duplicates are dropped.
    h.sockets[2].push(event(4, "StockReserved"));
    h.sockets[2].push(event(5, "PaymentAuthorized"));
    h.sockets[2].push(event(6, "Confirmed"));
    expect(h.events.map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(h.feed.state).toBe("live");
  });

  it("a reset from the server tells listeners to reload and moves past the pruned events", () => {
    const h = harness();
    let resets = 0;
    h.feed.onReset(() => resets++);
    h.feed.start();
    h.sockets[0].open();
    h.sockets[0].push(event(3, "Submitted"));
    h.sockets[0].drop();
    h.timers[0].fn();
    h.sockets[1].open();
    expect(h.sockets[1].sent).toEqual([JSON.stringify({ resume: 3 })]);
    h.sockets[1].push({ type: "reset", seq: 40 }); // events 4..39 were pruned
    expect(resets).toBe(1);
    h.sockets[1].push(event(39, "Confirmed")); // at or before the reset point: in the reload
    h.sockets[1].push(event(41, "Submitted"));
    expect(h.events.map((e) => e.seq)).toEqual([3, 41]);
    h.sockets[1].push({ type: "reset", seq: "x" }); // malformed: ignored
    expect(resets).toBe(1);
    h.sockets[1].drop();
    h.timers[1].fn();
    h.sockets[2].open();
    expect(h.sockets[2].sent).toEqual([JSON.stringify({ resume: 41 })]);
  });

  it("stops for good: no reconnect after stop, and late messages are ignored", () => {
    const h = harness();
    h.feed.start();
    h.sockets[0].open();
    h.feed.stop();
    expect(h.sockets[0].closed).toBe(true);
    h.sockets[0].drop();
    h.sockets[0].push(event(1));
    expect(h.timers).toEqual([]);
    expect(h.events).toEqual([]);
    expect(h.feed.state).toBe("offline");
  });

  it("stays offline without a token", () => {
    const h = harness(null);
    h.feed.start();
    expect(h.sockets).toEqual([]);
    expect(h.feed.state).toBe("offline");
  });

  it("caps the backoff at 10 s and builds ws/wss URLs from the page's scheme", () => {
    expect([0, 1, 2, 3, 4, 5, 9].map(backoffMs)).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000]);
    expect(socketUrl({ protocol: "https:", host: "shop.example" }, "a b")).toBe("wss://shop.example/ws?access_token=a%20b");
    expect(socketUrl({ protocol: "http:", host: "127.0.0.1:8080" }, "x")).toBe("ws://127.0.0.1:8080/ws?access_token=x");
  });
});

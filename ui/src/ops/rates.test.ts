import { describe, expect, it } from "vitest";
import type { ClusterStats, NodeStats } from "../api/types";
import { bucketDelta, busiestRoutes, quantile, sampleBetween } from "./rates";

const bounds = [0.01, 0.1, 1];

function node(name: string, confirmed: number, placeRequests: number, placeBuckets: number[], extra: Partial<NodeStats> = {}): NodeStats {
  return {
    node: name, reachable: true, at: 0, breaker: "closed", shardsOwned: 4, entitiesResident: 10,
    orders: { placed: confirmed, confirmed, cancelled: 0, cancelledByReason: {} },
    commit: { count: 4, sum: 0.02, bounds, buckets: [4, 0, 0, 0] },
    routes: [{ route: "/api/orders/place", requests: placeRequests, serverErrors: 0,
      duration: { count: placeBuckets.reduce((a, b) => a + b, 0), sum: 1, bounds, buckets: placeBuckets } }],
    ...extra,
  };
}

describe("quantile", () => {
  it("interpolates inside the bucket that holds the rank", () => {
    expect(quantile(0.5, bounds, [0, 10, 0, 0])).toBeCloseTo(0.055); // middle of 0.01..0.1
    expect(quantile(0.99, bounds, [99, 1, 0, 0])).toBeCloseTo(0.01);
    expect(quantile(0.99, bounds, [0, 0, 0, 5])).toBe(1); // +Inf: the highest finite bound
    expect(quantile(0.99, bounds, [0, 0, 0, 0])).toBeNull();
  });
});

describe("bucketDelta", () => {
  it("subtracts, and starts over when a node restarted", () => {
    const prev = { count: 3, sum: 1, bounds, buckets: [1, 2, 0, 0] };
    expect(bucketDelta(prev, { count: 5, sum: 2, bounds, buckets: [2, 3, 0, 0] })).toEqual([1, 1, 0, 0]);
    expect(bucketDelta(prev, { count: 1, sum: 0.1, bounds, buckets: [0, 1, 0, 0] })).toEqual([0, 1, 0, 0]);
    expect(bucketDelta(undefined, null)).toEqual([]);
  });
});

describe("sampleBetween", () => {
  it("sums rates over the members and computes p99 from the interval's observations", () => {
    const prev: ClusterStats = { at: 10_000, nodes: [node("a", 10, 10, [10, 0, 0, 0]), node("b", 0, 0, [0, 0, 0, 0])] };
    const cur: ClusterStats = { at: 12_000, nodes: [node("a", 14, 14, [10, 4, 0, 0]), node("b", 6, 6, [0, 6, 0, 0], { breaker: "open" })] };
    const s = sampleBetween(prev, cur);
    expect(s.t).toBe(12);
    expect(s.confirmedPerSec).toBe(5); // (4 + 6) / 2 s
    expect(s.requestsPerSec).toBe(5);
    expect(s.routeRate["/api/orders/place"]).toBe(5);
    // The 10 fast requests before the interval do not count: all 10 new ones were 10-100 ms.
    expect(s.routeP99Ms["/api/orders/place"]).toBeGreaterThan(10);
    expect(s.nodes.map((n) => [n.node, n.breaker])).toEqual([["a", "closed"], ["b", "open"]]);
    expect(s.nodes[0].commitP99Ms).toBeNull(); // no commits in the interval
  });

  it("lists an unreachable member without figures and counts a restarted one from zero", () => {
    const prev: ClusterStats = { at: 0, nodes: [node("a", 50, 50, [50, 0, 0, 0])] };
    const cur: ClusterStats = { at: 1000, nodes: [node("a", 3, 3, [3, 0, 0, 0]), { node: "b", reachable: false, at: 0 }] };
    const s = sampleBetween(prev, cur);
    expect(s.confirmedPerSec).toBe(3);
    expect(s.nodes[1]).toMatchObject({ node: "b", reachable: false });
    expect(busiestRoutes([s], 5)).toEqual(["/api/orders/place"]);
  });
});

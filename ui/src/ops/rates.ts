// Turns two polls of GET /api/admin/stats (cumulative figures) into what
// the operations page charts: rates per second and p99s over the interval
// between them, as Prometheus's rate() and histogram_quantile() would.
import type { ClusterStats, Histogram, NodeStats } from "../api/types";

/** The q-quantile of the observations in `buckets` (per bucket, +Inf last),
 * interpolated linearly inside its bucket; null without observations. An
 * answer in the +Inf bucket is the highest finite bound. */
export function quantile(q: number, bounds: number[], buckets: number[]): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    if (seen + buckets[i] >= rank && buckets[i] > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1] ?? null;
      const lower = i === 0 ? 0 : bounds[i - 1];
      return lower + (bounds[i] - lower) * ((rank - seen) / buckets[i]);
    }
    seen += buckets[i];
  }
  return bounds[bounds.length - 1] ?? null;
}

/** `cur - prev` per bucket; a restarted node (counts went down) counts from zero. */
export function bucketDelta(prev: Histogram | null | undefined, cur: Histogram | null | undefined): number[] {
  if (!cur) return [];
  if (!prev || prev.buckets.length !== cur.buckets.length || prev.count > cur.count) return [...cur.buckets];
  return cur.buckets.map((b, i) => Math.max(0, b - prev.buckets[i]));
}

/** An increase per second; a counter that went down (the node restarted) counts from zero. */
function perSecond(prev: number | undefined, cur: number | undefined, seconds: number): number {
  if (cur === undefined || seconds <= 0) return 0;
  const increase = prev === undefined || cur < prev ? cur : cur - prev;
  return increase / seconds;
}

export interface NodeSample {
  node: string;
  reachable: boolean;
  breaker: string;
  shardsOwned: number;
  entitiesResident: number;
  commitP99Ms: number | null;
}

/** One point of every chart: the interval ending at `t` (seconds since the epoch). */
export interface Sample {
  t: number;
  confirmedPerSec: number;
  cancelledPerSec: number;
  requestsPerSec: number;
  serverErrorsPerSec: number;
  routeRate: Record<string, number>;
  routeP99Ms: Record<string, number | null>;
  nodes: NodeSample[];
}

function byNode(stats: ClusterStats): Map<string, NodeStats> {
  return new Map(stats.nodes.map((n) => [n.node, n]));
}

/** The figures of the interval from `prev` to `cur` (both cluster-wide). */
export function sampleBetween(prev: ClusterStats, cur: ClusterStats): Sample {
  const seconds = (cur.at - prev.at) / 1000;
  const before = byNode(prev);
  const s: Sample = {
    t: cur.at / 1000, confirmedPerSec: 0, cancelledPerSec: 0, requestsPerSec: 0, serverErrorsPerSec: 0,
    routeRate: {}, routeP99Ms: {}, nodes: [],
  };
  const routeBuckets: Record<string, { bounds: number[]; buckets: number[] }> = {};
  for (const n of cur.nodes) {
    const p = before.get(n.node);
    if (!n.reachable) {
      s.nodes.push({ node: n.node, reachable: false, breaker: "unknown", shardsOwned: 0, entitiesResident: 0, commitP99Ms: null });
      continue;
    }
    s.confirmedPerSec += perSecond(p?.orders?.confirmed, n.orders?.confirmed, seconds);
    s.cancelledPerSec += perSecond(p?.orders?.cancelled, n.orders?.cancelled, seconds);
    const prevRoutes = new Map((p?.routes ?? []).map((r) => [r.route, r]));
    for (const r of n.routes ?? []) {
      const pr = prevRoutes.get(r.route);
      const rate = perSecond(pr?.requests, r.requests, seconds);
      s.routeRate[r.route] = (s.routeRate[r.route] ?? 0) + rate;
      s.requestsPerSec += rate;
      s.serverErrorsPerSec += perSecond(pr?.serverErrors, r.serverErrors, seconds);
      if (!r.duration) continue;
      const delta = bucketDelta(pr?.duration, r.duration);
      const acc = (routeBuckets[r.route] ??= { bounds: r.duration.bounds, buckets: delta.map(() => 0) });
      if (acc.buckets.length === delta.length) delta.forEach((d, i) => (acc.buckets[i] += d));
    }
    const commit = quantile(0.99, n.commit?.bounds ?? [], bucketDelta(p?.commit, n.commit));
    s.nodes.push({
      node: n.node, reachable: true, breaker: n.breaker ?? "closed", shardsOwned: n.shardsOwned ?? 0,
      entitiesResident: n.entitiesResident ?? 0, commitP99Ms: commit === null ? null : commit * 1000,
    });
  }
  for (const [route, h] of Object.entries(routeBuckets)) {
    const q = quantile(0.99, h.bounds, h.buckets);
    s.routeP99Ms[route] = q === null ? null : q * 1000;
  }
  return s;
}

/** The routes with the most requests over `samples`, busiest first. */
export function busiestRoutes(samples: Sample[], limit: number): string[] {
  const totals: Record<string, number> = {};
  for (const s of samples) for (const [r, v] of Object.entries(s.routeRate)) totals[r] = (totals[r] ?? 0) + v;
  return Object.entries(totals)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([r]) => r);
}

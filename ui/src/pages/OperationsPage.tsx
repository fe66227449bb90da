// Admin: the operations page. Polls GET /api/admin/stats every 2 s (every
// member's registry, through this node) and charts the last 5 minutes:
// orders confirmed and cancelled per second, requests and 5xx per second,
// p99 by route, and per node its breaker, shards, resident entities and
// SQLite commit p99.
import { useEffect, useMemo, useRef, useState } from "react";
import { api } from "../api/client";
import type { ClusterStats } from "../api/types";
import { useAuth } from "../auth/session";
import { ErrorMessage, Loading } from "../components/common";
import { Chart } from "../ops/Chart";
import type { Series } from "../ops/Chart";
import { busiestRoutes, sampleBetween } from "../ops/rates";
import type { Sample } from "../ops/rates";

const everyMs = 2000;
const keep = 150; // 5 minutes of 2 s intervals

function series(samples: Sample[], label: string, pick: (s: Sample) => number | null): Series {
  return { label, values: samples.map(pick) };
}

export function OperationsPage() {
  const { withToken, isAdmin } = useAuth();
  const [samples, setSamples] = useState<Sample[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [polls, setPolls] = useState(0);
  const last = useRef<ClusterStats | null>(null);

  useEffect(() => {
    if (!isAdmin) return;
    let stopped = false;
    const controller = new AbortController();
    const poll = async () => {
      try {
        const cur = await withToken((t) => api.stats(t, controller.signal));
        if (stopped) return;
        const prev = last.current;
        last.current = cur;
        if (prev && cur.at > prev.at) setSamples((old) => [...old, sampleBetween(prev, cur)].slice(-keep));
        setPolls((n) => n + 1);
        setError(null);
      } catch (e) {
        if (!stopped && !(e instanceof DOMException && e.name === "AbortError")) setError(e);
      }
    };
    void poll();
    const timer = window.setInterval(() => void poll(), everyMs);
    return () => {
      stopped = true;
      window.clearInterval(timer);
      controller.abort();
    };
  }, [isAdmin, withToken]);

  const times = useMemo(() => samples.map((s) => s.t), [samples]);
  const routes = useMemo(() => busiestRoutes(samples, 5), [samples]);
  const charts = useMemo(() => ({
    orders: [
      series(samples, "Confirmed/s", (s) => s.confirmedPerSec),
      series(samples, "Cancelled/s", (s) => s.cancelledPerSec),
    ],
    requests: [
      series(samples, "All routes", (s) => s.requestsPerSec),
      series(samples, "5xx", (s) => s.serverErrorsPerSec),
      ...routes.map((r) => series(samples, r, (s) => s.routeRate[r] ?? 0)),
    ],
    p99: routes.map((r) => series(samples, r, (s) => s.routeP99Ms[r] ?? null)),
    commit: [...new Set(samples.flatMap((s) => s.nodes.map((n) => n.node)))].map((node) =>
      series(samples, node, (s) => s.nodes.find((n) => n.node === node)?.commitP99Ms ?? null)),
  }), [samples, routes]);

  if (!isAdmin) return <p role="alert" className="error">This page is for admin accounts.</p>;
  const now = samples[samples.length - 1];

  return (
    <section className="operations">
      <h1>Operations</h1>
      <p role="status">
        {polls === 0 ? "Loading figures…" : `Updated ${new Date((now?.t ?? Date.now() / 1000) * 1000).toLocaleTimeString()}, every 2 s`}
      </p>
      <ErrorMessage error={error} />
      {samples.length === 0 && !error && <Loading what="the first interval" />}
      {samples.length > 0 && (
        <>
          <Chart title="Orders" unit="per s" times={times} series={charts.orders} />
          <Chart title="Requests" unit="per s" times={times} series={charts.requests} />
          <Chart title="p99 latency by route" unit="ms" times={times} series={charts.p99} />
          <Chart title="SQLite commit p99 by node" unit="ms" times={times} series={charts.commit} />
          <h2>Nodes</h2>
          <table className="admin" aria-label="Nodes">
            <thead>
              <tr><th scope="col">Node</th><th scope="col">State</th><th scope="col">Payment breaker</th><th scope="col">Shards</th><th scope="col">Resident entities</th><th scope="col">Commit p99</th></tr>
            </thead>
            <tbody>
              {now.nodes.map((n) => (
                <tr key={n.node}>
                  <td data-label="Node">{n.node}</td>
                  <td data-label="State">{n.reachable ? "up" : "not answering"}</td>
                  <td data-label="Payment breaker">{n.reachable ? n.breaker.replace("_", "-") : "–"}</td>
                  <td data-label="Shards">{n.reachable ? n.shardsOwned : "–"}</td>
                  <td data-label="Resident entities">{n.reachable ? n.entitiesResident : "–"}</td>
                  <td data-label="Commit p99">{n.commitP99Ms === null ? "–" : `${n.commitP99Ms.toFixed(1)} ms`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

// Order history, newest first, each with its status timeline; statuses of
// orders still running update live.
import { Link } from "react-router";
import { api } from "../api/client";
import { useAuth } from "../auth/session";
import { ErrorMessage, Loading, StatusBadge, Timeline } from "../components/common";
import { formatMoney, formatTime } from "../format";
import { useLoad } from "../hooks/useLoad";
import { useLive } from "../live/LiveProvider";
import { useOrderEvents, withEvents } from "../orders/applyEvent";

export function OrdersPage() {
  const { withToken } = useAuth();
  const { resets } = useLive(); // missed events are gone: load afresh
  const orders = useLoad(() => withToken((t) => api.orders(t)), [withToken, resets]);
  const events = useOrderEvents();

  return (
    <section>
      <h1>Your orders</h1>
      <ErrorMessage error={orders.error} />
      {orders.loading && !orders.value && <Loading what="your orders" />}
      {orders.value?.length === 0 && <p>No orders yet.</p>}
      <ul className="orders">
        {orders.value?.map((loaded) => withEvents(loaded, events)).map((o) => (
          <li key={o.id} className="card">
            <h2>
              <Link to={`/orders/${o.id}`}>Order #{o.id}</Link> <StatusBadge state={o.state} />
            </h2>
            <p>
              {formatTime(o.orderDate)} · {o.items.reduce((n, l) => n + l.quantity, 0)} items ·{" "}
              {formatMoney(o.totalAmount)}
            </p>
            <details>
              <summary>Timeline</summary>
              <Timeline entries={o.timeline} />
            </details>
          </li>
        ))}
      </ul>
    </section>
  );
}

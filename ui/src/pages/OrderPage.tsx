// One order, its status changing live as the saga moves.
import { Link, useLocation, useParams } from "react-router";
import { api } from "../api/client";
import type { PriceChange } from "../api/types";
import { useAuth } from "../auth/session";
import { ErrorMessage, Loading, StatusBadge, Timeline } from "../components/common";
import { formatMoney, formatTime, isFinal, reasonText } from "../format";
import { useAction } from "../hooks/useAction";
import { useLoad } from "../hooks/useLoad";
import { useLive } from "../live/LiveProvider";
import { useOrderEvents, withEvents } from "../orders/applyEvent";

export function OrderPage() {
  const id = Number(useParams().id);
  const { withToken } = useAuth();
  const location = useLocation();
  const priceChanges = (location.state as { priceChanges?: PriceChange[] } | null)?.priceChanges ?? [];
  const { resets } = useLive(); // missed events are gone: load afresh
  const order = useLoad(() => withToken((t) => api.order(t, id)), [id, withToken, resets]);
  const { busy: cancelling, error: cancelError, run } = useAction();
  const { setValue } = order;
  const events = useOrderEvents(id);

  const cancel = () => run(async () => setValue(await withToken((t) => api.cancelOrder(t, id))));

  const o = order.value && withEvents(order.value, events);
  return (
    <section>
      <p>
        <Link to="/orders">← All orders</Link>
      </p>
      <ErrorMessage error={order.error} />
      {!o && order.loading && <Loading what="the order" />}
      {o && (
        <article className="order">
          <h1>Order #{o.id}</h1>
          <p className="order-status" aria-live="polite">
            Status: <StatusBadge state={o.state} />
            {o.state === "Cancelled" && o.reason && (
              <span className="reason" data-testid="cancel-reason"> because {reasonText(o.reason)}</span>
            )}
            {!isFinal(o.state) && <span className="hint"> (updates live)</span>}
          </p>
          {priceChanges.length > 0 && (
            <p className="notice" role="status">
              Some prices changed since you added the items; the order uses today's prices.
            </p>
          )}
          <p>
            Placed {formatTime(o.orderDate)} · paid with <code>{o.paymentMethodId}</code> · total{" "}
            <strong>{formatMoney(o.totalAmount)}</strong>
          </p>
          <ul>
            {o.items.map((l) => (
              <li key={l.productId}>
                {l.quantity} × {l.productName || `product ${l.productId}`} at {formatMoney(l.unitPrice)}
              </li>
            ))}
          </ul>
          <h2>Timeline</h2>
          <Timeline entries={o.timeline} />
          {!isFinal(o.state) && (
            <button type="button" className="secondary" disabled={cancelling} onClick={() => void cancel()}>
              {cancelling ? "Cancelling…" : "Cancel order"}
            </button>
          )}
          <ErrorMessage error={cancelError} />
        </article>
      )}
    </section>
  );
}

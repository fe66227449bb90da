// One order, its status changing live as the saga moves; a card that asks
// for 3-D Secure is authenticated here.
import { useEffect, useRef } from "react";
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
import { AuthenticatePayment } from "../payments/AuthenticatePayment";

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
  // The client secret comes with the order, not with the pushed event.
  // Asked for once: an answer without it is not asked again and again.
  const needsSecret = o?.state === "AuthenticationRequired" && !order.value?.paymentAction;
  const askedForSecret = useRef(false);
  const { loading, reload } = order;
  useEffect(() => {
    if (needsSecret && !loading && !askedForSecret.current) {
      askedForSecret.current = true;
      reload();
    }
  }, [needsSecret, loading, reload]);

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
          {o.state === "AuthenticationRequired" && o.paymentAction && (
            <AuthenticatePayment orderId={o.id} clientSecret={o.paymentAction.clientSecret} onChecked={setValue} />
          )}
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

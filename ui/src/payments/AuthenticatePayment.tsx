// A card that asks its holder to authenticate (3-D Secure): Stripe.js runs
// the bank's page with the intent's client secret, then the shop asks
// Stripe how the payment stands (POST /api/orders/{id}/payment/check) and
// the order goes on or ends. Starts by itself once; the button tries again.
import { useCallback, useEffect, useRef } from "react";
import { api } from "../api/client";
import type { Order } from "../api/types";
import { useAuth } from "../auth/session";
import { ErrorMessage } from "../components/common";
import { useAction } from "../hooks/useAction";
import { useLoad } from "../hooks/useLoad";
import { loadStripeJs } from "./stripeJs";

export function AuthenticatePayment({ orderId, clientSecret, onChecked }: {
  orderId: number;
  clientSecret: string;
  onChecked: (order: Order) => void;
}) {
  const { withToken } = useAuth();
  const config = useLoad(() => api.paymentConfig(), []);
  const { busy, error, run } = useAction();
  const started = useRef(false);
  const publishableKey = config.value?.publishableKey;

  const authenticate = useCallback(
    () =>
      run(async () => {
        if (!publishableKey) throw new Error("This shop cannot run the card's authentication here.");
        const stripe = (await loadStripeJs())(publishableKey);
        const result = await stripe.handleNextAction({ clientSecret });
        // Whatever the page said, Stripe's record decides.
        const order = await withToken((t) => api.checkPayment(t, orderId));
        onChecked(order);
        if (order.state === "AuthenticationRequired")
          throw new Error(result.error?.message ?? "The authentication is not finished yet.");
      }),
    [run, publishableKey, clientSecret, withToken, orderId, onChecked],
  );

  useEffect(() => {
    if (publishableKey && !started.current) {
      started.current = true;
      void authenticate();
    }
  }, [publishableKey, authenticate]);

  return (
    <div className="notice" role="status">
      <p>Your bank asks you to confirm this payment. Your items are held for you meanwhile.</p>
      <button type="button" disabled={busy || !publishableKey} onClick={() => void authenticate()}>
        {busy ? "Waiting for your bank…" : "Confirm the payment"}
      </button>
      <ErrorMessage error={error ?? config.error} />
    </div>
  );
}

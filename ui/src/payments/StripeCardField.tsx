// The card form: Stripe's own card element (its fields live in Stripe's
// frame, so the card number never reaches this page or this shop), and the
// PaymentMethod it turns into when the order is placed.
import { useEffect, useRef, useState } from "react";
import { loadStripeJs } from "./stripeJs";
import type { CardElement, StripeClient } from "./stripeJs";

/** Turns what the shopper typed into a PaymentMethod id, or throws an Error
 * with Stripe's message ("Your card number is incomplete."). */
export type MakePaymentMethod = () => Promise<string>;

export function StripeCardField({ publishableKey, onReady }: {
  publishableKey: string;
  onReady: (make: MakePaymentMethod | null) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const [problem, setProblem] = useState<string>("");
  const [loadError, setLoadError] = useState<string>("");

  useEffect(() => {
    let card: CardElement | null = null;
    let cancelled = false;
    loadStripeJs()
      .then((factory) => {
        if (cancelled || !host.current) return;
        const stripe: StripeClient = factory(publishableKey);
        card = stripe.elements().create("card", { hidePostalCode: true });
        card.on("change", (e) => setProblem(e.error?.message ?? ""));
        card.mount(host.current);
        const mounted = card;
        onReady(async () => {
          const result = await stripe.createPaymentMethod({ type: "card", card: mounted });
          if (result.paymentMethod) return result.paymentMethod.id;
          throw new Error(result.error?.message ?? "The card was not accepted.");
        });
      })
      .catch((e: unknown) => {
        if (!cancelled) setLoadError(e instanceof Error ? e.message : String(e));
      });
    return () => {
      cancelled = true;
      onReady(null);
      card?.destroy();
    };
  }, [publishableKey, onReady]);

  return (
    <div className="field">
      <span className="field-label" id="card-label">Card</span>
      <div ref={host} className="card-element" role="group" aria-labelledby="card-label" data-testid="card-element" />
      {problem && <p className="error" role="alert">{problem}</p>}
      {loadError && <p className="error" role="alert">{loadError}</p>}
    </div>
  );
}

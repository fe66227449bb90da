// The checkout's payment fields, as the shop is set up
// (GET /api/payments/config): Stripe's card form when it has a publishable
// key, Stripe's test cards when no real money can move, and a plain
// statement when a live shop has no card form.
import type { PaymentConfig } from "../api/types";
import { testCards } from "../format";
import { StripeCardField } from "./StripeCardField";
import type { MakePaymentMethod } from "./StripeCardField";

/** How the shopper pays in this shop. */
export type PaymentMode = "card-form" | "test-cards" | "unavailable";

export function paymentMode(config: PaymentConfig): PaymentMode {
  if (config.publishableKey) return "card-form";
  return config.livemode ? "unavailable" : "test-cards";
}

function testCardsHint(config: PaymentConfig): string {
  return config.provider === "stripe"
    ? "This shop pays through Stripe in test mode: no real money moves. Pick one of Stripe's test cards: the first two succeed, the others are declined with the reason shown."
    : "This shop runs the built-in test payment provider: no real money moves. The cards below behave like Stripe's test cards: the first two succeed, the others are declined with the reason shown.";
}

export function PaymentFields({ config, card, setCard, onCardForm }: {
  config: PaymentConfig;
  card: string;
  setCard: (id: string) => void;
  onCardForm: (make: MakePaymentMethod | null) => void;
}) {
  const mode = paymentMode(config);
  if (mode === "unavailable")
    return (
      <fieldset>
        <legend>Payment</legend>
        <p role="alert" className="error">Card payments are not available in this storefront right now.</p>
      </fieldset>
    );
  if (mode === "card-form")
    return (
      <fieldset>
        <legend>Pay by card</legend>
        <p className="hint">
          {config.livemode
            ? "Your card is charged when the order is confirmed."
            : "Stripe test mode: no real money moves. Card 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined; any future date and any CVC."}{" "}
          Card details go straight to Stripe and never reach this shop.
        </p>
        <StripeCardField publishableKey={config.publishableKey!} onReady={onCardForm} />
      </fieldset>
    );
  return (
    <fieldset>
      <legend>Pay with a test card</legend>
      <p className="hint">{testCardsHint(config)}</p>
      {testCards.map((c) => (
        <label key={c.id} className="radio">
          <input type="radio" name="card" value={c.id} checked={card === c.id} onChange={() => setCard(c.id)} />
          {c.label} <code>{c.id}</code>
        </label>
      ))}
    </fieldset>
  );
}

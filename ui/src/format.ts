// How the storefront words prices, stock, order states and reasons.
import type { OrderState } from "./api/types";

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export function formatMoney(amount: number): string {
  return money.format(amount);
}

/** "Only 3 left", "Out of stock" or "In stock" (low means fewer than 10). */
export function stockLabel(available: number): { text: string; tone: "out" | "low" | "ok" } {
  if (available <= 0) return { text: "Out of stock", tone: "out" };
  if (available < 10) return { text: `Only ${available} left`, tone: "low" };
  return { text: "In stock", tone: "ok" };
}

const stateLabels: Record<OrderState, string> = {
  Submitted: "Submitted",
  StockReserved: "Stock reserved",
  AuthenticationRequired: "Waiting for card authentication",
  PaymentAuthorized: "Payment authorized",
  Confirmed: "Confirmed",
  Cancelled: "Cancelled",
};

export function stateLabel(state: string): string {
  return stateLabels[state as OrderState] ?? state;
}

export function isFinal(state: string): boolean {
  return state === "Confirmed" || state === "Cancelled";
}

const reasons: Record<string, string> = {
  cart_changed: "its items were no longer in the cart (another order took them)",
  cart_unavailable: "the cart could not be reached",
  out_of_stock: "an item ran out of stock",
  card_declined: "the card was declined",
  insufficient_funds: "the card has insufficient funds",
  expired_card: "the card has expired",
  incorrect_cvc: "the card's security code was wrong",
  // Stripe asks that these be shown as a plain decline: telling a card
  // thief that the card is reported helps the thief, not the shop.
  lost_card: "the card was declined",
  stolen_card: "the card was declined",
  fraudulent: "the card was declined",
  pickup_card: "the card was declined",
  authentication_required: "the card needs authentication (3-D Secure), which this shop cannot ask for here; please try another card",
  authentication_failed: "the card's authentication (3-D Secure) did not pass",
  processing_error: "the card could not be processed; please try again",
  payment_rejected: "the payment provider refused the payment",
  invalid_payment_method: "the payment method is not valid",
  payment_timeout: "the payment did not complete in time",
  payment_unavailable: "the payment provider is unavailable",
  reservation_expired: "the stock reservation expired",
  cancelled_by_user: "you cancelled it",
};

/** A cancellation reason as a sentence fragment a person understands. */
export function reasonText(reason: string): string {
  if (!reason) return "";
  return reasons[reason] ?? reason.replace(/_/g, " ");
}

/** The built-in provider's test cards (see the README's payment section). */
export const testCards = [
  { id: "pm_card_visa", label: "Visa (succeeds)" },
  { id: "pm_card_mastercard", label: "Mastercard (succeeds)" },
  { id: "pm_card_chargeDeclined", label: "Declined card" },
  { id: "pm_card_chargeDeclinedInsufficientFunds", label: "Declined: insufficient funds" },
  { id: "pm_card_chargeDeclinedExpiredCard", label: "Declined: expired card" },
] as const;

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

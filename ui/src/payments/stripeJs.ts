// Stripe.js, loaded from js.stripe.com when the cart page needs the card
// form (Stripe asks that it never be bundled or self-hosted: it must be the
// script Stripe serves today). Only the few calls the card form makes are
// typed here; the page's content security policy allows this one origin.

export const stripeJsUrl = "https://js.stripe.com/v3/";

export interface CardChange {
  complete: boolean;
  empty?: boolean;
  error?: { message: string };
}

export interface CardElement {
  mount(target: HTMLElement): void;
  destroy(): void;
  on(event: "change", handler: (e: CardChange) => void): void;
  on(event: "ready", handler: () => void): void;
}

export interface StripeElements {
  create(type: "card", options?: Record<string, unknown>): CardElement;
}

export interface PaymentMethodResult {
  paymentMethod?: { id: string };
  error?: { message?: string; code?: string };
}

export interface NextActionResult {
  paymentIntent?: { id: string; status: string };
  error?: { message?: string; code?: string };
}

export interface StripeClient {
  elements(options?: Record<string, unknown>): StripeElements;
  createPaymentMethod(data: { type: "card"; card: CardElement }): Promise<PaymentMethodResult>;
  /** Runs what the intent waits for (3-D Secure: the bank's page, in Stripe's frame). */
  handleNextAction(options: { clientSecret: string }): Promise<NextActionResult>;
}

type StripeFactory = (publishableKey: string) => StripeClient;

declare global {
  interface Window {
    Stripe?: StripeFactory;
  }
}

let loading: Promise<StripeFactory> | null = null;

/** Stripe.js's factory: the page's script element is added once; a failed
 * load may be tried again (the next call adds a fresh element). */
export function loadStripeJs(): Promise<StripeFactory> {
  if (window.Stripe) return Promise.resolve(window.Stripe);
  if (loading) return loading;
  loading = new Promise<StripeFactory>((resolve, reject) => {
    const script = document.createElement("script");
    script.src = stripeJsUrl;
    script.async = true;
    script.onload = () =>
      window.Stripe ? resolve(window.Stripe) : reject(new Error("Stripe.js loaded but did not start."));
    script.onerror = () => {
      script.remove();
      reject(new Error("The card form could not be loaded from Stripe. Check your connection and reload the page."));
    };
    document.head.appendChild(script);
  }).catch((e: unknown) => {
    loading = null;
    throw e;
  });
  return loading;
}

// The cart: change quantities, remove lines, clear; then check out with a
// card (Stripe's card form) or one of the test cards, as the shop is set up.
import { useCallback, useEffect, useRef, useState } from "react";
import type { FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { api, ApiError } from "../api/client";
import { useAuth } from "../auth/session";
import { useCart } from "../cart/CartProvider";
import { ErrorMessage, Loading } from "../components/common";
import { formatMoney, testCards } from "../format";
import { useAction } from "../hooks/useAction";
import { useLoad } from "../hooks/useLoad";
import { PaymentFields, paymentMode } from "../payments/PaymentFields";
import type { MakePaymentMethod } from "../payments/StripeCardField";

/** A fresh Idempotency-Key (works outside secure contexts too). */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function QuantityInput({ productId, name, quantity }: { productId: number; name: string; quantity: number }) {
  const { setQuantity } = useCart();
  const [value, setValue] = useState(String(quantity));
  const [error, setError] = useState<unknown>(null);
  useEffect(() => setValue(String(quantity)), [quantity]);
  const commit = async () => {
    const q = Number(value);
    if (!Number.isInteger(q) || q < 0) {
      setError(new Error("Enter a whole number of 0 or more."));
      return;
    }
    if (q === quantity) return;
    setError(null);
    try {
      await setQuantity(productId, q);
    } catch (e) {
      setError(e);
      setValue(String(quantity));
    }
  };
  return (
    <>
      <input type="number" min={0} value={value} aria-label={`Quantity of ${name}`}
        onChange={(e) => setValue(e.target.value)}
        onBlur={() => void commit()}
        onKeyDown={(e) => e.key === "Enter" && void commit()} />
      <ErrorMessage error={error} />
    </>
  );
}

export function CartPage() {
  const { withToken } = useAuth();
  const { cart, remove, clear, reload } = useCart();
  const navigate = useNavigate();
  const [card, setCard] = useState<string>(testCards[0].id);
  const [key, setKey] = useState(newIdempotencyKey);
  const { busy, error, setError, run } = useAction();
  const payments = useLoad(() => api.paymentConfig(), []);
  const makePaymentMethod = useRef<MakePaymentMethod | null>(null);
  const [cardFormReady, setCardFormReady] = useState(false);
  const onCardForm = useCallback((make: MakePaymentMethod | null) => {
    makePaymentMethod.current = make;
    setCardFormReady(make !== null);
  }, []);
  // The card form's PaymentMethod for the current Idempotency-Key: a retry
  // after a network error must repeat the same request, card included, so
  // the server recognizes it instead of seeing a different order.
  const madeFor = useRef<{ key: string; id: string } | null>(null);

  const paymentMethodId = async (): Promise<string> => {
    if (!payments.value || paymentMode(payments.value) !== "card-form") return card;
    if (madeFor.current?.key === key) return madeFor.current.id;
    if (!makePaymentMethod.current) throw new Error("The card form is still loading.");
    const id = await makePaymentMethod.current();
    madeFor.current = { key, id };
    return id;
  };

  const act = async (fn: () => Promise<void>) => {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    }
  };

  const place = async (e: FormEvent) => {
    e.preventDefault();
    await run(async () => {
      try {
        const method = await paymentMethodId();
        const placed = await withToken((t) => api.placeOrder(t, method, key));
        setKey(newIdempotencyKey());
        await reload().catch(() => undefined);
        navigate(`/orders/${placed.orderId}`, { state: { priceChanges: placed.priceChanges } });
      } catch (err) {
        // Same key on a retry after a network error: the server answers with
        // the order it already accepted instead of placing a second one.
        if (!(err instanceof ApiError && err.status === 0)) setKey(newIdempotencyKey());
        throw err;
      }
    });
  };

  const mode = payments.value ? paymentMode(payments.value) : null;
  const canPay = mode === "test-cards" || (mode === "card-form" && cardFormReady);

  if (!cart) return <Loading what="your cart" />;
  if (cart.items.length === 0)
    return (
      <section>
        <h1>Your cart</h1>
        <p>Your cart is empty. <Link to="/">Browse the shop</Link>.</p>
        <ErrorMessage error={error} />
      </section>
    );
  return (
    <section>
      <h1>Your cart</h1>
      <table className="cart">
        <caption className="sr-only">Items in your cart</caption>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Price</th>
            <th scope="col">Quantity</th>
            <th scope="col">Total</th>
            <th scope="col"><span className="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {cart.items.map((l) => (
            <tr key={l.productId}>
              <td data-label="Product"><Link to={`/products/${l.productId}`}>{l.productName}</Link></td>
              <td data-label="Price">{formatMoney(l.priceAtAddition)}</td>
              <td data-label="Quantity"><QuantityInput productId={l.productId} name={l.productName} quantity={l.quantity} /></td>
              <td data-label="Total">{formatMoney(l.lineTotal)}</td>
              <td>
                <button type="button" className="secondary" aria-label={`Remove ${l.productName}`}
                  onClick={() => void act(() => remove(l.productId))}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={3}>Total</th>
            <td data-testid="cart-total">{formatMoney(cart.totalPrice)}</td>
            <td>
              <button type="button" className="secondary" onClick={() => void act(clear)}>Clear cart</button>
            </td>
          </tr>
        </tfoot>
      </table>

      <form className="checkout" onSubmit={place}>
        {payments.value ? (
          <PaymentFields config={payments.value} card={card} setCard={setCard} onCardForm={onCardForm} />
        ) : payments.error ? (
          <ErrorMessage error={payments.error} />
        ) : (
          <Loading what="the payment options" />
        )}
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy || !canPay}>{busy ? "Placing order…" : `Place order (${formatMoney(cart.totalPrice)})`}</button>
      </form>
    </section>
  );
}

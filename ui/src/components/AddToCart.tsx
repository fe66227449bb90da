// "Add to cart" with a quantity, or a log-in link for visitors.
import { useState } from "react";
import { Link } from "react-router";
import type { Product } from "../api/types";
import { useAuth } from "../auth/session";
import { useCart } from "../cart/CartProvider";
import { useAction } from "../hooks/useAction";
import { ErrorMessage } from "./common";

export function AddToCart({ product, compact = false }: { product: Product; compact?: boolean }) {
  const { session } = useAuth();
  const { add } = useCart();
  const [quantity, setQuantity] = useState(1);
  const { busy, error, run } = useAction();
  const [added, setAdded] = useState(false);

  if (!session)
    return (
      <p className="hint">
        <Link to="/login">Log in</Link> to buy
      </p>
    );
  const out = product.stockQuantity <= 0;
  const submit = async () => {
    setAdded(false);
    setAdded(await run(() => add(product.id, quantity)));
  };
  return (
    <div className="add-to-cart">
      {!compact && (
        <label>
          Quantity{" "}
          <input type="number" min={1} max={Math.max(1, product.stockQuantity)} value={quantity}
            onChange={(e) => setQuantity(Math.max(1, Number(e.target.value) || 1))} />
        </label>
      )}
      <button type="button" disabled={busy || out} onClick={() => void submit()}
        aria-label={`Add ${product.name} to cart`}>
        {busy ? "Adding…" : out ? "Out of stock" : "Add to cart"}
      </button>
      {added && <span role="status" className="ok">Added</span>}
      <ErrorMessage error={error} />
    </div>
  );
}

// The caller's cart, kept on the server (so it survives reloads and follows
// the user to another browser) and mirrored here for the header and pages.
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";
import { api } from "../api/client";
import type { Cart } from "../api/types";
import { useAuth } from "../auth/session";
import { useLive } from "../live/LiveProvider";

interface CartApi {
  cart: Cart | null;
  count: number;
  reload(): Promise<void>;
  add(productId: number, quantity: number): Promise<void>;
  setQuantity(productId: number, quantity: number): Promise<void>;
  remove(productId: number): Promise<void>;
  clear(): Promise<void>;
}

const CartContext = createContext<CartApi | null>(null);

export function CartProvider({ children }: { children: ReactNode }) {
  const { session, withToken } = useAuth();
  const [cart, setCart] = useState<Cart | null>(null);
  const userId = session?.userId;

  const reload = useCallback(async () => {
    setCart(await withToken((t) => api.cart(t)));
  }, [withToken]);

  useEffect(() => {
    setCart(null);
    if (userId) reload().catch(() => setCart(null));
  }, [userId, reload]);

  // A confirmed order takes its units out of the cart on the server.
  const live = useLive();
  useEffect(
    () => live.subscribe((e) => void (e.status === "Confirmed" && reload().catch(() => undefined))),
    [live, reload],
  );
  // Missed events are gone (a confirmation among them, maybe): load afresh.
  useEffect(() => {
    if (live.resets > 0) reload().catch(() => undefined);
  }, [live.resets, reload]);

  const value = useMemo<CartApi>(
    () => ({
      cart,
      count: cart?.items.reduce((n, l) => n + l.quantity, 0) ?? 0,
      reload,
      add: async (id, q) => setCart(await withToken((t) => api.addToCart(t, id, q))),
      setQuantity: async (id, q) => setCart(await withToken((t) => api.setQuantity(t, id, q))),
      remove: async (id) => setCart(await withToken((t) => api.removeLine(t, id))),
      clear: async () => setCart(await withToken((t) => api.clearCart(t))),
    }),
    [cart, reload, withToken],
  );
  return <CartContext.Provider value={value}>{children}</CartContext.Provider>;
}

export function useCart(): CartApi {
  const c = useContext(CartContext);
  if (!c) throw new Error("useCart outside CartProvider");
  return c;
}

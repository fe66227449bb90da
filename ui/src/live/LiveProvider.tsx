// Runs one OrderFeed while someone is logged in and shares it with the pages.
import { createContext, useContext, useEffect, useMemo, useRef, useState } from "react";
import type { ReactNode } from "react";
import { useAuth } from "../auth/session";
import type { OrderEvent } from "../api/types";
import { OrderFeed, socketUrl } from "./orderFeed";
import type { FeedState } from "./orderFeed";

interface Live {
  state: FeedState;
  subscribe(fn: (e: OrderEvent) => void): () => void;
  /** How many times the server said missed events are gone: pages showing
   *  orders list it among what they load by, and reload when it changes. */
  resets: number;
}

const LiveContext = createContext<Live>({ state: "offline", subscribe: () => () => undefined, resets: 0 });

export function LiveProvider({ children }: { children: ReactNode }) {
  const { session } = useAuth();
  const token = useRef<string | null>(null);
  token.current = session?.token ?? null;
  const userId = session?.userId;
  const [feed, setFeed] = useState<OrderFeed | null>(null);
  const [state, setState] = useState<FeedState>("offline");
  const [resets, setResets] = useState(0);

  // One feed per logged-in user; a refreshed token is picked up on reconnect.
  useEffect(() => {
    if (!userId) return;
    const f = new OrderFeed({ url: (t) => socketUrl(window.location, t), token: () => token.current });
    const off = f.onState(setState);
    const offReset = f.onReset(() => setResets((n) => n + 1));
    f.start();
    setFeed(f);
    return () => {
      off();
      offReset();
      f.stop();
      setFeed(null);
      setState("offline");
    };
  }, [userId]);

  const value = useMemo<Live>(
    () => ({ state, resets, subscribe: (fn) => (feed ? feed.onEvent(fn) : () => undefined) }),
    [feed, state, resets],
  );
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLive(): Live {
  return useContext(LiveContext);
}

// The logged-in session. The access token lives only in memory (this
// module's state); the refresh token lives in an HttpOnly cookie the page's
// script cannot read. A reload or a new tab gets a fresh access token from
// that cookie, and the token is refreshed a minute before it expires.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import type { ReactNode } from "react";
import { api, ApiError } from "../api/client";
import type { Session } from "../api/types";

export interface Auth {
  session: Session | null;
  /** False until the first cookie refresh has answered. */
  ready: boolean;
  isAdmin: boolean;
  login(email: string, password: string): Promise<void>;
  logout(): Promise<void>;
  /** Runs `fn` with the current token; on a 401 refreshes once and retries. */
  withToken<T>(fn: (token: string) => Promise<T>): Promise<T>;
}

const AuthContext = createContext<Auth | null>(null);

/** Refresh this long before the access token expires. */
const refreshMarginMs = 60_000;

export function refreshDelay(expiresAt: number, now: number): number {
  return Math.max(5_000, expiresAt - now - refreshMarginMs);
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(null);
  const [ready, setReady] = useState(false);
  const current = useRef<Session | null>(null);
  current.current = session;
  const inflight = useRef<Promise<Session | null> | null>(null);

  // One refresh at a time: parallel 401s share it (the cookie rotates).
  const refresh = useCallback(() => {
    if (!inflight.current) {
      inflight.current = api
        .refresh()
        .then((s) => s)
        .catch((e) => {
          if (e instanceof ApiError && (e.status === 401 || e.status === 400)) return null;
          throw e;
        })
        .then((s) => {
          setSession(s);
          current.current = s;
          return s;
        })
        .finally(() => {
          inflight.current = null;
        });
    }
    return inflight.current;
  }, []);

  useEffect(() => {
    refresh()
      .catch(() => setSession(null))
      .finally(() => setReady(true));
  }, [refresh]);

  useEffect(() => {
    if (!session) return;
    const timer = setTimeout(() => void refresh().catch(() => undefined), refreshDelay(session.expiresAt, Date.now()));
    return () => clearTimeout(timer);
  }, [session, refresh]);

  const login = useCallback(async (email: string, password: string) => {
    const s = await api.login(email, password);
    current.current = s;
    setSession(s);
  }, []);

  const logout = useCallback(async () => {
    const s = current.current;
    current.current = null;
    setSession(null);
    if (s) await api.logout(s.token).catch(() => undefined);
  }, []);

  const withToken = useCallback(
    async <T,>(fn: (token: string) => Promise<T>): Promise<T> => {
      const s = current.current;
      if (!s) throw new ApiError(401, "Please log in first.", "unauthenticated");
      try {
        return await fn(s.token);
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 401) throw e;
        const renewed = await refresh();
        if (!renewed) throw new ApiError(401, "Your session has ended. Please log in again.", "unauthenticated");
        return fn(renewed.token);
      }
    },
    [refresh],
  );

  const value = useMemo<Auth>(
    () => ({ session, ready, isAdmin: session?.role === "admin", login, logout, withToken }),
    [session, ready, login, logout, withToken],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside AuthProvider");
  return auth;
}

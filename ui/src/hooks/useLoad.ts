// Loads data for a page: value, error and loading flag, re-run when `deps`
// change; an answer that arrives after a newer request started is dropped.
import { useCallback, useEffect, useRef, useState } from "react";
import type { DependencyList } from "react";

export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList) {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);

  // `deps` stand in for what `load` captures (the caller lists them).
  const run = useCallback(load, deps);

  const reload = useCallback(() => {
    const mine = ++generation.current;
    const abort = new AbortController();
    setLoading(true);
    setError(null);
    run(abort.signal)
      .then((v) => {
        if (mine === generation.current) setValue(v);
      })
      .catch((e) => {
        if (mine === generation.current && !(e instanceof DOMException && e.name === "AbortError")) setError(e);
      })
      .finally(() => {
        if (mine === generation.current) setLoading(false);
      });
    return () => abort.abort();
  }, [run]);

  useEffect(() => reload(), [reload]);
  return { value, setValue, error, loading, reload };
}

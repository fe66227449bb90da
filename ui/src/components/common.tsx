// Small building blocks every page uses.
import { cloneElement, useId } from "react";
import type { ReactElement } from "react";
import { describeError } from "../api/client";
import { formatTime, reasonText, stateLabel, stockLabel } from "../format";
import type { TimelineEntry } from "../api/types";

export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {describeError(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function StockBadge({ available }: { available: number }) {
  const s = stockLabel(available);
  return <span className={`stock stock-${s.tone}`}>{s.text}</span>;
}

/** A labelled control; the hint is its description, not part of its name. */
export function Field({ label, children, hint }: { label: string; children: ReactElement<{ id?: string; "aria-describedby"?: string }>; hint?: string }) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div className="field">
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      {cloneElement(children, { id, "aria-describedby": hint ? hintId : undefined })}
      {hint && (
        <span className="field-hint" id={hintId}>
          {hint}
        </span>
      )}
    </div>
  );
}

export function StatusBadge({ state }: { state: string }) {
  return <span className={`status status-${state.toLowerCase()}`}>{stateLabel(state)}</span>;
}

export function Timeline({ entries }: { entries: TimelineEntry[] }) {
  return (
    <ol className="timeline" aria-label="Status timeline">
      {entries.map((t, i) => (
        <li key={`${t.status}-${i}`}>
          <StatusBadge state={t.status} />
          {t.reason && <span className="reason"> because {reasonText(t.reason)}</span>}
          <time dateTime={t.at}> {formatTime(t.at)}</time>
        </li>
      ))}
    </ol>
  );
}

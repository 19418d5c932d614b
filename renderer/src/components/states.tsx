/** Loading, empty and error states, the same everywhere. */
import { AlertTriangle, Inbox, LoaderCircle, RotateCw } from 'lucide-react';
import type { ReactNode } from 'react';
import { ApiError, describeError } from '../api/problem.js';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state" role="status" aria-live="polite">
      <LoaderCircle className="spin" aria-hidden size={18} />
      <span>{label}</span>
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <Inbox aria-hidden size={22} />
      <div>
        <strong>{title}</strong>
        {children ? <div className="muted">{children}</div> : null}
      </div>
    </div>
  );
}

export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const fields = error instanceof ApiError ? error.fieldErrors : [];
  return (
    <div className="state state-error" role="alert">
      <AlertTriangle aria-hidden size={18} />
      <div className="grow">
        <div>{describeError(error)}</div>
        {fields.length > 0 ? (
          <ul className="field-problems">
            {fields.map((f, i) => (
              <li key={i}>
                {f.field ? <code>{f.field}</code> : null} {f.message}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      {onRetry ? (
        <button type="button" className="button" onClick={onRetry}>
          <RotateCw aria-hidden size={14} /> Retry
        </button>
      ) : null}
    </div>
  );
}

/** A failed action's reason in one line, announced (a dialog's error under its buttons). */
export function ErrorLine({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p className="error-text" role="alert">
      {describeError(error)}
    </p>
  );
}

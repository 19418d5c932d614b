/**
 * A dialog that mints a one-time token and shows it this once, with a copy button and what to do
 * with it on the other machine: "Invite a member" (a controller's join token) and "Enroll" on a
 * router's page (its enrollment token). The cluster keeps only the token's hash, so closing the
 * dialog loses it for good (a new one is one click away; an unused one can be revoked).
 */
import { Check, Copy } from 'lucide-react';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { CreatedInvitation } from '../api/types.js';
import { useApp } from '../app-context.js';
import type { AdminApi } from '../api/admin-api.js';
import { ErrorLine } from '../components/states.js';

const EXPIRIES: readonly [label: string, minutes: number][] = [
  ['30 minutes', 30],
  ['1 hour', 60],
  ['12 hours', 12 * 60],
  ['1 day', 24 * 60],
  ['7 days', 7 * 24 * 60],
];

export interface TokenDialogText {
  readonly id: string;
  readonly title: string;
  /** What the token is for, before it is made. */
  readonly intro: ReactNode;
  readonly tokenLabel: string;
  readonly createLabel: string;
  /** What to do with it, once shown. */
  readonly instructions: ReactNode;
}

export function TokenDialog(props: {
  open: boolean;
  onClose: () => void;
  onMinted?: () => void;
  text: TokenDialogText;
  mint: (api: AdminApi, minutes: number) => Promise<CreatedInvitation>;
}) {
  const { api } = useApp();
  const { text } = props;
  const ref = useRef<HTMLDialogElement>(null);
  const tokenRef = useRef<HTMLTextAreaElement>(null);
  const [minutes, setMinutes] = useState(60);
  const [created, setCreated] = useState<CreatedInvitation | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [copied, setCopied] = useState(false);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      setCreated(null);
      setError(null);
      setCopied(false);
      dialog.showModal();
    } else if (!props.open && dialog.open) {
      dialog.close();
    }
  }, [props.open]);

  const mint = async () => {
    setBusy(true);
    setError(null);
    try {
      setCreated(await props.mint(api, minutes));
      props.onMinted?.();
    } catch (cause) {
      setError(cause);
    } finally {
      setBusy(false);
    }
  };

  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.token);
    } catch {
      // No clipboard API (a page that is not a secure context): the selection is copied instead.
      tokenRef.current?.select();
      document.execCommand('copy');
    }
    setCopied(true);
  };

  const titleId = `${text.id}-title`;
  return (
    <dialog ref={ref} className="dialog" onClose={props.onClose} aria-labelledby={titleId}>
      <h2 id={titleId}>{text.title}</h2>
      {created ? (
        <div className="dialog-body">
          <label className="field">
            <span>{text.tokenLabel}</span>
            <textarea
              ref={tokenRef}
              className="mono small token"
              readOnly
              rows={5}
              value={created.token}
              onFocus={(e) => e.currentTarget.select()}
            />
          </label>
          <p className="warning-text">
            Shown this once: the cluster keeps only its hash. It works once, until{' '}
            {new Date(created.invitation.expiresAt).toLocaleString()}.
          </p>
          {text.instructions}
        </div>
      ) : (
        <div className="dialog-body">
          {text.intro}
          <label className="field">
            <span>Expires after</span>
            <select value={minutes} onChange={(e) => setMinutes(Number(e.target.value))}>
              {EXPIRIES.map(([label, value]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      <ErrorLine error={error} />
      <div className="dialog-actions">
        {created ? (
          <>
            <button type="button" className="button" onClick={() => void copy()}>
              {copied ? <Check aria-hidden size={14} /> : <Copy aria-hidden size={14} />}
              {copied ? 'Copied' : 'Copy token'}
            </button>
            <button type="button" className="button primary" onClick={props.onClose} autoFocus>
              Done
            </button>
          </>
        ) : (
          <>
            <button type="button" className="button" onClick={props.onClose} disabled={busy}>
              Cancel
            </button>
            <button type="button" className="button primary" onClick={() => void mint()} disabled={busy}>
              {busy ? 'Creating…' : text.createLabel}
            </button>
          </>
        )}
      </div>
    </dialog>
  );
}

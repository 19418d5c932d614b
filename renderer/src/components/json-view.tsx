/** The raw JSON of anything the API returned, with a copy button. */
import { Check, Copy } from 'lucide-react';
import { useState } from 'react';

export function JsonView({ value, label = 'Raw JSON' }: { value: unknown; label?: string }) {
  const text = JSON.stringify(value, null, 2);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <section className="json-view" aria-label={label}>
      <div className="json-toolbar">
        <span className="muted">{label}</span>
        <button type="button" className="button small" onClick={() => void copy()}>
          {copied ? <Check aria-hidden size={14} /> : <Copy aria-hidden size={14} />}{' '}
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre tabIndex={0}>{text}</pre>
    </section>
  );
}

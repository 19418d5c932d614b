/**
 * The policy advisor: may this identity dial (or bind) this service, and why. The answer is the
 * node's policy index (`GET /policy-check`): the granting policies, or what is missing.
 */
import { CheckCircle2, XCircle } from 'lucide-react';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { ServicePolicyType } from '../api/types.js';
import { EntityPicker } from '../components/entity-picker.js';
import { ErrorNotice, Loading } from '../components/states.js';
import { formatRoute } from '../router/routes.js';
import { useApp } from '../app-context.js';
import { policyCheckQuery } from '../queries.js';

export function PolicyAdvisorPage(props: {
  initialIdentity?: string | undefined;
  initialService?: string | undefined;
}) {
  const { api } = useApp();
  const [identity, setIdentity] = useState(props.initialIdentity ?? '');
  const [service, setService] = useState(props.initialService ?? '');
  const [type, setType] = useState<ServicePolicyType>('Dial');
  const ready = identity !== '' && service !== '';
  const check = useQuery({ ...policyCheckQuery(api, identity, service, type), enabled: ready });

  return (
    <div className="page">
      <h1>Policy advisor</h1>
      <p className="muted">Pick an identity and a service to see whether the identity may use it, and why.</p>
      <div className="advisor">
        <EntityPicker collection="identities" label="Identity" value={identity} onChange={setIdentity} />
        <EntityPicker collection="services" label="Service" value={service} onChange={setService} />
        <fieldset className="picker">
          <legend>Access</legend>
          {(['Dial', 'Bind'] as const).map((t) => (
            <label key={t} className="check">
              <input
                type="radio"
                name="policy-type"
                value={t}
                checked={type === t}
                onChange={() => setType(t)}
              />
              <span>{t === 'Dial' ? 'Dial (use the service)' : 'Bind (host the service)'}</span>
            </label>
          ))}
        </fieldset>
      </div>

      <section className="card advisor-result" aria-live="polite" aria-label="Result">
        {!ready ? <p className="muted">Choose an identity and a service.</p> : null}
        {ready && check.error ? (
          <ErrorNotice error={check.error} onRetry={() => void check.refetch()} />
        ) : null}
        {ready && check.isPending ? <Loading label="Checking…" /> : null}
        {ready && check.data ? (
          <>
            <h2 className={check.data.allowed ? 'verdict ok' : 'verdict bad'}>
              {check.data.allowed ? (
                <CheckCircle2 aria-hidden size={20} />
              ) : (
                <XCircle aria-hidden size={20} />
              )}
              {check.data.allowed
                ? `Allowed to ${type.toLowerCase()}`
                : `Not allowed to ${type.toLowerCase()}`}
            </h2>
            {check.data.policies.length > 0 ? (
              <>
                <h3>Granted by</h3>
                <ul>
                  {check.data.policies.map((p) => (
                    <li key={p.id}>
                      <a href={formatRoute({ page: 'entity', collection: 'service-policies', id: p.id })}>
                        {p.name}
                      </a>
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
            {check.data.missing.length > 0 ? (
              <>
                <h3>What is missing</h3>
                <ul>
                  {check.data.missing.map((m) => (
                    <li key={m}>{m}</li>
                  ))}
                </ul>
                <a className="button" href={formatRoute({ page: 'create', collection: 'service-policies' })}>
                  New service policy
                </a>
              </>
            ) : null}
          </>
        ) : null}
      </section>
    </div>
  );
}

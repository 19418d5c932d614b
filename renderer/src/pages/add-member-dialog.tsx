/** Adding a member: its cluster address and id, and optionally its name and API URL. */
import { zodResolver } from '@hookform/resolvers/zod';
import { useEffect, useRef } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { ApiError, describeError } from '../api/problem.js';
import type { AddMemberRequest } from '../api/types.js';
import { useApp } from '../app-context.js';

const addMemberSchema = z.object({
  address: z
    .string()
    .trim()
    .regex(
      /^[^\s:/]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/,
      'host:port of the member’s cluster listener, e.g. 10.0.0.12:8441',
    ),
  id: z.string().trim().min(1, 'Required: the node’s id, e.g. n1a2b3c4d5e6').max(64),
  name: z.string().trim().max(255),
  apiUrl: z
    .string()
    .trim()
    .refine((v) => v === '' || /^https?:\/\/\S+$/.test(v), 'An http(s) URL, e.g. http://10.0.0.12:8440'),
  voter: z.boolean(),
});

type AddMemberValues = z.infer<typeof addMemberSchema>;
const fieldNames = ['address', 'id', 'name', 'apiUrl', 'voter'] as const;

function isFieldName(name: string): name is (typeof fieldNames)[number] {
  return (fieldNames as readonly string[]).includes(name);
}

export function AddMemberDialog(props: {
  open: boolean;
  onClose: () => void;
  onAdded: (id: string) => void;
}) {
  const { api } = useApp();
  const ref = useRef<HTMLDialogElement>(null);
  const {
    register,
    handleSubmit,
    reset,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<AddMemberValues>({
    resolver: zodResolver(addMemberSchema),
    defaultValues: { address: '', id: '', name: '', apiUrl: '', voter: true },
  });

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      reset();
      dialog.showModal();
    } else if (!props.open && dialog.open) {
      dialog.close();
    }
  }, [props.open, reset]);

  const submit = handleSubmit(async (values) => {
    const request: AddMemberRequest = {
      address: values.address,
      voter: values.voter,
      id: values.id,
      ...(values.name ? { name: values.name } : {}),
      ...(values.apiUrl ? { apiUrl: values.apiUrl } : {}),
    };
    try {
      const result = await api.addMember(request);
      const id = (result.body as { id?: unknown } | undefined)?.id;
      props.onAdded(typeof id === 'string' ? id : values.address);
      props.onClose();
    } catch (error) {
      const fields = error instanceof ApiError ? error.fieldErrors : [];
      for (const f of fields) if (isFieldName(f.field)) setError(f.field, { message: f.message });
      setError('root', { message: describeError(error) });
    }
  });

  const field = (name: 'address' | 'id' | 'name' | 'apiUrl', label: string, hint?: string) => (
    <label className="field">
      <span>{label}</span>
      <input aria-invalid={errors[name] ? true : undefined} {...register(name)} />
      {hint ? <span className="hint">{hint}</span> : null}
      {errors[name] ? <span className="error-text">{errors[name].message}</span> : null}
    </label>
  );

  return (
    <dialog ref={ref} className="dialog" onClose={props.onClose} aria-labelledby="add-member-title">
      <form onSubmit={(e) => void submit(e)} noValidate>
        <h2 id="add-member-title">Add member</h2>
        <div className="dialog-body form-grid">
          {field('address', 'Cluster address', 'The new node must be running and reachable from the leader.')}
          {field('id', 'Node id', 'The id the node printed when it first started (its /health says it too).')}
          {field('name', 'Name (optional)')}
          {field('apiUrl', 'API URL (optional)')}
          <label className="check">
            <input type="checkbox" {...register('voter')} />
            <span>Voter (joins as a learner and is promoted once caught up)</span>
          </label>
        </div>
        {errors.root ? (
          <p className="error-text" role="alert">
            {errors.root.message}
          </p>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={isSubmitting}>
            {isSubmitting ? 'Adding…' : 'Add member'}
          </button>
        </div>
      </form>
    </dialog>
  );
}

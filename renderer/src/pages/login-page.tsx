/**
 * Sign in with the admin's username and password; the token goes to the auth store. A node that
 * is still starting (503 STARTING) is waited for, saying so, rather than shown as a failure.
 */
import { zodResolver } from '@hookform/resolvers/zod';
import { Boxes, LogIn } from 'lucide-react';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { z } from 'zod';
import { ApiError, describeError, isStarting } from '../api/problem.js';
import { useApp, useSelect } from '../app-context.js';

const loginSchema = z.object({
  username: z.string().trim().min(1, 'Enter your username'),
  password: z.string().min(1, 'Enter your password'),
});

type LoginValues = z.infer<typeof loginSchema>;

function loginMessage(error: unknown): string {
  if (error instanceof ApiError && (error.status === 401 || error.status === 400)) {
    return 'The username or password is wrong.';
  }
  if (isStarting(error)) return 'The node is still starting. Try again in a moment.';
  if (error instanceof ApiError && error.status === 429) {
    return `Too many attempts. Try again${error.retryAfter ? ` in ${error.retryAfter} s` : ' later'}.`;
  }
  return describeError(error);
}

export function LoginPage() {
  const { api, auth } = useApp();
  const notice = useSelect(auth, (s) => s.notice);
  const [failure, setFailure] = useState<string | null>(null);
  const [waiting, setWaiting] = useState(false);
  const {
    register,
    handleSubmit,
    formState: { errors, isSubmitting },
  } = useForm<LoginValues>({
    resolver: zodResolver(loginSchema),
    defaultValues: { username: '', password: '' },
  });

  const submit = handleSubmit(async ({ username, password }) => {
    setFailure(null);
    try {
      const result = await api.loginWhenReady(username, password, { onStarting: () => setWaiting(true) });
      auth.getState().signedIn(result, username);
    } catch (error) {
      setFailure(loginMessage(error));
    } finally {
      setWaiting(false);
    }
  });

  return (
    <div className="login">
      <form
        className="card login-card"
        onSubmit={(e) => void submit(e)}
        noValidate
        aria-labelledby="login-title"
      >
        <div className="brand">
          <Boxes aria-hidden size={22} /> meshdesk
        </div>
        <h1 id="login-title">Sign in</h1>
        {notice ? <p className="notice">{notice}</p> : null}
        <label className="field">
          <span>Username</span>
          <input
            autoComplete="username"
            autoFocus
            aria-invalid={errors.username ? true : undefined}
            {...register('username')}
          />
          {errors.username ? <span className="error-text">{errors.username.message}</span> : null}
        </label>
        <label className="field">
          <span>Password</span>
          <input
            type="password"
            autoComplete="current-password"
            aria-invalid={errors.password ? true : undefined}
            {...register('password')}
          />
          {errors.password ? <span className="error-text">{errors.password.message}</span> : null}
        </label>
        {waiting ? (
          <p className="notice" role="status">
            The node is still starting (creating its first admin or catching up with the cluster); signing in
            as soon as it is ready…
          </p>
        ) : null}
        {failure ? (
          <p className="error-text" role="alert">
            {failure}
          </p>
        ) : null}
        <button type="submit" className="button primary" disabled={isSubmitting}>
          <LogIn aria-hidden size={16} /> {isSubmitting ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}

/**
 * The session: the bearer token from `POST /auth/login`, kept in session storage so that a reload
 * stays signed in and closing the window signs out.
 */
import { createStore } from 'zustand/vanilla';
import type { AdminRole } from '../../../contract/index.js';
import type { LoginResult } from '../api/types.js';
import { readJson, writeJson, type KeyValueStorage } from './storage.js';

export interface Session {
  readonly token: string;
  readonly expiresAt: string;
  readonly username: string;
  /** What the admin may do; the UI offers only that (the API enforces it either way). */
  readonly role: AdminRole;
}

export interface AuthState {
  readonly session: Session | null;
  /** Why the last session ended, shown on the login page ("Your session expired"). */
  readonly notice: string | null;
}

export interface AuthActions {
  signedIn(result: LoginResult, username: string): void;
  signedOut(notice?: string): void;
}

export type AuthStore = ReturnType<typeof createAuthStore>;

export const SESSION_KEY = 'meshdesk.session';

function isSession(value: unknown): value is Session {
  const v = value as Partial<Session> | null | undefined;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.token === 'string' &&
    v.token !== '' &&
    typeof v.expiresAt === 'string' &&
    typeof v.username === 'string' &&
    (v.role === 'admin' || v.role === 'readonly')
  );
}

/** Whether the session may change anything (the API answers a read-only admin's changes 403). */
export function canChange(session: Session | null): boolean {
  return session?.role === 'admin';
}

export function isExpired(session: Session, now: number): boolean {
  const expires = Date.parse(session.expiresAt);
  return Number.isFinite(expires) && expires <= now;
}

// --- transitions ------------------------------------------------------------------------------

export function signIn(result: LoginResult, username: string): AuthState {
  return {
    session: { token: result.token, expiresAt: result.expiresAt, username, role: result.role },
    notice: null,
  };
}

export function signOut(state: AuthState, notice?: string): AuthState {
  // Only a live session has something to explain; a second 401 from a late request keeps the notice.
  return { session: null, notice: state.session ? (notice ?? null) : (notice ?? state.notice) };
}

/** The state at start: a stored session if it is well-formed and not expired. */
export function restore(storage: KeyValueStorage, now: number): AuthState {
  const stored = readJson(storage, SESSION_KEY);
  if (!isSession(stored)) return { session: null, notice: null };
  if (isExpired(stored, now)) return { session: null, notice: 'Your session expired. Sign in again.' };
  return { session: stored, notice: null };
}

export function createAuthStore(storage: KeyValueStorage, now: () => number = Date.now) {
  const store = createStore<AuthState & AuthActions>()((set, get) => ({
    ...restore(storage, now()),
    signedIn: (result, username) => set(signIn(result, username)),
    signedOut: (notice) => set(signOut(get(), notice)),
  }));
  store.subscribe((state, previous) => {
    if (state.session === previous.session) return;
    if (state.session) writeJson(storage, SESSION_KEY, state.session);
    else storage.removeItem(SESSION_KEY);
  });
  return store;
}

/**
 * The live event log: the newest events first, at most `MAX_EVENTS`, deduplicated where the
 * backlog and the live stream overlap. What the events make stale is the query cache's concern
 * (`invalidateAfter` in queries.ts), not this store's.
 */
import { createStore } from 'zustand/vanilla';
import type { EventConnectionState } from '../api/admin-api.js';
import type { MeshEvent } from '../api/types.js';

export const MAX_EVENTS = 1000;

export interface EventsState {
  /** Newest first. */
  readonly events: readonly MeshEvent[];
  readonly connection: EventConnectionState;
  readonly connectionDetail: string | null;
  /** While paused, the log shown stays still; events are still received and counted. */
  readonly paused: boolean;
}

export interface EventFilter {
  /** Matches the start of the event type (`entity`, `cluster.leader`). */
  readonly type: string;
  /** '' for every collection. */
  readonly collection: string;
  /** Free text, matched against the whole payload. */
  readonly text: string;
}

export interface EventsActions {
  received(events: readonly MeshEvent[]): void;
  connectionChanged(state: EventConnectionState, detail?: string): void;
  setPaused(paused: boolean): void;
  clear(): void;
}

export const initialEventsState: EventsState = {
  events: [],
  connection: 'disconnected',
  connectionDetail: null,
  paused: false,
};

/** What makes an event the same one again (a reconnect's backlog overlaps what was live). */
function eventKey(event: MeshEvent): string | null {
  if (event.seq !== null) return `${event.seq}|${event.index ?? ''}|${event.type}`;
  return event.index === null ? null : `${event.index}|${event.type}|${event.entityId ?? ''}`;
}

// --- transitions ------------------------------------------------------------------------------

/** Adds events (in arrival order), newest first, without duplicates, capped. */
export function eventsReceived(state: EventsState, incoming: readonly MeshEvent[]): EventsState {
  const seen = new Set(
    state.events
      .slice(0, MAX_EVENTS)
      .map(eventKey)
      .filter((k) => k !== null),
  );
  const fresh: MeshEvent[] = [];
  for (const event of incoming) {
    const key = eventKey(event);
    if (key !== null) {
      if (seen.has(key)) continue;
      seen.add(key);
    }
    fresh.push(event);
  }
  if (fresh.length === 0) return state;
  const events = [...fresh.reverse(), ...state.events].slice(0, MAX_EVENTS);
  return { ...state, events };
}

export function connectionChanged(
  state: EventsState,
  connection: EventConnectionState,
  detail?: string,
): EventsState {
  return { ...state, connection, connectionDetail: detail ?? null };
}

export function filterEvents(events: readonly MeshEvent[], filter: EventFilter): MeshEvent[] {
  const type = filter.type.trim().toLowerCase();
  const text = filter.text.trim().toLowerCase();
  return events.filter(
    (event) =>
      (type === '' || event.type.toLowerCase().startsWith(type)) &&
      (filter.collection === '' || event.collection === filter.collection) &&
      (text === '' || JSON.stringify(event.payload).toLowerCase().includes(text)),
  );
}

/** The distinct event types seen, for the type filter's suggestions. */
export function eventTypes(events: readonly MeshEvent[]): string[] {
  return [...new Set(events.map((e) => e.type))].sort();
}

export function createEventsStore() {
  return createStore<EventsState & EventsActions>()((set, get) => ({
    ...initialEventsState,
    received: (events) => set(eventsReceived(get(), events)),
    connectionChanged: (connection, detail) => set(connectionChanged(get(), connection, detail)),
    setPaused: (paused) => set({ paused }),
    clear: () => set({ events: [] }),
  }));
}

export type EventsStore = ReturnType<typeof createEventsStore>;

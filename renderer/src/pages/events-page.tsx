/** The live event log, newest first, with filters; pausing holds the view while events keep arriving. */
import { Pause, Play, Trash2 } from 'lucide-react';
import { useMemo, useState } from 'react';
import type { MeshEvent } from '../api/types.js';
import { JsonView } from '../components/json-view.js';
import { Empty } from '../components/states.js';
import { collectionOrder, describeCollection } from '../model/collections.js';
import { eventTypes, filterEvents, type EventFilter } from '../stores/events.js';
import { useApp, useSelect } from '../app-context.js';

function EventRow({ event }: { event: MeshEvent }) {
  const [open, setOpen] = useState(false);
  return (
    <li className="event">
      <button type="button" className="event-line" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        <span className="mono muted">{event.index ?? '–'}</span>
        <span className="pill">{event.type}</span>
        <span>{event.collection ?? ''}</span>
        <span className="mono small">{event.entityId ?? ''}</span>
        <span className="muted small">{event.at ? new Date(event.at).toLocaleTimeString() : ''}</span>
      </button>
      {open ? <JsonView value={event.payload} label="Payload" /> : null}
    </li>
  );
}

export function EventsPage() {
  const { events } = useApp();
  const live = useSelect(events, (s) => s.events);
  const paused = useSelect(events, (s) => s.paused);
  const connection = useSelect(events, (s) => s.connection);
  const detail = useSelect(events, (s) => s.connectionDetail);
  const [held, setHeld] = useState<readonly MeshEvent[]>([]);
  const [filter, setFilter] = useState<EventFilter>({ type: '', collection: '', text: '' });
  const shown = paused ? held : live;
  const visible = useMemo(() => filterEvents(shown, filter), [shown, filter]);
  const types = useMemo(() => eventTypes(live), [live]);

  const togglePause = () => {
    if (!paused) setHeld(live);
    events.getState().setPaused(!paused);
  };

  return (
    <div className="page">
      <div className="page-header">
        <h1>Events</h1>
        <div className="actions">
          <span className={`live live-${connection}`}>
            {connection}
            {detail && connection !== 'connected' ? ` (${detail})` : ''}
          </span>
          <button type="button" className="button" onClick={togglePause} aria-pressed={paused}>
            {paused ? <Play aria-hidden size={14} /> : <Pause aria-hidden size={14} />}{' '}
            {paused ? 'Resume' : 'Pause'}
          </button>
          <button type="button" className="button" onClick={() => events.getState().clear()}>
            <Trash2 aria-hidden size={14} /> Clear
          </button>
        </div>
      </div>
      <div className="toolbar">
        <label>
          <span className="muted small">Type</span>
          <input
            list="event-types"
            value={filter.type}
            onChange={(e) => setFilter({ ...filter, type: e.target.value })}
          />
          <datalist id="event-types">
            {types.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>
        <label>
          <span className="muted small">Collection</span>
          <select
            value={filter.collection}
            onChange={(e) => setFilter({ ...filter, collection: e.target.value })}
          >
            <option value="">All</option>
            {collectionOrder.map((c) => (
              <option key={c} value={c}>
                {describeCollection(c).plural}
              </option>
            ))}
          </select>
        </label>
        <label className="grow">
          <span className="muted small">Text</span>
          <input
            type="search"
            value={filter.text}
            onChange={(e) => setFilter({ ...filter, text: e.target.value })}
          />
        </label>
      </div>
      <p className="muted small" aria-live="polite">
        {visible.length} of {shown.length} events{paused ? ' (paused)' : ''}
      </p>
      {visible.length === 0 ? (
        <Empty title={shown.length === 0 ? 'No events yet' : 'No events match'}>
          {shown.length === 0
            ? 'Changes to the model and the cluster appear here as they happen.'
            : 'Change the filters.'}
        </Empty>
      ) : (
        <ol className="event-log">
          {visible.map((event, i) => (
            <EventRow key={`${event.index ?? 'x'}-${event.type}-${i}`} event={event} />
          ))}
        </ol>
      )}
    </div>
  );
}

import { describe, expect, it } from 'vitest';
import { LinkTable, type LinkChange } from '../../../core/runtime/link-table.js';

const link = (id: string, dialer: string, acceptor: string, latencyMs = 1) => ({
  id,
  dialer,
  acceptor,
  latencyMs,
});

function table() {
  const changes: LinkChange[] = [];
  const links = new LinkTable((c) => changes.push(c));
  return { links, changes, types: () => changes.map((c) => `${c.type} ${c.link.id}`) };
}

describe('link table (routers are the source of record)', () => {
  it('keeps a link while either end reports it and announces it once', () => {
    const { links, types } = table();
    expect(links.up('a', link('l1', 'a', 'b'))).toBeUndefined();
    expect(links.up('b', link('l1', 'a', 'b'))).toBeUndefined();
    expect(links.get('l1')?.reportedBy).toEqual(['a', 'b']);
    links.routerGone('a');
    expect(links.get('l1')?.reportedBy).toEqual(['b']);
    links.routerGone('b');
    expect(links.size).toBe(0);
    expect(types()).toEqual(['link.up l1', 'link.down l1']);
  });

  it('removes a link when either end says it is down', () => {
    const { links, changes } = table();
    links.up('a', link('l1', 'a', 'b'));
    links.up('b', link('l1', 'a', 'b'));
    links.down('b', 'l1', 'peer closed');
    expect(links.size).toBe(0);
    expect(changes.at(-1)).toMatchObject({ type: 'link.down', reason: 'peer closed' });
  });

  it('refuses reports from a router that is not an end, self links and reused ids, unchanged', () => {
    const { links, changes } = table();
    expect(links.up('c', link('l1', 'a', 'b'))).toBe('NOT_AN_END');
    expect(links.up('a', link('l1', 'a', 'a'))).toBe('SELF_LINK');
    links.up('a', link('l1', 'a', 'b'));
    expect(links.up('a', link('l1', 'a', 'c'))).toBe('LINK_ID_REUSED');
    expect(links.down('c', 'l1')).toBe('NOT_AN_END');
    expect(links.latency('c', 'l1', 9)).toBe('NOT_AN_END');
    expect(links.list()).toEqual([{ ...link('l1', 'a', 'b'), reportedBy: ['a'] }]);
    expect(changes).toHaveLength(1);
  });

  it('replaces a reconnecting router’s set: links it no longer reports lapse', () => {
    const { links, types } = table();
    links.replace('a', [link('l1', 'a', 'b'), link('l2', 'a', 'c')]);
    links.up('c', link('l2', 'a', 'c'));
    links.replace('a', [link('l3', 'd', 'a')]);
    expect(links.list().map((l) => l.id)).toEqual(['l2', 'l3']);
    expect(links.get('l2')?.reportedBy).toEqual(['c']);
    expect(types()).toEqual(['link.up l1', 'link.up l2', 'link.up l3', 'link.down l1']);
  });

  it('reports latency changes only when the value changes', () => {
    const { links, types } = table();
    links.up('a', link('l1', 'a', 'b', 1));
    links.latency('a', 'l1', 1);
    links.latency('b', 'l1', 5);
    expect(links.get('l1')?.latencyMs).toBe(5);
    expect(types()).toEqual(['link.up l1', 'link.latency l1']);
  });
});

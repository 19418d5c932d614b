/** The tray indicator, on a stand-in Tray and a real EventEmitter standing for the replica. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  createTrayIndicator,
  nodeStateOf,
  trayMenuTemplate,
  type TrayMenuItem,
} from '../../../electron/tray-state.js';

describe('node state', () => {
  it('is leader, follower, no leader or stopped', () => {
    expect(nodeStateOf({ role: 'leader', leader: 'a' })).toBe('leader');
    expect(nodeStateOf({ role: 'follower', leader: 'a' })).toBe('follower');
    expect(nodeStateOf({ role: 'follower', leader: '' })).toBe('no-leader');
    expect(nodeStateOf({ role: 'candidate', leader: '' })).toBe('no-leader');
    expect(nodeStateOf({ role: 'preCandidate', leader: '' })).toBe('no-leader');
    expect(nodeStateOf(undefined)).toBe('stopped');
  });

  it('has a menu with the state, open and quit', () => {
    const done: string[] = [];
    const menu = trayMenuTemplate('follower', {
      open: () => done.push('open'),
      quit: () => done.push('quit'),
    });
    expect(menu.map((item) => item.label)).toEqual(['Node: follower', '', 'Open meshdesk', 'Quit']);
    menu[2]?.click?.();
    menu[3]?.click?.();
    expect(done).toEqual(['open', 'quit']);
  });
});

describe('the tray indicator', () => {
  it('follows the replica’s role and leader events, and shows stopped without one', () => {
    const images: string[] = [];
    const tips: string[] = [];
    const menus: TrayMenuItem[][] = [];
    const indicator = createTrayIndicator({
      tray: {
        setImage: (image) => void images.push(image),
        setToolTip: (text) => void tips.push(text),
        setContextMenu: (menu) => void menus.push(menu as TrayMenuItem[]),
      },
      buildMenu: (template) => template,
      iconPath: (state) => `/icons/${state}.png`,
      actions: { open: () => undefined, quit: () => undefined },
    });
    expect(indicator.state).toBe('stopped');
    let status = { role: 'follower', leader: '' };
    const replica = Object.assign(new EventEmitter(), { status: () => status });
    indicator.watch(replica);
    expect(indicator.state).toBe('no-leader');
    status = { role: 'follower', leader: 'n2' };
    replica.emit('leader');
    expect(indicator.state).toBe('follower');
    status = { role: 'leader', leader: 'n1' };
    replica.emit('role');
    replica.emit('leader'); // no change: nothing redrawn
    expect(indicator.state).toBe('leader');
    indicator.unwatch();
    expect(indicator.state).toBe('stopped');
    expect(replica.listenerCount('role') + replica.listenerCount('leader')).toBe(0);
    expect(images).toEqual([
      '/icons/stopped.png',
      '/icons/no-leader.png',
      '/icons/follower.png',
      '/icons/leader.png',
      '/icons/stopped.png',
    ]);
    expect(tips.at(-2)).toBe('meshdesk — node leader');
    expect(menus.at(-1)?.[0]?.label).toBe('Node: stopped');
  });
});

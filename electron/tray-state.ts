/**
 * The tray icon's state: what the node is (leader, follower, no leader, stopped), its icon,
 * tooltip and menu. The indicator takes the Tray, the menu builder and the node's replica as
 * parameters, so it is tested without Electron.
 */

export type NodeState = 'leader' | 'follower' | 'no-leader' | 'stopped';

export const NODE_STATE_LABELS: Readonly<Record<NodeState, string>> = {
  leader: 'leader',
  follower: 'follower',
  'no-leader': 'no leader',
  stopped: 'stopped',
};

/** What the state is read from: the replica's status (role and known leader; '' for none). */
export interface NodeStatusLike {
  readonly role: string;
  readonly leader: string;
}

export function nodeStateOf(status: NodeStatusLike | undefined): NodeState {
  if (!status) return 'stopped';
  if (status.role === 'leader') return 'leader';
  if (status.leader === '') return 'no-leader';
  return 'follower';
}

export interface TrayMenuItem {
  readonly label: string;
  readonly enabled?: boolean;
  readonly type?: 'separator' | 'normal';
  readonly click?: () => void;
}

export interface TrayActions {
  open(): void;
  quit(): void;
}

export function trayMenuTemplate(state: NodeState, actions: TrayActions): TrayMenuItem[] {
  return [
    { label: `Node: ${NODE_STATE_LABELS[state]}`, enabled: false },
    { label: '', type: 'separator' },
    { label: 'Open meshdesk', click: () => actions.open() },
    { label: 'Quit', click: () => actions.quit() },
  ];
}

/** What the indicator uses of Electron's Tray. */
export interface TrayLike {
  setImage(image: string): void;
  setToolTip(text: string): void;
  setContextMenu(menu: unknown): void;
}

/** What the indicator uses of the replica: its status and role/leader events. */
export interface ReplicaLike {
  status(): NodeStatusLike;
  on(event: 'role' | 'leader', listener: () => void): unknown;
  off(event: 'role' | 'leader', listener: () => void): unknown;
}

export interface TrayIndicator {
  readonly state: NodeState;
  /** Follows this replica's state until `unwatch`, or shows 'stopped' with none. */
  watch(replica: ReplicaLike | undefined): void;
  unwatch(): void;
}

export function createTrayIndicator(options: {
  tray: TrayLike;
  /** Electron's Menu.buildFromTemplate. */
  buildMenu: (template: TrayMenuItem[]) => unknown;
  /** The icon file for a state (build/tray/<state>.png). */
  iconPath: (state: NodeState) => string;
  actions: TrayActions;
}): TrayIndicator {
  let state: NodeState | undefined;
  let watched: ReplicaLike | undefined;
  const show = (next: NodeState): void => {
    if (next === state) return;
    state = next;
    options.tray.setImage(options.iconPath(next));
    options.tray.setToolTip(`meshdesk — node ${NODE_STATE_LABELS[next]}`);
    options.tray.setContextMenu(options.buildMenu(trayMenuTemplate(next, options.actions)));
  };
  const refresh = (): void => show(nodeStateOf(watched?.status()));
  const indicator: TrayIndicator = {
    get state() {
      return state ?? 'stopped';
    },
    watch(replica) {
      indicator.unwatch();
      watched = replica;
      replica?.on('role', refresh);
      replica?.on('leader', refresh);
      refresh();
    },
    unwatch() {
      watched?.off('role', refresh);
      watched?.off('leader', refresh);
      watched = undefined;
      refresh();
    },
  };
  show('stopped');
  return indicator;
}

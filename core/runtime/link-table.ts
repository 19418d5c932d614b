/**
 * The controller's link table. Routers are the source of record: a link exists here while at
 * least one of its two ends reports it; either end saying it is down removes it. A router that
 * reconnects sends its full set, which replaces everything it reported before.
 */
import type { LinkId, LinkReport, RouterId } from './types.js';

export interface LinkEntry extends LinkReport {
  /** The ends that currently report the link. */
  readonly reportedBy: readonly RouterId[];
}

export type LinkChange =
  | { readonly type: 'link.up'; readonly link: LinkEntry }
  | { readonly type: 'link.down'; readonly link: LinkEntry; readonly reason: string }
  | { readonly type: 'link.latency'; readonly link: LinkEntry };

/** Why a report was refused (the caller counts and logs it); the table is unchanged. */
export type LinkRefusal = 'NOT_AN_END' | 'SELF_LINK' | 'LINK_ID_REUSED';

interface Row {
  report: LinkReport;
  readonly reporters: Set<RouterId>;
}

export class LinkTable {
  private readonly rows = new Map<LinkId, Row>();
  /** Link ids by router, for `linksOf` and full-set replacement. */
  private readonly byRouter = new Map<RouterId, Set<LinkId>>();

  constructor(private readonly onChange: (change: LinkChange) => void = () => undefined) {}

  get size(): number {
    return this.rows.size;
  }

  get(id: LinkId): LinkEntry | undefined {
    const row = this.rows.get(id);
    return row && entry(row);
  }

  list(): LinkEntry[] {
    return [...this.rows.values()].map(entry).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Live links, without copying: for path computation. */
  *reports(): Iterable<LinkReport> {
    for (const row of this.rows.values()) yield row.report;
  }

  linksOf(router: RouterId): LinkEntry[] {
    return [...(this.byRouter.get(router) ?? [])].flatMap((id) => {
      const row = this.rows.get(id);
      return row ? [entry(row)] : [];
    });
  }

  /** A router's link came up (or it repeats one it has). */
  up(reporter: RouterId, report: LinkReport): LinkRefusal | undefined {
    const refusal = check(reporter, report);
    if (refusal) return refusal;
    const row = this.rows.get(report.id);
    if (row) {
      if (row.report.dialer !== report.dialer || row.report.acceptor !== report.acceptor)
        return 'LINK_ID_REUSED';
      row.reporters.add(reporter);
      this.setLatency(row, report.latencyMs);
      return undefined;
    }
    const added: Row = { report: { ...report }, reporters: new Set([reporter]) };
    this.rows.set(report.id, added);
    this.index(report.dialer, report.id);
    this.index(report.acceptor, report.id);
    this.onChange({ type: 'link.up', link: entry(added) });
    return undefined;
  }

  /** Either end saw the link close: it is gone. */
  down(reporter: RouterId, id: LinkId, reason = 'closed'): LinkRefusal | undefined {
    const row = this.rows.get(id);
    if (!row) return undefined;
    if (row.report.dialer !== reporter && row.report.acceptor !== reporter) return 'NOT_AN_END';
    this.remove(row, reason);
    return undefined;
  }

  latency(reporter: RouterId, id: LinkId, latencyMs: number): LinkRefusal | undefined {
    const row = this.rows.get(id);
    if (!row) return undefined;
    if (row.report.dialer !== reporter && row.report.acceptor !== reporter) return 'NOT_AN_END';
    this.setLatency(row, latencyMs);
    return undefined;
  }

  /**
   * The router's complete set (on connect or reconnect): links it no longer reports lose it as a
   * reporter, and vanish when nobody else reports them. Refused entries are returned, the rest apply.
   */
  replace(reporter: RouterId, reports: readonly LinkReport[]): LinkRefusal[] {
    const refusals: LinkRefusal[] = [];
    const kept = new Set<LinkId>();
    for (const report of reports) {
      const refusal = this.up(reporter, report);
      if (refusal) refusals.push(refusal);
      else kept.add(report.id);
    }
    for (const id of [...(this.byRouter.get(reporter) ?? [])]) {
      if (!kept.has(id)) this.forget(reporter, id, 'not reported after reconnect');
    }
    return refusals;
  }

  /** The router is no longer connected to us: its reports lapse. */
  routerGone(router: RouterId): void {
    for (const id of [...(this.byRouter.get(router) ?? [])]) this.forget(router, id, 'router disconnected');
  }

  private forget(reporter: RouterId, id: LinkId, reason: string): void {
    const row = this.rows.get(id);
    if (!row) return;
    row.reporters.delete(reporter);
    if (row.reporters.size === 0) this.remove(row, reason);
  }

  private remove(row: Row, reason: string): void {
    this.rows.delete(row.report.id);
    this.unindex(row.report.dialer, row.report.id);
    this.unindex(row.report.acceptor, row.report.id);
    this.onChange({ type: 'link.down', link: entry(row), reason });
  }

  private setLatency(row: Row, latencyMs: number): void {
    if (row.report.latencyMs === latencyMs) return;
    row.report = { ...row.report, latencyMs };
    this.onChange({ type: 'link.latency', link: entry(row) });
  }

  private index(router: RouterId, id: LinkId): void {
    let set = this.byRouter.get(router);
    if (!set) this.byRouter.set(router, (set = new Set()));
    set.add(id);
  }

  private unindex(router: RouterId, id: LinkId): void {
    const set = this.byRouter.get(router);
    set?.delete(id);
    if (set?.size === 0) this.byRouter.delete(router);
  }
}

function check(reporter: RouterId, report: LinkReport): LinkRefusal | undefined {
  if (report.dialer === report.acceptor) return 'SELF_LINK';
  if (report.dialer !== reporter && report.acceptor !== reporter) return 'NOT_AN_END';
  return undefined;
}

function entry(row: Row): LinkEntry {
  return { ...row.report, reportedBy: [...row.reporters].sort() };
}

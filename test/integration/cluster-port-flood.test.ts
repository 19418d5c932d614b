/**
 * A stranger floods a follower's cluster port (issue 33's probe, bounded): websockets without a
 * certificate, each sending junk frames as fast as it can, some of them 2 MiB, plus a browser page.
 * The cluster keeps its leader and term, takes writes throughout, and the follower's log holds a
 * few lines about it, not one per frame.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { KvCluster } from '../support/kv-cluster.js';
import { waitFor } from '../support/wait.js';

const CONNECTIONS = 300;
const FRAMES_PER_CONNECTION = 200;
const CONCURRENT = 12;

describe('a flood of junk on a follower’s cluster port', () => {
  let cluster: KvCluster;

  beforeAll(async () => {
    cluster = await KvCluster.start({ nodes: 3 });
    await waitFor(async () => (await cluster.leader()) !== undefined, 'a leader', 10_000);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  /**
   * One stranger's connection: junk from the moment it opens. Resolves with whether the node
   * closed it; one the node leaves open is given up on after a while (the load stays bounded).
   */
  function junkConnection(port: number, big: boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`wss://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, {
        rejectUnauthorized: false,
      });
      let givenUp = false;
      const giveUp = setTimeout(() => {
        givenUp = true;
        ws.terminate();
      }, 2_000);
      ws.on('error', () => undefined);
      ws.on('open', () => {
        if (big) ws.send(Buffer.alloc(2 * 1024 * 1024, 1));
        for (let i = 0; i < FRAMES_PER_CONNECTION; i++) ws.send(Buffer.of(0xc1, 0xc1, i & 255));
      });
      ws.on('close', () => {
        clearTimeout(giveUp);
        resolve(!givenUp);
      });
    });
  }

  it('keeps the leader and its term, takes writes throughout, and logs a few lines', async () => {
    const leader = (await cluster.leader()) as number;
    const follower = leader === 0 ? 1 : 0;
    const before = await cluster.status(leader);
    const port = (cluster.nodes[follower] as { config: { clusterPort: number } }).config.clusterPort;
    cluster.nodes[follower]!.stderr = '';

    let done = false;
    let writes = 0;
    const writer = (async () => {
      while (!done) {
        const answer = await cluster.put(follower, `during-${writes}`, String(writes));
        expect(answer.status).toBe(200);
        writes += 1;
      }
    })();

    let started = 0;
    let closedByNode = 0;
    let leftOpen = 0;
    const worker = async (): Promise<void> => {
      while (started < CONNECTIONS && leftOpen === 0) {
        const n = started++;
        if (await junkConnection(port, n % 25 === 0)) closedByNode += 1;
        else leftOpen += 1;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT }, worker));
    // A browser page on another origin gets no websocket at all.
    const page = new WebSocket(`wss://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, {
      rejectUnauthorized: false,
      headers: { Origin: 'http://evil.example' },
    });
    const pageStatus = await new Promise<number>((resolve) => {
      page.on('error', () => undefined);
      page.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      page.once('open', () => resolve(101));
    });
    done = true;
    await writer;

    expect({ closedByNode, leftOpen }).toEqual({ closedByNode: CONNECTIONS, leftOpen: 0 });
    expect(pageStatus).toBe(400);
    expect(writes).toBeGreaterThan(0);
    for (const i of cluster.running()) {
      const status = await cluster.status(i);
      expect({ node: i, term: status.term, leader: status.leader }).toEqual({
        node: i,
        term: before.term,
        leader: before.leader,
      });
    }
    await waitFor(
      async () => (await cluster.get(follower, `during-${writes - 1}`)).value === String(writes - 1),
      'the follower to hold the last write',
    );
    const lines = cluster.nodes[follower]!.stderr.split('\n').filter(
      (l) => l.includes('cluster port') || l.includes('decode'),
    );
    expect(lines.length).toBeLessThanOrEqual(6);
  });
});

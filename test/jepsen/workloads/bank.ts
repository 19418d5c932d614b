/**
 * The bank workload: A accounts, configs whose data is `{balance}`. A transfer reads all accounts
 * in one list (one database state), then moves an amount with one POST /batch of two patches,
 * each with the revision it read as ifRevision, so concurrent transfers cannot break conservation
 * (the loser gets 412). `readBank` is that same one-GET list. The schema has no minimum on
 * purpose: a negative balance must be visible to the checker, not refused by the model.
 */
import type { SimRng } from '../../sim/rng.js';
import { CONTRACT, perform, raftIndexProblem, type ApiClient, type Completion } from '../client.js';
import type { HttpAnswer } from '../http.js';
import type { ClientState } from './client-state.js';
import { setupBatch } from './setup.js';

export interface Bank {
  readonly typeId: string;
  readonly accounts: readonly string[];
  readonly total: number;
}

export interface Transfer {
  readonly from: string;
  readonly to: string;
  readonly amount: number;
}

interface Account {
  readonly balance: number;
  readonly revision: number;
}

const TYPE_ID = 'jepsen-bank-type';

export async function setupBank(api: ApiClient, count: number, balance: number): Promise<Bank> {
  const accounts = Array.from({ length: count }, (_, i) => `jepsen-account-${i}`);
  const schema = {
    type: 'object',
    properties: { balance: { type: 'integer' } },
    required: ['balance'],
    additionalProperties: false,
  };
  await setupBatch(api, 'jepsen-setup-bank', [
    { op: 'create', collection: 'config-types', id: TYPE_ID, data: { name: 'jepsen-bank', schema } },
    ...accounts.map((id) => ({
      op: 'create',
      collection: 'configs',
      id,
      data: { name: id, configTypeId: TYPE_ID, data: { balance } },
    })),
  ]);
  return { typeId: TYPE_ID, accounts, total: balance * count };
}

export function planTransfer(rng: SimRng, bank: Bank): Transfer {
  const [from, to] = rng.shuffle(bank.accounts);
  return { from: from ?? '', to: to ?? '', amount: rng.between(1, 5) };
}

/** GET all accounts in one list. */
function readAccounts(api: ApiClient, node: number, bank: Bank): Promise<Completion> {
  const filter = encodeURIComponent(`configTypeId = "${bank.typeId}"`);
  return perform(
    api,
    node,
    'GET',
    `/configs?filter=${filter}&limit=1000&consistency=linearizable`,
    {},
    { ok: [200], output: (answer) => accountsOf(answer, bank) },
  );
}

function accountsOf(answer: HttpAnswer, bank: Bank): { output?: Record<string, Account>; error?: string } {
  const body = answer.json as { data?: { id?: unknown; revision?: unknown; data?: { balance?: unknown } }[] };
  if (!Array.isArray(body?.data))
    return { error: `${CONTRACT}: list without data: ${answer.text.slice(0, 200)}` };
  const accounts: Record<string, Account> = {};
  for (const row of body.data) {
    const { id, revision } = row;
    const balance = row.data?.balance;
    if (typeof id !== 'string' || typeof revision !== 'number' || typeof balance !== 'number') {
      return { error: `${CONTRACT}: account row without id/revision/balance: ${JSON.stringify(row)}` };
    }
    accounts[id] = { balance, revision };
  }
  const missing = bank.accounts.filter((a) => !(a in accounts));
  return {
    output: accounts,
    ...(missing.length ? { error: `${CONTRACT}: accounts missing: ${missing}` } : {}),
  };
}

export async function runReadBank(api: ApiClient, node: number, bank: Bank): Promise<Completion> {
  const read = await readAccounts(api, node, bank);
  if (read.outcome !== 'ok') return read;
  const accounts = (read.output ?? {}) as Record<string, Account>;
  const balances = Object.fromEntries(Object.entries(accounts).map(([id, a]) => [id, a.balance]));
  return { ...read, output: balances };
}

export async function runTransfer(
  api: ApiClient,
  client: ClientState,
  bank: Bank,
  transfer: Transfer,
): Promise<Completion> {
  const read = await readAccounts(api, client.node, bank);
  // Nothing was proposed yet: whatever the read's fate, the transfer certainly did not happen.
  if (read.outcome !== 'ok' || read.error) {
    return { outcome: 'fail', ...(read.status ? { status: read.status } : {}), error: `read: ${read.error}` };
  }
  const accounts = read.output as Record<string, Account>;
  const from = accounts[transfer.from];
  const to = accounts[transfer.to];
  if (!from || !to) return { outcome: 'fail', error: 'read: account missing' };
  if (from.balance < transfer.amount) return { outcome: 'fail', error: 'INSUFFICIENT_FUNDS' };
  const patch = (id: string, account: Account, balance: number) => ({
    op: 'patch',
    collection: 'configs',
    id,
    data: { data: { balance } },
    ifRevision: account.revision,
  });
  return perform(
    api,
    client.node,
    'POST',
    '/batch',
    {
      body: {
        operations: [
          patch(transfer.from, from, from.balance - transfer.amount),
          patch(transfer.to, to, to.balance + transfer.amount),
        ],
      },
    },
    {
      ok: [200],
      output: (answer) => {
        const index = (answer.json as { index?: unknown } | undefined)?.index;
        const error = raftIndexProblem(answer);
        return { output: { index }, ...(error ? { error } : {}) };
      },
    },
  );
}

/**
 * Group commit: calls of one kind that arrive while `maxInFlight` statements of that kind are in
 * flight go together in the next statement, so under load many jobs share a round trip, a parse and
 * a commit, and a call made while there is room runs at once (as a batch of one, or with the calls of
 * the same turn: no timer, no added wait). Each caller still awaits its own result.
 *
 * - A batch statement of several calls that fails is tried again call by call (`runOne`), so a bad
 *   call (a refused row, an injected fault) fails only its own caller.
 * - `runBatch` may answer RUN_ALONE for a call it could not do in the batch (a row another
 *   transaction holds locked): that call runs on its own, beside the batches, without holding them up.
 * - Calls with the same key (the same job) never share a statement: the later one waits for the next.
 *   Statements in flight at once may hold the same key; Postgres orders them (their row locks).
 */

/** What `runBatch` answers for a call it left to `runOne`. */
export const RUN_ALONE = Symbol('run-alone');

export type GroupCommitOptions<Req, Res> = {
  /** one statement for many calls; answers in the order of the calls */
  runBatch: (calls: readonly Req[]) => Promise<ReadonlyArray<Res | typeof RUN_ALONE>>;
  /**
   * the call on its own: a call a batch left alone, every call of a failed batch of several; by
   * default `runBatch` with that call alone (a statement that may leave calls alone must give its own)
   */
  runOne?: (call: Req) => Promise<Res>;
  /** most calls in one statement */
  maxBatch: number;
  /**
   * statements of this kind in flight at once (default 1): a call made while fewer are in flight
   * goes at once, so grouping adds no wait until the statements, not the calls, are the bottleneck
   */
  maxInFlight?: number;
  /** calls with the same key (the same job) never share a statement; without it, any calls may */
  keyOf?: (call: Req) => string;
  /**
   * for calls off any caller's path (a ledger entry of a job that has ended): each statement short of
   * `maxBatch` first waits this long for company, so under load one statement carries many calls
   */
  lingerMs?: number;
};

type Waiting<Req, Res> = { call: Req; resolve: (value: Res) => void; reject: (err: unknown) => void };

export class GroupCommit<Req, Res> {
  private waiting: Waiting<Req, Res>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: GroupCommitOptions<Req, Res>) {}

  run(call: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.waiting.push({ call, resolve, reject });
      this.schedule();
    });
  }

  /** Pumps once the calls made in this turn are in (with `lingerMs`: once the linger has passed). */
  private schedule(): void {
    if (this.lingerTimer && !this.lingers()) {
      // the calls waiting fill a batch: it goes without waiting out the linger
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
      this.scheduled = false;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      this.lingerTimer = undefined;
      this.pump();
    };
    // calls made in the same turn join the same statement
    if (this.lingers()) this.lingerTimer = setTimeout(go, this.options.lingerMs);
    else queueMicrotask(go);
  }

  private lingers(): boolean {
    return (this.options.lingerMs ?? 0) > 0 && this.waiting.length < this.options.maxBatch;
  }

  /** Starts statements for the waiting calls while fewer than `maxInFlight` are in flight. */
  private pump(): void {
    const maxInFlight = this.options.maxInFlight ?? 1;
    while (this.inFlight < maxInFlight && this.waiting.length > 0) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      // `together` settles every caller itself and never rejects
      void this.together(batch).finally(() => {
        this.inFlight -= 1;
        // calls left waiting short of a full batch wait for company again
        if (this.waiting.length > 0 && this.lingers()) this.schedule();
        else this.pump();
      });
    }
  }

  /** The next calls in order, up to `maxBatch`, one per key (a repeated key stays for a later batch). */
  private takeBatch(): Waiting<Req, Res>[] {
    const batch: Waiting<Req, Res>[] = [];
    const rest: Waiting<Req, Res>[] = [];
    const keys = new Set<string>();
    const { keyOf, maxBatch } = this.options;
    for (const waiting of this.waiting) {
      const key = keyOf?.(waiting.call);
      if (batch.length < maxBatch && (key === undefined || !keys.has(key))) {
        if (key !== undefined) keys.add(key);
        batch.push(waiting);
      } else {
        rest.push(waiting);
      }
    }
    this.waiting = rest;
    return batch;
  }

  private alone(waiting: Waiting<Req, Res>): Promise<void> {
    return this.runOne(waiting.call).then(waiting.resolve, waiting.reject);
  }

  private async runOne(call: Req): Promise<Res> {
    if (this.options.runOne) return this.options.runOne(call);
    const [result] = await this.options.runBatch([call]);
    if (result === RUN_ALONE) throw new Error('GroupCommit: runBatch left a call alone and no runOne was given');
    return result as Res;
  }

  private async together(batch: Waiting<Req, Res>[]): Promise<void> {
    let results: ReadonlyArray<Res | typeof RUN_ALONE>;
    try {
      results = await this.options.runBatch(batch.map((w) => w.call));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // which call failed the statement is unknown: each is tried on its own, its error its own
      await Promise.all(batch.map((w) => this.alone(w)));
      return;
    }
    batch.forEach((waiting, i) => {
      const result = results[i] as Res | typeof RUN_ALONE;
      // not awaited: a call left alone (its row locked elsewhere) must not hold up the next batch
      if (result === RUN_ALONE || i >= results.length) void this.alone(waiting);
      else waiting.resolve(result);
    });
  }
}

/**
 * One GroupCommit per key (a statement shape, a queue, a lane), made on the key's first call: calls
 * of different keys never share a statement.
 */
export class KeyedGroupCommits<Req, Res> {
  private readonly groups = new Map<string, GroupCommit<Req, Res>>();

  constructor(private readonly make: (key: string) => GroupCommit<Req, Res>) {}

  run(key: string, call: Req): Promise<Res> {
    let group = this.groups.get(key);
    if (!group) {
      group = this.make(key);
      this.groups.set(key, group);
    }
    return group.run(call);
  }
}

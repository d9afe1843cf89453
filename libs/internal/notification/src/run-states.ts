import type { EtcdClient } from '@agola-ts/etcd';
import type { CommitStatus } from '@agola-ts/gitsources';
import type { RunPhase, RunResult } from '@agola-ts/types';

/** The etcd key prefix of the per-run notification states (inside `notification/`). */
export const RUN_STATES_PREFIX = 'runs/';
/** The etcd key of the newest run id the service has looked at. */
export const LAST_RUN_KEY = 'lastrunid';

/**
 * What the service last did for a run: the phase and result it last notified (webhooks) and
 * the commit status it last set. A run whose final status is set is `final`: its state is
 * kept for a day (an etcd lease) so that a late event does not notify it again.
 */
export interface RunState {
  phase: RunPhase;
  result: RunResult;
  /** The last commit status the forge accepted. */
  status?: CommitStatus;
  final?: boolean;
}

const FINAL_TTL_SECONDS = 24 * 3600;

const PHASE_RANK: Record<RunPhase, number> = {
  queued: 0,
  running: 1,
  finished: 2,
  cancelled: 2,
  setuperror: 2,
};

/** Orders run states: a later state of a run never ranks lower than an earlier one. */
export function stateRank(phase: RunPhase, result: RunResult): number {
  return PHASE_RANK[phase] * 2 + (result === 'unknown' ? 0 : 1);
}

/** Whether a run phase is final (no event follows it). */
export function isFinalPhase(phase: RunPhase): boolean {
  return PHASE_RANK[phase] === 2;
}

/** The per-run states in etcd (`runs/<runID>`) and the last seen run id. */
export class RunStates {
  constructor(private readonly etcd: EtcdClient) {}

  async get(runId: string): Promise<RunState | undefined> {
    const { kv } = await this.etcd.get(`${RUN_STATES_PREFIX}${runId}`);
    if (!kv) return undefined;
    try {
      return JSON.parse(kv.value.toString('utf8')) as RunState;
    } catch {
      return undefined;
    }
  }

  async put(runId: string, state: RunState): Promise<void> {
    let lease: string | undefined;
    if (state.final) {
      const l = this.etcd.raw.lease(FINAL_TTL_SECONDS, { autoKeepAlive: false });
      lease = await l.grant();
      l.release();
    }
    await this.etcd.put(
      `${RUN_STATES_PREFIX}${runId}`,
      JSON.stringify(state),
      lease ? { lease } : {},
    );
  }

  async delete(runId: string): Promise<void> {
    await this.etcd.delete(`${RUN_STATES_PREFIX}${runId}`);
  }

  /** The ids of the runs whose final status is not set yet. */
  async unfinished(): Promise<string[]> {
    const ids: string[] = [];
    for await (const page of this.etcd.listPaged(RUN_STATES_PREFIX)) {
      for (const kv of page) {
        try {
          const s = JSON.parse(kv.value.toString('utf8')) as RunState;
          if (!s.final) ids.push(kv.key.slice(RUN_STATES_PREFIX.length));
        } catch {
          // not ours
        }
      }
    }
    return ids;
  }

  async lastRunId(): Promise<string | undefined> {
    const { kv } = await this.etcd.get(LAST_RUN_KEY);
    return kv ? kv.value.toString('utf8') : undefined;
  }

  async setLastRunId(id: string): Promise<void> {
    await this.etcd.put(LAST_RUN_KEY, id);
  }
}

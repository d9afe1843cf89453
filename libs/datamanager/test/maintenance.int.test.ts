import { afterEach, describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import {
  DataManagerErrorCodes,
  isMaintenanceEnabled,
  runMaintenanceAware,
  setMaintenanceMode,
  type ServiceMode,
} from '../src/index.js';
import { eventually, fixture, type Fixture } from './helpers.js';

let fx: Fixture | undefined;
const stops: AbortController[] = [];
afterEach(async () => {
  for (const c of stops.splice(0)) c.abort();
  await fx?.close();
  fx = undefined;
});

describe('maintenance mode', () => {
  test('enable/disable is refused when already in that state (Agola messages)', async () => {
    fx = await fixture();
    expect(await isMaintenanceEnabled(fx.etcd)).toBe(false);
    await setMaintenanceMode(fx.etcd, true);
    expect(await isMaintenanceEnabled(fx.etcd)).toBe(true);
    const err = await setMaintenanceMode(fx.etcd, true).catch((e: unknown) => e);
    expect(is(err, DataManagerErrorCodes.MaintenanceState)).toBe(true);
    expect((err as Error).message).toBe('maintenance mode already enabled');
    expect((err as { kind?: string }).kind).toBe('badrequest');
    await setMaintenanceMode(fx.etcd, false);
    await expect(setMaintenanceMode(fx.etcd, false)).rejects.toThrow(
      'maintenance mode already disabled',
    );
  });

  test('two instances switch modes when the key changes, and back', async () => {
    fx = await fixture();
    const modes: ServiceMode[][] = [[], []];
    const running: Array<ServiceMode | undefined> = [undefined, undefined];
    const loops = [0, 1].map((n) => {
      const ac = new AbortController();
      stops.push(ac);
      return runMaintenanceAware({
        etcd: fx!.etcd,
        signal: ac.signal,
        retryMs: 50,
        run: async (mode, signal) => {
          modes[n]!.push(mode);
          running[n] = mode;
          // a service: a datamanager in that mode, until told to stop
          const dm = fx!.dm({ maintenanceMode: mode === 'maintenance' });
          await dm.start();
          await new Promise<void>((r) => {
            if (signal.aborted) r();
            else signal.addEventListener('abort', () => r(), { once: true });
          });
          await dm.stop();
          running[n] = undefined;
        },
      });
    });
    await eventually(() => running.every((m) => m === 'normal'));
    await setMaintenanceMode(fx.etcd, true);
    await eventually(() => running.every((m) => m === 'maintenance'));
    await setMaintenanceMode(fx.etcd, false);
    await eventually(() => running.every((m) => m === 'normal'));
    expect(modes).toEqual([
      ['normal', 'maintenance', 'normal'],
      ['normal', 'maintenance', 'normal'],
    ]);
    for (const c of stops) c.abort();
    await Promise.all(loops);
  });

  test('a failing run is restarted; a run stuck in shutdown does not block the switch forever', async () => {
    fx = await fixture();
    const ac = new AbortController();
    stops.push(ac);
    let attempts = 0;
    const loop = runMaintenanceAware({
      etcd: fx.etcd,
      signal: ac.signal,
      retryMs: 20,
      run: async () => {
        attempts++;
        throw new Error('service failed to start');
      },
    });
    await eventually(() => attempts >= 3);
    ac.abort();
    await loop;
  });
});

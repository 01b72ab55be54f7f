// Race day, short form of `make soak` (test/soak/): three daemons on one
// queue through a SIGKILL, a SIGTERM and restart and a 10 s freeze of the
// stack; throttling through a fault-injecting proxy; connection pressure.
// Each checks the invariants (test/soak/lib.mjs checkInvariants) and fails
// on any that does not hold. The figures of the full soak are in
// docs/benchmarks.md; this only proves the properties on a small run (RSS
// drift is checked by the full soak only: 20 photos per daemon do not warm
// one up).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { burst, connections, throttling } from '../soak/scenarios.mjs';

const log = (...a) => console.error('raceday:', ...a);

describe('race day (short)', { concurrency: false }, () => {
  it('three daemons, 60 photos, SIGKILL, SIGTERM + restart, stack frozen 10 s: every photo once, no orphans, queues empty', { timeout: 420_000 }, async () => {
    const r = await burst({ photos: 60, killAt: 0.2, freezeAt: 0.35, termAt: 0.5, parallel: 4, log });
    log(`burst: ${r.photos} photos in ${r.doneSecs.toFixed(1)} s; latency p50 ${r.latency.p50.toFixed(1)} s p99 ${r.latency.p99.toFixed(1)} s; events ${JSON.stringify(r.events)}`);
    assert.deepEqual(r.problems, []);
    assert.equal(r.invariants.images, 60);
    assert.equal(r.events.length, 5, 'every fault happened');
  });

  it('throttled calls and a window where every call fails: nothing lost, the retry quota caps the retries', { timeout: 420_000 }, async () => {
    const r = await throttling({ photos: 24, share: 0.1, windowMs: 6000, lookups: 200, log });
    log(`throttling: injected ${JSON.stringify(r.injected)}; window: ${r.retriesInWindow} retries, ${r.failedInWindow} failed calls; after: ${r.retriesAfter} retries`);
    assert.deepEqual(r.problems, []);
    assert.ok(Object.values(r.injected).every((s) => s.injected > 0), 'each service saw injected errors');
  });

  it('1,500 idle connections and slow clients: refused with a 503 beyond the cap, descriptors bounded, requests served', { timeout: 180_000 }, async () => {
    const r = await connections({ idle: 1500, slow: 20, rate: 100, durationMs: 8000, maxConnections: 500, log });
    log(`connections: held ${r.held}, refused ${r.refused} ${JSON.stringify(r.answers)}, fds ${r.fdBase}/${r.fdMax}/${r.fdAfter} of ${r.softLimit}`);
    assert.deepEqual(r.problems, []);
    assert.ok(r.held <= 520, `at most the cap held (${r.held})`);
  });
});

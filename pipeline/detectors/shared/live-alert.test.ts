import { describe, expect, it } from 'vitest';
import type { WindowMetrics } from '../detector.js';
import { CapturingContext, closedWindow } from './capture.js';
import { endedBefore, isLive, PendingRefreshes, REFRESH_MS } from './live-alert.js';

const MIN = 60_000;
/** as in the correlator: an alert not signalled for 10 minutes is resolved */
const correlator = Object.assign(new CapturingContext(), { resolveAfterMs: 10 * MIN });
const replay = new CapturingContext();
const closed = (service: string, endpoint?: string): WindowMetrics =>
  closedWindow(service, endpoint ? { endpoint } : {});

describe('live alerts', () => {
  it('an alert is live within the resolve window of its last signal; without one, for good once signalled', () => {
    expect([isLive(-1, 0, correlator), isLive(0, 10 * MIN - 1, correlator), isLive(0, 10 * MIN, correlator)]).toEqual([
      false,
      true,
      false,
    ]);
    expect([isLive(-1, 0, replay), isLive(0, 1000 * MIN, replay)]).toEqual([false, true]);
  });

  it('an event opens the next alert once the last went quiet with everything it counted reported', () => {
    // never signalled: the count goes on
    expect(endedBefore(-1, 5 * MIN, 60 * MIN, correlator)).toBe(false);
    // signalled at its last event, quiet since: the next event starts afresh
    expect(endedBefore(5 * MIN, 5 * MIN, 15 * MIN, correlator)).toBe(true);
    expect(endedBefore(5 * MIN, 5 * MIN, 15 * MIN - 1, correlator)).toBe(false);
    // events counted after its last signal and not reported (waiting to be raised): they are the next alert's already
    expect(endedBefore(5 * MIN, 7 * MIN, 30 * MIN, correlator)).toBe(false);
    // nothing resolves without a resolve window
    expect(endedBefore(5 * MIN, 5 * MIN, 1000 * MIN, replay)).toBe(false);
  });

  it('a refresh is due a second after the last signal; the ones not yet due wait for their service window', () => {
    const pending = new PendingRefreshes<string>();
    expect(pending.due('a', 'billing', 'GET /a', 5000 + REFRESH_MS, 5000)).toBe(true);
    expect(pending.size).toBe(0);
    expect(pending.due('a', 'billing', 'GET /a', 5000 + REFRESH_MS - 1, 5000)).toBe(false);
    expect(pending.due('b', 'billing', 'GET /b', 5100, 5000)).toBe(false);
    expect(pending.due('c', 'orders', 'GET /c', 5100, 5000)).toBe(false);
    pending.done('b');
    const refreshed: [string, string][] = [];
    const refresh = (key: string, value: string) => refreshed.push([key, value]);
    // an endpoint's window, or another service's, reports nothing of billing
    pending.onWindow(closed('billing', 'GET /a'), refresh);
    pending.onWindow(closed('payments'), refresh);
    expect(refreshed).toEqual([]);
    // across a checkpoint
    const resumed = new PendingRefreshes<string>();
    resumed.load(JSON.parse(JSON.stringify(pending.dump())));
    resumed.onWindow(closed('billing'), refresh);
    resumed.onWindow(closed('billing'), refresh);
    expect(refreshed).toEqual([['a', 'GET /a']]);
    expect(resumed.size).toBe(1);
    // a checkpoint from before the detector refreshed its alerts has none waiting
    resumed.load(undefined);
    expect(resumed.size).toBe(0);
  });

  it('a refresh is due a second after the last signal, and then the alert waits no more; not due, it waits', () => {
    const pending = new PendingRefreshes<string>();
    const refreshed: string[] = [];
    const atWindow = () => pending.onWindow(closed('billing'), (key) => refreshed.push(key));
    // not due: the caller signals nothing, the alert waits
    expect(pending.refresh('a', 'billing', 'GET /a', 5000 + REFRESH_MS - 1, 5000)).toBe(false);
    expect(pending.dump()).toEqual([['a', ['billing', 'GET /a']]]);
    // due: the caller signals, and the alert no longer waits for its service window
    expect(pending.refresh('a', 'billing', 'GET /a', 5000 + REFRESH_MS, 5000)).toBe(true);
    atWindow();
    expect(refreshed).toEqual([]);
    // due, but the caller would signal nothing: the alert waits as it was, and its service window reports it
    expect(pending.refresh('b', 'billing', 'GET /b', 5100, 5000)).toBe(false);
    expect(pending.refresh('b', 'billing', 'GET /b', 6000, 5000, false)).toBe(false);
    atWindow();
    expect(refreshed).toEqual(['b']);
  });
});

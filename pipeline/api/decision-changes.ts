import { EventEmitter } from 'node:events';
import type { Decision } from '../core/decision.js';
import { counter } from '../core/metrics.js';
import { announceChange, type ChangeFeed, followChanges } from '../store/change-feed.js';
import type { Store } from '../store/store.js';

/** decision changes: announced on the store, and kept in a log for the followers an announcement missed */
const FEED: ChangeFeed = { channel: 'decisions:changes', log: 'decisions:changes:log', logMax: 10_000 };

const unannounced = counter(
  'meshward_decision_changes_unannounced_total',
  'decision changes the policy engine made but could not announce to the API processes (store pub/sub and log failed); their live streams miss them',
);
const badAnnouncements = counter(
  'meshward_decision_announcements_invalid_total',
  'decision-change announcements that were not decisions',
);
const caughtUp = counter(
  'meshward_decision_changes_caught_up_total',
  "decision changes an API process's live stream took from the changes log because their announcement did not reach it",
);

/** what announces decision changes: the policy engine (its `subscribe`) */
interface DecisionSource {
  subscribe(listener: (change: { decision: Decision }) => void): () => void;
}

/**
 * Announces each decision change of the engine on the store, where every API process follows them
 * (followDecisionChanges): the engine may run in the API process, in another replica's, or in the actions role's,
 * and the analysts' consoles are live on any API. Each change is also kept in a log (change-feed.ts) for the followers
 * an announcement misses (pub/sub is at most once). Returns the function that stops announcing.
 */
export function announceDecisionChanges(engine: DecisionSource, store: Store): () => void {
  return engine.subscribe(({ decision }) => {
    void announceChange(store, FEED, JSON.stringify(decision)).then((reached) => {
      if (!reached) unannounced.inc();
    });
  });
}

/** decision changes as an API process's live stream takes them */
export interface DecisionChanges extends DecisionSource {
  close(): Promise<void>;
}

/** a decision change as a follower reads it (an announcement or a log entry); undefined, counted, when it is not one */
function decisionOf(message: string): Decision | undefined {
  let decision: Decision;
  try {
    decision = JSON.parse(message) as Decision;
  } catch {
    badAnnouncements.inc();
    return undefined;
  }
  if (typeof decision?.id !== 'string' || typeof decision.value !== 'string') {
    badAnnouncements.inc();
    return undefined;
  }
  return decision;
}

/**
 * The decision changes announced on the store (announceDecisionChanges), by whichever process made them, for the
 * analysts' live stream (`event: decision`). Announcements come at once; every `catchUpMs` the follower also reads the
 * changes log past where it last read, and tells the changes no announcement brought (an API whose subscription was
 * reconnecting, a publish that failed). A change is told once, and never after a later change of the same decision
 * (by `updatedAt`). An announcement that is not a decision is counted and dropped.
 */
export async function followDecisionChanges(store: Store, opts: { catchUpMs?: number } = {}): Promise<DecisionChanges> {
  const changes = new EventEmitter<{ change: [{ decision: Decision }] }>();
  changes.setMaxListeners(1000);
  const stop = await followChanges(
    store,
    FEED,
    { parse: decisionOf, versionOf: (d) => ({ id: d.id, at: d.updatedAt }), catchUpMs: opts.catchUpMs },
    (decision, caught) => {
      if (caught) caughtUp.inc();
      changes.emit('change', { decision });
    },
  );
  return {
    subscribe(listener) {
      changes.on('change', listener);
      return () => changes.off('change', listener);
    },
    close: async () => {
      changes.removeAllListeners();
      await stop();
    },
  };
}

import { EventEmitter } from 'node:events';
import type { Decision } from '../core/decision.js';
import { counter } from '../core/metrics.js';
import type { Store } from '../store/store.js';

/** the store channel decision changes are announced on, for every API process's live stream */
const CHANNEL = 'decisions:changes';

const unannounced = counter(
  'meshward_decision_changes_unannounced_total',
  'decision changes the policy engine made but could not announce to the API processes (store pub/sub failed); their live streams miss them',
);
const badAnnouncements = counter(
  'meshward_decision_announcements_invalid_total',
  'decision-change announcements that were not decisions',
);

/** what announces decision changes: the policy engine (its `subscribe`) */
interface DecisionSource {
  subscribe(listener: (change: { decision: Decision }) => void): () => void;
}

/**
 * Announces each decision change of the engine on the store, where every API process follows them
 * (followDecisionChanges): the engine may run in the API process, in another replica's, or in the actions role's,
 * and the analysts' consoles are live on any API. Returns the function that stops announcing.
 */
export function announceDecisionChanges(engine: DecisionSource, store: Store): () => void {
  return engine.subscribe(({ decision }) => {
    store.publish(CHANNEL, JSON.stringify(decision)).catch(() => unannounced.inc());
  });
}

/** decision changes as an API process's live stream takes them */
export interface DecisionChanges extends DecisionSource {
  close(): Promise<void>;
}

/**
 * The decision changes announced on the store (announceDecisionChanges), by whichever process made them, for the
 * analysts' live stream (`event: decision`); an announcement that is not a decision is counted and dropped.
 */
export async function followDecisionChanges(store: Store): Promise<DecisionChanges> {
  const changes = new EventEmitter<{ change: [{ decision: Decision }] }>();
  changes.setMaxListeners(1000);
  const stop = await store.subscribe(CHANNEL, (message) => {
    let decision: Decision;
    try {
      decision = JSON.parse(message) as Decision;
    } catch {
      badAnnouncements.inc();
      return;
    }
    if (typeof decision?.id !== 'string' || typeof decision.value !== 'string') {
      badAnnouncements.inc();
      return;
    }
    changes.emit('change', { decision });
  });
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

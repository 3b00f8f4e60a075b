import { EventEmitter } from 'node:events';
import type { Decision } from '../core/decision.js';
import { counter } from '../core/metrics.js';
import type { Store } from '../store/store.js';

/** the store channel decision changes are announced on, for every API process's live stream */
const CHANNEL = 'decisions:changes';
/** the same changes kept in a log, read by every follower now and then: what a lost announcement missed */
const LOG = 'decisions:changes:log';
/** changes the log keeps (about: the store trims it lazily) */
const LOG_MAX = 10_000;
/** decisions whose last change a follower remembers, to pass over a change it has already told */
const REMEMBERED = 10_000;

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
 * and the analysts' consoles are live on any API. Each change is written to a log first (kept for the followers that
 * miss an announcement: pub/sub is at most once), then published. Returns the function that stops announcing.
 */
export function announceDecisionChanges(engine: DecisionSource, store: Store): () => void {
  return engine.subscribe(({ decision }) => {
    const json = JSON.stringify(decision);
    const logged = store.append(LOG, json, { maxLen: LOG_MAX }).then(
      () => true,
      () => false,
    );
    const published = store.publish(CHANNEL, json).then(
      () => true,
      () => false,
    );
    void Promise.all([logged, published]).then(([l, p]) => {
      if (!l && !p) unannounced.inc();
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
  /** per decision, the last change told: its updatedAt and its text (oldest first, at most REMEMBERED) */
  const told = new Map<string, { updatedAt: number; json: string }>();
  const tell = (json: string, decision: Decision): boolean => {
    const last = told.get(decision.id);
    if (last && (last.updatedAt > decision.updatedAt || last.json === json)) return false;
    told.delete(decision.id);
    told.set(decision.id, { updatedAt: decision.updatedAt, json });
    if (told.size > REMEMBERED) told.delete(told.keys().next().value as string);
    changes.emit('change', { decision });
    return true;
  };
  // the log from now on: what came before the follower is the decisions list's to show
  let logAt: string | undefined;
  try {
    logAt = (await store.readLogBackwards(LOG, undefined, 1))[0]?.id;
  } catch {
    // the store is down: the first catch-up reads the log from its start (changes told once all the same)
  }
  const stop = await store.subscribe(CHANNEL, (message) => {
    const decision = decisionOf(message);
    if (decision) tell(message, decision);
  });
  let reading = false;
  const catchUp = async () => {
    if (reading) return;
    reading = true;
    try {
      for (;;) {
        const entries = await store.readLog(LOG, logAt, 200);
        for (const e of entries) {
          logAt = e.id;
          const decision = decisionOf(e.entry);
          if (decision && tell(e.entry, decision)) caughtUp.inc();
        }
        if (entries.length < 200) break;
      }
    } catch {
      // the store is down: the next catch-up reads on from where this one stopped
    } finally {
      reading = false;
    }
  };
  const timer = setInterval(() => void catchUp(), opts.catchUpMs ?? 2_000);
  timer.unref();
  return {
    subscribe(listener) {
      changes.on('change', listener);
      return () => changes.off('change', listener);
    },
    close: async () => {
      clearInterval(timer);
      changes.removeAllListeners();
      await stop();
    },
  };
}

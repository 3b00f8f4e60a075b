import type { Store } from './store.js';

/**
 * A feed of changes (alerts, decisions) from the processes that make them to every process that shows them live: each
 * change is announced on a store channel (at once, but at most once: a subscription reconnecting misses it) and kept
 * in a log, which every follower reads now and then past where it was, so what an announcement missed still comes.
 * On the embedded store the announcing and the following are in one process, whose channels lose nothing: no log.
 */
export interface ChangeFeed {
  /** the store channel of the announcements */
  channel: string;
  /** the store log keeping them */
  log: string;
  /** changes the log keeps, about (the store trims it lazily) */
  logMax: number;
}

/**
 * Announces a change (its text): logged and published. Resolves to false when both failed (the change reaches no
 * follower), never rejects
 */
export async function announceChange(store: Store, feed: ChangeFeed, text: string): Promise<boolean> {
  const [logged, published] = await Promise.all([
    store.kind === 'memory'
      ? false
      : store.append(feed.log, text, { maxLen: feed.logMax }).then(
          () => true,
          () => false,
        ),
    store.publish(feed.channel, text).then(
      () => true,
      () => false,
    ),
  ]);
  return logged || published;
}

export interface FollowOptions<T> {
  /** the change a text is, or undefined when it is not one (the caller counts it) */
  parse(text: string): T | undefined;
  /** what the change is of, and when it was made: a change is told once, and never after a later one of the same */
  versionOf(change: T): { id: string; at: number };
  /** how often the log is read (default 2 s) */
  catchUpMs?: number;
  /** changes whose last version a follower remembers (default 10,000) */
  remembered?: number;
}

/**
 * Follows a feed from now on: `onChange` gets each change once (`caughtUp`: it came from the log, its announcement
 * having missed this follower), never one older than a change of the same already told. Returns the function that
 * stops following
 */
export async function followChanges<T>(
  store: Store,
  feed: ChangeFeed,
  opts: FollowOptions<T>,
  onChange: (change: T, caughtUp: boolean) => void,
): Promise<() => Promise<void>> {
  const remembered = opts.remembered ?? 10_000;
  /** per id, the last change told: its time and its text (oldest first) */
  const told = new Map<string, { at: number; text: string }>();
  const tell = (text: string, caughtUp: boolean): void => {
    const change = opts.parse(text);
    if (change === undefined) return;
    const { id, at } = opts.versionOf(change);
    const last = told.get(id);
    if (last && (last.at > at || last.text === text)) return;
    told.delete(id);
    told.set(id, { at, text });
    if (told.size > remembered) told.delete(told.keys().next().value as string);
    onChange(change, caughtUp);
  };
  // the log from now on: what came before the follower is the lists' to show
  let logAt: string | undefined;
  try {
    if (store.kind !== 'memory') logAt = (await store.readLogBackwards(feed.log, undefined, 1))[0]?.id;
  } catch {
    // the store is down: the first catch-up reads the log from its start (changes told once all the same)
  }
  const unsubscribe = await store.subscribe(feed.channel, (text) => tell(text, false));
  if (store.kind === 'memory') return unsubscribe;
  let reading = false;
  const catchUp = async () => {
    if (reading) return;
    reading = true;
    try {
      for (;;) {
        const entries = await store.readLog(feed.log, logAt, 200);
        for (const e of entries) {
          logAt = e.id;
          tell(e.entry, true);
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
  return async () => {
    clearInterval(timer);
    await unsubscribe();
  };
}

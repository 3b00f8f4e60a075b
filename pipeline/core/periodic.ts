/**
 * Runs `task` at once and then every `intervalMs`, one run at a time (a run that takes longer than the interval delays
 * the next, never overlaps it); the timer does not hold the process open. `task` must not reject (it handles its own
 * failures). Returns the function that stops it, waiting for a run under way.
 */
export function startPeriodic(task: () => Promise<void>, intervalMs: number): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const run = () => {
    running = running.then(task);
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

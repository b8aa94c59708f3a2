// Leaving a page with unsaved work: the editor registers a guard, and the hash router asks it
// before following a top-bar link or the browser's Back (both change the hash).

type Guard = () => boolean;
let guard: Guard | null = null;

/** Register the guard (true: it is fine to leave); returns its removal. */
export function setLeaveGuard(fn: Guard): () => void {
  guard = fn;
  return () => {
    if (guard === fn) guard = null;
  };
}

/** Whether the page may be left: asks the registered guard, if any. */
export function mayLeave(): boolean {
  return guard === null || guard();
}

let pending: Promise<unknown> = Promise.resolve();

/** Work the page left behind (deleting a new scenario never saved): pages that list what it
 * changes wait for it (`settled`). */
export function finishAfterLeaving(work: Promise<unknown>): void {
  pending = work.catch(() => {});
}

export function settled(): Promise<unknown> {
  return pending;
}

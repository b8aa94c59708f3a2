import { useCallback, useRef, useState } from "react";

/** Undo/redo over immutable snapshots. Edits with the same key within a second coalesce
 * (typing into one field is one undo step). */
export function useHistory<T>(initial: T) {
  const [state, setState] = useState({ past: [] as T[], present: initial, future: [] as T[] });
  const last = useRef({ key: "", at: 0 });

  const commit = useCallback((next: T, key = "") => {
    const now = Date.now();
    const coalesce = key !== "" && key === last.current.key && now - last.current.at < 1000;
    last.current = { key, at: now };
    setState((s) => ({
      past: coalesce ? s.past : [...s.past, s.present].slice(-200),
      present: next,
      future: [],
    }));
  }, []);

  const reset = useCallback((value: T) => {
    last.current = { key: "", at: 0 };
    setState({ past: [], present: value, future: [] });
  }, []);

  const undo = useCallback(() => {
    last.current = { key: "", at: 0 };
    setState((s) =>
      s.past.length === 0
        ? s
        : { past: s.past.slice(0, -1), present: s.past[s.past.length - 1], future: [s.present, ...s.future] },
    );
  }, []);

  const redo = useCallback(() => {
    last.current = { key: "", at: 0 };
    setState((s) =>
      s.future.length === 0 ? s : { past: [...s.past, s.present], present: s.future[0], future: s.future.slice(1) },
    );
  }, []);

  return {
    value: state.present,
    commit,
    reset,
    undo,
    redo,
    canUndo: state.past.length > 0,
    canRedo: state.future.length > 0,
  };
}

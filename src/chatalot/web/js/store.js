// A small observable store: state is replaced, never mutated in place, so a view re-renders
// when the slice it selected changed (compared by identity).

import { useEffect, useState, useRef } from "./html.js";

export function createStore(initial) {
  let state = initial;
  const listeners = new Set();
  return {
    get: () => state,
    set(update) {
      const next = typeof update === "function" ? update(state) : { ...state, ...update };
      if (next === state) return;
      state = next;
      for (const fn of [...listeners]) fn(state);
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

/** The part of the store a view needs; re-renders only when it changes. */
export function useStore(store, select = (state) => state) {
  const [value, setValue] = useState(() => select(store.get()));
  const selectRef = useRef(select);
  selectRef.current = select;
  useEffect(() => {
    const check = (state) => {
      const next = selectRef.current(state);
      setValue((previous) => (Object.is(previous, next) ? previous : next));
    };
    check(store.get());
    return store.subscribe(check);
  }, [store]);
  return value;
}

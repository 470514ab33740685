// Preact with htm templates: every view imports html and the hooks from here.
import { h, render, Fragment, createContext, Component } from "../vendor/preact.module.js";
import htm from "../vendor/htm.module.js";

export const html = htm.bind(h);
export { h, render, Fragment, createContext, Component };
export {
  useState,
  useEffect,
  useLayoutEffect,
  useRef,
  useMemo,
  useCallback,
  useContext,
  useReducer,
} from "../vendor/hooks.module.js";

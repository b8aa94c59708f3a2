import { createContext, useContext } from "react";

/** The text field the mapping panel inserts into (the last one focused). */
export interface ActiveField {
  owner: string;
  label: string;
  value: string;
  insert: (text: string) => void;
}

export interface ActiveFieldApi {
  active: ActiveField | null;
  setActive: (field: ActiveField | null) => void;
}

export const ActiveFieldContext = createContext<ActiveFieldApi>({ active: null, setActive: () => {} });

export function useActiveField(): ActiveFieldApi {
  return useContext(ActiveFieldContext);
}

import { createContext, useContext } from "react";
import type { Anchor } from "./blueprint";

/** What nodes and edges can ask the editor to do. */
export interface EditorActions {
  /** A past run or a viewer: nothing can be added, moved or deleted. */
  readOnly: boolean;
  openCatalogue: (anchor: Anchor) => void;
  openMenu: (moduleId: number, x: number, y: number) => void;
  selectEdge: (edgeId: string) => void;
  openRun: (moduleId: number) => void;
}

export const EditorActionsContext = createContext<EditorActions | null>(null);

export function useEditorActions(): EditorActions {
  const actions = useContext(EditorActionsContext);
  if (!actions) throw new Error("EditorActionsContext is missing");
  return actions;
}

// The module catalogue, apps, functions and filter operators, loaded once per page.
import { useEffect, useState } from "react";
import { api } from "./api";
import type { AppInfo, FunctionInfo, KeywordInfo, ModuleInfo, OperatorGroup } from "./types";

export interface Catalog {
  modules: ModuleInfo[];
  apps: AppInfo[];
  functions: FunctionInfo[];
  keywords: KeywordInfo[];
  /** Make's filter operators by group, as the engine knows them (GET /api/operators). */
  operators: OperatorGroup[];
  byId: Map<string, ModuleInfo>;
  appsById: Map<string, AppInfo>;
  loaded: boolean;
}

const EMPTY: Catalog = {
  modules: [],
  apps: [],
  functions: [],
  keywords: [],
  operators: [],
  byId: new Map(),
  appsById: new Map(),
  loaded: false,
};

let cache: Promise<Catalog> | null = null;

async function load(): Promise<Catalog> {
  const [modules, apps, functions, operators, keywords] = await Promise.all([
    api.get<ModuleInfo[]>("/api/modules").catch(() => [] as ModuleInfo[]),
    api.get<AppInfo[]>("/api/apps").catch(() => [] as AppInfo[]),
    api.get<FunctionInfo[]>("/api/functions").catch(() => [] as FunctionInfo[]),
    api.get<OperatorGroup[]>("/api/operators").catch(() => [] as OperatorGroup[]),
    api.get<KeywordInfo[]>("/api/keywords").catch(() => [] as KeywordInfo[]),
  ]);
  return {
    modules,
    apps,
    functions,
    keywords,
    operators,
    byId: new Map(modules.map((m) => [m.id, m])),
    appsById: new Map(apps.map((a) => [a.app, a])),
    loaded: true,
  };
}

export function useCatalog(): Catalog {
  const [catalog, setCatalog] = useState<Catalog>(EMPTY);
  useEffect(() => {
    cache ??= load();
    let live = true;
    cache.then((c) => {
      // A failed load is not kept: the next editor that opens asks again.
      if (c.modules.length === 0) cache = null;
      if (live) setCatalog(c);
    });
    return () => {
      live = false;
    };
  }, []);
  return catalog;
}

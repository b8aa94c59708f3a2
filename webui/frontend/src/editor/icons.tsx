// Small inline icons for the apps' icon names from GET /api/apps (no CDN, no icon font).
const PATHS: Record<string, string> = {
  flow: "M6 4h4v4H6zM14 16h4v4h-4zM14 4h4v4h-4zM8 8v4h8V8M12 12v4h4",
  webhook:
    "M12 3a4 4 0 0 1 3.5 6l3 5a4 4 0 1 1-1.7 1l-3-5A4 4 0 0 1 12 3zm-6 9a4 4 0 0 1 2.5 1l-2 1.5A2 2 0 1 0 8 18h6a4 4 0 1 1-8-6z",
  globe: "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zm0 0c3 3 3 15 0 18m0-18c-3 3-3 15 0 18M3 12h18M5 7h14M5 17h14",
  braces:
    "M9 4c-2 0-3 1-3 3v2c0 1-1 2-2 3 1 1 2 2 2 3v2c0 2 1 3 3 3M15 4c2 0 3 1 3 3v2c0 1 1 2 2 3-1 1-2 2-2 3v2c0 2-1 3-3 3",
  database: "M5 6c0-2 14-2 14 0v12c0 2-14 2-14 0zM5 6c0 2 14 2 14 0M5 12c0 2 14 2 14 0",
  wrench: "M14 4a5 5 0 0 0-4 7l-6 6 3 3 6-6a5 5 0 0 0 7-4l-3 1-3-3z",
  text: "M5 6h14M12 6v13M8 19h8",
  table: "M4 5h16v14H4zM4 10h16M4 15h16M10 5v14",
  router: "M3 12h6M9 12l5-6h6M9 12l5 6h6M9 12h11",
  ignore: "M4 17c2-8 12-8 14-2M18 9v6h-6",
  resume: "M7 5l12 7-12 7z",
  commit: "M5 12l5 5 9-10",
  rollback: "M9 7L4 12l5 5M4 12h10a6 6 0 0 1 0 12",
  break: "M8 5v14M16 5v14",
  funnel: "M4 5h16l-6 8v6l-4-2v-4z",
  // Flow control: an iterator splits an array into bundles "[ ››", an aggregator gathers
  // bundles into one "›› ]", a repeater loops.
  iterator: "M8 5H4v14h4M11 8l4 4-4 4M16 8l4 4-4 4",
  aggregator: "M16 5h4v14h-4M4 8l4 4-4 4M9 8l4 4-4 4",
  repeater: "M17 2l3 3-3 3M4 11V9a4 4 0 0 1 4-4h12M7 22l-3-3 3-3M20 13v2a4 4 0 0 1-4 4H4",
  code: "M8 7l-5 5 5 5M16 7l5 5-5 5M14 4l-4 16",
  markdown: "M3 6h18v12H3zM6 15V9l3 3 3-3v6M15 12l2 3 2-3M17 9v6",
  mail: "M3 6h18v12H3zM3 6l9 7 9-7",
  // The icon names the apps defined as data use (modules/apps/library/*/app.yaml).
  ai: "M12 3l2 5 5 2-5 2-2 5-2-5-5-2 5-2zM19 15l1 2 2 1-2 1-1 2-1-2-2-1 2-1z",
  calendar: "M4 6h16v14H4zM4 10h16M8 3v5M16 3v5",
  card: "M3 6h18v12H3zM3 10h18M6 15h4",
  chat: "M4 5h16v11H9l-5 4z",
  check: "M4 12l5 5L20 6",
  crm: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c0-4 4-6 8-6s8 2 8 6",
  folder: "M3 6h6l2 2h10v11H3z",
  form: "M6 3h12v18H6zM9 8h6M9 12h6M9 16h4",
  school: "M2 9l10-5 10 5-10 5zM6 11v5c3 3 9 3 12 0v-5",
  share:
    "M18 8a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM6 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM18 22a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM8.6 13.5l6.8 4M15.4 6.5l-6.8 4",
  sign: "M4 18c3-4 5-11 8-11s-2 9 2 9 3-3 6-3M4 21h16",
  slack: "M9 3v18M15 3v18M3 9h18M3 15h18",
};

export function NamedIcon({ name, size }: { name: string; size: number }) {
  const d = PATHS[name];
  if (!d) return null;
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
    >
      <path d={d} />
    </svg>
  );
}

export function hasNamedIcon(name: string): boolean {
  return name in PATHS;
}

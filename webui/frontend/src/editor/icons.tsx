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

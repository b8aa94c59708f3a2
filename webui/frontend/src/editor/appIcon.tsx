import type { AppInfo } from "../types";
import { NamedIcon, hasNamedIcon } from "./icons";

const FALLBACK_COLORS = ["#6d00cc", "#0b7ec2", "#e26d00", "#00a37a", "#c7254e", "#5b6770"];

export function appColor(app: AppInfo | null, appId: string): string {
  if (app?.color) return app.color;
  let h = 0;
  for (const ch of appId) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return FALLBACK_COLORS[h % FALLBACK_COLORS.length];
}

/** The app's icon: an image (URL, data URI), inline SVG, or its initials. */
export function AppIcon({ app, appId, size }: { app: AppInfo | null; appId: string; size: number }) {
  const icon = app?.icon ?? "";
  if (/^(https?:|data:|\/)/.test(icon)) {
    return <img className="app-icon" src={icon} alt="" width={size} height={size} />;
  }
  if (icon.trim().startsWith("<svg")) {
    return (
      <span className="app-icon" style={{ width: size, height: size }} dangerouslySetInnerHTML={{ __html: icon }} />
    );
  }
  if (hasNamedIcon(icon)) {
    return (
      <span className="app-icon">
        <NamedIcon name={icon} size={size} />
      </span>
    );
  }
  const label = app?.label ?? appId;
  const initials =
    icon && icon.length <= 3
      ? icon.toUpperCase()
      : label
          .replace(/[^A-Za-z0-9 ]/g, "")
          .split(/\s+/)
          .map((w) => w[0] ?? "")
          .join("")
          .slice(0, 2)
          .toUpperCase() || "?";
  return (
    <span className="app-initials" style={{ fontSize: size * 0.42 }}>
      {initials}
    </span>
  );
}

import { useEffect, useLayoutEffect, useRef, useState } from "react";

export interface MenuItem {
  label: string;
  onClick: () => void;
  danger?: boolean;
  hidden?: boolean;
}

/** The right-click menu of a module. */
export function ContextMenu({
  x,
  y,
  items,
  onClose,
}: {
  x: number;
  y: number;
  items: MenuItem[];
  onClose: () => void;
}) {
  // Opened near the window's bottom or right edge, the menu opens upward or leftward so that
  // every item stays visible.
  const ref = useRef<HTMLUListElement>(null);
  const [at, setAt] = useState({ left: x, top: y });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const { width, height } = el.getBoundingClientRect();
    const margin = 8;
    const left = x + width + margin > window.innerWidth ? Math.max(margin, x - width) : x;
    const top = y + height + margin > window.innerHeight ? Math.max(margin, y - height) : y;
    setAt({ left, top });
  }, [x, y]);
  useEffect(() => {
    const close = () => onClose();
    window.addEventListener("click", close);
    window.addEventListener("keydown", close);
    return () => {
      window.removeEventListener("click", close);
      window.removeEventListener("keydown", close);
    };
  }, [onClose]);
  return (
    <ul ref={ref} className="context-menu" role="menu" style={at} onClick={(e) => e.stopPropagation()}>
      {items
        .filter((i) => !i.hidden)
        .map((item) => (
          <li key={item.label}>
            <button
              role="menuitem"
              className={item.danger ? "danger" : ""}
              onClick={() => {
                onClose();
                item.onClick();
              }}
            >
              {item.label}
            </button>
          </li>
        ))}
    </ul>
  );
}

import { useEffect, useId, useRef } from "react";
import { useActiveField } from "./activeField";

/** A text field that takes mapped items (`{{1.name}}`) at the caret from the mapping panel. */
export function MappableInput({
  value,
  onChange,
  label,
  multiline = false,
  placeholder,
  testId,
}: {
  value: string;
  onChange: (value: string) => void;
  label: string;
  multiline?: boolean;
  placeholder?: string;
  testId?: string;
}) {
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const { active, setActive } = useActiveField();
  const owner = useId();
  const latest = useRef(value);
  latest.current = value;

  const register = () => {
    setActive({
      owner,
      label,
      value: latest.current,
      insert: (text: string) => {
        const el = ref.current;
        const current = latest.current;
        const start = el?.selectionStart ?? current.length;
        const end = el?.selectionEnd ?? current.length;
        const next = current.slice(0, start) + text + current.slice(end);
        latest.current = next;
        onChange(next);
        requestAnimationFrame(() => {
          if (!el) return;
          el.focus();
          const caret = start + text.length;
          el.setSelectionRange(caret, caret);
        });
      },
    });
  };

  const isActive = active?.owner === owner;
  useEffect(() => {
    if (isActive && active && active.value !== value) register();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value, isActive]);

  const common = {
    ref,
    value,
    placeholder,
    "aria-label": label,
    "data-testid": testId,
    className: value.includes("{{") ? "mappable mapped" : "mappable",
    onFocus: register,
    onChange: (e: { target: { value: string } }) => {
      latest.current = e.target.value;
      onChange(e.target.value);
    },
    onKeyUp: register,
    onClick: register,
  };
  return multiline ? <textarea rows={3} {...common} /> : <input type="text" {...common} />;
}

"""Make's built-in apps: flow control (``builtin:``), tools (``util:``) and friends."""

from __future__ import annotations

from engine.spec import ModuleSpec
from modules.builtin.flow import FLOW_CONTROL

SPECS: tuple[ModuleSpec, ...] = (*FLOW_CONTROL,)

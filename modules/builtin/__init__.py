"""Make's built-in apps: flow control (``builtin:``), tools (``util:``), JSON, XML, text parser
and friends."""

from __future__ import annotations

from engine.spec import ModuleSpec
from modules.builtin.aggregators import AGGREGATORS
from modules.builtin.csv_tools import CSV_MODULES
from modules.builtin.flow import FLOW_CONTROL
from modules.builtin.iterate import ITERATION
from modules.builtin.json_tools import JSON_MODULES
from modules.builtin.markdown_tools import MARKDOWN_MODULES
from modules.builtin.scenarios import SCENARIO_MODULES
from modules.builtin.text_parser import TEXT_PARSER
from modules.builtin.tools import TOOLS
from modules.builtin.variables import VARIABLES
from modules.builtin.webhooks import WEBHOOK_MODULES
from modules.builtin.xml_tools import XML_MODULES

SPECS: tuple[ModuleSpec, ...] = (
    *FLOW_CONTROL,
    *AGGREGATORS,
    *ITERATION,
    *VARIABLES,
    *TOOLS,
    *JSON_MODULES,
    *WEBHOOK_MODULES,
    *TEXT_PARSER,
    *XML_MODULES,
    *CSV_MODULES,
    *MARKDOWN_MODULES,
    *SCENARIO_MODULES,
)

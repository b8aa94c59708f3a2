"""Running compiled scenarios: depth first, bundle by bundle, exactly as Make does.

Pure code: everything a run needs from outside comes through ``RunContext``.
"""

from engine.runtime.context import (
    ModuleContext,
    RunContext,
    RunLimits,
    RunVariables,
    SubscenarioResult,
    Subscenarios,
)
from engine.runtime.record import ExecutionRecord, IncompleteState, ModuleRecord, RunStatus
from engine.runtime.runner import RunLimitExceeded, run_scenario
from engine.runtime.transaction import Transaction

__all__ = [
    "ExecutionRecord",
    "IncompleteState",
    "ModuleContext",
    "ModuleRecord",
    "RunContext",
    "RunLimitExceeded",
    "RunLimits",
    "RunStatus",
    "RunVariables",
    "SubscenarioResult",
    "Subscenarios",
    "Transaction",
    "run_scenario",
]

"""The ``switchboard`` command: the entry point at the top of the import graph.

It imports every layer below it (the engine, the web UI, the modules and their sandboxes, the
prebuilt scenarios) and nothing imports it, so every arrow points down from here
(``docs/architecture.md``).
"""

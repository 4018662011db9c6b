"""Running untrusted Python evaluators: a warm pool of locked-down worker processes.

The worker side (`launcher`, `worker`, `lockdown`, `seccomp_filter`, `landlock`, `import_guard`, `coerce`,
`framing`) imports only the standard library and orjson, because it runs in a fresh interpreter that never
imports the rest of Assay. The parent side (`process`, `pool`, `status`) spawns, feeds and replaces the workers.
This module stays empty so that the worker can import its siblings without loading anything else.
"""

"""Started as `python -I -B -S launcher.py <assay package dir> <orjson's site dir> <config JSON>`.

It makes `assay` a bare namespace for the sandbox modules (so the package's own `__init__`, which loads
the SDK, never runs), then hands over to the worker loop.
"""

import json
import sys
import types


def main() -> None:
    package_dir, site_dir, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    sys.path.append(site_dir)
    package = types.ModuleType("assay")
    package.__path__ = [package_dir]
    sys.modules["assay"] = package
    from assay.sandbox.worker import serve

    serve(config)


if __name__ == "__main__":
    main()

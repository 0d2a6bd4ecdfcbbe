"""Imports the Python stack the training scripts need, or says how to get it.

The scripts run under Debian's /usr/bin/python3 with the packages python3-torch, python3-onnx,
python3-numpy and dataset-fashion-mnist; `scripts/install-deps --training` installs them.
"""
import sys

_HINT = ("install them with `scripts/install-deps --training` and run the scripts with Debian's "
         "/usr/bin/python3 (not a virtualenv or another interpreter on PATH)")


def require(*names):
    """Imports each module name and returns the modules; exits with a clear message if any is missing."""
    import importlib
    modules, missing = [], []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ImportError:
            missing.append(name)
    if missing:
        sys.exit(f"{sys.argv[0]}: missing Python module(s) {', '.join(missing)} "
                 f"(interpreter {sys.executable}); {_HINT}")
    return modules if len(modules) > 1 else modules[0]

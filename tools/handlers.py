"""Import a Lambda handler from lambda/<function>/handler.py (the folder name `lambda` is not importable)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

LAMBDA_ROOT = Path(__file__).resolve().parent.parent / "lambda"


def load_handler(function: str) -> ModuleType:
    """The module of lambda/<function>/handler.py, registered in sys.modules (dataclasses need that)."""
    name = f"lambda_{function}_handler"
    spec = importlib.util.spec_from_file_location(name, LAMBDA_ROOT / function / "handler.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"{LAMBDA_ROOT / function / 'handler.py'}: no such handler")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module

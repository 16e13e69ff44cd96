"""Build the optional C extension ``codex_credits._rollscan``; pyproject.toml holds the rest.

The extension is optional: without a working C compiler the install still succeeds and
the package runs in pure Python. Its sources are every ``.c`` file in ``csrc/rollscan/``.
Rebuild it in place after editing C with ``python3 -m pip install -e .``.
"""

from __future__ import annotations

from glob import glob

from setuptools import Extension, setup

ROLLSCAN = Extension(
    "codex_credits._rollscan",
    sources=sorted(glob("csrc/rollscan/*.c")),
    depends=sorted(glob("csrc/rollscan/*.h")),
    optional=True,
    extra_compile_args=["-O2", "-std=c11", "-fvisibility=hidden"],
)

setup(ext_modules=[ROLLSCAN])

"""Before dispatch: task specs, their three bounds, estimates, guards, routing and decisions.

See docs/tasks/index.md. Every name is re-exported from :mod:`codex_credits`.
"""

from __future__ import annotations

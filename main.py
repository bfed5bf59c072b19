"""Where LiveKit's tools look first: `lk agent dev|start|console` and
`python -m livekit.agents start` with no path find `main.py` and its module-level `server`.

The server itself lives in `agent/server.py` (`python -m livekit.agents start agent/server.py`
names it directly); this file only points there.
"""

from agent.server import server

__all__ = ["server"]

"""The conductor: a conversation in English, Spanish or Portuguese over every tunecraft tool
(``tunecraft chat``). See :mod:`tunecraft.agent.conductor`."""

from .conductor import Call, Conductor, Turn
from .router import Plan, route

__all__ = ["Call", "Conductor", "Plan", "Turn", "route"]

"""A readable account of a :class:`MusicSpec`: each attribute, its value and the words behind it."""

from __future__ import annotations

from .spec import Evidence, MusicSpec

_ORDER = ("language", "style", "genres", "moods", "bpm", "key", "mode", "meter", "duration",
          "ensemble", "instruments", "excluded", "drums", "energy", "density", "structure",
          "context", "changes", "seed")
_ONLY_WHEN_SAID = ("ensemble", "changes")
_SOURCE = {"explicit": "said", "inferred": "implied", "default": "default"}


def _value(name: str, spec: MusicSpec) -> str:
    if name == "bpm":
        return f"{spec.bpm:g} bpm"
    if name == "key":
        return spec.key_name
    if name == "mode":
        return spec.mode
    if name == "meter":
        return f"{spec.meter[0]}/{spec.meter[1]}"
    if name == "duration":
        d = spec.duration
        return f"{d:g} s" if d < 60 else f"{d:g} s ({int(d // 60)}:{int(d % 60):02d})"
    if name == "instruments":
        return ", ".join(f"{i.name} [{i.role}{', implied' if i.source != 'explicit' else ''}]"
                         for i in spec.instruments) or "none"
    if name == "ensemble":
        return str(spec.ensemble).replace("_", " ")
    if name in ("genres", "moods", "excluded", "structure", "context", "changes"):
        seq = getattr(spec, name)
        return ", ".join(seq) if seq else "none"
    if name in ("energy", "density"):
        return f"{getattr(spec, name):.2f}"
    if name == "drums":
        return "yes" if spec.drums else "no"
    if name == "seed":
        return "random" if spec.seed is None else str(spec.seed)
    return str(getattr(spec, name))


def explain(spec: MusicSpec) -> str:
    """Several lines, one per attribute.

    Each reads ``name  value  <- 'words' (said|implied|default): note``.
    """
    lines = [f"prompt: {spec.prompt!r}"]
    for name in _ORDER:
        e: Evidence | None = spec.evidence.get(name)
        if e is None and name in _ONLY_WHEN_SAID:
            continue
        line = f"  {name:<12} {_value(name, spec)}"
        if e is not None:
            why = []
            if e.words:
                why.append(", ".join(f"'{w}'" for w in e.words))
            why.append(f"({_SOURCE[e.source]})")
            line += "  <- " + " ".join(why)
            if e.note:
                line += f": {e.note}"
        lines.append(line)
    return "\n".join(lines)

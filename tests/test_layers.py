"""The layers hold: below the public layer nothing imports it (issue 9's rule, kept by a test).

The public layer is ``tunecraft.api`` (the verbs), ``tunecraft.cli`` and the ``web``/``agent``
packages to come; the package ``__init__`` re-exports lazily. Every other module is read with
``ast``, imports inside functions included, and may not import from the public layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "tunecraft"
PUBLIC = ("tunecraft.api", "tunecraft.cli", "tunecraft.web", "tunecraft.agent",
          "tunecraft.batch")


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, here: str | None = None) -> list[tuple[int, str]]:
    """Every module a file imports, as absolute names, with the line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = here or _module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
            out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
    return out


def _public(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in PUBLIC)


def test_nothing_below_the_public_layer_imports_it():
    violations = []
    for path in sorted(SRC.rglob("*.py")):
        mod = _module_name(path)
        if _public(mod) or mod == "tunecraft":
            continue
        for line, name in _imports(path):
            if _public(name):
                violations.append(f"{path.relative_to(SRC.parent)}:{line} imports {name}")
    assert violations == []


def test_the_checker_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "probe.py"
    sample.write_text("def f():\n    from ..api import load\n    from .. import cli\n"
                      "    return load, cli\n")
    found = _imports(sample, "tunecraft.compose.probe")
    assert (2, "tunecraft.api") in found and (3, "tunecraft.cli") in found


def test_the_cli_goes_through_the_public_api_only():
    allowed = {"tunecraft", "tunecraft.api", "tunecraft.errors", "tunecraft.__version__",
               "tunecraft.RenderOptions", "tunecraft.errors.TunecraftError",
               "tunecraft.errors.ParameterError"}
    stray = []
    for path in sorted((SRC / "cli").rglob("*.py")):
        for line, name in _imports(path):
            if name.startswith("tunecraft") and not name.startswith("tunecraft.cli") \
                    and name not in allowed and not name.startswith("tunecraft.api."):
                stray.append(f"{path.name}:{line} {name}")
    assert stray == []


def test_no_public_name_is_also_a_submodule():
    """``tunecraft.render`` was once the verb until ``tunecraft.render`` the package loaded
    over it: a name served at the top must not be a module of the package."""
    import tunecraft

    modules = {p.stem if p.is_file() else p.name for p in SRC.iterdir()
               if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))}
    assert set(tunecraft.__all__) & modules == set()
    for name in tunecraft.__all__:
        assert callable(getattr(tunecraft, name)) or name == "__version__", name

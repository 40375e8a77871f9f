"""The public surface of ``import replay``: ``__all__`` against what the package exports."""

from __future__ import annotations
import __future__

import inspect
import subprocess
import sys
import types

import replay
import replay.library


def test_all_sorted_unique() -> None:
    assert replay.__all__ == sorted(replay.__all__)
    assert len(set(replay.__all__)) == len(replay.__all__)


def test_all_names_resolve() -> None:
    for name in replay.__all__:
        assert getattr(replay, name) is not None, name


def test_all_matches_lazy_exports() -> None:
    assert set(replay.__all__) == {*replay._EXPORTS, "__version__"}


def test_exports_defined_where_mapped() -> None:
    """Each export maps to the package that defines it, not to a module that imports it."""
    for name, module in replay._EXPORTS.items():
        defined_in = getattr(replay, name).__module__
        assert defined_in == module or defined_in.startswith(module + "."), name


def test_no_unlisted_public_name() -> None:
    """Every public value bound in the package is listed. Submodules do not count."""
    for name in replay.__all__:
        getattr(replay, name)
    public = {
        name for name, value in vars(replay).items()
        if not name.startswith("_")
        and not isinstance(value, (types.ModuleType, __future__._Feature))
    }
    assert public <= set(replay.__all__), public - set(replay.__all__)


def test_library_functions_exported() -> None:
    functions = {name for name in replay.library.__all__ if inspect.isfunction(getattr(replay.library, name))}
    assert functions <= set(replay.__all__), functions - set(replay.__all__)


def test_unknown_name_raises() -> None:
    try:
        replay.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("replay.no_such_name resolved")


def test_import_loads_no_heavy_module() -> None:
    """``import replay`` must stay cheap; the exports load their modules on first use."""
    code = ("import sys, replay; "
            "print(','.join(sorted(m for m in ('pandas', 'pyarrow', 'httpx', 'anyio', 'scipy', 'replay.library') "
            "if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == ""


def test_help_loads_no_pandas() -> None:
    code = ("import sys; from replay.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(','.join(m for m in ('pandas', 'pyarrow', 'scipy') if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "Usage" in done.stdout
    assert done.stderr.strip() == ""

"""Internal: the Jinja2 environment, safe JSON embedding, link checks and file writing.

Every report page goes through ``render_page`` so that escaping, the Content Security
Policy and the atomic write are the same for all of them.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from replay.errors import ReportError

__all__ = ["DATA_PLACEHOLDER", "embed_json", "is_web_url", "render_page", "truncate_text"]

logger = logging.getLogger(__name__)

# Maximum characters of one string in a report. The Parquet files keep the full text.
MAX_TEXT_CHARS = 20_000

# Characters that could end a <script> element or an HTML comment early, or that older
# JavaScript parsers treat as line ends. JSON stays valid with them \u-escaped.
_JSON_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    ord("\u2028"): "\\u2028",
    ord("\u2029"): "\\u2029",
}

# Where a page's data goes when render_page gets it in pieces: the pieces are written to the
# file one by one, so the data never exists as one string beside the page.
DATA_PLACEHOLDER = Markup("@@replay-report-data@@")

_CUT_NOTE = re.compile(r"\n\[\.\.\. cut in the report: ([\d,]+) characters in total\]$")

_environment: Environment | None = None


def _get_environment() -> Environment:
    global _environment
    if _environment is None:
        _environment = Environment(
            loader=PackageLoader("replay.report", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        _environment.tests["web_url"] = is_web_url
    return _environment


def embed_json(value: Any) -> Markup:
    """Serialize ``value`` as JSON that is safe inside ``<script type="application/json">``.

    Non-finite floats become null because JSON has no NaN.
    """
    text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Markup(text.translate(_JSON_SCRIPT_ESCAPES))


def is_web_url(url: object) -> bool:
    """Tell whether ``url`` is an absolute http or https URL.

    Only such URLs become clickable links in a report.
    """
    if not isinstance(url, str) or not url.strip():
        return False
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def truncate_text(text: str | None, limit: int = MAX_TEXT_CHARS) -> str | None:
    """Cut ``text`` to ``limit`` characters and append a note with the original length.

    A text cut before keeps the length of its original in the note.
    """
    if text is None or len(text) <= limit:
        return text
    total = len(text)
    earlier = _CUT_NOTE.search(text)
    if earlier is not None:
        total = int(earlier.group(1).replace(",", ""))
        text = text[: earlier.start()]
    return f"{text[:limit]}\n[... cut in the report: {total:,} characters in total]"


def render_page(template_name: str, context: Mapping[str, Any], path: Path,
                data: Iterable[str] | None = None) -> Path:
    """Render ``template_name`` with ``context`` and write it atomically to ``path``.

    The page gets its own stylesheet and script (``context["script_name"]``, or none when
    that is None) inline, and a Content Security Policy that blocks every network request
    and allows only the report's own script (by hash).

    Args:
        template_name: The page template.
        context: The template's variables.
        path: Where to write the page.
        data: Text, already safe for the page, written piece by piece where the rendered
            page holds ``DATA_PLACEHOLDER`` (once).

    Raises:
        ReportError: the template failed or the file could not be written.
    """
    environment = _get_environment()
    assert environment.loader is not None
    style = environment.loader.get_source(environment, "report.css")[0]
    script_name = context.get("script_name")
    script = environment.loader.get_source(environment, script_name)[0] if script_name else ""
    script_source = "'none'"
    if script:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        script_source = f"'sha256-{digest}'"
    csp = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src {script_source}; base-uri 'none'; form-action 'none'"
    )

    try:
        html = environment.get_template(template_name).render(
            **context, inline_style=Markup(style), inline_script=Markup(script), csp=csp
        )
    except Exception as exc:  # a template bug must not surface as a raw Jinja traceback
        raise ReportError(
            f"Could not render the report {path}: {type(exc).__name__}: {exc}. "
            "This is a bug in replay; please report it with the run directory."
        ) from exc

    parts: Iterable[str] = (html,)
    if data is not None:
        head, marker, tail = html.partition(DATA_PLACEHOLDER)
        if not marker:
            raise ReportError(f"Could not render the report {path}: the template {template_name} has no place "
                              "for the report data. This is a bug in replay; please report it.")
        del html
        parts = itertools.chain((head,), data, (tail,))
    _write_atomically(path, parts)
    logger.info("wrote report %s (%d bytes)", path, path.stat().st_size)
    return path


def _write_atomically(path: Path, parts: Iterable[str]) -> None:
    # a sibling temporary file (not tempfile.mkstemp, whose files are private to the owner)
    # so that the report gets the usual permissions of the user's umask
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                for part in parts:
                    handle.write(part)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ReportError(
            f"Could not write the report {path}: {exc.strerror or exc}. "
            "Check that the directory exists and is writable, or pass another path."
        ) from exc


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value

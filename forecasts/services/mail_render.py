"""Mail bodies from templates/mail/<name>.txt and <name>.html (Jinja, outside any request:
the scheduler renders them too). The HTML is autoescaped, the text is not (it is never
interpreted as markup); both get `site` (SITE_URL) and whatever the caller passes."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from forecasts import template_folder


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(Path(template_folder()) / "mail")),
                      autoescape=select_autoescape(enabled_extensions=("html",),
                                                   default_for_string=False),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    return env


def render(name: str, settings: Mapping[str, Any], **context: Any) -> tuple[str, str]:
    """(text, html) of the mail `name`."""
    env = _environment()
    values = {"site": settings["SITE_URL"].rstrip("/"), **context}
    return (env.get_template(f"{name}.txt").render(values),
            env.get_template(f"{name}.html").render(values))

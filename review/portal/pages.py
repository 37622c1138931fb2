"""The portal's own pages (sign-in, queue, task, notices, admin): Liquid templates with autoescape, so
every value, a feature value or a loop name alike, reaches the page as text."""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

from liquid import BoundTemplate, Environment, Markup

# A2I's crowd script, which loads AWS's element bundle at run time: the portal serves its own elements.
CROWD_SCRIPT = re.compile(
    r"""<script\b[^>]*\bsrc\s*=\s*["']?https://assets\.crowd\.aws/crowd-html-elements\.js["']?[^>]*>\s*</script\s*>""",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(autoescape=True)


@functools.lru_cache(maxsize=16)
def _template(name: str) -> BoundTemplate:
    text = resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8")
    return _environment().from_string(text)


def render_page(name: str, title: str, layout: dict[str, Any], **context: Any) -> str:
    """One page: `name`'s template inside the layout (`layout`: worker, left, admin, csrf_token, …)."""
    content = Markup(_template(name).render(**context))
    return _template("base.html").render(title=title, content=content, **layout)


def without_crowd_script(rendered: str) -> str:
    """The rendered task template without A2I's crowd script (the page loads the portal's elements)."""
    return CROWD_SCRIPT.sub("", rendered)


def trusted(html: str) -> Markup:
    """HTML the portal vouches for: a task template rendered with autoescape (its `skip_autoescape` parts
    are the template author's; the Content-Security-Policy keeps any script in them from running)."""
    return Markup(html)

"""Render one kernel translation unit from its Jinja template (``StrictUndefined``)."""

from __future__ import annotations

import functools
from pathlib import Path

from . import paths
from .errors import TemplateRenderError


@functools.lru_cache(maxsize=None)
def _environment(template_dir: str):
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir),
        undefined=jinja2.StrictUndefined,  # a missing variable is an error, not empty text
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(spec, csrc: Path | None = None, extra_vars: dict | None = None) -> str:
    """Render ``spec.template`` (under ``<csrc>/templates``) with ``spec.template_vars()``.

    Args:
        spec: a :class:`~aiter_swa.jit.spec.KernelSpec`.
        csrc: csrc root (default :func:`aiter_swa.jit.paths.csrc_root`).
        extra_vars: variables added to (or overriding) the spec's; for tests.

    Returns:
        The C++/HIP source text.

    Raises:
        TemplateRenderError: the template does not exist, or it uses a variable that is not
            provided (the message names the variable and the template).
    """
    import jinja2

    tdir = paths.templates_dir(csrc)
    variables = spec.template_vars()
    if extra_vars:
        variables.update(extra_vars)
    try:
        template = _environment(str(tdir)).get_template(spec.template)
        return template.render(**variables)
    except jinja2.TemplateNotFound as e:
        raise TemplateRenderError(f"template {spec.template!r} not found in {tdir}") from e
    except jinja2.UndefinedError as e:
        # jinja2's message is e.g. "'head_size' is undefined": it names the variable.
        raise TemplateRenderError(
            f"template {spec.template!r} ({tdir}): {e} while rendering {spec.name}; "
            f"variables provided: {', '.join(sorted(variables))}"
        ) from e

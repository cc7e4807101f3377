"""Griffe extension for the API reference: a Google-style `Example:` heading is read as
`Examples:`, so that its `>>>` lines render as a doctest code block (Griffe reads only the
plural as an examples section; the singular would render the doctest as Markdown text)."""

from __future__ import annotations

import re
from typing import Any

import griffe

_SINGULAR = re.compile(r"^(\s*)Example:\s*$", re.M)


class ExampleSections(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = _SINGULAR.sub(r"\1Examples:", obj.docstring.value)

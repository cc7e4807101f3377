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


class HideInstanceAttributes(griffe.Extension):
    """Instance attributes assigned in `__init__` (`self.alpha = ...`) are the constructor's
    arguments again, already documented in its signature: they get no entry of their own."""

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        for name, member in list(cls.members.items()):
            if not member.is_alias and member.is_attribute and "instance-attribute" in member.labels:
                del cls.members[name]

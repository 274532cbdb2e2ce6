"""The template: read, translated with the SAM transform, intrinsics resolved, walked into the model.

Stands in for CloudFormation and its SAM transform; the other parts read only the model it produces
(``wsapp.emulator.template.model``).
"""

from __future__ import annotations

from wsapp.emulator.template.loader import load_app, read_template, translate, translate_file

__all__ = ["load_app", "read_template", "translate", "translate_file"]

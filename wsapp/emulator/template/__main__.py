"""``python -m wsapp.emulator.template``: the SAM translation child process (see ``loader.translate``)."""

from wsapp.emulator.template.loader import _child

_child()

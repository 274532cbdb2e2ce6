"""Layers as Lambda lays them out in ``/opt``, and where a function's modules come from.

Lambda extracts a function's layers into one ``/opt``, in the listed order, a later layer's file
replacing an earlier one's [DG23:invocation-layers.md, reference §4], and each runtime searches fixed
folders of it: Python ``/opt/python/lib/python3.x/site-packages`` then ``/opt/python`` (sys.path,
after the task root), Node.js ``/opt/nodejs/node{N}/node_modules`` then ``/opt/nodejs/node_modules``
(NODE_PATH), every runtime ``/opt/bin`` (PATH) and ``/opt/lib`` (LD_LIBRARY_PATH) [DG:packaging-layers].

Locally nothing is copied or merged: each layer stays in its folder, and every ``/opt`` folder a runtime
searches becomes one entry per layer, **the later layer's first**. A search takes the first entry that
holds a name, so the later layer's module (or executable, or library) wins, as it does in the merged
``/opt``; and since all layers' site-packages come before all layers' ``python`` folders, the order
between the two kinds is Lambda's too. Two differences remain: a package folder that two layers both
ship is merged on Lambda but here is the later layer's alone, and nothing is at ``/opt`` itself (code
that opens ``/opt/...`` by path does not find it).

A function's own dependencies (``requirements.txt``, ``package.json``) are installed where ``sam build``
puts them, beside the code: on the module path right after the task root, before any layer.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from wsapp.emulator.awslambda.dependencies import Dependencies
from wsapp.emulator.template.model import FunctionSpec, LayerSpec

# Where ``sam build`` puts a layer's content for each BuildMethod [SAM:lib/build/workflow_config.py
# get_layer_subfolder]; "makefile" layers lay themselves out, and a layer without one is not built.
BUILD_SUBFOLDER = {"python": "python", "nodejs": "nodejs", "makefile": ""}


@dataclass(frozen=True)
class Mount:
    """A local folder standing for ``/opt/<at>`` (``at`` empty: the layer's whole content)."""

    at: str
    folder: Path


@dataclass(frozen=True)
class LayerContent:
    """What one layer puts into ``/opt``: its mounts, in the order they were filled."""

    layer: LayerSpec
    mounts: tuple[Mount, ...]

    def under(self, path: str) -> list[Path]:
        """The local folders that stand for ``/opt/<path>`` in this layer."""
        found = []
        for mount in self.mounts:
            if not mount.at:
                found.append(mount.folder / path)
            elif path == mount.at or path.startswith(mount.at + "/"):
                found.append(mount.folder / path[len(mount.at) :].lstrip("/"))
        return found


def build_subfolder(build_method: str | None) -> str | None:
    """The ``/opt`` subfolder ``sam build`` fills for ``build_method``; None when it is not built."""
    if not build_method:
        return None
    for prefix, folder in BUILD_SUBFOLDER.items():
        if build_method.startswith(prefix):
            return folder
    return None


def layer_content(layer: LayerSpec, content: Path | None, dependencies: Path | None) -> LayerContent:
    """``content``: the layer's folder (a .zip already extracted); ``dependencies``: what ``sam build``
    installed for it, into the same subfolder as its content."""
    if content is None:
        return LayerContent(layer, ())
    at = build_subfolder(layer.build_method) or ""
    mounts = [Mount(at, content)]
    if dependencies is not None:
        mounts.append(Mount(at, dependencies))
    return LayerContent(layer, tuple(mounts))


@dataclass(frozen=True)
class ModulePath:
    """Where a function's environment finds modules, programs and libraries besides its task root."""

    python: tuple[Path, ...] = ()  # sys.path entries right after the task root
    node: tuple[Path, ...] = ()  # NODE_PATH entries before the runtime's own folders
    bin: tuple[Path, ...] = ()  # after the system PATH (Lambda: /opt/bin)
    lib: tuple[Path, ...] = ()  # after the task root's lib (Lambda: /opt/lib)
    bootstrap: tuple[Path, ...] = ()  # provided.*: /opt/bootstrap, when the code has none
    watched: tuple[Path, ...] = ()  # layer folders: an edit there starts fresh environments too


def _existing(folders: Sequence[Path]) -> tuple[Path, ...]:
    return tuple(dict.fromkeys(f for f in folders if f.exists()))


def module_path(spec: FunctionSpec, dependencies: Path | None, layers: Sequence[LayerContent]) -> ModulePath:
    """``spec``'s search path: its own dependencies, then its layers' folders (later layer first)."""
    later_first = list(reversed(layers))

    def each(path: str) -> list[Path]:
        return [folder for content in later_first for folder in content.under(path)]

    python: list[Path] = []
    node: list[Path] = []
    if spec.runtime.startswith("python"):
        # python3.x as the runtime names it: a layer built for python3.12 has python/lib/python3.12/...
        version = spec.runtime.removeprefix("python") or "{}.{}".format(*sys.version_info[:2])
        python = [dependencies] if dependencies else []
        python += each(f"python/lib/python{version}/site-packages") + each("python")
    elif spec.runtime.startswith("nodejs"):
        major = spec.runtime.removeprefix("nodejs").split(".")[0]
        node = [dependencies / "node_modules"] if dependencies else []
        node += each(f"nodejs/node{major}/node_modules") + each("nodejs/node_modules")
    watched = [m.folder for content in layers for m in content.mounts[:1]]  # content, not installs
    return ModulePath(
        python=_existing(python),
        node=_existing(node),
        bin=_existing(each("bin")),
        lib=_existing(each("lib")),
        bootstrap=tuple(p for p in each("bootstrap") if p.is_file()),
        watched=_existing(watched),
    )


def prepare(spec: FunctionSpec, dependencies: Dependencies) -> ModulePath:
    """What ``sam build`` would make of ``spec`` and its layers, installed or taken from the cache; a
    layer that is not available locally becomes one warning line in ``dependencies.warnings``."""
    own = None
    if spec.runtime.startswith("python"):
        requirements = spec.code_root / "requirements.txt"
        own = dependencies.python(requirements, spec.runtime, spec.architecture, spec.logical_id)
    elif spec.runtime.startswith("nodejs"):
        manifest = spec.code_root / "package.json"
        own = dependencies.node(manifest, spec.runtime, spec.architecture, spec.logical_id)
    contents = [_layer(spec, layer, dependencies) for layer in spec.layers]
    return module_path(spec, own, contents)


def _layer(spec: FunctionSpec, layer: LayerSpec, dependencies: Dependencies) -> LayerContent:
    if layer.content is None:
        # A public layer (Powertools, say), another stack's, or this template's with its content on S3:
        # Lambda downloads it, offline nobody can. The function still runs: its imports may resolve from
        # what is installed here.
        where = f"{layer.logical_id}'s content is on S3" if layer.logical_id else "is not in this template"
        dependencies.warnings.append(
            f"{spec.logical_id}: layer {layer.arn} {where} and cannot be fetched offline; running without it"
        )
        return layer_content(layer, None, None)
    owner = f"layer {layer.logical_id}"
    content = layer.content
    if content.is_file() and content.suffix == ".zip":  # sam build uses a zipped layer as it is
        return layer_content(layer, dependencies.extracted(content, owner), None)
    method = layer.build_method or ""
    subfolder = build_subfolder(method)
    installed = None
    if subfolder == "python":
        installed = dependencies.python(content / "requirements.txt", method, spec.architecture, owner)
    elif subfolder == "nodejs":
        installed = dependencies.node(content / "package.json", method, spec.architecture, owner)
    elif method:  # makefile, or a language the emulator does not build
        dependencies.warnings.append(
            f"{owner}: BuildMethod {method} is not run locally; its folder is used as /opt as it is"
        )
    return layer_content(layer, content, installed)

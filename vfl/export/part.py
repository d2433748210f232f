"""What an exportable part is: a torch module plus the names and meaning of its tensors."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn


@dataclass(frozen=True)
class Port:
    """One named graph input or output: `width` columns per row, rows dynamic."""

    name: str
    width: int
    doc: str


@dataclass(frozen=True)
class Part:
    """A party's model part, rebuilt from its model folder.

    `module(*inputs)` takes one float32 tensor per entry of `inputs` (rows × width, in that
    order) and returns one tensor per entry of `outputs`, as a tuple. `metadata` is written
    into the ONNX file's metadata_props (string values; lists and maps as JSON).
    """

    module: nn.Module
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    metadata: dict[str, str] = field(default_factory=dict)

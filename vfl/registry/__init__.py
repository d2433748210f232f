"""Each party's registry of the model parts it trained (issue 16, DESIGN.md §6.5).

A job's workspace is the job's; a trained part outlives it here, with what identifies it
(the training job id, the spec's digest and the model's), its metrics as this party saw
them and which parties hold the other parts. Mode-neutral: any part a job published in its
workspace's `model/` folder registers the same way.
"""

from vfl.registry.model_registry import ModelRegistry
from vfl.registry.part import RegisteredPart, model_digest

__all__ = ["ModelRegistry", "RegisteredPart", "model_digest"]

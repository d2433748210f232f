"""The deployment guide's steps, read from README.md ("Deploy across organizations").

Every step is a fenced block preceded by an HTML comment the reader does not see:
- `<!-- guide: org=NAME -->` before a ```bash block: commands NAME's operator runs in its
  own folder; with `background`, a server it leaves running.
- `<!-- guide: file=NAME org=ORG -->` before a ```toml block: a file ORG's operator writes.
- `<!-- guide: send -->` before a ```text block: files handed from one organization to
  another, one per line, `FROM:PATH -> TO:PATH` (paths inside each one's folder).
Blocks come back in the README's order, which is the order the guide runs them in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

SECTION = "### Deploy across organizations"
_BLOCK = re.compile(r"<!-- guide: (?P<attrs>[^>]*?) -->\n```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)
_SEND = re.compile(r"^(?P<src>[\w-]+):(?P<src_path>\S+)\s+->\s+(?P<dst>[\w-]+):(?P<dst_path>\S+)$")


class StepKind(StrEnum):
    """What a guide block asks of the organization it belongs to."""

    COMMANDS = "commands"
    SERVER = "server"
    FILE = "file"
    SEND = "send"


@dataclass(frozen=True)
class Handover:
    """One file sent from one organization's folder to another's."""

    src: str
    src_path: str
    dst: str
    dst_path: str


@dataclass(frozen=True)
class Step:
    """One block of the guide: its kind, whose it is and its literal text."""

    kind: StepKind
    org: str
    text: str
    file: str = ""
    handovers: tuple[Handover, ...] = ()


def guide_steps(readme: Path) -> list[Step]:
    """The guide's blocks in order; a one-line error names a block the reader cannot run."""
    text = readme.read_text()
    start = text.index(SECTION)
    end = text.find("\n### ", start + len(SECTION))
    section = text[start : end if end != -1 else len(text)]
    return [
        _step(m.group("attrs"), m.group("lang"), m.group("body")) for m in _BLOCK.finditer(section)
    ]


def _step(attrs: str, lang: str, body: str) -> Step:
    words = attrs.split()
    keys = dict(w.split("=", 1) for w in words if "=" in w)
    flags = {w for w in words if "=" not in w}
    if "send" in flags:
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        found = [_SEND.match(line) for line in lines]
        bad = [line for line, m in zip(lines, found, strict=True) if m is None]
        assert not bad, f"README.md guide: send line {bad[0]!r} is not FROM:PATH -> TO:PATH"
        moves = tuple(Handover(**m.groupdict()) for m in found if m is not None)
        return Step(StepKind.SEND, "", body, handovers=moves)
    assert "org" in keys, f"README.md guide: block `guide: {attrs}` names no org=..."
    if "file" in keys:
        assert lang == "toml", f"README.md guide: file {keys['file']} is a {lang} block"
        return Step(StepKind.FILE, keys["org"], body, file=keys["file"])
    assert lang == "bash", f"README.md guide: commands of {keys['org']} in a {lang} block"
    kind = StepKind.SERVER if "background" in flags else StepKind.COMMANDS
    return Step(kind, keys["org"], body)

"""Fill in the {{PLACEHOLDERS}} of a deployment template and print the result.

    python3 deploy/render.py deploy/nginx/kaohe.conf SERVER_NAME=kaohe.example.org \\
        APP_SERVER=10.0.0.11:8000 APP_SERVER=10.0.0.12:8000 ... > /etc/nginx/sites-available/kaohe

A name given more than once repeats every line that holds it, once per value (the app
servers of the nginx upstream). A placeholder left without a value, or a value that no
placeholder takes, is an error: a half-filled file never reaches /etc. The reliability
tests render the same templates through render() below.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

PLACEHOLDER = re.compile(r"\{\{([A-Z][A-Z0-9_]*)\}\}")


class RenderError(ValueError):
    pass


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def render(text: str, values: Mapping[str, str | Sequence[str]]) -> str:
    """The text with each placeholder replaced; a list value repeats the line it is on."""
    wanted, given = placeholders(text), set(values)
    if missing := sorted(wanted - given):
        raise RenderError(f"no value for {', '.join(missing)}")
    if unused := sorted(given - wanted):
        raise RenderError(f"no placeholder for {', '.join(unused)}")
    lines = []
    for line in text.splitlines(keepends=True):
        names = placeholders(line)
        repeated = [name for name in names if not isinstance(values[name], str)]
        if len(repeated) > 1:
            raise RenderError(f"one line repeats for {' and '.join(sorted(repeated))}")
        choices = list(values[repeated[0]]) if repeated else [None]
        if not choices:
            raise RenderError(f"{repeated[0]} needs at least one value")
        for choice in choices:
            filled = {name: str(values[name]) for name in names}
            if choice is not None:
                filled[repeated[0]] = choice
            lines.append(PLACEHOLDER.sub(lambda match, filled=filled: filled[match.group(1)],
                                         line))
    return "".join(lines)


def render_file(path: str | Path, values: Mapping[str, str | Sequence[str]]) -> str:
    return render(Path(path).read_text(encoding="utf-8"), values)


def _parse(arguments: Sequence[str]) -> dict[str, str | list[str]]:
    collected: dict[str, list[str]] = {}
    for argument in arguments:
        name, sign, value = argument.partition("=")
        if not sign or not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            raise RenderError(f"expected NAME=value, not {argument!r}")
        collected.setdefault(name, []).append(value)
    return {name: found[0] if len(found) == 1 else found for name, found in collected.items()}


def main(argv: Sequence[str]) -> int:
    if len(argv) < 1 or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    template = Path(argv[0])
    try:
        values = _parse(argv[1:])
        if not values and (names := placeholders(template.read_text(encoding="utf-8"))):
            print(f"{template} takes: {' '.join(sorted(names))}", file=sys.stderr)
            return 2
        sys.stdout.write(render_file(template, values))
    except (RenderError, OSError) as error:
        print(f"render {template}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

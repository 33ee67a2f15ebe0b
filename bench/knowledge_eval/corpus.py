"""The evaluation corpus: the language reference sections Python ships inside the interpreter, as Markdown files.

    python -m bench.knowledge_eval.corpus [--out DIR]

`pydoc_data.topics.topics` is the text `help("yield")` prints: 79 sections of the language reference and the
built-in types chapter (about 465 KB), Python Software Foundation licence. The corpus is generated from the installed
interpreter instead of committed, so the repository carries no copy of the text; the questions' quotes were checked
against Python 3.11.7 and `run.py` refuses to score when any quote is missing from its document (another Python
version may word a section differently: regenerate on 3.11).

Each topic becomes `<topic>.md`: the reST-style underlined titles of the text (`***`, `===`, `---`, `~~~`) become
Markdown headings `#` to `####`, so a chunker that splits along headings sees the sections the reference has;
everything else is kept as it is (wrapped lines, indented grammar and code).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from pydoc_data.topics import topics

HEADING_LEVELS = {"*": 1, "=": 2, "-": 3, "~": 4}
DEFAULT_DIR = Path(__file__).resolve().parent / "corpus"
PYTHON = "3.11"


def to_markdown(text: str) -> str:
    """The topic's text with its underlined titles as Markdown headings (the underline line dropped)."""
    lines = text.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        title = lines[i - 1] if i else ""
        if _is_underline(line, title):
            out[-1] = "#" * HEADING_LEVELS[line[0]] + " " + title.strip()
        else:
            out.append(line)
    return "\n".join(out).rstrip() + "\n"


def _is_underline(line: str, title: str) -> bool:
    return (
        bool(line)
        and line[0] in HEADING_LEVELS
        and set(line) == {line[0]}
        and len(line) == len(title)
        and bool(title.strip())
    )


def documents() -> dict[str, str]:
    """Document name (`<topic>.md`) → Markdown text, for every topic of the running interpreter."""
    return {f"{name}.md": to_markdown(text) for name, text in sorted(topics.items())}


def write(out: Path) -> int:
    """Write the corpus into `out` (created; existing files of the same name replaced); returns how many."""
    out.mkdir(parents=True, exist_ok=True)
    docs = documents()
    for name, text in docs.items():
        (out / name).write_text(text, encoding="utf-8")
    return len(docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    if not sys.version.startswith(PYTHON):
        print(f"warning: the questions were checked against Python {PYTHON}; this is {sys.version.split()[0]}")
    count = write(args.out)
    print(f"{count} documents in {args.out}")


if __name__ == "__main__":
    main()

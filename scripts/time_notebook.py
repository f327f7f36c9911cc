"""Run one notebook top to bottom (in full mode unless WMCOURSE_FAST=1 is set) and print each code cell's wall
time with the section it belongs to, then the total. Nothing is written back to the notebook.

    python scripts/time_notebook.py notebooks/08_dreamer.ipynb
"""

from __future__ import annotations

import sys
import time
from datetime import datetime

import nbformat
from nbclient import NotebookClient


def _seconds(start: str, end: str) -> float:
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def main(path: str) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=3000, kernel_name="python3", record_timing=True, allow_errors=True)
    start = time.time()
    client.execute()
    total = time.time() - start
    section, per_section = "(top)", {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            headings = [line for line in cell.source.splitlines() if line.startswith("## ")]
            heading = headings[-1] if headings else None  # a cell's last heading is the section its code follows
            section = heading[3:].strip() if heading else section
            continue
        timing = cell.metadata.get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            seconds = _seconds(timing["iopub.execute_input"], timing["shell.execute_reply"])
            per_section[section] = per_section.get(section, 0.0) + seconds
        if any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
            print(f"error in a cell of section {section!r}")
    for name, seconds in per_section.items():
        print(f"{seconds:7.1f} s  {name}")
    print(f"{total:7.1f} s  in all (kernel start included)")


if __name__ == "__main__":
    main(sys.argv[1])

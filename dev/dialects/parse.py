"""Parse every compiled model and test with sqlglot for one dialect (run in .venv-dialects).

`python parse.py TARGET_PATH DIALECT` prints one JSON object: how many files
parsed, and each failure with its file and the parser's first line.
"""

import json
import pathlib
import sys

import sqlglot
from sqlglot.errors import SqlglotError


def main(target_path: str, dialect: str) -> None:
    compiled = pathlib.Path(target_path) / "compiled"
    files = sorted(compiled.rglob("*.sql"))
    failures = []
    for path in files:
        try:
            sqlglot.parse(path.read_text(encoding="utf-8"), read=dialect,
                          error_level=sqlglot.ErrorLevel.RAISE)
        except SqlglotError as error:
            first = (str(error).splitlines() or ["?"])[0][:300]
            failures.append({"file": str(path.relative_to(compiled)), "error": first})
    print(json.dumps({"dialect": dialect, "files": len(files), "failures": failures}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

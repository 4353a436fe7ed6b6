"""Write the "before" of one file from its "after" and a unified diff of that file (the reverse of
`patch -R -o`, for GPU machines without `patch`): python3 unpatch.py AFTER DIFF OUT."""

import re
import sys
from pathlib import Path


def unpatch(after: str, diff: str) -> str:
    new = after.split("\n")
    out, i = [], 0
    hunks = re.split(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@.*$", diff, flags=re.M)
    for k in range(1, len(hunks), 2):
        start = int(hunks[k]) - 1
        out += new[i:start]
        i = start
        for line in hunks[k + 1].split("\n")[1:]:
            if line.startswith("+"):
                i += 1
            elif line.startswith("-"):
                out.append(line[1:])
            elif line.startswith(" "):
                out.append(line[1:])
                i += 1
    return "\n".join(out + new[i:])


if __name__ == "__main__":
    after, diff, out = sys.argv[1:4]
    Path(out).write_text(unpatch(Path(after).read_text(), Path(diff).read_text()))

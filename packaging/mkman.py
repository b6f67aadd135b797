#!/usr/bin/env python3
"""Man pages from vmscope's own --help (the one source; nothing here repeats it).

usage: mkman.py VMSCOPE OUTDIR VERSION DATE

Writes OUTDIR/vmscope.1.gz from `vmscope --help` and OUTDIR/vmscope-CMD.1.gz from
`vmscope CMD --help` for every command that `vmscope --help` lists, gzip'd without a timestamp
(reproducible). Each page: NAME (the summary line of the command table), SYNOPSIS and
DESCRIPTION (the help text as written), SEE ALSO.
"""
import gzip
import os
import re
import subprocess
import sys


def run_help(binary, *args):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    out = subprocess.run([binary, *args, "--help"], capture_output=True, text=True, env=env, check=True)
    return out.stdout


def roff(text):
    """Help text as a preformatted roff block: escapes, no line read as a request."""
    lines = []
    for line in text.rstrip("\n").split("\n"):
        line = line.replace("\\", "\\e").replace("-", "\\-")
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return ".nf\n" + "\n".join(lines) + "\n.fi\n"


def page(name, section_title, version, date, summary, usage, body, see_also):
    out = [f'.TH {name.upper()} 1 "{date}" "vmscope {version}" "{section_title}"\n',
           ".SH NAME\n", f"{name.replace('-', chr(92) + '-')} \\- {summary}\n",
           ".SH SYNOPSIS\n", roff(usage),
           ".SH DESCRIPTION\n", roff(body),
           ".SH SEE ALSO\n", ", ".join(f"\\fB{p}\\fR(1)" for p in see_also) + "\n"]
    return "".join(out)


def main():
    binary, outdir, version, date = sys.argv[1:5]
    os.makedirs(outdir, exist_ok=True)
    top = run_help(binary)
    cmds = re.findall(r"^  ([a-z]+) +(.+)$", top, re.M)
    if not cmds:
        sys.exit("mkman.py: `vmscope --help` lists no commands")
    names = [f"vmscope-{c}" for c, _ in cmds]
    first, _, rest = top.partition("\n")
    summary = first.split(": ", 1)[1] if ": " in first else first
    usage = "\n".join(l for l in rest.split("\n") if l.strip().startswith(("usage:", "vmscope")))
    pages = {"vmscope": page("vmscope", "User Commands", version, date, summary, usage, rest.strip("\n"), names)}
    for c, s in cmds:
        text = run_help(binary, c)
        usage_lines = []
        lines = text.split("\n")
        while lines and lines[0].strip():  # the usage paragraph
            usage_lines.append(lines.pop(0))
        pages[f"vmscope-{c}"] = page(f"vmscope-{c}", "User Commands", version, date, s.strip(),
                                     "\n".join(usage_lines), "\n".join(lines).strip("\n"),
                                     ["vmscope"] + [n for n in names if n != f"vmscope-{c}"])
    for name, text in pages.items():
        with open(os.path.join(outdir, name + ".1.gz"), "wb") as f:
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as g:
                g.write(text.encode())


if __name__ == "__main__":
    main()

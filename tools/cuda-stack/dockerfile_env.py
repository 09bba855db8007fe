"""Reads what trainer-image/Dockerfile assumes about its base image, with SITE_PACKAGES pointed at a local one.

  python3 dockerfile_env.py DOCKERFILE SITE_PACKAGES env SKIP,KEYS   -> `export K=V` lines of its ENV
  python3 dockerfile_env.py DOCKERFILE SITE_PACKAGES required-files  -> the files its build-time `test -f` loop checks

check.sh uses this so that it runs the trainer with the image's own settings, not a copy of them that could
drift from the Dockerfile.
"""
import re
import shlex
import sys


def instructions(path):
    """(KEYWORD, arguments) of each instruction, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not current and line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            logical.append(current.strip())
        current = ""
    for text in logical:
        keyword, _, rest = text.partition(" ")
        yield keyword.upper(), rest.strip()


def substitute(value, variables):
    """Docker's $VAR / ${VAR} expansion; unknown variables are left as written."""
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                  lambda m: variables.get(m.group(1), m.group(0)), value)


def main():
    dockerfile, site_packages, mode = sys.argv[1:4]
    variables, env = {}, {}
    run_lines = []
    for keyword, rest in instructions(dockerfile):
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            variables[name] = default
        elif keyword == "ENV":
            for token in shlex.split(rest):
                name, _, value = token.partition("=")
                env[name] = substitute(value, variables)
            variables.update(env)
        elif keyword == "RUN":
            run_lines.append(rest)
        if "SITE_PACKAGES" in variables:
            variables["SITE_PACKAGES"] = site_packages  # the local layout stands in for the base image's
    if "SITE_PACKAGES" not in variables:
        sys.exit(f"{dockerfile}: no ARG SITE_PACKAGES; check.sh needs it to map the image's paths to a local venv")
    if mode == "env":
        skip = set(sys.argv[4].split(",")) if len(sys.argv) > 4 else set()
        for name, value in env.items():
            if name not in skip:
                print(f"export {name}={shlex.quote(value)}")
    elif mode == "required-files":
        loops = [m.group(1) for line in run_lines if 'test -f "$f"' in line
                 for m in [re.search(r"for f in (.+?); do", line)] if m]
        if not loops:
            sys.exit(f"{dockerfile}: no `for f in ...; do test -f \"$f\"` check of the base image's files found")
        for token in shlex.split(loops[0]):
            print(substitute(token, variables))
    else:
        sys.exit(f"unknown mode {mode}: env or required-files")


if __name__ == "__main__":
    main()

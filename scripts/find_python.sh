#!/bin/sh
# Print the path of the first Python 3.11, 3.12 or 3.13 that can make a virtual environment: the one named in $1
# (make PYTHON=...), else the first of python3.11, python3.12, python3.13, python3. Else say in one line how to get one.
# 3.11 comes first: it is what CI runs; every pin in requirements.txt has wheels for 3.12 and 3.13 too (docs/install.md).
candidates=${1:-python3.11 python3.12 python3.13 python3}
found=""
for py in $candidates; do
    command -v "$py" >/dev/null 2>&1 || continue
    version=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
    found="$found $py ($version)"
    case $version in 3.11|3.12|3.13) ;; *) continue ;; esac
    if "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then command -v "$py"; exit 0; fi
    echo "$py ($version) cannot make a virtual environment: install its venv module (Debian/Ubuntu: sudo apt-get install python$version-venv), or see below" >&2
done
echo "The course needs Python 3.11, 3.12 or 3.13 (found:${found:- none}): get one with uv (uv python install 3.11), conda (conda create -n wm python=3.11) or pyenv (pyenv install 3.11), then run make PYTHON=/path/to/its/python" >&2
exit 1

# Sourced by the scripts: create .venv if needed and install the project into it.
# Usage: install_project [EXTRAS]   e.g. install_project dev
install_project() {
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${1:+[$1]}"
}

# Sourced by the commands in scripts/ (setup, lab, render, test, preflight, classroom, bench, hub/loadtest):
# where the notebook tools live. Conda users who activated the environment from environment.yml get
# that environment; everyone else the project's .venv.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -n "${CONDA_PREFIX:-}" ] && [ -x "$CONDA_PREFIX/bin/jupyter" ]; then
    prefix="$CONDA_PREFIX"
else
    prefix="$root/.venv"
fi
kernel_dir="$prefix/share/jupyter/kernels/rust"

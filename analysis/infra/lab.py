"""JupyterLab at the repository root with this environment's kernel: ``make lab`` (``python -m analysis.infra.lab``).

Before starting the server it writes, under .lab/ (gitignored):

* a kernel spec ``python3`` whose interpreter is this one (``sys.executable``), with the repository
  root on PYTHONPATH, so every notebook imports ``analysis`` from this environment whatever kernels
  the user has installed elsewhere (JUPYTER_PATH puts it first);
* JupyterLab settings that open jupytext ``py:percent`` files (notebooks/*.py) as notebooks
  (``Jupytext Notebook`` as default viewer); jupytext.toml at the root pairs each with a
  gitignored .ipynb that keeps its outputs.

Options are passed on to ``jupyter lab`` (e.g. ``--no-browser --port 8899``; ``make lab
LAB_ARGS="--no-browser"``). The server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import sys

from analysis.config import ROOT

LAB = ROOT / ".lab"
KERNEL = {
    "display_name": "Python 3 (immigration-crime)",
    "language": "python",
    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
    "env": {"PYTHONPATH": str(ROOT)},
    "metadata": {"debugger": True},
}
VIEWERS = {
    "@jupyterlab/docmanager-extension:plugin": {
        "defaultViewers": {"python": "Jupytext Notebook", "markdown": "Jupytext Notebook"}
    }
}


def prepare() -> dict[str, str]:
    """Write the kernel spec and the settings; return the environment for the server."""
    kernel = LAB / "data" / "kernels" / "python3" / "kernel.json"
    kernel.parent.mkdir(parents=True, exist_ok=True)
    kernel.write_text(json.dumps(KERNEL, indent=1) + "\n", encoding="utf-8")
    overrides = LAB / "config" / "labconfig" / "default_setting_overrides.json"
    overrides.parent.mkdir(parents=True, exist_ok=True)
    overrides.write_text(json.dumps(VIEWERS, indent=1) + "\n", encoding="utf-8")
    path = os.pathsep.join(p for p in [str(LAB / "data"), os.environ.get("JUPYTER_PATH", "")] if p)
    config = os.pathsep.join(p for p in [str(LAB / "config"), os.environ.get("JUPYTER_CONFIG_PATH", "")] if p)
    return {
        **os.environ,
        "JUPYTER_PATH": path,
        "JUPYTER_CONFIG_PATH": config,
        "PYTHONPATH": os.pathsep.join(p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p),
    }


def command(args: list[str]) -> list[str]:
    """The jupyter lab command line: root folder, localhost only (and --allow-root when run as root,
    e.g. in a container, where Jupyter refuses to start otherwise), then ``args``."""
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={ROOT}",
        "--ServerApp.ip=127.0.0.1",
        *root,
        *args,
    ]


def main(args: list[str]) -> None:
    """Prepare, then replace this process by the JupyterLab server (Ctrl-C stops it)."""
    env = prepare()
    os.chdir(ROOT)
    os.execve(sys.executable, command(args), env)


if __name__ == "__main__":
    main(sys.argv[1:])

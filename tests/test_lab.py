"""make lab: JupyterLab at the repository root, this environment's kernel, jupytext files as notebooks;
the server started headless answers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from analysis.config import ROOT
from analysis.infra import lab

TIER = "unit"  # the default tier of these tests (tests/conftest.py)


def test_kernel_and_settings_point_at_this_environment():
    env = lab.prepare()
    kernel = json.loads((lab.LAB / "data" / "kernels" / "python3" / "kernel.json").read_text())
    assert kernel["argv"][0] == sys.executable and kernel["env"]["PYTHONPATH"] == str(ROOT)
    assert env["JUPYTER_PATH"].split(":")[0] == str(lab.LAB / "data")
    overrides = json.loads((lab.LAB / "config" / "labconfig" / "default_setting_overrides.json").read_text())
    assert overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["python"] == "Jupytext Notebook"
    command = lab.command(["--no-browser"])
    assert f"--ServerApp.root_dir={ROOT}" in command and "--ServerApp.ip=127.0.0.1" in command
    assert (ROOT / "jupytext.toml").read_text().count('formats = "ipynb,py:percent"') == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.e2e  # starts a JupyterLab server
def test_lab_starts_headless_and_answers_on_localhost(tmp_path):
    port = _free_port()
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "analysis.infra.lab",
            "--no-browser",
            f"--port={port}",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # as `make lab` from the root, without pip -e
    try:
        status, specs = None, None
        for _ in range(120):
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as r:
                    status = json.load(r)
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs", timeout=2) as r:
                    specs = json.load(r)
                break
            except OSError:
                if proc.poll() is not None:
                    break
        assert status is not None, (tmp_path / "lab.log").read_text()[-2000:]
        assert specs["kernelspecs"]["python3"]["spec"]["argv"][0] == sys.executable
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/notebooks", timeout=5) as r:
            names = {item["name"] for item in json.load(r)["content"]}
        assert "05_adapt_a_model.py" in names  # the server's root is the repository
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()

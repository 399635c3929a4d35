"""GPU slots: concurrent processes get distinct devices, a killed holder frees its device,
a device assigned by the scheduler (CUDA_VISIBLE_DEVICES) is used as it is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO

from genomicdl.training import devices

HOLDER = textwrap.dedent(
    """
    import sys
    from genomicdl.training.devices import acquire
    try:
        slot = acquire(devices=sys.argv[1].split(","), lock_dir=sys.argv[2], wait_s=float(sys.argv[3]), poll_s=0.05)
    except RuntimeError as err:
        print("busy", err, flush=True)
        sys.exit(3)
    import os
    print(slot.device, os.environ["CUDA_VISIBLE_DEVICES"], flush=True)
    sys.stdin.read()  # hold the slot until the parent closes stdin
    """
)


def holder(device_list: str, lock_dir: Path, wait_s: float = 0.0) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, device_list, str(lock_dir), str(wait_s)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def held(proc: subprocess.Popen[str]) -> str:
    """The device a holder reports (its CUDA_VISIBLE_DEVICES must say the same)."""
    line = proc.stdout.readline().split()
    assert len(line) == 2 and line[0] == line[1], line
    return line[0]


def finish(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.stdin.close()
    return proc.wait(timeout=30)


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_concurrent_processes_get_distinct_slots(tmp_path: Path, procs: list) -> None:
    fake = "0,1,2"
    procs += [holder(fake, tmp_path) for _ in range(3)]
    assert sorted(held(p) for p in procs) == ["0", "1", "2"]
    extra = holder(fake, tmp_path, wait_s=0.3)  # all busy: waits, then gives up
    procs.append(extra)
    assert extra.stdout.readline().startswith("busy") and extra.wait(timeout=30) == 3
    for proc in procs[:3]:
        assert finish(proc) == 0


def test_waiting_processes_take_freed_slots(tmp_path: Path, procs: list) -> None:
    first = [holder("0,1", tmp_path) for _ in range(2)]
    procs += first
    slots = {held(p): p for p in first}
    waiting = holder("0,1", tmp_path, wait_s=60)
    procs.append(waiting)
    finish(slots["1"])  # a holder ends normally: the waiting process gets its device
    assert held(waiting) == "1"


def test_a_killed_holder_frees_its_slot(tmp_path: Path, procs: list) -> None:
    procs += [holder("a,b", tmp_path) for _ in range(2)]
    slots = {held(p): p for p in procs}
    os.kill(slots["b"].pid, signal.SIGKILL)  # no cleanup runs: the kernel drops the lock
    slots["b"].wait(timeout=30)
    successor = holder("a,b", tmp_path, wait_s=10)
    procs.append(successor)
    assert held(successor) == "b"
    assert (tmp_path / "gpub.lock").read_text().strip() == str(successor.pid)


def test_in_process_slots_and_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    one = devices.acquire(["0", "1"], tmp_path, wait_s=0)
    two = devices.acquire(["0", "1"], tmp_path, wait_s=0)
    assert {one.device, two.device} == {"0", "1"}
    with pytest.raises(RuntimeError, match="stayed busy"):
        devices.acquire(["0", "1"], tmp_path, wait_s=0)
    one.release()
    again = devices.acquire(["0", "1"], tmp_path, wait_s=0)
    assert again.device == one.device
    two.release()
    again.release()


def test_a_device_set_by_the_scheduler_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    monkeypatch.setenv(devices.LOCK_DIR_ENV, str(tmp_path))
    assert devices.visible_devices() == ["3"] and devices.has_gpu()
    slot = devices.acquire()
    assert slot.device == "3" and slot.handle is None
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3"
    assert not list(tmp_path.iterdir())  # no lock taken: the scheduler owns the device
    slot.release()


def test_visible_devices_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 5")
    assert devices.visible_devices() == ["2", "5"]
    for hidden in ("", "-1"):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", hidden)
        assert devices.visible_devices() == [] and not devices.has_gpu()
        with pytest.raises(RuntimeError, match="no GPU is visible"):
            devices.acquire()


def test_lock_files_of_uuids_are_safe_names(tmp_path: Path) -> None:
    assert devices.lock_path(tmp_path, "MIG-GPU-1a2b/1/0").name == "gpuMIG-GPU-1a2b_1_0.lock"
    slot = devices.acquire(["GPU-9f/x"], tmp_path, wait_s=0)
    assert (tmp_path / "gpuGPU-9f_x.lock").exists()
    slot.release()

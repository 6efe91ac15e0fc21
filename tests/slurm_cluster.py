"""A one-node SLURM cluster on this machine, for the tests: loopback only, everything in one folder.

munged, slurmctld and slurmd run in the foreground as children of the test (so that they are ended
by their process ids); their configuration, state, spool, sockets and logs live under ``root``.
No accounting database: jobs are recorded by the ``jobcomp/filetxt`` plugin (one line per finished
job, the record the tests read) and ``squeue`` keeps finished jobs for ``MinJobAge`` seconds.
The node has this machine's CPUs and memory and two GPUs whose device files lead to /dev/null:
enough for SLURM to schedule ``--gpus`` requests, nothing a job could compute on.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
#: what the tests need from Debian: the daemons, the client commands, munge
PACKAGES = ("munge", "slurmctld", "slurmd", "slurm-client")


def missing_commands() -> list[str]:
    return [c for c in (*DAEMONS, "sbatch", "squeue", "sinfo") if shutil.which(c) is None]


def install_with_apt() -> str | None:
    """Install the SLURM packages when they are missing; the reason when that is impossible."""
    if not missing_commands():
        return None
    if os.geteuid() != 0:
        return "SLURM is not installed and installing it needs root"
    if shutil.which("apt-get") is None:
        return "SLURM is not installed and there is no apt-get to install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES]
    for attempt in (install, ["apt-get", "update"], install):
        result = subprocess.run(attempt, env=env, capture_output=True, text=True, timeout=600)
        if attempt is install and result.returncode == 0:
            break
    if result.returncode != 0:
        return f"apt-get could not install {PACKAGES}: {result.stderr[-500:]}"
    return None if not missing_commands() else f"still missing after apt-get: {missing_commands()}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    with open("/proc/meminfo") as fh:
        total_kb = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
    return int(total_kb / 1024 * 0.9)  # slurmd drains a node that has less than it claims


class LocalSlurm:
    """Start with :meth:`start`, always :meth:`stop` (also after a failure)."""

    def __init__(self, root: Path, gpus: int = 2):
        self.root = Path(root)
        self.host = socket.gethostname().split(".")[0]
        self.conf = self.root / "slurm.conf"
        self.jobcomp = self.root / "jobcomp.txt"
        self.gpus = gpus
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def env(self) -> dict[str, str]:
        """The environment of a SLURM client (sbatch, squeue, a Snakemake run) of this cluster."""
        path = os.pathsep.join([str(self.root / "bin"), os.environ.get("PATH", "")])
        return {**os.environ, "SLURM_CONF": str(self.conf), "PATH": path}

    def write_config(self) -> None:
        r = self.root
        for sub in ("state", "spool", "munge"):
            (r / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(r / "munge", 0o700)
        key = r / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o600)
        (r / "plugstack.conf").write_text("")
        # The Snakemake job step (snakemake-executor-plugin-slurm-jobstep) runs `srun` with every
        # SLURM_* variable removed but a few, SLURM_CONF included; a cluster configured in
        # /etc/slurm does not notice. This one lives here, so its srun gets SLURM_CONF back.
        (r / "bin").mkdir(exist_ok=True)
        srun = r / "bin" / "srun"
        srun.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf} exec {shutil.which("srun")} "$@"\n')
        srun.chmod(0o755)
        # GPU device files that lead to /dev/null: SLURM numbers the GPUs by their trailing digits
        for i in range(self.gpus):
            (r / f"nvidia{i}").unlink(missing_ok=True)
            (r / f"nvidia{i}").symlink_to("/dev/null")
        (r / "gres.conf").write_text(
            f"AutoDetect=off\nNodeName={self.host} Name=gpu File={r}/nvidia[0-{self.gpus - 1}]\n"
        )
        self.conf.write_text(
            f"""\
ClusterName=prunephase-test
SlurmctldHost={self.host}(127.0.0.1)
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
SlurmUser={os.environ.get("USER", "root") if os.geteuid() else "root"}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={r / "munge" / "munge.socket"}
StateSaveLocation={r / "state"}
SlurmdSpoolDir={r / "spool"}
SlurmctldPidFile={r / "slurmctld.pid"}
SlurmdPidFile={r / "slurmd.pid"}
SlurmctldLogFile={r / "slurmctld.log"}
SlurmdLogFile={r / "slurmd.log"}
PlugStackConfig={r / "plugstack.conf"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={self.jobcomp}
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=1000
MinJobAge=3600
ReturnToService=2
GresTypes=gpu
NodeName={self.host} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} RealMemory={_memory_mb()} \
Gres=gpu:{self.gpus} State=UNKNOWN
PartitionName=cpu Nodes={self.host} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes={self.host} MaxTime=INFINITE State=UP
"""
        )

    def _spawn(self, name: str, cmd: list[str]) -> None:
        log = open(self.root / f"{name}.out", "w")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
        )

    def start(self, timeout: float = 60) -> None:
        self.write_config()
        m = self.root / "munge"
        self._spawn("munged", [
            "munged", "--foreground", "--force", f"--socket={m / 'munge.socket'}",
            f"--key-file={m / 'munge.key'}", f"--pid-file={m / 'munged.pid'}",
            f"--log-file={m / 'munged.log'}", f"--seed-file={m / 'munged.seed'}",
        ])  # fmt: skip
        self._wait(lambda: (m / "munge.socket").exists(), timeout, "munged's socket")
        self._spawn("slurmctld", ["slurmctld", "-D", "-i", "-f", str(self.conf)])
        self._spawn("slurmd", ["slurmd", "-D", "-f", str(self.conf), "-N", self.host])
        self._wait(self._node_idle, timeout, "the node to become idle")

    def _node_idle(self) -> bool:
        out = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%T"], env=self.env, capture_output=True, text=True
        )
        return out.returncode == 0 and out.stdout.split()[:1] == ["idle"]

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            dead = [n for n, p in self.processes.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"no {what} (ended: {dead}):\n{self.logs()}")
            time.sleep(0.2)

    def logs(self) -> str:
        parts = []
        for log in sorted(self.root.glob("*.out")) + sorted(self.root.glob("*.log")):
            parts.append(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        """End the daemons this object started (their process ids), in reverse order."""
        for name in reversed(list(self.processes)):
            process = self.processes[name]
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=20)

#!/usr/bin/env bash
# SLURM validation case (issue 22, acceptance 4): starts a one-node SLURM cluster on this
# machine (slurmctld + slurmd from Debian's packages, munge for authentication, everything
# under a temporary directory), submits examples/slurm's array job (4 parts + a dependent
# merge job), its MPI job (2 ranks) and the plan-job array (run-array + run-merge), and checks
# each result against a single run of the
# same job: dose and uncertainty bit for bit. Prints one JSON line per check and exits 1 if
# any fails, 77 when it cannot run here (not root, no packages and no apt).
#
#   bash validation/slurm/run.sh [path/to/sabre]      # as root; installs slurmctld slurmd munge
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sabre=$(realpath "${1:-$root/build/sabre}")
[ -x "$sabre" ] || { echo "no sabre executable at $sabre" >&2; exit 2; }
if [ "$(id -u)" -ne 0 ]; then echo "SKIPPED: needs root (starts slurmctld/slurmd)"; exit 77; fi
need=()
for p in slurmctld slurmd slurm-client munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if ((${#need[@]})); then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || { echo "SKIPPED: cannot install ${need[*]}"; exit 77; }
fi

tmp=$(mktemp -d /tmp/sabre-slurm.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$tmp"/{state,spool,log,munge,run,work}
chmod 700 "$tmp/munge"
# munge: a key of our own, its socket in the temporary directory
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
munged --force --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/socket" \
       --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/munge/munged.log" --seed-file="$tmp/munge/seed"
export MUNGE_SOCKET="$tmp/munge/socket"  # for munge clients; slurm reads AuthInfo below
cat > "$tmp/slurm.conf" <<CONF
ClusterName=sabrecheck
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF="$tmp/slurm.conf"
slurmctld -D -f "$SLURM_CONF" >"$tmp/log/ctld.out" 2>&1 & pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$tmp/log/d.out" 2>&1 & pids+=($!)
for i in $(seq 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then break; fi
  sleep 1
done
if ! sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
  echo "the one-node cluster did not come up:" >&2
  tail -5 "$tmp/log/slurmctld.log" "$tmp/log/slurmd.log" "$tmp/log/ctld.out" "$tmp/log/d.out" >&2 || true
  exit 1
fi

cd "$tmp/work"
cat > job.toml <<'TOML'
[phantom]
voxels = [16, 16, 24]
voxel_cm = [1.0, 1.0, 1.0]
material = "water"
[[slab]]
from_cm = 5.0
to_cm = 12.0
material = "lung"
density_g_cm3 = 0.26
[source]
particle = "photon"
type = "point"
position_cm = [0, 0, -100]
field_centre_cm = [0, 0, 0]
field_x_cm = [-2.5, 2.5]
field_y_cm = [-2.5, 2.5]
energy_mev = 6.0
[run]
histories = 200003
batches = 10
seed = 42
TOML
export SABRE="$sabre" SABRE_DATA_DIR="$root"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
"$sabre" --log-level warn simulate job.toml --threads 1 -o single.h5 >/dev/null

wait_job() {  # job id -> its final state
  local id=$1 st=""
  for i in $(seq 300); do
    st=$(scontrol show job "$id" -o 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
    case "$st" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|PREEMPTED) break ;; esac
    sleep 1
  done
  echo "$st"
}
fails=0
row() {  # name ok detail
  printf '{"case": "slurm", "quantity": "%s", "pass": %s, "detail": "%s"}\n' "$1" "$2" "$3"
  [ "$2" = true ] || fails=$((fails + 1))
}
same() {  # single.h5 other.h5 [ranks]: bit for bit, and (ranks) really run on that many MPI ranks
  /usr/bin/python3 - "$@" <<'PY'
import sys, h5py
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
bad = [k for k in ("dose", "rel_uncertainty", "rel_uncertainty_statistical") if a["dose/" + k][...].tobytes() != b["dose/" + k][...].tobytes()]
bad += [k for k in ("histories", "batches") if a["provenance"].attrs[k] != b["provenance"].attrs[k]]
dev = b["provenance"].attrs["device"]
dev = dev.decode() if isinstance(dev, bytes) else str(dev)
if len(sys.argv) > 3 and f"{sys.argv[3]} MPI ranks" not in dev:
    bad.append(f"not run on {sys.argv[3]} MPI ranks (device: {dev})")
print(",".join(bad) or f"identical ({dev})")
sys.exit(1 if bad else 0)
PY
}

ex="$root/examples/slurm"
arr=$(sbatch --parsable --array=0-3 --output="$tmp/work/arr-%a.out" "$ex/array.sbatch" job.toml out)
mrg=$(sbatch --parsable --dependency=afterok:"$arr" --output="$tmp/work/merge.out" "$ex/merge.sbatch" out 4)
st=$(wait_job "$mrg")
if [ "$st" = COMPLETED ] && [ -f out/dose.h5 ]; then
  d=$(same single.h5 out/dose.h5) && row "array job (4 parts) + dependent merge == single run" true "$d" \
    || row "array job (4 parts) + dependent merge == single run" false "$d"
else
  row "array job (4 parts) + dependent merge == single run" false "merge job $st: $(tail -c 300 merge.out arr-*.out 2>/dev/null | tr '\n"' ' ')"
fi

mpi=$(sbatch --parsable --ntasks=2 --output="$tmp/work/mpi.out" "$ex/mpi.sbatch" job.toml mpi.h5)
st=$(wait_job "$mpi")
if [ "$st" = COMPLETED ] && [ -f mpi.h5 ]; then
  d=$(same single.h5 mpi.h5 2) && row "MPI job (2 ranks) == single run" true "$d" || row "MPI job (2 ranks) == single run" false "$d"
else
  row "MPI job (2 ranks) == single run" false "job $st: $(tail -c 300 mpi.out 2>/dev/null | tr '\n"' ' ')"
fi

# A `sabre run` plan job: 4 parts as an array, then the dependent merge (calibration and
# outputs), against the same run file run once.
export SABRE_CACHE_DIR="$tmp/work/cache"
"$sabre" --log-level warn phantom water -o ct --size 60 60 60 --spacing 5 --slice 5 >/dev/null
"$sabre" --log-level warn plan static -o RP.dcm --ct ct --rtstruct ct/RS.dcm --field 3 3 --iso 0 0 0 --mu 100 >/dev/null
cat >plan.toml <<'TOML'
ct = "ct"
structures = "ct/RS.dcm"
plan = "RP.dcm"
histories = 400000
seed = 5
calibration_histories = 20000
calibration_seed = 9
[output]
hdf5 = "run-out/dose.h5"
TOML
mkdir -p run-out
"$sabre" --log-level warn run plan.toml --device cpu:1 --output-h5 run-single.h5 >/dev/null
arr=$(sbatch --parsable --array=0-3 --output="$tmp/work/runarr-%a.out" "$ex/run-array.sbatch" plan.toml run-parts)
mrg=$(sbatch --parsable --dependency=afterok:"$arr" --output="$tmp/work/runmerge.out" "$ex/run-merge.sbatch" plan.toml run-parts 4)
st=$(wait_job "$mrg")
if [ "$st" = COMPLETED ] && [ -f run-out/dose.h5 ]; then
  d=$(same run-single.h5 run-out/dose.h5) && row "sabre run: array job (4 parts) + dependent merge == single run" true "$d" \
    || row "sabre run: array job (4 parts) + dependent merge == single run" false "$d"
else
  row "sabre run: array job (4 parts) + dependent merge == single run" false "merge job $st: $(tail -c 300 runmerge.out runarr-*.out 2>/dev/null | tr '\n"' ' ')"
fi
exit $((fails > 0))

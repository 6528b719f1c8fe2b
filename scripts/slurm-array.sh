#!/usr/bin/env bash
# Usage: scripts/slurm-array.sh SPEC N [OUT] [-- SBATCH_OPTION...]
#   e.g. scripts/slurm-array.sh Experiments/small-batch-collapse.spec 8 Results -- --time=02:00:00 --cpus-per-task=2
#
# Runs one bnlab spec on a Slurm cluster as a job array of N tasks, one shard each, and then
# merges the shards into the spec's tables:
#   1. array task T (SLURM_ARRAY_TASK_ID = 0 .. N-1) runs
#        bnlab run SPEC --shard $((SLURM_ARRAY_TASK_ID+1))/N --out OUT
#      which trains the cells whose grid index % N == T and journals them in
#      OUT/.journal/NAME-shard-K-of-N.journal (K = T + 1);
#   2. a merge job, submitted with --dependency=afterok:JOBID so that it starts only when
#      every array task has succeeded, runs
#        bnlab merge SPEC --out OUT OUT/.journal/NAME-shard-*-of-N.journal
#      and writes OUT/NAME.csv, NAME-summary.csv, NAME-bnstats.csv, the charts and NAME.md,
#      byte-identical (wall_seconds aside) to what one unsharded run writes.
#
# Run it from the repository root (the jobs start in the submission directory; OUT and SPEC are
# relative to it). Logs go to OUT/slurm/. A shard that is preempted, cancelled or runs out of
# time keeps its journal: resubmit that task (sbatch --array=T ...) or the whole script, and each
# shard resumes where it stopped; the merge job then needs resubmitting too, as its dependency failed.
#
# Environment:
#   BNLAB  the bnlab executable (default: .build/release/bnlab, built by `make build`).
# Each task trains --jobs SLURM_CPUS_PER_TASK cells at a time when --cpus-per-task is given.
set -euo pipefail

usage() {
    sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

BNLAB="${BNLAB:-$PWD/.build/release/bnlab}"

# Inside the jobs this script itself is the batch script; BNLAB_SLURM_ROLE says which part it plays.
case "${BNLAB_SLURM_ROLE:-}" in
shard)
    spec=$1 n=$2 out=$3
    jobs=()
    if [[ -n "${SLURM_CPUS_PER_TASK:-}" ]]; then jobs=(--jobs "$SLURM_CPUS_PER_TASK"); fi
    exec "$BNLAB" run "$spec" --shard "$((SLURM_ARRAY_TASK_ID + 1))/$n" --out "$out" ${jobs[@]+"${jobs[@]}"}
    ;;
merge)
    spec=$1 n=$2 out=$3
    name=$(basename "$spec" .spec)
    journals=()
    for ((k = 1; k <= n; k++)); do journals+=("$out/.journal/$name-shard-$k-of-$n.journal"); done
    exec "$BNLAB" merge "$spec" --out "$out" "${journals[@]}"
    ;;
esac

# Submission: check everything that can be checked here before queueing anything.
[[ $# -ge 2 ]] || usage
spec=$1 n=$2
shift 2
out=Results
if [[ $# -gt 0 && $1 != -- ]]; then out=$1; shift; fi
if [[ $# -gt 0 && $1 == -- ]]; then shift; fi
extra=("$@")
[[ -f $spec ]] || { echo "slurm-array.sh: $spec: no such spec file" >&2; exit 2; }
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "slurm-array.sh: N must be a positive integer, got '$n'" >&2; exit 2; }
[[ -x $BNLAB ]] || { echo "slurm-array.sh: $BNLAB is not an executable; run 'make build' or set BNLAB" >&2; exit 2; }
command -v sbatch >/dev/null || { echo "slurm-array.sh: sbatch not found (not a Slurm login node?)" >&2; exit 2; }
"$BNLAB" check "$spec" >/dev/null  # a bad spec fails here, with its FILE:LINE:COLUMN error

name=$(basename "$spec" .spec)
mkdir -p "$out/slurm"
# --parsable prints "JOBID" or "JOBID;CLUSTER".
array_job=$(sbatch --parsable --job-name="bnlab-$name" --array="0-$((n - 1))" \
    --output="$out/slurm/$name-shard-%a.log" --export="ALL,BNLAB=$BNLAB,BNLAB_SLURM_ROLE=shard" \
    ${extra[@]+"${extra[@]}"} "$0" "$spec" "$n" "$out")
array_job=${array_job%%;*}
merge_job=$(sbatch --parsable --job-name="bnlab-$name-merge" --dependency="afterok:$array_job" \
    --output="$out/slurm/$name-merge.log" --export="ALL,BNLAB=$BNLAB,BNLAB_SLURM_ROLE=merge" \
    "$0" "$spec" "$n" "$out")
merge_job=${merge_job%%;*}
echo "slurm-array.sh: $name: $n shards in array job $array_job, merge in job $merge_job (after all shards succeed)"
echo "slurm-array.sh: progress: $BNLAB status $spec --out $out"

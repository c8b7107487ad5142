#!/bin/sh
# Runs a check, a recover and a config-switch against the stub API, as an
# operator and Patroni would call them, and shows their output and exit
# codes. Usage: scripts/demo.sh BIN
set -u
bin=${1:?usage: scripts/demo.sh BIN}
dir=$(mktemp -d)
trap 'kill $stub 2>/dev/null; rm -rf "$dir"' EXIT
# Real timings: a config switch is DONE 0.4 s after its POST, the recovery 2 s
# (its 48 MiB arrive in the data directory meanwhile, as Barman's rsync writes them).
python3 "$(dirname "$0")/stub_api.py" --lifetime 60 --record "$dir/requests.jsonl" --scenario \
    '{"servers": ["pg-cluster"],
      "operations": [{"done_after": 2, "restore_bytes": 50331648}, {"done_after": 0.4}],
      "diagnose": {"servers": {"pg-cluster": {"active_model": "pg-cluster-pg-node-2",
                   "backups": [{"id": "20261102T000000", "cluster_size": 52428800}]}},
                   "models": {"pg-cluster-pg-node-1": {"cluster": "pg-cluster"},
                              "pg-cluster-pg-node-2": {"cluster": "pg-cluster"}}}}' > "$dir/port" &
stub=$!
while ! [ -s "$dir/port" ]; do sleep 0.05; done
url="http://127.0.0.1:$(cut -d' ' -f2 "$dir/port")"

# The data directory is a fresh volume's, in $dir: recover makes its parent.
data=$dir/volume/postgresql/data
echo "== check, with the options of this node's Patroni sections (stub at $url)"
"$bin" --api-url "$url" check --barman-server pg-cluster --barman-model pg-cluster-pg-node-1 \
    "--datadir=$data" "--ssh-command=ssh postgres@pg-node-1"
echo "== exit code $?"
echo
echo "== recover, as Patroni's bootstrap method runs it (a progress line every 0.8 s)"
# Its record is kept beside the data directory (README, "One restore per data
# directory"); the stub restores into the directory, as Barman does.
"$bin" --api-url "$url" recover --scope=batman "--datadir=$data" \
    --barman-server=pg-cluster "--ssh-command=ssh postgres@pg-node-1" --progress-interval=0.8
echo "== exit code $?"
echo
echo "== config-switch, as Patroni's on_role_change callback runs it on promotion"
"$bin" --api-url "$url" config-switch --barman-server pg-cluster --barman-model pg-cluster-pg-node-1 \
    --switch-when promoted on_role_change primary batman
echo "== exit code $?"
echo
echo "== the same callback on a replica: skipped, nothing sent"
"$bin" --api-url "$url" config-switch --barman-server pg-cluster --barman-model pg-cluster-pg-node-1 \
    --switch-when promoted on_role_change replica batman
echo "== exit code $?"
echo
echo "== requests the stub received"
python3 -c 'import json,sys
for line in open(sys.argv[1]):
    r = json.loads(line); print(" ", r["method"], r["path"], r["body"])' "$dir/requests.jsonl"

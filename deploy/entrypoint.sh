#!/bin/sh
# Container entrypoint of the SeedCore image.
#
# A Ray driver must run on a node of its cluster: ray.init(address="host:6379") looks for a raylet
# on this machine. So when SEEDCORE_RAY_ADDRESS names a cluster by its GCS address (not a Ray
# Client ray:// URL), this container first joins that cluster as a node with no CPUs of its own
# (organ actors ask for no CPU, so Ray may place some here too: every node runs this image), then
# runs the command. The Ray head and worker services run `ray start` through this entrypoint with
# no SEEDCORE_RAY_ADDRESS, so it only runs their command.
set -eu

case "${SEEDCORE_RAY_ADDRESS:-}" in
"" | ray://*) ;;
*)
  ray start --address="$SEEDCORE_RAY_ADDRESS" --num-cpus=0 --disable-usage-stats >/tmp/ray-start.log 2>&1 || {
    cat /tmp/ray-start.log >&2
    echo "seedcore-entrypoint: cannot join the Ray cluster at $SEEDCORE_RAY_ADDRESS" >&2
    exit 1
  }
  ;;
esac

exec "$@"

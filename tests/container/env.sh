# Sourced by the container tests and by hand on these machines:
#   source tests/container/env.sh && scripts/image && podman images
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CONTAINERS_CONF=$here/containers.conf
export CONTAINERS_STORAGE_CONF=$here/storage.conf

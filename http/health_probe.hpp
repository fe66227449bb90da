// `emporium healthcheck`: asks a node's /health/ready over HTTP and exits 0
// when it answers 200. For container health checks, where the image has no
// shell and no curl: the binary probes itself.
#pragma once

namespace emporium::http {

/// argv after "healthcheck": [--url http://127.0.0.1:<port>/health/ready]
/// [--timeout-ms 2000]. The URL defaults to EMPORIUM_PORT's (or 8080's)
/// readiness. Returns the process exit code (0 ready, 1 not, 2 usage).
int run_health_probe(int argc, char** argv);

} // namespace emporium::http

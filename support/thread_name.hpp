// Names the calling thread, as `top -H`, `perf` and /proc/<pid>/task/*/comm
// show it: a node runs one store and one checkpointer thread per database
// file beside CAF's and Beast's, and unnamed they all read "caf.actor" or
// the binary's name (a thread inherits its creator's name).
#pragma once

#include <string_view>

namespace emporium {

/// Sets the calling thread's name; Linux keeps at most 15 bytes, so a
/// longer name is cut there. Best effort: a failure changes nothing else.
void name_this_thread(std::string_view name);

} // namespace emporium

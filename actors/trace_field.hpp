// A trace context as a field of the messages on the order path (place,
// start, reserve, commit, release): the work they cause, on this node or
// another, joins the trace of the request that caused it.
#pragma once

#include "support/trace.hpp"

#include <caf/meta/type_name.hpp>

namespace emporium::trace {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, context& x) {
  return f(caf::meta::type_name("trace_context"), x.trace_hi, x.trace_lo, x.span, x.flags);
}

} // namespace emporium::trace

// A layer's observations, element by element: a chain's errors against the reference, the events
// of its storage format, and the check of those errors against the bounds, the step that turns
// every theorem in theory/ into a test on real runs. A violation is a bug or a false assumption,
// never noise, so no element is skipped silently: each one is checked, or counted as unbounded
// because its bound is +Inf.
#pragma once

#include "core/tensor.h"
#include "format/format.h"
#include "format/inspect.h"
#include "shadow/stats.h"

namespace fpaudit {

/// Checks the chain's values y against the reference's r: |y - r| ≤ det + ref_err (a violation
/// otherwise) and ≤ prob + ref_err (an exceedance otherwise).
///   - det + ref_err = +Inf (or NaN): unbounded, whatever the values.
///   - y and r finite: observed |y - r|.
///   - y or r non-finite under a finite bound: a violation with observed +Inf, unless y and r are
///     the same infinity (observed 0). The rules return +Inf wherever an output may overflow
///     (theory/rounding-model.md, Lemma 1), so a finite bound promises a finite value.
/// `element_base` is the index of y's first element in the layer's outputs.
void check_bounds(BoundStats& b, const Tensor& y, const Tensor& r, const Tensor& det, const Tensor& prob, const Tensor& ref_err,
                  long sample, long element_base);

/// Adds the errors of a chain's tensor y against the reference's r (absolute, relative, in ulps of
/// the storage format, normwise and cosine) to e; the largest ulp error moves e.worst.
/// Non-finite pairs are left to add_events and check_bounds.
void add_errors(ErrorStats& e, const Tensor& y, const Tensor& r, const UlpTable& ulp_of, long sample, long element_base);

/// Adds overflow, NaN, flush-to-zero, subnormals and the largest magnitude of a chain's own
/// values y (against the reference's r) to ev; true when y holds a non-finite value r does not.
bool add_events(EventStats& ev, const Tensor& y, const Tensor& r, const Format& storage, long sample);

/// Per-thread buffers of at least n doubles, three of them, for one tensor's per-element values:
/// each Summary then takes them in one add_all, in element order as one add() each would.
std::vector<double>* stats_scratch(long n);

}  // namespace fpaudit

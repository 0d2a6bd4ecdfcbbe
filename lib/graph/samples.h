// Data for a model's runtime inputs as users have it: one array per input (an .npy per input,
// or one .npz keyed by input names), matched to the inputs by name, and an explicit rule for
// which axis of each array indexes samples. Every mistake is one ModelError line naming the
// file and the input.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "graph/graph.h"

namespace fpaudit {

/// An array given for a model input. `name` is empty when the user named no input (a lone
/// FILE.npy for a model with one input; positional arr_0, arr_1 ... keys of an .npz).
struct InputArray {
  std::string name;
  Constant array;
  std::string source;  ///< "x.npy", or "inputs.npz[ids]" for an archive member
};

/// Reads one input file: an .npy gives one array (named `name`), an .npz one array per member
/// (named by its key; `name` must then be empty). ModelError when unreadable.
std::vector<InputArray> read_input_file(const std::string& name, const std::filesystem::path& path);

/// Which axis of each given array indexes samples.
///   Auto  axis 0 is the sample axis of an array that has one more dimension than the model's
///         input, or as many dimensions when the input's first dimension is symbolic or 1 (an
///         array [N, 1, 28, 28] for an input [1, 1, 28, 28] or [batch, 1, 28, 28]); any other
///         array (a fixed first dimension other than 1, such as a declared batch of 3 or a
///         recurrent state [2, batch, 64] given as [2, 1, 64]; an input whose shape is not
///         declared) is one whole sample, the same in every sample.
///   None  every array is one whole sample.
///   Fixed this axis of every array indexes samples.
/// A sample keeps the sample axis as a dimension of 1 when the array has as many dimensions as
/// the input, and loses it when the array has one more. Split arrays must agree on the number of
/// samples, except that one sample along the axis goes with any number (NumPy's broadcasting).
struct SampleAxis {
  enum class Kind { Auto, None, Fixed };
  Kind kind = Kind::Auto;
  int axis = 0;
};
/// "auto", "none" or a non-negative axis; ModelError otherwise.
SampleAxis parse_sample_axis(const std::string& text);

/// The arrays of every runtime input of a graph, in the graph's input order, with their axes.
class SampleSet {
 public:
  /// Matches `given` to graph.inputs (call before infer_shapes): by name, or a lone unnamed array
  /// to a lone input, or positional .npz keys arr_0, arr_1 ... in input order. Checks element
  /// types (float data for float inputs, integer data for integer inputs, bool for bool), the
  /// declared fixed dimensions, and that every split array holds the same number of samples.
  SampleSet(const Graph& graph, std::vector<InputArray> given, SampleAxis axis);

  std::size_t inputs() const { return arrays_.size(); }
  /// Samples: the common length of the sample axes, 1 when no array has one.
  long count() const { return count_; }
  /// Whether any array has a sample axis (outputs are then stacked along a new first axis).
  bool split() const { return split_; }
  /// The shape one sample of input k has as the model's input.
  const std::vector<Shape>& sample_shapes() const { return sample_shapes_; }
  const std::string& name(std::size_t k) const { return names_[k]; }
  const std::string& source(std::size_t k) const { return sources_[k]; }
  const Constant& array(std::size_t k) const { return arrays_[k]; }
  /// The declared element type of input k (the data's own type when undeclared).
  DType dtype(std::size_t k) const { return dtypes_[k]; }
  int axis(std::size_t k) const { return axes_[k]; }  ///< -1: the whole array is the sample
  /// Sample i of input k in C order as binary64 (exact: floats of every input type, and integers
  /// up to 2^53 in magnitude, which the constructor checks).
  std::vector<double> values(std::size_t k, long i) const;
  /// Sample i of input k as a Constant of the input's declared type (for binding an integer
  /// input as a constant).
  Constant sample(std::size_t k, long i) const;
  /// Throws "<source>: sample i element j is NaN" for the first non-finite float among the
  /// first n samples.
  void check_finite(long n) const;

 private:
  std::vector<Constant> arrays_;
  std::vector<std::string> names_, sources_;
  std::vector<DType> dtypes_;
  std::vector<int> axes_;
  std::vector<Shape> sample_shapes_;
  long count_ = 1;
  bool split_ = false;
};

/// The first n samples of an [N, ...] array (all of it when n >= N): what `--samples N` keeps
/// of an array whose axis 0 indexes samples.
Constant first_samples(const Constant& c, long n);

}  // namespace fpaudit

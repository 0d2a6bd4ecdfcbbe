// Running one small model (built with ModelBuilder) through fpaudit's engine in a chosen
// arithmetic, so that each operator test reads as: the node, its inputs, what comes out.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "graph/model_builder.h"
#include "core/arithmetic.h"

namespace fpaudit::test {

/// One runtime input: its shape and values (exact; each arithmetic rounds them into storage).
struct Feed {
  Shape shape;
  std::vector<double> values;
};

/// n test values over a few binades, both signs, no two equal: sin(1.3 i + phase) scaled by
/// 2^(i mod binades + lowest), plus 1e-3 i.
inline std::vector<double> sweep(int n, double phase = 0.7, int binades = 5, int lowest = -2) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(std::ldexp(std::sin(1.3 * i + phase), i % binades + lowest) + 1e-3 * i);
  return v;
}

/// Loads the model, infers shapes for the feeds' shapes, plans it and evaluates it in `a`;
/// returns every graph output, flattened. ModelError propagates.
std::vector<std::vector<double>> run_model(const ModelBuilder& m, const std::vector<Feed>& inputs, const Arithmetic& a);
/// The first output only.
std::vector<double> run_first(const ModelBuilder& m, const std::vector<Feed>& inputs, const Arithmetic& a);
/// The shape inference gave the first output.
Shape first_output_shape(const ModelBuilder& m, const std::vector<Feed>& inputs);

/// The chains whose storage holds small integers and short binary fractions exactly (every
/// named chain but the 8-bit ones), and both references: where a test's values are exact in all
/// of them, every one must give the hand-computed result.
std::vector<std::unique_ptr<Arithmetic>> exact_capable_arithmetics();

/// Runs the model in every exact_capable_arithmetics() member and CHECKs that each gives
/// `want` exactly (doctest: call it from a test case).
void check_all_exact(const ModelBuilder& m, const std::vector<Feed>& inputs, const std::vector<double>& want);

/// ModelError message of run_first ("" when it succeeds).
std::string refusal(const ModelBuilder& m, const std::vector<Feed>& inputs);

}  // namespace fpaudit::test

// libFuzzer target: any bytes given to the ONNX loader, then shape inference with the declared
// input shapes, then the per-layer costs. Every outcome must be a Graph or a ModelError; any
// other exception, crash, hang, leak or undefined behaviour is a finding.
#include <cstddef>
#include <cstdint>
#include <span>

#include "format/format.h"
#include "graph/cost.h"
#include "graph/loader.h"
#include "graph/weight_stats.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fpaudit;
  try {
    // No source path: external data is refused, so the fuzzer never reads files.
    Graph g = parse_onnx(std::as_bytes(std::span(data, size)), "");
    std::vector<Shape> shapes;
    for (const ValueInfo& in : g.inputs) {
      Shape s = in.has_shape ? in.shape : Shape{1};
      for (std::int64_t& d : s) d = d < 0 ? 1 : d;  // unknown dims as fpaudit inspect sets them
      shapes.push_back(s);
    }
    infer_shapes(g, shapes);
    const Format formats[] = {binary16(), e4m3()};
    for (const Node& n : g.nodes) {
      (void)multiply_adds(g, n);
      (void)weight_stats(g, n, formats);
    }
  } catch (const ModelError&) {
    // the expected way to refuse bad input
  }
  return 0;
}

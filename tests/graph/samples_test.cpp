// .npz archives and the binding of user data to a model's inputs (graph/samples.h): archives as
// Python's zipfile writes them for numpy.savez (stored) and numpy.savez_compressed (deflated),
// with zip64 local headers; names, positional keys, element types, and the sample-axis rule.
#include <cstring>

#include <doctest/doctest.h>

#include "graph/loader.h"
#include "graph/model_builder.h"
#include "graph/samples.h"

using namespace fpaudit;
using fpaudit::test::error_of;
using fpaudit::test::ModelBuilder;
using fpaudit::test::TempDir;

namespace {

std::vector<std::byte> bytes_of(const char* s, std::size_t n) {
  std::vector<std::byte> out(n);
  std::memcpy(out.data(), s, n);
  return out;
}

// numpy.savez_compressed(f, ids=int64 [[101, 2023, 102]], mask=bool [[True, True, False]]),
// written by Python's zipfile with force_zip64=True as NumPy does.
const std::vector<std::byte> kDeflated = bytes_of(
    "\x50\x4b\x03\x04\x2d\x00\x00\x00\x08\x00\x00\x00\x21\x00\xa5\x68\xa5\x71\xff\xff\xff\xff\xff\xff\xff\xff\x07\x00\x14\x00\x69\x64\x73\x2e\x6e\x70\x79\x01\x00\x10"
    "\x00\x98\x00\x00\x00\x00\x00\x00\x00\x50\x00\x00\x00\x00\x00\x00\x00\x9b\xec\x17\xea\x1b\x10\xc9\xc8\x50\xc6\x50\xad\x9e\x92\x5a\x9c\x5c\xa4\x6e\xa5\xa0\x6e\x93"
    "\x69\xa1\xae\xa3\xa0\x9e\x96\x5f\x54\x52\x94\x98\x17\x9f\x5f\x94\x92\x0a\x12\x77\x4b\xcc\x29\x4e\x05\x8a\x17\x67\x24\x16\xa4\x02\xf9\x1a\x86\x3a\x0a\xc6\x9a\x3a"
    "\x0a\xb5\x0a\x64\x03\xae\x54\x06\x08\x78\xce\x0e\xa1\xd3\xa0\x7c\x00\x50\x4b\x03\x04\x2d\x00\x00\x00\x08\x00\x00\x00\x21\x00\xe9\x10\xf6\x5b\xff\xff\xff\xff\xff"
    "\xff\xff\xff\x08\x00\x14\x00\x6d\x61\x73\x6b\x2e\x6e\x70\x79\x01\x00\x10\x00\x83\x00\x00\x00\x00\x00\x00\x00\x49\x00\x00\x00\x00\x00\x00\x00\x9b\xec\x17\xea\x1b"
    "\x10\xc9\xc8\x50\xc6\x50\xad\x9e\x92\x5a\x9c\x5c\xa4\x6e\xa5\xa0\x5e\x93\x64\xa8\xae\xa3\xa0\x9e\x96\x5f\x54\x52\x94\x98\x17\x9f\x5f\x94\x92\x0a\x12\x77\x4b\xcc"
    "\x29\x4e\x05\x8a\x17\x67\x24\x16\xa4\x02\xf9\x1a\x86\x3a\x0a\xc6\x9a\x3a\x0a\xb5\x0a\x64\x03\x2e\x46\x46\x06\x00\x50\x4b\x01\x02\x2d\x03\x2d\x00\x00\x00\x08\x00"
    "\x00\x00\x21\x00\xa5\x68\xa5\x71\x50\x00\x00\x00\x98\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x01\x00\x00\x00\x00\x69\x64\x73\x2e\x6e\x70"
    "\x79\x50\x4b\x01\x02\x2d\x03\x2d\x00\x00\x00\x08\x00\x00\x00\x21\x00\xe9\x10\xf6\x5b\x49\x00\x00\x00\x83\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x80\x01\x89\x00\x00\x00\x6d\x61\x73\x6b\x2e\x6e\x70\x79\x50\x4b\x05\x06\x00\x00\x00\x00\x02\x00\x02\x00\x6b\x00\x00\x00\x0c\x01\x00\x00\x00\x00", 397);
// numpy.savez(f, float16 [1.5, -2.0], float64 [[3.25]]): positional keys arr_0, arr_1.
const std::vector<std::byte> kStored = bytes_of(
    "\x50\x4b\x03\x04\x2d\x00\x00\x00\x00\x00\x00\x00\x21\x00\xb3\xc1\x82\x0c\xff\xff\xff\xff\xff\xff\xff\xff\x09\x00\x14\x00\x61\x72\x72\x5f\x30\x2e\x6e\x70\x79\x01"
    "\x00\x10\x00\x84\x00\x00\x00\x00\x00\x00\x00\x84\x00\x00\x00\x00\x00\x00\x00\x93\x4e\x55\x4d\x50\x59\x01\x00\x76\x00\x7b\x27\x64\x65\x73\x63\x72\x27\x3a\x20\x27"
    "\x3c\x66\x32\x27\x2c\x20\x27\x66\x6f\x72\x74\x72\x61\x6e\x5f\x6f\x72\x64\x65\x72\x27\x3a\x20\x46\x61\x6c\x73\x65\x2c\x20\x27\x73\x68\x61\x70\x65\x27\x3a\x20\x28"
    "\x32\x2c\x29\x2c\x20\x7d\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x0a\x00\x3e\x00\xc0\x50\x4b\x03\x04\x2d\x00\x00\x00\x00"
    "\x00\x00\x00\x21\x00\x11\x82\x22\x02\xff\xff\xff\xff\xff\xff\xff\xff\x09\x00\x14\x00\x61\x72\x72\x5f\x31\x2e\x6e\x70\x79\x01\x00\x10\x00\x88\x00\x00\x00\x00\x00"
    "\x00\x00\x88\x00\x00\x00\x00\x00\x00\x00\x93\x4e\x55\x4d\x50\x59\x01\x00\x76\x00\x7b\x27\x64\x65\x73\x63\x72\x27\x3a\x20\x27\x3c\x66\x38\x27\x2c\x20\x27\x66\x6f"
    "\x72\x74\x72\x61\x6e\x5f\x6f\x72\x64\x65\x72\x27\x3a\x20\x46\x61\x6c\x73\x65\x2c\x20\x27\x73\x68\x61\x70\x65\x27\x3a\x20\x28\x31\x2c\x20\x31\x29\x2c\x20\x7d\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20"
    "\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x20\x0a\x00\x00\x00\x00\x00\x00\x0a\x40\x50\x4b\x01\x02\x2d\x03\x2d\x00\x00\x00\x00\x00\x00\x00"
    "\x21\x00\xb3\xc1\x82\x0c\x84\x00\x00\x00\x84\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x01\x00\x00\x00\x00\x61\x72\x72\x5f\x30\x2e\x6e\x70"
    "\x79\x50\x4b\x01\x02\x2d\x03\x2d\x00\x00\x00\x00\x00\x00\x00\x21\x00\x11\x82\x22\x02\x88\x00\x00\x00\x88\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x80\x01\xbf\x00\x00\x00\x61\x72\x72\x5f\x31\x2e\x6e\x70\x79\x50\x4b\x05\x06\x00\x00\x00\x00\x02\x00\x02\x00\x6e\x00\x00\x00\x82\x01\x00\x00\x00\x00", 518);

Constant floats(DType t, Shape shape, std::vector<double> v) { return {t, std::move(shape), std::move(v), {}}; }
Constant ints(DType t, Shape shape, std::vector<std::int64_t> v) { return {t, std::move(shape), {}, std::move(v)}; }

/// A model with float input x [dims] and int64 input ids [1, 3], and one output each.
Graph two_inputs(const std::vector<std::int64_t>& x_dims) {
  ModelBuilder m;
  m.input("x", onnx::TensorProto::FLOAT, x_dims).input("ids", onnx::TensorProto::INT64, {1, 3});
  m.output("y").output("z");
  m.node("Relu", {"x"}, {"y"});
  m.node("Identity", {"ids"}, {"z"});
  return m.parse();
}

}  // namespace

TEST_CASE("npz: deflated and stored archives as NumPy writes them") {
  const auto d = parse_npz(kDeflated, "in.npz");
  REQUIRE(d.size() == 2);
  CHECK(d[0].first == "ids");
  CHECK(d[0].second.dtype == DType::Int64);
  CHECK(d[0].second.shape == Shape{1, 3});
  CHECK(d[0].second.ints == std::vector<std::int64_t>{101, 2023, 102});
  CHECK(d[1].first == "mask");
  CHECK(d[1].second.dtype == DType::Bool);
  CHECK(d[1].second.ints == std::vector<std::int64_t>{1, 1, 0});
  const auto s = parse_npz(kStored, "in.npz");
  REQUIRE(s.size() == 2);
  CHECK(s[0].first == "arr_0");
  CHECK(s[0].second.dtype == DType::Float16);
  CHECK(s[0].second.values == std::vector<double>{1.5, -2.0});
  CHECK(s[1].second.values == std::vector<double>{3.25});
}

TEST_CASE("npz: write_npz round-trips every array, and damage is refused in one line") {
  TempDir dir;
  const std::vector<std::pair<std::string, Constant>> arrays = {
      {"logits", floats(DType::Float32, {2, 2}, {0.5, -1, 3, 1e-3f})},
      {"argmax", ints(DType::Int64, {2}, {1, 0})}};
  write_npz(dir / "y.npz", arrays);
  const auto back = read_npz(dir / "y.npz");
  REQUIRE(back.size() == 2);
  CHECK(back[0].first == "logits");
  CHECK(back[0].second.values == arrays[0].second.values);
  CHECK(back[1].second.ints == arrays[1].second.ints);
  CHECK(encode_npz(arrays) == encode_npz(arrays));  // no clock in the bytes

  std::vector<std::byte> crc = kDeflated;
  crc[0x60] ^= std::byte{0x01};  // inside the first member's deflated data
  CHECK(error_of([&] { parse_npz(crc, "in.npz"); }).starts_with("in.npz: member 'ids.npy': "));
  std::vector<std::byte> cut(kStored.begin(), kStored.end() - 30);
  CHECK(error_of([&] { parse_npz(cut, "in.npz"); }) == "in.npz: not an .npz file (no zip end-of-directory record)");
  CHECK(error_of([&] { parse_npz(bytes_of("PK", 2), "in.npz"); }) == "in.npz: not an .npz file (too short to be a zip archive)");
}

TEST_CASE("samples: inputs matched by name, by position, or a lone array to a lone input") {
  const Graph g = two_inputs({1, 4});
  std::vector<InputArray> given = {{"ids", ints(DType::Int32, {1, 3}, {7, 8, 9}), "ids.npy"},
                                   {"x", floats(DType::Float64, {1, 4}, {1, 2, 3, 4}), "x.npy"}};
  const SampleSet s(g, given, {});
  REQUIRE(s.inputs() == 2);
  CHECK(s.name(0) == "x");
  CHECK(s.source(1) == "ids.npy");
  CHECK(s.dtype(1) == DType::Int64);  // int32 data for an int64 input: exact either way
  CHECK(s.count() == 1);
  CHECK(s.sample(1, 0).ints == std::vector<std::int64_t>{7, 8, 9});
  std::vector<InputArray> positional = {{"arr_0", floats(DType::Float32, {1, 4}, {1, 2, 3, 4}), "a.npz[arr_0]"},
                                        {"arr_1", ints(DType::Int64, {1, 3}, {1, 2, 3}), "a.npz[arr_1]"}};
  CHECK(SampleSet(g, positional, {}).name(1) == "ids");

  CHECK(error_of([&] { SampleSet(g, {{"", floats(DType::Float32, {1, 4}, {1, 2, 3, 4}), "x.npy"}}, {}); }) ==
        "x.npy: the model has 2 runtime inputs ('x', 'ids'); name each one: --input NAME=FILE.npy, or one .npz keyed by input names");
  CHECK(error_of([&] { SampleSet(g, {{"y", floats(DType::Float32, {1, 4}, {1, 2, 3, 4}), "y.npy"}}, {}); }) ==
        "y.npy: the model has no runtime input 'y' (its inputs: 'x', 'ids')");
  CHECK(error_of([&] { SampleSet(g, {given[1]}, {}); }) ==
        "model.onnx: input 'ids' has no data; give it with --input ids=FILE.npy (or in the .npz)");
  given[0].array = floats(DType::Float32, {1, 3}, {7, 8, 9});
  CHECK(error_of([&] { SampleSet(g, given, {}); }) ==
        "ids.npy: input 'ids': the model's input is int64 but the array holds float32 data");
  given[0].array = ints(DType::Int64, {1, 3}, {7, (std::int64_t{1} << 53) + 1, 9});
  CHECK(error_of([&] { SampleSet(g, given, {}); }) ==
        "ids.npy: input 'ids': integer 9007199254740993 is beyond 2^53, which fpaudit cannot hold exactly");
}

TEST_CASE("samples: the auto rule splits along axis 0 only where the model's first dimension is symbolic or 1") {
  ModelBuilder batch1, symbolic, fixed3;
  batch1.input("x", onnx::TensorProto::FLOAT, {1, 2}).output("y").node("Relu", {"x"}, {"y"});
  symbolic.input("x", onnx::TensorProto::FLOAT, {-1, 2}).output("y").node("Relu", {"x"}, {"y"});
  fixed3.input("x", onnx::TensorProto::FLOAT, {3, 2}).output("y").node("Relu", {"x"}, {"y"});
  const Constant data = floats(DType::Float32, {3, 2}, {1, 2, 3, 4, 5, 6});
  auto set = [&](const ModelBuilder& m, Constant c, SampleAxis a) { return SampleSet(m.parse(), {{"", std::move(c), "x.npy"}}, a); };

  const SampleSet b = set(batch1, data, {});  // [3, 2] for [1, 2]: three samples [1, 2]
  CHECK(b.count() == 3);
  CHECK(b.split());
  CHECK(b.sample_shapes()[0] == Shape{1, 2});
  CHECK(b.values(0, 2) == std::vector<double>{5, 6});
  const SampleSet r = set(batch1, floats(DType::Float32, {3, 1, 2}, {1, 2, 3, 4, 5, 6}), {});  // one more dimension
  CHECK(r.count() == 3);
  CHECK(r.sample_shapes()[0] == Shape{1, 2});
  CHECK(set(symbolic, data, {}).count() == 3);
  const SampleSet f = set(fixed3, data, {});  // a declared batch of 3: the whole array
  CHECK(f.count() == 1);
  CHECK_FALSE(f.split());
  CHECK(f.sample_shapes()[0] == Shape{3, 2});
  CHECK(f.values(0, 0).size() == 6);
  CHECK(set(symbolic, data, {SampleAxis::Kind::None, 0}).sample_shapes()[0] == Shape{3, 2});

  // Sequence-first data [seq = 2, batch = 3] split along axis 1 for an input [2, 1].
  ModelBuilder seq;
  seq.input("x", onnx::TensorProto::FLOAT, {2, 1}).output("y").node("Relu", {"x"}, {"y"});
  const SampleSet q = set(seq, floats(DType::Float32, {2, 3}, {1, 2, 3, 4, 5, 6}), parse_sample_axis("1"));
  CHECK(q.count() == 3);
  CHECK(q.values(0, 1) == std::vector<double>{2, 5});
  CHECK(error_of([&] { set(fixed3, floats(DType::Float32, {4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}), {}); }) ==
        "x.npy: input 'x': the whole array [4, 2] does not fit the model's input [3, 2] (no sample axis; choose with "
        "--sample-axis N|none)");
  CHECK(error_of([&] { set(batch1, data, parse_sample_axis("2")); }) == "x.npy: input 'x': --sample-axis 2 but the array [3, 2] has 2 dimensions");
  CHECK(error_of([] { parse_sample_axis("first"); }) == "--sample-axis 'first': expected auto, none or an axis 0, 1, 2 ...");
}

TEST_CASE("samples: split inputs must agree on the count; an unsplit input is the same in every sample") {
  const Graph g = two_inputs({-1, 4});
  const SampleSet s(g, {{"x", floats(DType::Float32, {2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}), "x.npy"},
                        {"ids", ints(DType::Int64, {1, 3}, {4, 5, 6}), "ids.npy"}}, {});
  CHECK(s.count() == 2);
  CHECK(s.axis(1) == 0);  // [1, 3] for [1, 3]: split, one sample, which broadcasts to both
  CHECK(s.values(1, 1) == std::vector<double>{4, 5, 6});
  CHECK(error_of([&] {
          SampleSet(g, {{"x", floats(DType::Float32, {2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}), "x.npy"},
                        {"ids", ints(DType::Int64, {3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}), "ids.npy"}}, {});
        }) == "ids.npy: input 'ids': 3 samples along axis 0, but x.npy holds 2");
}

// The chunk partials that MPI ranks send rank 0 (shadow/chunk_codec.h): unpacking gives the
// packed statistics and records bit for bit, so rank 0's merge of a received chunk is the merge
// of the chunk itself. Checked on the shipped MLP's audit, whose statistics fill every field.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>

#include "graph/loader.h"
#include "report/audit_report.h"
#include "shadow/audit.h"
#include "shadow/chunk_codec.h"

using namespace fpaudit;

namespace {

struct Shipped {
  Graph graph;
  std::unique_ptr<Plan> plan;
  AuditResult result;
  AuditOptions options;
};

std::unique_ptr<Shipped> audit_mlp(long samples) {
  const std::string data = FPAUDIT_DATA_DIR;
  auto s = std::make_unique<Shipped>();
  s->graph = load_onnx(data + "/mlp.onnx");
  infer_shapes(s->graph, std::vector<Shape>{{1, 1, 28, 28}});
  s->plan = std::make_unique<Plan>(s->graph);
  const Constant x = read_npy(data + "/test_images.npy");
  const Constant y = read_npy(data + "/test_labels.npy");
  AuditOptions o;
  for (const char* c : {"fp32", "fp16", "fp16-acc32", "bf16"}) o.chains.push_back(parse_chain(c));
  o.max_samples = samples;
  o.threads = 1;
  // ONNX Runtime's outputs of the converted MLP (data/converted): the records carry a --compare run.
  o.compare.push_back({"ort-fp16", "fp16-acc32", "mlp_fp16-ort.npy", read_npy(data + "/converted/mlp_fp16-ort.npy")});
  s->result = run_audit(*s->plan, x, &y, o);
  s->options = o;
  return s;
}

}  // namespace

TEST_CASE("an audit's statistics and records survive packing bit for bit") {
  const auto a = audit_mlp(12);
  const AuditResult& r = a->result;
  const ChunkBytes bytes = pack_audit_partial(r.stats, r.records);

  AuditResult copy = r;
  for (auto& row : copy.stats)
    for (LayerChainStats& cell : row) cell = LayerChainStats{};
  for (SampleRecord& rec : copy.records) rec = SampleRecord{};
  unpack_audit_partial(bytes, copy.stats, copy.records);
  CHECK(pack_audit_partial(copy.stats, copy.records) == bytes);
  // Everything the reports show, timing aside, is the same.
  const AuditSource src{"mlp.onnx", "test_images.npy", "test_labels.npy", "test"};
  nlohmann::json original = audit_to_json(r, *a->plan, src), unpacked = audit_to_json(copy, *a->plan, src);
  original.erase("timing");
  unpacked.erase("timing");
  CHECK(original.dump() == unpacked.dump());
  // The --compare runs summarized from the unpacked records: the same.
  REQUIRE(copy.records[0].external.size() == 1);
  const auto direct = summarize_external(a->options.compare, r.chains, r.records);
  const auto received = summarize_external(a->options.compare, r.chains, copy.records);
  CHECK(direct[0].max_abs == received[0].max_abs);
  CHECK(direct[0].max_delta_chain == received[0].max_delta_chain);
  CHECK(direct[0].within_bound == received[0].within_bound);
  CHECK(direct[0].within_bound == 12);

  // Merging the unpacked statistics is merging the originals (as rank 0 does with a chunk).
  for (std::size_t l = 0; l < r.stats.size(); ++l)
    for (std::size_t c = 0; c < r.stats[l].size(); ++c) {
      LayerChainStats direct = r.stats[l][c], received = r.stats[l][c];
      direct.merge(r.stats[l][c]);
      received.merge(copy.stats[l][c]);
      ChunkBytes d, e;
      ByteWriter wd(d), we(e);
      write_stats(wd, direct);
      write_stats(we, received);
      CHECK(d == e);
      CHECK(direct.propagated.ulps.quantile(0.5) == received.propagated.ulps.quantile(0.5));
    }
}

TEST_CASE("a partial of the wrong shape or length is refused") {
  const auto a = audit_mlp(2);
  const AuditResult& r = a->result;
  const ChunkBytes bytes = pack_audit_partial(r.stats, r.records);
  std::vector<std::vector<LayerChainStats>> stats = r.stats;
  std::vector<SampleRecord> records(r.records.size());
  CHECK_THROWS_WITH_AS(unpack_audit_partial(std::span(bytes).first(bytes.size() - 1), stats, records),
                       "chunk partial: truncated message", std::runtime_error);
  ChunkBytes longer = bytes;
  longer.push_back(0);
  CHECK_THROWS_WITH_AS(unpack_audit_partial(longer, stats, records), "chunk partial: 1 bytes left over", std::runtime_error);
  std::vector<SampleRecord> fewer(1);
  CHECK_THROWS_AS(unpack_audit_partial(bytes, stats, fewer), std::runtime_error);
  stats.pop_back();
  CHECK_THROWS_AS(unpack_audit_partial(bytes, stats, records), std::runtime_error);
}

TEST_CASE("binary64 values travel as bit patterns: NaN payloads, -0, subnormals, infinities") {
  ChunkBytes b;
  ByteWriter w(b);
  const double values[] = {-0.0, 0x1p-1074, INFINITY, -INFINITY, std::bit_cast<double>(std::uint64_t{0x7ff8000000000123}), 0.1};
  for (double v : values) w.f64(v);
  w.text("rank 1: x.npy: cannot open");
  ByteReader rd(b);
  for (double v : values) CHECK(std::bit_cast<std::uint64_t>(rd.f64()) == std::bit_cast<std::uint64_t>(v));
  CHECK(rd.text() == "rank 1: x.npy: cannot open");
  rd.expect_end();
}

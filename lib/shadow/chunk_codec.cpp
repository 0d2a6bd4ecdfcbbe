#include "shadow/chunk_codec.h"

#include <bit>
#include <cstring>

#include <fmt/format.h>

namespace fpaudit {

// A field added to one of these structs must be packed below too, or the ranks' merged result
// silently loses it: the sizes make the compiler say so.
static_assert(sizeof(Summary) == 64 && sizeof(ErrorStats) == 296 && sizeof(EventStats) == 56 &&
                  sizeof(BoundStats) == 496 && sizeof(MarginBlame) == 40 && sizeof(LayerChainStats) == 1680,
              "a statistics field was added or removed: keep chunk_codec.cpp in step");
static_assert(sizeof(SampleRecord) == 120 && sizeof(ExternalSample) == 48 && sizeof(TaskSample) == 104 && sizeof(ChainVerdict) == 160 && sizeof(MarginVerdict) == 96,
              "a record field was added or removed: keep chunk_codec.cpp in step");

void ByteWriter::u64(std::uint64_t v) {
  unsigned char b[8];
  std::memcpy(b, &v, 8);
  out_.insert(out_.end(), b, b + 8);
}

void ByteWriter::f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }

void ByteWriter::text(const std::string& s) {
  u64(s.size());
  out_.insert(out_.end(), s.begin(), s.end());
}

std::uint64_t ByteReader::u64() {
  if (in_.size() - at_ < 8) throw std::runtime_error("chunk partial: truncated message");
  std::uint64_t v;
  std::memcpy(&v, in_.data() + at_, 8);
  at_ += 8;
  return v;
}

double ByteReader::f64() { return std::bit_cast<double>(u64()); }

std::string ByteReader::text() {
  const std::uint64_t n = u64();
  if (in_.size() - at_ < n) throw std::runtime_error("chunk partial: truncated message");
  std::string s(reinterpret_cast<const char*>(in_.data() + at_), n);
  at_ += n;
  return s;
}

void ByteReader::expect_end() const {
  if (at_ != in_.size()) throw std::runtime_error(fmt::format("chunk partial: {} bytes left over", in_.size() - at_));
}

struct HistogramCodec {
  static void write(ByteWriter& w, const LogHistogram& h) {
    w.u64(h.total_);
    w.i64(h.first_);
    w.u64(h.counts_.size());
    for (std::uint64_t c : h.counts_) w.u64(c);
  }
  static void read(ByteReader& r, LogHistogram& h) {
    h.total_ = r.u64();
    h.first_ = static_cast<int>(r.i64());
    const std::uint64_t n = r.u64();
    if (n > static_cast<std::uint64_t>(LogHistogram::kSlots)) throw std::runtime_error("chunk partial: histogram too long");
    h.counts_.resize(n);
    for (std::uint64_t& c : h.counts_) c = r.u64();
  }
};

namespace {

void write_summary(ByteWriter& w, const Summary& s) {
  w.u64(s.count);
  w.f64(s.sum);
  w.f64(s.max);
  HistogramCodec::write(w, s.hist);
}
void read_summary(ByteReader& r, Summary& s) {
  s.count = r.u64();
  s.sum = r.f64();
  s.max = r.f64();
  HistogramCodec::read(r, s.hist);
}

void write_errors(ByteWriter& w, const ErrorStats& e) {
  for (const Summary* s : {&e.abs, &e.rel, &e.ulps, &e.normwise}) write_summary(w, *s);
  w.i64(e.worst.sample);
  w.i64(e.worst.element);
  w.f64(e.min_cosine);
  w.f64(e.sum_cosine);
  w.u64(e.samples);
}
void read_errors(ByteReader& r, ErrorStats& e) {
  for (Summary* s : {&e.abs, &e.rel, &e.ulps, &e.normwise}) read_summary(r, *s);
  e.worst.sample = r.i64();
  e.worst.element = r.i64();
  e.min_cosine = r.f64();
  e.sum_cosine = r.f64();
  e.samples = r.u64();
}

void write_bounds(ByteWriter& w, const BoundStats& b) {
  for (std::uint64_t v : {b.checked, b.unbounded, b.violations, b.prob_exceeded}) w.u64(v);
  w.f64(b.max_failure_probability);
  for (const Summary* s : {&b.ratio, &b.prob_ratio, &b.bound}) write_summary(w, *s);
  for (const Violation& v : b.first) {
    w.i64(v.sample);
    w.i64(v.element);
    w.f64(v.observed);
    w.f64(v.bound);
  }
  w.i64(b.kept);
}
void read_bounds(ByteReader& r, BoundStats& b) {
  for (std::uint64_t* v : {&b.checked, &b.unbounded, &b.violations, &b.prob_exceeded}) *v = r.u64();
  b.max_failure_probability = r.f64();
  for (Summary* s : {&b.ratio, &b.prob_ratio, &b.bound}) read_summary(r, *s);
  for (Violation& v : b.first) {
    v.sample = r.i64();
    v.element = r.i64();
    v.observed = r.f64();
    v.bound = r.f64();
  }
  b.kept = static_cast<int>(r.i64());
}

void write_certified(ByteWriter& w, const Certified& c) { w.u64((c.det ? 1u : 0u) | (c.prob ? 2u : 0u)); }
void read_certified(ByteReader& r, Certified& c) {
  const std::uint64_t v = r.u64();
  c.det = (v & 1u) != 0;
  c.prob = (v & 2u) != 0;
}

void write_margin(ByteWriter& w, const MarginVerdict& m) {
  w.u64(m.available ? 1 : 0);
  write_certified(w, m.a_priori);
  write_certified(w, m.a_posteriori);
  for (double v : {m.drift, m.bound_det, m.bound_prob, m.apriori_det, m.apriori_prob, m.failure, m.apriori_failure}) w.f64(v);
  for (long v : {m.directions, m.unstable, m.violations, m.prob_exceeded}) w.i64(v);
}
void read_margin(ByteReader& r, MarginVerdict& m) {
  m.available = r.u64() != 0;
  read_certified(r, m.a_priori);
  read_certified(r, m.a_posteriori);
  for (double* v : {&m.drift, &m.bound_det, &m.bound_prob, &m.apriori_det, &m.apriori_prob, &m.failure, &m.apriori_failure}) *v = r.f64();
  for (long* v : {&m.directions, &m.unstable, &m.violations, &m.prob_exceeded}) *v = r.i64();
}

void write_verdict(ByteWriter& w, const ChainVerdict& v) {
  w.i64(v.top1);
  w.u64(v.tie ? 1 : 0);
  w.f64(v.delta_ref);
  w.f64(v.delta_fp32);
  w.i64(v.first_nonfinite_layer);
  for (const Certified* c : {&v.a_priori, &v.a_priori_all, &v.a_posteriori}) write_certified(w, *c);
  w.f64(v.a_priori_failure);
  w.f64(v.a_posteriori_failure);
  w.f64(v.delta_bound);
  write_margin(w, v.margin);
}
void read_verdict(ByteReader& r, ChainVerdict& v) {
  v.top1 = static_cast<int>(r.i64());
  v.tie = r.u64() != 0;
  v.delta_ref = r.f64();
  v.delta_fp32 = r.f64();
  v.first_nonfinite_layer = static_cast<int>(r.i64());
  for (Certified* c : {&v.a_priori, &v.a_priori_all, &v.a_posteriori}) read_certified(r, *c);
  v.a_priori_failure = r.f64();
  v.a_posteriori_failure = r.f64();
  v.delta_bound = r.f64();
  read_margin(r, v.margin);
}

void write_task(ByteWriter& w, const TaskSample& t) {
  for (double v : {t.max_abs, t.normwise, t.cosine, t.max_bound, t.bound_ratio, t.min_margin}) w.f64(v);
  for (long v : {t.outside, t.decisions, t.flipped, t.certified_observed, t.certified_bound, t.violations}) w.i64(v);
  w.u64((t.within_observed ? 1u : 0u) | (t.within_proved ? 2u : 0u) | (t.nonfinite ? 4u : 0u));
}
void read_task(ByteReader& r, TaskSample& t) {
  for (double* v : {&t.max_abs, &t.normwise, &t.cosine, &t.max_bound, &t.bound_ratio, &t.min_margin}) *v = r.f64();
  for (long* v : {&t.outside, &t.decisions, &t.flipped, &t.certified_observed, &t.certified_bound, &t.violations}) *v = r.i64();
  const std::uint64_t f = r.u64();
  t.within_observed = (f & 1u) != 0;
  t.within_proved = (f & 2u) != 0;
  t.nonfinite = (f & 4u) != 0;
}

}  // namespace

void write_stats(ByteWriter& w, const LayerChainStats& s) {
  write_errors(w, s.propagated);
  write_errors(w, s.local);
  write_bounds(w, s.propagated_bound);
  write_bounds(w, s.local_bound);
  const EventStats& e = s.events;
  for (std::uint64_t v : {e.elements, e.overflow, e.nan, e.flushed, e.subnormal}) w.u64(v);
  w.f64(e.max_magnitude);
  w.i64(e.first_nonfinite_sample);
  const MarginBlame& m = s.margin;
  w.i64(m.samples);
  for (double v : {m.bound_share, m.observed_share, m.bound_max, m.observed_max}) w.f64(v);
}

void read_stats(ByteReader& r, LayerChainStats& s) {
  read_errors(r, s.propagated);
  read_errors(r, s.local);
  read_bounds(r, s.propagated_bound);
  read_bounds(r, s.local_bound);
  EventStats& e = s.events;
  for (std::uint64_t* v : {&e.elements, &e.overflow, &e.nan, &e.flushed, &e.subnormal}) *v = r.u64();
  e.max_magnitude = r.f64();
  e.first_nonfinite_sample = r.i64();
  MarginBlame& m = s.margin;
  m.samples = r.i64();
  for (double* v : {&m.bound_share, &m.observed_share, &m.bound_max, &m.observed_max}) *v = r.f64();
}

void write_record(ByteWriter& w, const SampleRecord& s) {
  w.i64(s.index);
  w.i64(s.label);
  w.i64(s.ref_top1);
  w.f64(s.margin_ref);
  w.f64(s.ref_error);
  w.i64(s.fp32_top1);
  w.f64(s.margin_fp32);
  w.u64(s.chains.size());
  for (const ChainVerdict& v : s.chains) write_verdict(w, v);
  // Per graph output, per chain: the task verdicts (shadow/task_judge.h).
  w.u64(s.tasks.size());
  for (const std::vector<TaskSample>& out : s.tasks) {
    w.u64(out.size());
    for (const TaskSample& t : out) write_task(w, t);
  }
  // Per --compare run (shadow/external_outputs.h).
  w.u64(s.external.size());
  for (const ExternalSample& e : s.external) {
    w.i64(e.top1);
    w.f64(e.delta_ref);
    w.f64(e.normwise);
    w.u64(e.delta_chain.size());
    for (double d : e.delta_chain) w.f64(d);
  }
}

void read_record(ByteReader& r, SampleRecord& s) {
  s.index = r.i64();
  s.label = static_cast<int>(r.i64());
  s.ref_top1 = static_cast<int>(r.i64());
  s.margin_ref = r.f64();
  s.ref_error = r.f64();
  s.fp32_top1 = static_cast<int>(r.i64());
  s.margin_fp32 = r.f64();
  const std::uint64_t n = r.u64();
  if (n > 1u << 20) throw std::runtime_error("chunk partial: too many chains");
  s.chains.resize(n);
  for (ChainVerdict& v : s.chains) read_verdict(r, v);
  const std::uint64_t outputs = r.u64();
  if (outputs > 1u << 20) throw std::runtime_error("chunk partial: too many outputs");
  s.tasks.resize(outputs);
  for (std::vector<TaskSample>& out : s.tasks) {
    const std::uint64_t m = r.u64();
    if (m > 1u << 20) throw std::runtime_error("chunk partial: too many chains");
    out.resize(m);
    for (TaskSample& t : out) read_task(r, t);
  }
  const std::uint64_t runs = r.u64();
  if (runs > 1u << 20) throw std::runtime_error("chunk partial: too many --compare runs");
  s.external.resize(runs);
  for (ExternalSample& e : s.external) {
    e.top1 = static_cast<int>(r.i64());
    e.delta_ref = r.f64();
    e.normwise = r.f64();
    const std::uint64_t m = r.u64();
    if (m > 1u << 20) throw std::runtime_error("chunk partial: too many chains");
    e.delta_chain.resize(m);
    for (double& d : e.delta_chain) d = r.f64();
  }
}

ChunkBytes pack_audit_partial(const std::vector<std::vector<LayerChainStats>>& stats, std::span<const SampleRecord> records) {
  ChunkBytes out;
  ByteWriter w(out);
  w.u64(stats.size());
  w.u64(stats.empty() ? 0 : stats[0].size());
  for (const auto& row : stats)
    for (const LayerChainStats& cell : row) write_stats(w, cell);
  w.u64(records.size());
  for (const SampleRecord& s : records) write_record(w, s);
  return out;
}

void unpack_audit_partial(std::span<const unsigned char> bytes, std::vector<std::vector<LayerChainStats>>& stats,
                          std::span<SampleRecord> records) {
  ByteReader r(bytes);
  const std::uint64_t layers = r.u64(), chains = r.u64();
  if (layers != stats.size() || (layers > 0 && chains != stats[0].size()))
    throw std::runtime_error(fmt::format("chunk partial: {}x{} statistics where {}x{} were expected", layers, chains, stats.size(),
                                         stats.empty() ? 0 : stats[0].size()));
  for (auto& row : stats)
    for (LayerChainStats& cell : row) read_stats(r, cell);
  if (r.u64() != records.size()) throw std::runtime_error("chunk partial: wrong number of sample records");
  for (SampleRecord& s : records) read_record(r, s);
  r.expect_end();
}

}  // namespace fpaudit

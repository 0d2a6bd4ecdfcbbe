// The partial result of one chunk of samples as bytes, for MPI ranks (shadow/chunk_exchange.h):
// a rank evaluates a chunk, packs its partial, and rank 0 unpacks it and merges it exactly as
// if it had evaluated the chunk itself. Every double travels as its binary64 bit pattern and
// every histogram with its stored range, so an unpacked partial is the packed one bit for bit
// (and merging it gives the same bits): never text, never a rounding.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "shadow/classify.h"
#include "shadow/stats.h"

namespace fpaudit {

using ChunkBytes = std::vector<unsigned char>;

/// Appends fixed-width values in the machine's byte order (ranks of one run share a machine
/// type: MPI launches one binary).
class ByteWriter {
 public:
  explicit ByteWriter(ChunkBytes& out) : out_(out) {}
  void u64(std::uint64_t v);
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v);
  void text(const std::string& s);

 private:
  ChunkBytes& out_;
};

/// Reads what ByteWriter wrote; std::runtime_error when the bytes run out or are left over.
class ByteReader {
 public:
  explicit ByteReader(std::span<const unsigned char> in) : in_(in) {}
  std::uint64_t u64();
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  double f64();
  std::string text();
  /// Throws unless every byte was read.
  void expect_end() const;

 private:
  std::span<const unsigned char> in_;
  std::size_t at_ = 0;
};

void write_stats(ByteWriter& w, const LayerChainStats& s);
void read_stats(ByteReader& r, LayerChainStats& s);
void write_record(ByteWriter& w, const SampleRecord& s);
void read_record(ByteReader& r, SampleRecord& s);

/// One chunk's partial of the audit: its statistics stats[layer][chain] and the records of its
/// samples.
ChunkBytes pack_audit_partial(const std::vector<std::vector<LayerChainStats>>& stats, std::span<const SampleRecord> records);
/// The inverse: `stats` must have the packed shape and `records` the packed count; throws
/// std::runtime_error otherwise.
void unpack_audit_partial(std::span<const unsigned char> bytes, std::vector<std::vector<LayerChainStats>>& stats,
                          std::span<SampleRecord> records);

}  // namespace fpaudit

// Chunks across processes (MPI ranks), for the ordered chunk driver (shadow/chunk_driver.h).
//
// The chunks are the driver's own, cut from the sample count alone: the ranks share them out
// (chunk c belongs to rank c mod size), and no chunk boundary moves with the number of ranks or
// threads. Rank 0 walks every chunk in order: its own it evaluates and merges; another rank's
// it receives packed (shadow/chunk_codec.h), unpacks and merges the same way. The other ranks
// evaluate theirs and send each partial to rank 0 in chunk order. So the merged result is the
// one a single process computes, bit for bit, for any number of ranks and threads.
//
// Failure: a rank's chunk, or its work before the chunks, can throw. That rank sends rank 0 the
// error instead of more partials; rank 0 then asks every rank to stop (each finishes the chunk
// at hand), takes whatever is still on the way, and tells every rank the outcome: all of them
// throw, rank 0 with the first error (in chunk order) and the others FailedOnAnotherRank, which
// `fpaudit` ends with exit 2 and prints nothing, so the error is printed once.
#pragma once

#include <climits>
#include <exception>
#include <stdexcept>
#include <string>

#include "shadow/chunk_codec.h"

namespace fpaudit {

/// Thrown on ranks other than 0 when the run failed: rank 0 reports the error.
class FailedOnAnotherRank : public std::runtime_error {
 public:
  FailedOnAnotherRank() : std::runtime_error("the run failed; rank 0 reports why") {}
};

/// What rank 0 receives for a chunk of another rank.
struct ChunkMessage {
  enum Kind { kPartial, kFailure, kEnd } kind = kPartial;
  long chunk = -1;
  ChunkBytes bytes;     ///< kPartial: the packed partial (kEnd: the rank sends nothing more)
  std::string message;  ///< kFailure: the error, already naming its rank
};

/// The transport between ranks (lib/dist implements it with MPI). Calls come from one thread at
/// a time (the driver's ordered section, or after the parallel region).
class ChunkExchange {
 public:
  virtual ~ChunkExchange() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  bool root() const { return rank() == 0; }
  int owner(long chunk) const { return static_cast<int>(chunk % size()); }

  // Ranks other than 0.
  /// Sends chunk `chunk`'s partial to rank 0 (may return before it is delivered).
  virtual void send_partial(long chunk, ChunkBytes bytes) = 0;
  /// Sends this rank's error (about `chunk`, or before any chunk: LONG_MAX); nothing follows.
  /// (conclude() sends it, or the rank's end, as the stream's last message.)
  virtual void send_failure(long chunk, const std::string& message) = 0;
  /// Whether rank 0 has asked this rank to stop.
  virtual bool stop_requested() = 0;

  // Rank 0.
  /// The next message of chunk `chunk`'s owner, which sends its chunks in order.
  virtual ChunkMessage receive(long chunk) = 0;
  /// Asks every other rank to stop (once).
  virtual void stop_all() = 0;

  /// Every rank, exactly once, after its last chunk or when it failed before reaching them.
  /// `local` is this rank's own first failure (null: none) and `local_chunk` the chunk it
  /// happened in (LONG_MAX: before any). Returns when every rank succeeded; otherwise throws on
  /// every rank: rank 0 the first failure in chunk order (its own exception, or a
  /// std::runtime_error "rank R: ..."), the others FailedOnAnotherRank.
  virtual void conclude(std::exception_ptr local, long local_chunk) = 0;
  /// Whether conclude() has run.
  virtual bool concluded() const = 0;
  /// Whether conclude() found a failure (and so threw on every rank).
  virtual bool failed() const = 0;
};

/// The message of an exception, for sending it to rank 0.
inline std::string exception_message(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown error";
  }
}

/// TEST HOOK (shadow/test_hooks.h): FPAUDIT_TEST_FAIL_CHUNK=C makes the evaluation of chunk C
/// throw, on whichever rank owns it, so the tests see a rank fail in the middle of a run.
/// Returns -1 when unset.
long failing_chunk_from_environment();

}  // namespace fpaudit

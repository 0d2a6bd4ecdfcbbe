// The ordered chunk driver across MPI ranks: the contract of run_chunks_in_order
// (shadow/chunk_driver.h), the transport and the failure protocol of shadow/chunk_exchange.h.
#pragma once

#include <atomic>
#include <climits>
#include <mutex>
#include <vector>

#include "shadow/chunk_driver.h"
#include "shadow/chunk_exchange.h"

namespace fpaudit {

/// run_chunks_in_order with the chunks shared out among the ranks of `exchange`:
///   pack(W&, SampleChunk) -> ChunkBytes    the partial evaluate left in W (ranks other than 0)
///   unpack(W&, SampleChunk, bytes)         puts a received partial in W, as evaluate would (rank 0)
/// merge is called on rank 0 only, for every chunk, in chunk order. Every rank returns, or every
/// rank throws (ChunkExchange::conclude).
template <class MakeWorker, class Evaluate, class Pack, class Unpack, class Merge, class Finish>
void run_chunks_on_ranks(const SampleChunks& chunks, int threads, ChunkExchange& exchange, MakeWorker&& make_worker,
                         Evaluate&& evaluate, Pack&& pack, Unpack&& unpack, Merge&& merge, Finish&& finish) {
  const bool root = exchange.root();
  const long fail_chunk = failing_chunk_from_environment();
  std::vector<long> order;  // rank 0: every chunk, in merge order; the others: their own
  for (long c = 0; c < chunks.count(); ++c)
    if (root || exchange.owner(c) == exchange.rank()) order.push_back(c);
  std::mutex failure_mutex;
  std::exception_ptr failure;  // this rank's failure of the lowest chunk
  long failure_chunk = LONG_MAX;
  std::atomic<bool> stop{false};  // no more evaluation: a failure here, or rank 0 said so
  bool sent_last = false;         // ranks other than 0: no more partials go out
  auto record_failure = [&](long c) {
    std::lock_guard lock(failure_mutex);
    if (c < failure_chunk) failure = std::current_exception(), failure_chunk = c;
    stop = true;
  };
  const long n = static_cast<long>(order.size());
#pragma omp parallel num_threads(threads)
  {
    auto worker = make_worker();
#pragma omp for schedule(dynamic, 1) ordered
    for (long i = 0; i < n; ++i) {
      const SampleChunk chunk = chunks[order[static_cast<std::size_t>(i)]];
      const bool mine = exchange.owner(chunk.index) == exchange.rank();
      bool evaluated = false;
      if (mine && !stop) {
        try {
          if (chunk.index == fail_chunk)
            throw std::runtime_error("test hook FPAUDIT_TEST_FAIL_CHUNK: chunk " + std::to_string(chunk.index) + " failed");
          evaluate(worker, chunk);
          evaluated = true;
        } catch (...) {
          record_failure(chunk.index);
        }
      }
      // The transport is called from here only: one thread at a time, in chunk order.
#pragma omp ordered
      {
        try {
          if (root && !stop) {
            if (evaluated) {
              merge(worker, chunk);
            } else if (!mine) {
              ChunkMessage m = exchange.receive(chunk.index);
              if (m.kind == ChunkMessage::kPartial) {
                unpack(worker, chunk, m.bytes);
                merge(worker, chunk);
              } else {
                stop = true;  // the exchange keeps the other rank's error for conclude()
              }
            }
          } else if (!root && !sent_last) {
            if (evaluated) exchange.send_partial(chunk.index, pack(worker, chunk));
            else if (mine) sent_last = true;  // conclude() sends this rank's last word
            if (!sent_last && exchange.stop_requested()) stop = true;
          }
        } catch (...) {
          record_failure(chunk.index);
          if (!root) sent_last = true;
        }
        if (root && stop) exchange.stop_all();
      }
    }
#pragma omp critical(fpaudit_chunk_finish)
    finish(worker);
  }
  exchange.conclude(failure, failure_chunk);
}

/// run_chunks_in_order, or run_chunks_on_ranks when `exchange` is given (an MPI run).
template <class MakeWorker, class Evaluate, class Pack, class Unpack, class Merge, class Finish>
void run_chunks(const SampleChunks& chunks, int threads, ChunkExchange* exchange, MakeWorker&& make_worker, Evaluate&& evaluate,
                Pack&& pack, Unpack&& unpack, Merge&& merge, Finish&& finish) {
  if (exchange)
    run_chunks_on_ranks(chunks, threads, *exchange, make_worker, evaluate, pack, unpack, merge, finish);
  else
    run_chunks_in_order(chunks, threads, make_worker, evaluate, merge, finish);
}

}  // namespace fpaudit

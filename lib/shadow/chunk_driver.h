// The one parallel driver of the engine's sample loops (audit.cpp, bounds_run.cpp).
//
// The samples [0, n) are cut into chunks of a fixed size that does not depend on how many
// workers there are. Workers take chunks in any order and evaluate each into a partial result;
// the partials are merged strictly in chunk order. The merged result is therefore the same with
// 1 thread or N, whichever thread took which chunk.
//
// An MPI split plugs in with the same contract, ranks as workers: rank r evaluates the chunks it
// is given (every size-th, or a dynamic queue), sends each partial to rank 0, and rank 0 calls the
// same merge on them in chunk order. That is why a partial is everything a chunk contributes:
// evaluate leaves it in the worker and merge takes it from there (here on the worker's own
// thread; under MPI from what the rank sent).
#pragma once

#include <algorithm>
#include <exception>
#include <mutex>

#include <omp.h>

namespace fpaudit {

struct SampleChunk {
  long index = 0;   ///< position in merge order
  long first = 0;   ///< first sample
  long last = 0;    ///< one past the last sample
};

class SampleChunks {
 public:
  SampleChunks(long samples, long chunk_size) : samples_(samples), size_(chunk_size) {}
  long count() const { return (samples_ + size_ - 1) / size_; }
  long samples() const { return samples_; }
  SampleChunk operator[](long c) const { return {c, c * size_, std::min(samples_, (c + 1) * size_)}; }

 private:
  long samples_, size_;
};

/// Runs every chunk on `threads` OpenMP threads.
///   make_worker()             once per thread: its working set W
///   evaluate(W&, SampleChunk) the chunk's partial result, left in W
///   merge(W&, SampleChunk)    in chunk order, one at a time: takes the partial from W
///   finish(W&)                once per thread after its last chunk, one at a time
/// After the first exception no further chunk is evaluated or merged; it is rethrown once every
/// thread has finished.
template <class MakeWorker, class Evaluate, class Merge, class Finish>
void run_chunks_in_order(const SampleChunks& chunks, int threads, MakeWorker&& make_worker, Evaluate&& evaluate,
                         Merge&& merge, Finish&& finish) {
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto failed = [&] {
    std::lock_guard lock(failure_mutex);  // another thread's chunk may be failing right now
    return failure != nullptr;
  };
  const long count = chunks.count();
#pragma omp parallel num_threads(threads)
  {
    auto worker = make_worker();
#pragma omp for schedule(dynamic, 1) ordered
    for (long c = 0; c < count; ++c) {
      const SampleChunk chunk = chunks[c];
      if (!failed()) {
        try {
          evaluate(worker, chunk);
        } catch (...) {
          std::lock_guard lock(failure_mutex);
          if (!failure) failure = std::current_exception();
        }
      }
#pragma omp ordered
      {
        if (!failed()) merge(worker, chunk);
      }
    }
#pragma omp critical(fpaudit_chunk_finish)
    finish(worker);
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace fpaudit

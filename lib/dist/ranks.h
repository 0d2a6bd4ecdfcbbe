// The processes of one run: MPI's world when fpaudit was started by an MPI launcher (mpirun,
// mpiexec, Slurm's srun) and built with MPI (-DFPAUDIT_MPI), one process otherwise. Only
// `fpaudit audit` runs across ranks; ARCHITECTURE.md: a rank is just another worker.
#pragma once

#include <memory>

#include "shadow/chunk_exchange.h"

namespace fpaudit {

class Ranks {
 public:
  /// This process's ranks. The first call initialises MPI when a launcher started the process
  /// (MPI is finalised at exit); without one, a single rank and no MPI at all. Throws
  /// std::runtime_error when a launcher started several processes of a build without MPI.
  static Ranks& world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }
  /// The chunk transport for the ordered driver; null for a single rank.
  ChunkExchange* exchange() { return exchange_.get(); }
  /// The largest of every rank's `code` (collective: every rank calls it once, at the end).
  int largest_exit_code(int code);

  Ranks(const Ranks&) = delete;
  Ranks& operator=(const Ranks&) = delete;
  ~Ranks();

 private:
  Ranks();
  int rank_ = 0, size_ = 1;
  bool mpi_ = false;  ///< MPI was initialised here
  std::unique_ptr<ChunkExchange> exchange_;
};

/// Whether this fpaudit was built with MPI.
bool built_with_mpi();

}  // namespace fpaudit

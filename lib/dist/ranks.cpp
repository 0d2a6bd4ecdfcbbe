#include "dist/ranks.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

#if FPAUDIT_HAVE_MPI
#include <mpi.h>

#include "dist/mpi_exchange.h"
#endif

namespace fpaudit {

namespace {

/// Whether an MPI launcher started this process: OpenMPI's mpirun, or a PMI/PMIx process
/// manager (Slurm's srun --mpi=pmix or pmi2, MPICH's mpiexec).
bool started_by_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

/// The number of processes the launcher started, where it says so (1 otherwise).
[[maybe_unused]] long launched_processes() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"})
    if (const char* text = std::getenv(v)) return std::strtol(text, nullptr, 10);
  return 1;
}

}  // namespace

bool built_with_mpi() { return FPAUDIT_HAVE_MPI != 0; }

Ranks& Ranks::world() {
  static Ranks ranks;
  return ranks;
}

Ranks::Ranks() {
  if (!started_by_launcher()) return;
#if FPAUDIT_HAVE_MPI
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
  mpi_ = true;
  // The ordered driver calls MPI from whichever thread holds the ordered section.
  if (provided < MPI_THREAD_SERIALIZED)
    throw std::runtime_error("the MPI library offers no MPI_THREAD_SERIALIZED, which fpaudit's threads need");
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (size_ > 1) exchange_ = make_mpi_exchange();
#else
  if (launched_processes() > 1)
    throw std::runtime_error("this fpaudit was built without MPI, so " + std::to_string(launched_processes()) +
                             " copies would each audit everything: rebuild with -DFPAUDIT_MPI=ON (needs libopenmpi-dev)");
#endif
}

Ranks::~Ranks() {
#if FPAUDIT_HAVE_MPI
  if (mpi_) {
    exchange_.reset();
    MPI_Finalize();
  }
#endif
}

int Ranks::largest_exit_code(int code) {
#if FPAUDIT_HAVE_MPI
  if (size_ > 1) {
    int largest = code;
    MPI_Allreduce(&code, &largest, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return largest;
  }
#endif
  return code;
}

}  // namespace fpaudit

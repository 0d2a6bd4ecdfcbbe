// ChunkExchange over MPI point-to-point messages (shadow/chunk_exchange.h has the protocol).
#pragma once

#include <memory>

#include "shadow/chunk_exchange.h"

namespace fpaudit {

/// The exchange among MPI_COMM_WORLD's ranks; MPI must be initialised (MPI_THREAD_SERIALIZED or
/// more) and stay so while it lives.
std::unique_ptr<ChunkExchange> make_mpi_exchange();

}  // namespace fpaudit

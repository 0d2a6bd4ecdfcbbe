#include "dist/mpi_exchange.h"

#include <mpi.h>

#include <chrono>
#include <algorithm>
#include <climits>
#include <thread>
#include <deque>
#include <utility>
#include <vector>

namespace fpaudit {

namespace {

// Ranks other than 0 send rank 0 a stream on kChunkTag: partials in chunk order, then one last
// message, a failure or kEnd. Rank 0 sends each of them at most one empty kStopTag message.
constexpr int kChunkTag = 1, kStopTag = 2;
constexpr std::uint64_t kPartial = 0, kFailure = 1, kEnd = 2;
// Sends on their way from one rank at once: a rank that runs ahead of rank 0 waits for it
// instead of holding every partial it has made.
constexpr std::size_t kMaxPending = 8;
constexpr std::chrono::microseconds kFirstPause{50}, kLongestPause{2000};

class MpiExchange final : public ChunkExchange {
 public:
  MpiExchange() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    ended_.assign(static_cast<std::size_t>(size_), false);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void send_partial(long chunk, ChunkBytes bytes) override { send(kPartial, chunk, bytes); }
  void send_failure(long chunk, const std::string& message) override {
    ChunkBytes text;
    ByteWriter(text).text(message);
    send(kFailure, chunk, text);
    sent_last_ = true;
  }
  bool stop_requested() override {
    if (!stop_seen_) {
      int flag = 0;
      MPI_Iprobe(0, kStopTag, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
      if (flag) receive_stop();
    }
    return stop_seen_;
  }

  ChunkMessage receive(long chunk) override {
    const int from = owner(chunk);
    ChunkMessage m = receive_from(from);
    if (m.kind == ChunkMessage::kEnd)  // only a failure, or a stop asked for, ends a rank early
      throw std::runtime_error("rank " + std::to_string(from) + " ended before chunk " + std::to_string(chunk));
    if (m.kind == ChunkMessage::kPartial && m.chunk != chunk)
      throw std::runtime_error("rank " + std::to_string(from) + " sent chunk " + std::to_string(m.chunk) + " where chunk " +
                               std::to_string(chunk) + " was due");
    return m;
  }
  void stop_all() override {
    if (stop_sent_) return;
    stop_sent_ = true;
    for (int r = 1; r < size_; ++r) {
      stop_requests_.emplace_back();
      MPI_Isend(nullptr, 0, MPI_BYTE, r, kStopTag, MPI_COMM_WORLD, &stop_requests_.back());
    }
  }

  void conclude(std::exception_ptr local, long local_chunk) override {
    concluded_ = true;
    std::uint64_t failed = 0;
    std::string message;
    bool remote_first = false;  // rank 0: another rank's failure comes first in chunk order
    if (rank_ == 0) {
      if (local || remote_failed_) stop_all();
      // Whatever the other ranks still send, up to each one's last message.
      for (int r = 1; r < size_; ++r)
        while (!ended_[static_cast<std::size_t>(r)])
          if (receive_from(r).kind == ChunkMessage::kFailure) stop_all();
      remote_first = remote_failed_ && (!local || remote_chunk_ < local_chunk);
      if (local || remote_first) failed = 1, message = remote_first ? remote_message_ : exception_message(local);
    } else if (!sent_last_) {
      if (local) {
        send_failure(local_chunk, "rank " + std::to_string(rank_) + ": " + exception_message(local));
      } else {
        send(kEnd, LONG_MAX, {});
        sent_last_ = true;
      }
    }
    while (!pending_.empty()) wait_oldest();
    // The outcome, from rank 0 to all.
    MPI_Bcast(&failed, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    std::uint64_t length = message.size();
    MPI_Bcast(&length, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    message.resize(length);
    MPI_Bcast(message.data(), static_cast<int>(length), MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rank_ == 0) {
      if (!stop_requests_.empty()) MPI_Waitall(static_cast<int>(stop_requests_.size()), stop_requests_.data(), MPI_STATUSES_IGNORE);
    } else if (failed && !stop_seen_) {
      receive_stop();  // rank 0 asked every rank to stop before it said so
    }
    if (!failed) return;
    failed_ = true;
    if (rank_ != 0) throw FailedOnAnotherRank();
    if (!remote_first) std::rethrow_exception(local);
    throw std::runtime_error(message);
  }
  bool concluded() const override { return concluded_; }
  bool failed() const override { return failed_; }

 private:
  struct Pending {
    MPI_Request request;
    ChunkBytes bytes;
  };

  void send(std::uint64_t kind, long chunk, const ChunkBytes& body) {
    if (pending_.size() >= kMaxPending) wait_oldest();
    Pending& p = pending_.emplace_back();
    ByteWriter w(p.bytes);
    w.u64(kind);
    w.i64(chunk);
    p.bytes.insert(p.bytes.end(), body.begin(), body.end());
    if (p.bytes.size() > static_cast<std::size_t>(INT_MAX)) throw std::runtime_error("a chunk's partial exceeds 2 GiB");
    MPI_Isend(p.bytes.data(), static_cast<int>(p.bytes.size()), MPI_BYTE, 0, kChunkTag, MPI_COMM_WORLD, &p.request);
  }
  void wait_oldest() {
    for (auto pause = kFirstPause;; pause = std::min(2 * pause, kLongestPause)) {
      int done = 0;
      MPI_Test(&pending_.front().request, &done, MPI_STATUS_IGNORE);
      if (done) break;
      std::this_thread::sleep_for(pause);
    }
    pending_.pop_front();
  }
  /// MPI_Probe without its busy wait: Open MPI's blocking calls spin on a core, which on a
  /// shared or oversubscribed machine is taken from the ranks that compute. A chunk takes
  /// a second or more; polls at most 2 ms apart cost nothing against it (and a poll every
  /// 0.2 ms cost rank 0 a fifth of a core in waiting, measured).
  MPI_Status probe_politely(int from) {
    MPI_Status status;
    for (auto pause = kFirstPause;; pause = std::min(2 * pause, kLongestPause)) {
      int found = 0;
      MPI_Iprobe(from, kChunkTag, MPI_COMM_WORLD, &found, &status);
      if (found) return status;
      std::this_thread::sleep_for(pause);
    }
  }
  void receive_stop() {
    MPI_Recv(nullptr, 0, MPI_BYTE, 0, kStopTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    stop_seen_ = true;
  }

  /// Rank 0: the next message from rank `from`; keeps its failure, and whether it has ended.
  ChunkMessage receive_from(int from) {
    MPI_Status status = probe_politely(from);
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    ChunkBytes bytes(static_cast<std::size_t>(count));
    MPI_Recv(bytes.data(), count, MPI_BYTE, from, kChunkTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    ByteReader r(bytes);
    const std::uint64_t kind = r.u64();
    ChunkMessage m;
    m.chunk = static_cast<long>(r.i64());
    if (kind == kPartial) {
      m.kind = ChunkMessage::kPartial;
      m.bytes.assign(bytes.begin() + 16, bytes.end());
      return m;
    }
    ended_[static_cast<std::size_t>(from)] = true;
    if (kind == kFailure) {
      m.kind = ChunkMessage::kFailure;
      m.message = r.text();
      if (!remote_failed_ || m.chunk < remote_chunk_) remote_failed_ = true, remote_chunk_ = m.chunk, remote_message_ = m.message;
    } else {
      m.kind = ChunkMessage::kEnd;
    }
    return m;
  }

  int rank_ = 0, size_ = 1;
  // Ranks other than 0.
  std::deque<Pending> pending_;
  bool sent_last_ = false, stop_seen_ = false;
  // Rank 0.
  std::vector<bool> ended_;
  bool remote_failed_ = false;    ///< another rank failed
  long remote_chunk_ = LONG_MAX;  ///< the lowest chunk another rank failed in (LONG_MAX: before any)
  std::string remote_message_;
  bool stop_sent_ = false;
  std::vector<MPI_Request> stop_requests_;
  bool concluded_ = false, failed_ = false;
};

}  // namespace

std::unique_ptr<ChunkExchange> make_mpi_exchange() { return std::make_unique<MpiExchange>(); }

}  // namespace fpaudit

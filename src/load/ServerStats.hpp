#pragma once
// Reads Switchboard's own measure of the time packets spend inside it: the
// per-worker `forward_delay_us` histograms of GET /stats (kernel receive
// timestamp to sendmmsg), and their first part, `receive_wait_us` (kernel
// receive timestamp to the recvmmsg that read it). Two snapshots, at the edges
// of the steady window, give the distribution over the window alone.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "util/Result.hpp"

namespace sb::load {

/// Histogram buckets summed over the server's workers: upper bound (µs) → count.
using Buckets = std::map<uint64_t, uint64_t>;
struct DelaySnapshot {
  Buckets buckets;       ///< forward_delay_us
  Buckets wait_buckets;  ///< receive_wait_us (empty from a server without it)
};

/// Parses a /stats document; an error if it has no forward_delay_us.
util::Result<DelaySnapshot> parse_delay_snapshot(std::string_view json);
/// GET `url` ("http://host:port/path") and parse it.
util::Result<DelaySnapshot> fetch_delay_snapshot(const std::string& url, std::chrono::milliseconds timeout);

struct DelayQuantiles {
  uint64_t count = 0;
  uint64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;  ///< µs, bucket upper bounds
};
/// The distribution of what was added between `before` and `after`.
DelayQuantiles window_quantiles(const Buckets& before, const Buckets& after);

}  // namespace sb::load

#pragma once
// Counts heap allocations made by this thread while counting is on. The
// counting itself lives in allocation_test.cpp, which interposes malloc,
// calloc and realloc for the whole test binary (operator new, libsrtp and
// OpenSSL all end up there). Everything else in the binary runs with counting
// off, so the other tests are unaffected.
//
// Each allocation is attributed by unwinding the stack: through libsrtp2 (whose
// crypto backend may allocate per packet) or not.
//
// To find an allocation: `gdb --args test_sfu --gtest_filter='*Allocation*'`,
// `break sb::sfu::test::alloc::counted_allocation`, run, `bt`.
#include <cstdint>

namespace sb::sfu::test::alloc {

/// True when the binary was built with the interposer (not under a sanitizer,
/// whose runtime owns malloc).
bool available();
/// Prepares attribution (finds libsrtp2 in memory, warms up the unwinder);
/// call once with counting off before counting.
void init();

/// Allocations made while counting: those whose call stack passes through
/// libsrtp2 (its crypto backend), and all others ("ours").
struct Totals {
  uint64_t ours = 0;
  uint64_t srtp = 0;
  Totals& operator+=(const Totals& o) {
    ours += o.ours;
    srtp += o.srtp;
    return *this;
  }
};

inline thread_local bool counting = false;
inline thread_local Totals count;

/// Called for every counted allocation outside libsrtp; a place for a breakpoint.
void counted_allocation();

/// Counts allocations made during its lifetime into `into`.
class Counter {
 public:
  explicit Counter(Totals& into, bool enabled = true) : into_(into), enabled_(enabled) {
    if (!enabled_) return;
    was_ = counting;
    start_ = count;
    counting = true;
  }
  ~Counter() {
    if (!enabled_) return;
    counting = was_;
    into_.ours += count.ours - start_.ours;
    into_.srtp += count.srtp - start_.srtp;
  }
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

 private:
  Totals& into_;
  bool enabled_;
  bool was_ = false;
  Totals start_;
};

/// Stops counting for its lifetime (e.g. while the simulated network copies a
/// datagram the code under test handed over).
class Pause {
 public:
  Pause() : was_(counting) { counting = false; }
  ~Pause() { counting = was_; }
  Pause(const Pause&) = delete;
  Pause& operator=(const Pause&) = delete;

 private:
  bool was_;
};

}  // namespace sb::sfu::test::alloc

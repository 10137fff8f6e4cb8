#pragma once
// Randomness comes in through one small interface so that tests are repeatable.
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace sb::util {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::span<uint8_t> out) = 0;

  uint32_t u32();
  uint64_t u64();
  /// `n` characters from the ICE character set (RFC 8445 §5.3: ALPHA / DIGIT / "+" / "/").
  std::string ice_chars(size_t n);
  /// `n` characters from [A-Za-z0-9].
  std::string alnum(size_t n);
};

/// Cryptographically strong (OpenSSL RAND_bytes); what the server uses.
std::unique_ptr<Random> make_system_random();
/// Deterministic xorshift generator for tests and simulations. Not for keys.
std::unique_ptr<Random> make_seeded_random(uint64_t seed);

}  // namespace sb::util

#include "util/Random.hpp"

#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace sb::util {

uint32_t Random::u32() {
  uint32_t v = 0;
  fill({reinterpret_cast<uint8_t*>(&v), sizeof(v)});
  return v;
}

uint64_t Random::u64() {
  uint64_t v = 0;
  fill({reinterpret_cast<uint8_t*>(&v), sizeof(v)});
  return v;
}

static std::string pick(Random& r, size_t n, std::string_view alphabet) {
  std::string s(n, '\0');
  for (auto& c : s) c = alphabet[r.u32() % alphabet.size()];
  return s;
}

std::string Random::ice_chars(size_t n) {
  return pick(*this, n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
}

std::string Random::alnum(size_t n) {
  return pick(*this, n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
}

namespace {

class SystemRandom final : public Random {
 public:
  void fill(std::span<uint8_t> out) override {
    if (RAND_bytes(out.data(), int(out.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  }
};

class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : s_(seed ? seed : 0x9e3779b97f4a7c15ull) {}
  void fill(std::span<uint8_t> out) override {
    for (auto& b : out) {
      s_ ^= s_ << 13;
      s_ ^= s_ >> 7;
      s_ ^= s_ << 17;
      b = uint8_t(s_ >> 24);
    }
  }

 private:
  uint64_t s_;
};

}  // namespace

std::unique_ptr<Random> make_system_random() { return std::make_unique<SystemRandom>(); }
std::unique_ptr<Random> make_seeded_random(uint64_t seed) { return std::make_unique<SeededRandom>(seed); }

}  // namespace sb::util

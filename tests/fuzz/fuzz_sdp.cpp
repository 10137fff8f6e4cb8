// Parses arbitrary bytes as a session description; whatever parses must write
// out and parse back to the same model.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sdp/SdpParser.hpp"
#include "sdp/SessionDescription.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sb::sdp;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto first = SdpParser::parse(text);
  if (!first.ok()) return 0;
  std::string written = first->to_string();
  // Writing normalizes: CRLF for LF and an explicit direction line in every
  // m-section can make the output up to about three times the input, so the
  // re-parse allows for that instead of the network-facing limits.
  SdpLimits relaxed{kMaxSdpBytes * 4, kMaxSdpLines * 4};
  auto second = SdpParser::parse(written, relaxed);
  if (!second.ok() || !(*second == *first)) std::abort();
  return 0;
}

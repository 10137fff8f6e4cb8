// Parses arbitrary bytes as STUN, verifies integrity with a fixed key and the
// fingerprint, and reads every attribute through the typed accessors.
#include <cstddef>
#include <cstdint>

#include "stun/Integrity.hpp"
#include "stun/Message.hpp"
#include "stun/MessageBuilder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sb::stun;
  const sb::util::ByteView in(data, size);
  (void)is_stun(in);
  ParseError err = ParseError::kNone;
  auto m = Message::parse(in, &err);
  (void)to_string(err);
  if (!m) return 0;

  volatile size_t sink = 0;
  (void)verify_message_integrity(*m, std::string_view("fuzz-password-0123456789"));
  (void)verify_fingerprint(*m);
  for (const Attribute& a : m->attributes()) sink = sink + a.type + a.value.size();
  if (auto u = m->username()) sink = sink + u->size();
  if (auto s = m->software()) sink = sink + s->size();
  if (auto x = m->xor_mapped_address()) sink = sink + x->port();
  if (auto x = m->mapped_address()) sink = sink + x->port();
  if (auto p = m->priority()) sink = sink + *p;
  if (auto t = m->ice_controlling()) sink = sink + size_t(*t);
  if (auto t = m->ice_controlled()) sink = sink + size_t(*t);
  if (auto e = m->error_code()) sink = sink + e->code + e->reason.size();
  if (auto mi = m->message_integrity()) sink = sink + mi->size();
  if (auto fp = m->fingerprint()) sink = sink + *fp;
  if (auto u = m->unknown_comprehension_required()) sink = sink + *u;
  sink = sink + m->use_candidate();

  // Echo what was read into a response, as an ICE agent would.
  uint8_t buf[kMaxMessageSize];
  MessageBuilder b(buf, MessageClass::kSuccessResponse, m->method(), m->transaction_id());
  if (auto x = m->xor_mapped_address()) b.add_xor_mapped_address(*x);
  if (auto u = m->username()) b.add_username(*u);
  b.add_message_integrity(std::string_view("fuzz-password-0123456789")).add_fingerprint();
  if (auto n = b.finish()) {
    auto again = Message::parse(sb::util::ByteView(buf, *n));
    if (!again || !verify_fingerprint(*again)) __builtin_trap();
  }
  (void)sink;
  return 0;
}

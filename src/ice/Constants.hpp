#pragma once
// Timing and size bounds shared by the ICE agents.
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "util/Time.hpp"

namespace sb::ice {

using namespace std::chrono_literals;

/// Consent is lost when no valid check/response was seen for this long (RFC 7675 §5.1).
inline constexpr util::Duration kConsentTimeout = 30s;
/// Consent checks are sent about this often, jittered ±20 % (RFC 7675 §5.1).
inline constexpr util::Duration kConsentInterval = 5s;
/// First retransmission timeout of a connectivity check (RFC 8489 §6.2.1 RTO, chosen
/// short because ICE runs on paths with a known small RTT, RFC 8445 §14.3).
inline constexpr util::Duration kInitialRto = 100ms;
/// Transmissions of one check before it fails (RFC 8489 §6.2.1: Rc = 7) and the wait
/// after the last one, in units of the initial RTO (Rm = 16).
inline constexpr int kMaxRequestAttempts = 7;
inline constexpr int kLastWaitFactor = 16;
/// Pacing between new checks (RFC 8445 §14.2: Ta = 50 ms).
inline constexpr util::Duration kCheckPacing = 50ms;

/// Candidate pairs a lite agent remembers (one per remote transport address).
inline constexpr size_t kMaxPairs = 8;
/// Remote candidates a client agent checks.
inline constexpr size_t kMaxRemoteCandidates = 8;
/// Consent requests whose answer is still accepted.
inline constexpr size_t kMaxOutstandingConsent = 4;
/// Output queues; a full queue drops (and counts) the newest item.
inline constexpr size_t kMaxQueuedTransmits = 16;
inline constexpr size_t kMaxQueuedEvents = 16;

/// RFC 8445 §5.1.2.2 type preferences.
inline constexpr uint32_t kHostTypePreference = 126;
inline constexpr uint32_t kPeerReflexiveTypePreference = 110;
inline constexpr uint32_t kServerReflexiveTypePreference = 100;
inline constexpr uint32_t kRelayedTypePreference = 0;

}  // namespace sb::ice

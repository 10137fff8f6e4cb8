#include "load/ServerStats.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <vector>

namespace sb::load {

namespace json = boost::json;
namespace http = boost::beast::http;

util::Result<DelaySnapshot> parse_delay_snapshot(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return util::make_error("the stats document is not a JSON object");
  const auto* workers = doc.as_object().if_contains("workers");
  if (workers == nullptr || !workers->is_array()) return util::make_error("the stats document has no workers");
  DelaySnapshot snap;
  bool any = false;
  // Adds one histogram's buckets to `into`; false (with the reason) if malformed.
  auto add = [](const json::value& w, std::string_view key, Buckets& into, std::string& why) {
    const auto* d = w.is_object() ? w.as_object().if_contains(key) : nullptr;
    const auto* b = d && d->is_object() ? d->as_object().if_contains("buckets") : nullptr;
    if (b == nullptr || !b->is_array()) return false;
    for (const auto& pair : b->as_array()) {
      const auto* a = pair.if_array();
      if (a == nullptr || a->size() != 2) {
        why = "a " + std::string(key) + " bucket is not [bound, count]";
        return false;
      }
      auto bound = json::try_value_to<uint64_t>((*a)[0]);
      auto count = json::try_value_to<uint64_t>((*a)[1]);
      if (!bound || !count) {
        why = "a " + std::string(key) + " bucket is not two unsigned numbers";
        return false;
      }
      into[*bound] += *count;
    }
    return true;
  };
  std::string why;
  for (const auto& w : workers->as_array()) {
    if (add(w, "forward_delay_us", snap.buckets, why)) any = true;
    add(w, "receive_wait_us", snap.wait_buckets, why);
    if (!why.empty()) return util::make_error(why);
  }
  if (!any) return util::make_error("the server reports no forward_delay_us (not Switchboard, or too old)");
  return snap;
}

util::Result<DelaySnapshot> fetch_delay_snapshot(const std::string& url, std::chrono::milliseconds timeout) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return util::make_error("stats URL must start with http://: " + url);
  std::string rest = url.substr(kScheme.size());
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  // Only the workers' counters: the histogram is there, and the server builds
  // no participant detail in the middle of the measurement.
  if (target.find('?') == std::string::npos) target += "?rooms=0";
  auto colon = hostport.rfind(':');
  std::string host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
  std::string port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  try {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::resolver resolver(ioc);
    boost::beast::tcp_stream stream(ioc);
    stream.expires_after(timeout);
    stream.connect(resolver.resolve(host, port));
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, hostport);
    http::write(stream, req);
    boost::beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(stream, buf, res);
    if (res.result() != http::status::ok)
      return util::make_error("GET " + url + ": HTTP " + std::to_string(res.result_int()));
    return parse_delay_snapshot(res.body());
  } catch (const std::exception& e) {
    return util::make_error("GET " + url + ": " + e.what());
  }
}

DelayQuantiles window_quantiles(const Buckets& before, const Buckets& after) {
  std::vector<std::pair<uint64_t, uint64_t>> diff;
  DelayQuantiles q;
  for (const auto& [bound, count] : after) {
    auto it = before.find(bound);
    uint64_t prev = it == before.end() ? 0 : it->second;
    if (count > prev) {
      diff.emplace_back(bound, count - prev);
      q.count += count - prev;
    }
  }
  if (q.count == 0) return q;
  auto at = [&](double f) {
    auto rank = uint64_t(f * double(q.count));
    if (rank >= q.count) rank = q.count - 1;
    uint64_t seen = 0;
    for (const auto& [bound, c] : diff) {
      seen += c;
      if (seen > rank) return bound;
    }
    return diff.back().first;
  };
  q.p50 = at(0.5);
  q.p90 = at(0.9);
  q.p99 = at(0.99);
  q.p999 = at(0.999);
  q.max = diff.back().first;
  return q;
}

}  // namespace sb::load

// The AX connector: sends AIF requests to several AOS endpoints through a
// balancer with health checks, a circuit breaker and a pool of keep-alive
// HTTP connections per endpoint, and a retry policy that picks an endpoint
// again for every attempt.
#ifndef AX_CONNECTOR_CONNECTOR_HPP
#define AX_CONNECTOR_CONNECTOR_HPP

#include "aif_messages.hpp"
#include "profile.hpp"

#include <mend/adapters/http_connection.hpp>
#include <mend/balancer.hpp>
#include <mend/breaker_signal.hpp>
#include <mend/circuit_breaker.hpp>
#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/connection_pool.hpp>
#include <mend/error.hpp>
#include <mend/health_checker.hpp>
#include <mend/http_error.hpp>
#include <mend/metrics_sink.hpp>
#include <mend/result.hpp>
#include <mend/retry_policy.hpp>
#include <mend/transient.hpp>

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ax {

// The address of one AOS's sales order service.
struct endpoint_address {
  std::string name;  // names the endpoint's breaker, pool and health in every report
  std::string host;
  std::uint16_t port = 80;
  std::string path{sales_order_service_path};
};

// Parses "http://host[:port][/path]". Without a path the sales order
// service's default path is used. Returns nullopt and sets `error` for
// anything else (https, user info, a bad port).
inline std::optional<endpoint_address> parse_endpoint_url(std::string_view url, std::string& error) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) {
    error = fmt::format("invalid --endpoint '{}': expected http://host:port/path (https is not supported)", url);
    return std::nullopt;
  }
  auto rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const auto authority = rest.substr(0, slash);
  endpoint_address out;
  if (slash != std::string_view::npos) out.path = std::string(rest.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    error = fmt::format("invalid --endpoint '{}': expected a host name or address after http://", url);
    return std::nullopt;
  }
  // A bracketed IPv6 address carries colons of its own.
  const auto bracket = authority.find(']');
  const auto colon = authority.rfind(':');
  const bool has_port = colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  auto host = has_port ? authority.substr(0, colon) : authority;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  out.host = std::string(host);
  if (has_port) {
    const auto port_text = authority.substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      error = fmt::format("invalid --endpoint '{}': the port must be a number from 1 to 65535", url);
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(port);
  }
  out.name = fmt::format("{}:{}", out.host, out.port);
  return out;
}

// [snippet:classifiers]
// Worth another attempt: what mend::is_transient() accepts, AIF server
// faults, and a pool that fails fast, because the next attempt may go to
// another endpoint.
inline bool is_retryable(const std::error_code& ec) {
  return mend::is_transient(ec) || ec == aif_errc::server_fault || ec == mend::errc::pool_recovering;
}

// Counts against an endpoint's breaker: backend failures and AIF server
// faults. A business fault means that the AOS processed the request, so it
// counts as a success.
inline bool is_endpoint_failure(const std::error_code& ec) {
  return mend::is_backend_failure(ec) || ec == aif_errc::server_fault;
}
// [/snippet]

// The kinds of failed attempts the connector counts per endpoint.
enum class attempt_fault { timeout, http_500, http_503, http_other, dropped, soap_server_fault, fail_fast, other };
inline constexpr std::size_t attempt_fault_kinds = 8;

inline std::string_view to_string(attempt_fault kind) noexcept {
  switch (kind) {
    case attempt_fault::timeout: return "timeouts";
    case attempt_fault::http_500: return "HTTP 500";
    case attempt_fault::http_503: return "HTTP 503";
    case attempt_fault::http_other: return "other HTTP errors";
    case attempt_fault::dropped: return "dropped connections";
    case attempt_fault::soap_server_fault: return "SOAP server faults";
    case attempt_fault::fail_fast: return "pool fail-fast";
    case attempt_fault::other: return "other errors";
  }
  return "unknown";
}

// Returns the kind of a failed attempt's error, or nullopt for a business
// fault, which is a valid response.
inline std::optional<attempt_fault> fault_kind_of(const std::error_code& ec) {
  if (ec == aif_errc::business_fault) return std::nullopt;
  if (ec == aif_errc::server_fault) return attempt_fault::soap_server_fault;
  if (ec == std::errc::timed_out) return attempt_fault::timeout;
  if (const int status = mend::http_status_of(ec); status != 0) {
    if (status == 500) return attempt_fault::http_500;
    if (status == 503) return attempt_fault::http_503;
    return attempt_fault::http_other;
  }
  if (ec == mend::errc::pool_recovering || ec == mend::errc::pool_exhausted) return attempt_fault::fail_fast;
  if (ec == std::errc::connection_reset || ec == std::errc::broken_pipe || ec == std::errc::connection_aborted ||
      ec == std::errc::not_connected)
    return attempt_fault::dropped;
  return attempt_fault::other;
}

// The outcome of one request.
struct request_outcome {
  mend::result<aif_reply> reply;
  std::uint32_t attempts = 0;  // HTTP exchanges tried, on any endpoint
  std::string detail;          // the last failed attempt, e.g. "aos2: HTTP 503 Service Unavailable"
};

// One endpoint as the status line shows it.
struct endpoint_view {
  std::string name;
  mend::circuit_state breaker = mend::circuit_state::closed;
  mend::connection_pool_stats pool;
  mend::endpoint_health health = mend::endpoint_health::healthy;
  bool in_rotation = true;
  double weight = 0.0;  // the effective weight picks use now
  std::array<std::uint64_t, attempt_fault_kinds> faults{};
};

class aif_connector {
 public:
  // `clock` runs the breakers, pools, balancer and retries, `probe_clock`
  // the health checks, so that a probe waiting for its timeout on the probe
  // clock's timer thread delays no breaker or pool timer. Both must be real
  // clocks of one time base (steady_clock_source) and outlive the connector,
  // and so must `sink`. Throws mend::config_error for invalid options.
  aif_connector(mend::clock& clock, mend::clock& probe_clock, std::vector<endpoint_address> addresses,
                const timing_profile& profile, std::size_t max_connections, mend::metrics_sink& sink)
      : clock_(clock),
        probe_clock_(probe_clock),
        endpoints_(make_endpoints(clock, std::move(addresses), profile, max_connections, sink)),
        balancer_(clock, balancer_options(profile, sink)),
        retry_(clock, retry_options(profile, sink)),
        checker_(probe_clock, checker_options(profile, sink)) {
    for (auto& target : endpoints_) checker_.add(target->address.name, health_probe(target->address, profile));
  }

  aif_connector(const aif_connector&) = delete;
  aif_connector& operator=(const aif_connector&) = delete;

  // [snippet:send]
  // Sends one request. Each attempt picks an endpoint anew, so a retry after
  // a failure usually goes to another AOS; every attempt sends the same
  // MessageId.
  request_outcome send(const aif_request& request) {
    const std::string body = soap_request_body(request);
    attempt_trace trace;
    auto reply = retry_.execute([&] { return attempt(request, body, trace); });
    return {std::move(reply), trace.attempts, std::move(trace.detail)};
  }
  // [/snippet]

  std::vector<endpoint_view> view() {
    std::vector<endpoint_view> out;
    const auto routed = balancer_.endpoints();
    for (const auto& target : endpoints_) {
      endpoint_view v;
      v.name = target->address.name;
      v.breaker = target->breaker.state();
      v.pool = target->pool.stats();
      v.health = checker_.health(v.name).value_or(mend::endpoint_health::healthy);
      for (const auto& r : routed) {
        if (r.name != v.name) continue;
        v.in_rotation = r.in_rotation;
        v.weight = r.effective_weight;
      }
      for (std::size_t i = 0; i < attempt_fault_kinds; ++i) v.faults[i] = target->faults[i].load();
      out.push_back(std::move(v));
    }
    return out;
  }

  std::vector<std::pair<std::string, mend::circuit_breaker_stats>> breaker_stats() {
    std::vector<std::pair<std::string, mend::circuit_breaker_stats>> out;
    for (auto& target : endpoints_) out.emplace_back(target->address.name, target->breaker.stats());
    return out;
  }

  mend::retry_stats retry_stats() const { return retry_.stats(); }

 private:
  using pool_type = mend::connection_pool<mend::http_connection>;

  // The record that the attempts of one request leave for its outcome.
  struct attempt_trace {
    std::uint32_t attempts = 0;
    std::string detail;
    const void* last_failed = nullptr;  // the endpoint of the last failed attempt
  };

  struct endpoint {
    endpoint(mend::clock& clock, endpoint_address where, const timing_profile& profile, std::size_t max_connections,
             mend::metrics_sink& sink)
        : address(std::move(where)),
          breaker(clock, breaker_options(address.name, profile, sink)),
          pool(clock, connection_factory(address, profile), pool_options(address.name, profile, max_connections, sink)) {}

    // One HTTP exchange on a pooled connection. A transport error breaks the
    // connection, so the pool replaces it; an HTTP error status keeps it.
    mend::result<aif_reply> call(const aif_request& request, const std::string& body, mend::wall_time now,
                                 std::string& detail) {
      auto leased = pool.acquire();
      if (!leased) {
        detail = fmt::format("{}: {} ({})", address.name, leased.error().message(), pool.last_error().message());
        return failed(leased.error());
      }
      auto& connection = leased.value();
      const mend::http_fields headers{{"Content-Type", "text/xml; charset=utf-8"},
                                      {"SOAPAction", fmt::format("\"{}\"", soap_action(request.operation))}};
      auto response = connection->request("POST", address.path, body, headers);
      if (!response) {
        connection.fail(response.error());
        detail = fmt::format("{}: {}", address.name, response.error().message());
        return failed(response.error());
      }
      auto classified = classify_response(response.value(), request.operation, now);
      if (!classified.reply) {
        detail = fmt::format("{}: {}", address.name, classified.detail);
        return failed(classified.reply.error());
      }
      classified.reply.value().endpoint = address.name;
      return std::move(classified.reply);
    }

    std::error_code failed(std::error_code ec) {
      if (const auto kind = fault_kind_of(ec)) ++faults[static_cast<std::size_t>(*kind)];
      return ec;
    }

    const endpoint_address address;
    mend::circuit_breaker breaker;
    pool_type pool;
    std::array<std::atomic<std::uint64_t>, attempt_fault_kinds> faults{};
  };

  // [snippet:attempt]
  // One attempt: picks an endpoint and sends through its breaker and pool.
  // It picks again, at most once per endpoint, in two cases. The pick is the
  // endpoint whose failure caused this retry while others are in rotation.
  // Or the breaker rejects the call, because it opened or its half-open test
  // slot was taken after the pick.
  mend::result<aif_reply> attempt(const aif_request& request, const std::string& body, attempt_trace& trace) {
    for (std::size_t pick = 0; pick < endpoints_.size(); ++pick) {
      const auto name = balancer_.pick();
      if (!name) return name.error();  // errc::no_healthy_endpoint: not retried
      endpoint& target = find(name.value());
      const bool last_pick = pick + 1 == endpoints_.size();
      if (&target == trace.last_failed && !last_pick) continue;

      auto reply = target.breaker.execute([&] {
        ++trace.attempts;
        return target.call(request, body, clock_.wall_now(), trace.detail);
      });
      if (!reply && reply.error() == mend::errc::circuit_open) continue;
      if (!reply) trace.last_failed = &target;
      return reply;
    }
    return mend::make_error_code(mend::errc::no_healthy_endpoint);
  }
  // [/snippet]

  endpoint& find(std::string_view name) {
    for (auto& target : endpoints_)
      if (target->address.name == name) return *target;
    throw std::logic_error(fmt::format("the balancer picked an unknown endpoint '{}'", name));
  }

  static std::vector<std::unique_ptr<endpoint>> make_endpoints(mend::clock& clock, std::vector<endpoint_address> addresses,
                                                               const timing_profile& profile,
                                                               std::size_t max_connections, mend::metrics_sink& sink) {
    std::vector<std::unique_ptr<endpoint>> out;
    for (auto& address : addresses)
      out.push_back(std::make_unique<endpoint>(clock, std::move(address), profile, max_connections, sink));
    return out;
  }

  static mend::circuit_breaker::options breaker_options(const std::string& name, const timing_profile& profile,
                                                        mend::metrics_sink& sink) {
    auto out = profile.breaker;
    out.name = name;
    out.is_failure = is_endpoint_failure;
    out.sink = &sink;
    return out;
  }

  static pool_type::factory_type connection_factory(const endpoint_address& address, const timing_profile& profile) {
    return [host = address.host, port = address.port, timeout = profile.connect_timeout, http = profile.http] {
      return mend::http_connection::connect(host, port, timeout, http);
    };
  }

  static pool_type::options pool_options(const std::string& name, const timing_profile& profile,
                                         std::size_t max_connections, mend::metrics_sink& sink) {
    auto out = profile.pool;
    out.name = name;
    out.min_size = std::min<std::size_t>(2, max_connections);
    out.max_size = max_connections;
    // A connection that the server closed while it sat idle is dropped
    // without sending a request on it.
    out.validator = [](mend::http_connection& connection) { return !connection.peer_closed(); };
    out.sink = &sink;
    return out;
  }

  mend::balancer::options balancer_options(const timing_profile& profile, mend::metrics_sink& sink) {
    mend::balancer::options out;
    out.name = "aos_balancer";
    for (auto& target : endpoints_)
      out.endpoints.push_back({.name = target->address.name, .breaker = mend::breaker_signal{target->breaker}});
    out.slow_start = profile.slow_start;
    out.sink = &sink;
    return out;
  }

  static mend::retry_policy::options retry_options(const timing_profile& profile, mend::metrics_sink& sink) {
    auto out = profile.retry;
    out.name = "aif_retry";
    out.is_retryable = is_retryable;
    out.sink = &sink;
    return out;
  }

  mend::health_checker::options checker_options(const timing_profile& profile, mend::metrics_sink& sink) {
    auto out = profile.health;
    out.name = "aos_health";
    out.observers = {&balancer_};
    out.sink = &sink;
    return out;
  }

  // [snippet:probe]
  // The active check: fetch the service's WSDL on a new connection, as an
  // operator would open it in a browser. The connect and the request each
  // get the check's timeout, so a check whose connect is slow can take up to
  // twice as long. The checker counts a success after the deadline as a
  // failed check.
  mend::health_probe health_probe(const endpoint_address& address, const timing_profile& profile) {
    return [this, address, http = profile.http](const mend::probe_context& check) -> mend::result<void> {
      auto options = http;
      options.request_timeout = check.timeout;
      auto connection = mend::http_connection::connect(address.host, address.port, check.timeout, options);
      if (!connection) return connection.error();
      auto response = connection.value().request("GET", address.path + "?wsdl");
      if (!response) return response.error();
      if (const auto status = response.value().status_error(probe_clock_.wall_now())) return status;
      return mend::success();
    };
  }
  // [/snippet]

  mend::clock& clock_;
  mend::clock& probe_clock_;
  // Declared in the order they are built; the checker goes first on
  // destruction, then the balancer that reads the breakers.
  std::vector<std::unique_ptr<endpoint>> endpoints_;
  mend::balancer balancer_;
  mend::retry_policy retry_;
  mend::health_checker checker_;
};

}  // namespace ax

#endif  // AX_CONNECTOR_CONNECTOR_HPP

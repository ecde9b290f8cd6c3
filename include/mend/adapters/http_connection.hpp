// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_ADAPTERS_HTTP_CONNECTION_HPP
#define MEND_ADAPTERS_HTTP_CONNECTION_HPP

// A blocking HTTP/1.1 client connection with keep-alive and timeouts, on
// Boost.Beast, for pooling with connection_pool<http_connection> (an AIF
// endpoint, a health URL). Link mend::http.
//
// Errors are std::error_code values that is_transient() classifies. A
// refused, reset or unreachable connection keeps its std::errc code. The
// server closing the connection mid-exchange is std::errc::connection_reset.
// A timeout is errc::timed_out, a name that does not resolve is
// errc::connect_failed, and an unparsable response is errc::protocol_error.
// After any error the connection is closed, so is_open() tells a pool's
// validator to drop it.
//
//   auto connection = mend::http_connection::connect("127.0.0.1", 8080, 2s);
//   if (!connection) return connection.error();
//   auto response = connection.value().request("POST", "/aif/OrderService", soap_body,
//                                              {{"Content-Type", "text/xml; charset=utf-8"}});

#include <mend/clock.hpp>
#include <mend/config_error.hpp>
#include <mend/error.hpp>
#include <mend/http_error.hpp>
#include <mend/result.hpp>
#include <mend/version.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

MEND_BEGIN_NAMESPACE

// Header fields as sent or received, in order.
using http_fields = std::vector<std::pair<std::string, std::string>>;

// A complete HTTP response.
struct http_response {
  int status = 0;
  std::string reason;
  http_fields headers;
  std::string body;

  // Returns the value of the first header named `name` (compared without
  // case), or an empty view.
  std::string_view header(std::string_view name) const noexcept {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    for (const auto& [field, value] : headers) {
      if (field.size() == name.size() &&
          std::equal(field.begin(), field.end(), name.begin(), [&](char a, char b) { return lower(a) == lower(b); }))
        return value;
    }
    return {};
  }

  // Returns http_error(status, Retry-After) for a 4xx or 5xx status, so the
  // status travels through breakers and retries, or an empty code otherwise.
  // `now` dates a Retry-After given as an HTTP date.
  std::error_code status_error(wall_time now) const {
    if (status < 400) return {};
    const auto hint = parse_retry_after(header("Retry-After"),
                                        std::chrono::time_point_cast<std::chrono::system_clock::duration>(now));
    return http_error(status, hint.value_or(std::chrono::seconds::zero()));
  }
};

namespace detail {

// Maps a Boost.Asio or Boost.Beast error to the std::error_code that mend's
// classifiers understand (see the header comment).
inline std::error_code to_std_error(const boost::system::error_code& ec) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  if (!ec) return {};
  if (ec == boost::beast::error::timeout || ec == asio::error::operation_aborted)
    return make_error_code(errc::timed_out);
  if (ec == asio::error::eof || ec == http::error::end_of_stream || ec == http::error::partial_message)
    return std::make_error_code(std::errc::connection_reset);
  if (ec.category() == boost::system::system_category()) return {ec.value(), std::system_category()};
  if (ec.category() == boost::system::generic_category()) return {ec.value(), std::generic_category()};
  if (ec.category() == boost::system::error_code{http::error::bad_version}.category())
    return make_error_code(errc::protocol_error);
  if (ec.category() == asio::error::get_netdb_category() || ec.category() == asio::error::get_addrinfo_category())
    return make_error_code(errc::connect_failed);
  return ec;  // Boost.System converts to std::error_code and keeps the message
}

}  // namespace detail

// The settings of an http_connection. http_connection::connect() validates
// them and throws config_error for an invalid one.
struct http_connection_options {
  // The maximum time of one request, from sending it to the end of the
  // response. It must be greater than zero.
  duration request_timeout = std::chrono::seconds{30};
  // The maximum response body size in bytes, at least 1. A bigger body is a protocol_error.
  std::size_t body_limit = 8 * 1024 * 1024;
  // The User-Agent header value. Control characters are rejected because CR
  // or LF would split the request's header.
  std::string user_agent = "mend";
};

// One keep-alive HTTP/1.1 connection to host:port. Each call blocks the
// calling thread until it completes or its timeout passes; the timeouts use
// real time through Boost.Asio, not a mend::clock. Use one connection from one
// thread at a time (a pool lease guarantees that). Movable, not copyable.
class http_connection {
 public:
  using options = http_connection_options;

  // Opens a TCP connection to `host` (an IP address or a name) and `port`
  // within `timeout`. Throws config_error, naming the field and its value,
  // for an empty host, port 0, a timeout that is not positive or invalid
  // `opts`, because these are programming errors, not connection failures.
  static result<http_connection> connect(std::string_view host, std::uint16_t port, duration timeout,
                                         options opts = {}) {
    validate(host, port, timeout, opts);
    http_connection connection{std::string{host}, port, std::move(opts)};
    if (const auto ec = connection.open(timeout)) return ec;
    return connection;
  }

  http_connection(http_connection&&) noexcept = default;
  http_connection& operator=(http_connection&&) noexcept = default;
  http_connection(const http_connection&) = delete;
  http_connection& operator=(const http_connection&) = delete;
  ~http_connection() { close(); }

  // Sends one request and reads the whole response. Any status is a value;
  // http_response::status_error() turns 4xx and 5xx into an error. On a
  // transport error the connection is closed and the error returned. A
  // response with "Connection: close" closes the connection after reading.
  result<http_response> request(std::string_view method, std::string_view target, std::string_view body = {},
                                const http_fields& headers = {}) {
    namespace http = boost::beast::http;
    if (!is_open()) return std::make_error_code(std::errc::not_connected);

    http::request<http::string_body> req;
    req.version(11);
    const boost::beast::string_view method_text{method.data(), method.size()};
    if (const auto verb = http::string_to_verb(method_text); verb != http::verb::unknown) {
      req.method(verb);
    } else {
      req.method_string(method_text);
    }
    req.target(boost::beast::string_view{target.data(), target.size()});
    req.set(http::field::host, host_header());
    req.set(http::field::user_agent, options_.user_agent);
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = std::string{body};
    if (!body.empty() || req.method() == http::verb::post || req.method() == http::verb::put) req.prepare_payload();
    req.keep_alive(true);

    auto& s = *state_;
    s.stream.expires_after(options_.request_timeout);
    boost::system::error_code ec = boost::asio::error::would_block;
    http::async_write(s.stream, req, [&](const boost::system::error_code& e, std::size_t) { ec = e; });
    run();
    if (ec) return fail(ec);

    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.body_limit);
    // The header first, then the body: reading both at once (eager mode),
    // Boost.Beast 1.74 goes on past its own body_limit error and reserves
    // the Content-Length the server declared.
    ec = boost::asio::error::would_block;
    http::async_read_header(s.stream, s.buffer, parser,
                            [&](const boost::system::error_code& e, std::size_t) { ec = e; });
    run();
    if (ec) return fail(ec);
    if (!parser.is_done()) {
      ec = boost::asio::error::would_block;
      http::async_read(s.stream, s.buffer, parser, [&](const boost::system::error_code& e, std::size_t) { ec = e; });
      run();
      if (ec) return fail(ec);
    }
    s.stream.expires_never();

    auto& res = parser.get();
    http_response out;
    out.status = static_cast<int>(res.result_int());
    out.reason = std::string{res.reason()};
    for (const auto& field : res) out.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
    out.body = std::move(res.body());
    if (!res.keep_alive()) close();
    return out;
  }

  // True while the socket is open on this side. It stays true when only the
  // server has closed its side; peer_closed() finds that out.
  bool is_open() const noexcept { return state_ && state_->stream.socket().is_open(); }

  // Returns true when the connection cannot carry another request because it
  // is closed, or the server closed its side or sent unrequested bytes (a
  // server ends an idle keep-alive connection that way). Does not block.
  bool peer_closed() {
    if (!is_open()) return true;
    auto& socket = state_->stream.socket();
    boost::system::error_code ec;
    socket.non_blocking(true, ec);
    if (ec) return true;
    char byte = 0;
    socket.receive(boost::asio::buffer(&byte, 1), boost::asio::socket_base::message_peek, ec);
    boost::system::error_code restore_error;
    socket.non_blocking(false, restore_error);
    return ec != boost::asio::error::would_block || restore_error;
  }

  void close() noexcept {
    if (!state_) return;
    boost::system::error_code ignored;
    state_->stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
    state_->stream.socket().close(ignored);
  }

  const std::string& host() const noexcept { return host_; }
  std::uint16_t port() const noexcept { return port_; }

 private:
  // The I/O objects live on the heap so that the connection can move.
  struct io_state {
    boost::asio::io_context io{1};
    boost::beast::tcp_stream stream{io};
    boost::beast::flat_buffer buffer;
  };

  http_connection(std::string host, std::uint16_t port, options opts)
      : host_(std::move(host)), port_(port), options_(std::move(opts)), state_(std::make_unique<io_state>()) {}

  static void validate(std::string_view host, std::uint16_t port, duration timeout, const options& opts) {
    constexpr std::string_view component = "http_connection";
    detail::require(!host.empty(), component, "host", "\"\"", "must name a host or an IP address");
    detail::require(port != 0, component, "port", port, "must be from 1 to 65535");
    detail::require(timeout > duration::zero(), component, "connect timeout", timeout, "must be greater than zero");
    detail::require(opts.request_timeout > duration::zero(), component, "request_timeout", opts.request_timeout,
                    "must be greater than zero");
    detail::require(opts.body_limit > 0, component, "body_limit", opts.body_limit, "must be at least 1 byte");
    const auto is_control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
    if (std::any_of(opts.user_agent.begin(), opts.user_agent.end(), is_control)) {
      // The message shows the control characters escaped, so that it stays on one line.
      std::string quoted = "\"";
      for (const char c : opts.user_agent)
        quoted += is_control(c) ? fmt::format("\\x{:02x}", static_cast<unsigned char>(c)) : std::string(1, c);
      quoted += '"';
      detail::require(false, component, "user_agent", quoted, "must not contain control characters such as CR or LF");
    }
  }

  std::error_code open(duration timeout) {
    namespace asio = boost::asio;
    auto& s = *state_;
    boost::system::error_code ec;
    std::vector<asio::ip::tcp::endpoint> endpoints;
    if (const auto address = asio::ip::make_address(host_, ec); !ec) {
      endpoints.emplace_back(address, port_);
    } else {
      asio::ip::tcp::resolver resolver{s.io};
      ec = asio::error::would_block;
      resolver.async_resolve(host_, std::to_string(port_),
                             [&](const boost::system::error_code& e, asio::ip::tcp::resolver::results_type found) {
                               ec = e;
                               for (const auto& item : found) endpoints.push_back(item.endpoint());
                             });
      s.io.restart();
      s.io.run_for(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout));
      if (ec == asio::error::would_block) {
        resolver.cancel();
        run();
        return make_error_code(errc::timed_out);
      }
      if (ec) return detail::to_std_error(ec);
    }

    s.stream.expires_after(timeout);
    ec = asio::error::would_block;
    s.stream.async_connect(endpoints, [&](const boost::system::error_code& e, const asio::ip::tcp::endpoint&) {
      ec = e;
    });
    run();
    if (ec) {
      close();
      return detail::to_std_error(ec);
    }
    s.stream.expires_never();
    boost::system::error_code ignored;
    s.stream.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    return {};
  }

  // Runs the pending operation to its end; the stream's timer bounds it.
  void run() {
    state_->io.restart();
    state_->io.run();
  }

  std::error_code fail(const boost::system::error_code& ec) {
    close();
    return detail::to_std_error(ec);
  }

  std::string host_header() const {
    const bool ipv6 = host_.find(':') != std::string::npos;
    std::string out = ipv6 ? "[" + host_ + "]" : host_;
    if (port_ != 80) out += ":" + std::to_string(port_);
    return out;
  }

  std::string host_;
  std::uint16_t port_ = 0;
  options options_;
  std::unique_ptr<io_state> state_;
};

MEND_END_NAMESPACE

#endif  // MEND_ADAPTERS_HTTP_CONNECTION_HPP

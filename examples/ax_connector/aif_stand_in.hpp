// An in-process stand-in for one AOS with an AIF HTTP port. It serves the
// sales order service's read and create operations and the WSDL on
// 127.0.0.1, and injects the faults of a fault_script. Two stand-ins share
// one aos_database, as two AOS instances share the AX database.
//
// One thread per stand-in runs Boost.Asio; every connection and the
// listener are touched only on that thread.
#ifndef AX_CONNECTOR_AIF_STAND_IN_HPP
#define AX_CONNECTOR_AIF_STAND_IN_HPP

#include "aif_messages.hpp"
#include "fault_script.hpp"

#include <mend/result.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ax {

namespace http = boost::beast::http;

// The sales orders both stand-ins see: orders SO-000100 to SO-000999 exist
// from the start, and created orders get the next number. A create whose
// MessageId was seen before returns the order it created then, so a create
// retried after a lost response does not create a second order.
class aos_database {
 public:
  // Returns the sales id for a create with `message_id`, and whether it was new.
  std::pair<std::string, bool> create(const std::string& message_id) {
    std::lock_guard lock(mutex_);
    if (const auto it = created_.find(message_id); it != created_.end()) return {it->second, false};
    auto sales_id = fmt::format("SO-{:06}", next_number_++);
    created_.emplace(message_id, sales_id);
    return {std::move(sales_id), true};
  }

  bool exists(std::string_view sales_id) const {
    if (sales_id.size() != 9 || !sales_id.starts_with("SO-")) return false;
    int number = 0;
    for (const char c : sales_id.substr(3)) {
      if (c < '0' || c > '9') return false;
      number = number * 10 + (c - '0');
    }
    std::lock_guard lock(mutex_);
    return (number >= 100 && number < 1000) || (number >= 1000 && number < next_number_);
  }

 private:
  mutable std::mutex mutex_;
  int next_number_ = 1000;                         // guarded by mutex_
  std::map<std::string, std::string> created_;     // MessageId -> SalesId; guarded by mutex_
};

// The faults a stand-in injected, by kind (down windows count once each).
struct injected_faults {
  std::array<std::uint64_t, 7> by_kind{};
  std::uint64_t duplicate_creates = 0;  // creates whose MessageId was already in the log

  std::uint64_t total() const {
    std::uint64_t sum = 0;
    for (const auto n : by_kind) sum += n;
    return sum;
  }
  std::uint64_t& operator[](fault_kind kind) { return by_kind[static_cast<std::size_t>(kind)]; }
  std::uint64_t operator[](fault_kind kind) const { return by_kind[static_cast<std::size_t>(kind)]; }
};

class aif_stand_in {
 public:
  using clock_type = std::chrono::steady_clock;

  // `epoch` is the start of the run that the script's times count from.
  aif_stand_in(std::string name, aos_database& database, const fault_script& script, clock_type::time_point epoch)
      : name_(std::move(name)), database_(database), script_(script), epoch_(epoch),
        window_requests_(script.windows.size(), 0) {}

  aif_stand_in(const aif_stand_in&) = delete;
  aif_stand_in& operator=(const aif_stand_in&) = delete;

  ~aif_stand_in() { stop(); }

  // Listens on 127.0.0.1 on a free port and starts the server thread and
  // the timers of the script's down windows. Returns the bind error.
  mend::result<void> start() {
    boost::system::error_code ec;
    if (const auto opened = open_listener(0); opened) return opened;
    port_ = acceptor_.local_endpoint(ec).port();
    if (ec) return std::error_code{ec};
    accept_next();
    for (std::size_t i = 0; i < script_.windows.size(); ++i) {
      const auto& w = script_.windows[i];
      if (w.endpoint != name_ || w.kind != fault_kind::down) continue;
      schedule(w.from, [this] { go_down(); });
      schedule(w.to, [this] { come_back(); });
    }
    thread_ = std::thread([this] { io_.run(); });
    return mend::success();
  }

  // Closes every connection and stops the thread; idempotent.
  void stop() {
    if (!thread_.joinable()) return;
    boost::asio::post(io_, [this] {
      close_all();
      for (auto& timer : timers_) timer->cancel();
    });
    work_.reset();
    thread_.join();
  }

  const std::string& name() const noexcept { return name_; }
  std::uint16_t port() const noexcept { return port_; }

  injected_faults injected() const {
    std::lock_guard lock(counts_mutex_);
    return injected_;
  }

 private:
  using tcp = boost::asio::ip::tcp;

  // One client connection; lives while an operation on it is pending.
  struct session : std::enable_shared_from_this<session> {
    explicit session(tcp::socket s) : socket(std::move(s)), delay(socket.get_executor()) {}
    tcp::socket socket;
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::response<http::string_body> response;
    boost::asio::steady_timer delay;
  };

  std::error_code open_listener(std::uint16_t port) {
    boost::system::error_code ec;
    const tcp::endpoint address{boost::asio::ip::make_address("127.0.0.1"), port};
    acceptor_.open(address.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(address, ec);
    if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec) {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    }
    return ec;
  }

  void schedule(mend::duration after_epoch, std::function<void()> action) {
    auto timer = std::make_shared<boost::asio::steady_timer>(io_);
    timer->expires_at(epoch_ + std::chrono::duration_cast<clock_type::duration>(after_epoch));
    timer->async_wait([action = std::move(action)](const boost::system::error_code& ec) {
      if (!ec) action();
    });
    timers_.push_back(std::move(timer));
  }

  // The listener closes and every connection with it, as when IIS stops:
  // clients get "connection refused" until come_back().
  void go_down() {
    close_all();
    std::lock_guard lock(counts_mutex_);
    ++injected_[fault_kind::down];
  }

  void come_back() {
    if (const auto ec = open_listener(port_)) {
      fmt::print(stderr, "{}: cannot listen on 127.0.0.1:{} again: {}\n", name_, port_, ec.message());
      return;
    }
    accept_next();
  }

  void close_all() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& weak : sessions_) {
      if (auto s = weak.lock()) {
        s->socket.shutdown(tcp::socket::shutdown_both, ignored);
        s->socket.close(ignored);
        s->delay.cancel();
      }
    }
    sessions_.clear();
  }

  void accept_next() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) return;  // the listener was closed
      auto s = std::make_shared<session>(std::move(socket));
      std::erase_if(sessions_, [](const std::weak_ptr<session>& w) { return w.expired(); });
      sessions_.push_back(s);
      read_request(s);
      accept_next();
    });
  }

  void read_request(const std::shared_ptr<session>& s) {
    s->request = {};
    http::async_read(s->socket, s->buffer, s->request, [this, s](const boost::system::error_code& ec, std::size_t) {
      if (ec) return close(s);
      on_request(s);
    });
  }

  void on_request(const std::shared_ptr<session>& s) {
    const auto fault = fault_for_this_request(s->request.method() == http::verb::get);
    if (fault) count(*fault);
    if (fault == fault_kind::no_answer) return read_request(s);  // the client times out and closes

    s->response = answer(s->request, fault);
    if (fault == fault_kind::dropped_connection) return close(s);  // a create was processed, its response is lost
    if (fault == fault_kind::slow_answer) {
      s->delay.expires_after(slow_answer_delay);
      s->delay.async_wait([this, s](const boost::system::error_code& ec) {
        if (ec) return close(s);
        write_response(s);
      });
      return;
    }
    write_response(s);
  }

  void write_response(const std::shared_ptr<session>& s) {
    s->response.keep_alive(s->request.keep_alive());
    s->response.prepare_payload();
    http::async_write(s->socket, s->response, [this, s](const boost::system::error_code& ec, std::size_t) {
      if (ec || !s->response.keep_alive()) return close(s);
      read_request(s);
    });
  }

  void close(const std::shared_ptr<session>& s) {
    boost::system::error_code ignored;
    s->socket.shutdown(tcp::socket::shutdown_both, ignored);
    s->socket.close(ignored);
  }

  // Counts the request in its fault window, if any, and returns the fault
  // when this request is one the window hits. A health check (a GET of the
  // WSDL) is hit only by a window that hits every request, and is not
  // counted, so that a fault on every n-th call does not depend on when the
  // checks arrive.
  std::optional<fault_kind> fault_for_this_request(bool health_check) {
    const auto elapsed = std::chrono::duration_cast<mend::duration>(clock_type::now() - epoch_);
    const auto index = script_.answer_fault_at(name_, elapsed);
    if (!index) return std::nullopt;
    const auto& w = script_.windows[*index];
    if (health_check) return w.every == 1 ? std::optional{w.kind} : std::nullopt;
    const auto n = ++window_requests_[*index];
    if (n % w.every != 0) return std::nullopt;
    return w.kind;
  }

  void count(fault_kind kind) {
    std::lock_guard lock(counts_mutex_);
    ++injected_[kind];
  }

  // The response to `request`, with `fault` applied when it changes the response.
  http::response<http::string_body> answer(const http::request<http::string_body>& request,
                                           std::optional<fault_kind> fault) {
    if (fault == fault_kind::http_500) return reply(500, "text/html", std::string{iis_error_page});
    if (fault == fault_kind::soap_server_fault) return reply(500, "text/xml; charset=utf-8", internal_service_fault());
    if (fault == fault_kind::http_503) {
      auto out = reply(503, "text/html", std::string{service_unavailable_page});
      out.set("Retry-After", "1");
      return out;
    }

    const std::string_view target{request.target().data(), request.target().size()};
    if (request.method() == http::verb::get && target.starts_with(sales_order_service_path))
      return reply(200, "text/xml; charset=utf-8", wsdl());
    if (request.method() != http::verb::post || target != sales_order_service_path)
      return reply(404, "text/html", "<html><body>404 - File or directory not found.</body></html>");

    std::string action;
    if (const auto it = request.find("SOAPAction"); it != request.end()) action = std::string{it->value()};
    if (action.size() >= 2 && action.front() == '"' && action.back() == '"') action = action.substr(1, action.size() - 2);

    const std::string_view body = request.body();
    if (action == soap_action(aif_operation::read)) {
      const auto sales_id = xml_text(body, "Value").value_or("");
      if (!database_.exists(sales_id)) return reply(500, "text/xml; charset=utf-8", aif_fault("No valid document identified from the entity key"));
      return reply(200, "text/xml; charset=utf-8", read_response(sales_id));
    }
    if (action == soap_action(aif_operation::create)) {
      const auto message_id = xml_text(body, "MessageId").value_or("");
      auto [sales_id, created] = database_.create(message_id);
      if (!created) {
        std::lock_guard lock(counts_mutex_);
        ++injected_.duplicate_creates;
      }
      return reply(200, "text/xml; charset=utf-8", create_response(sales_id));
    }
    return reply(500, "text/xml; charset=utf-8",
                 soap_fault_body("s:Client", fmt::format("The message with Action '{}' cannot be processed at the "
                                                         "receiver.", xml_escape(action))));
  }

  static http::response<http::string_body> reply(unsigned status, std::string_view content_type, std::string body) {
    http::response<http::string_body> out{static_cast<http::status>(status), 11};
    out.set(http::field::server, "Microsoft-IIS/8.5");
    out.set(http::field::content_type, boost::beast::string_view{content_type.data(), content_type.size()});
    out.body() = std::move(body);
    return out;
  }

  static std::string envelope(std::string_view body) {
    return fmt::format("<s:Envelope xmlns:s=\"{}\"><s:Body>{}</s:Body></s:Envelope>", ns::soap_envelope, body);
  }

  static std::string soap_fault_body(std::string_view code, std::string_view message) {
    return envelope(fmt::format("<s:Fault><faultcode>{}</faultcode><faultstring xml:lang=\"en-US\">{}</faultstring>"
                                "</s:Fault>", code, message));
  }

  static std::string internal_service_fault() {
    return envelope(fmt::format(
        "<s:Fault><faultcode xmlns:a=\"{}\">a:InternalServiceFault</faultcode><faultstring xml:lang=\"en-US\">The "
        "server was unable to process the request due to an internal error.</faultstring></s:Fault>",
        ns::wcf_dispatcher));
  }

  static std::string aif_fault(std::string_view message) {
    return envelope(fmt::format(
        "<s:Fault><faultcode>s:Client</faultcode><faultstring xml:lang=\"en-US\">Request Failed. See the Exception "
        "Log for details.</faultstring><detail><AifFault xmlns=\"{}\"><FaultMessageListArray><FaultMessageList>"
        "<Document>SalesOrder</Document><FaultMessageArray><FaultMessage><Code>Read</Code><Message>{}</Message>"
        "</FaultMessage></FaultMessageArray></FaultMessageList></FaultMessageListArray></AifFault></detail>"
        "</s:Fault>",
        ns::aif_fault, xml_escape(message)));
  }

  static std::string read_response(std::string_view sales_id) {
    return envelope(fmt::format(
        "<SalesOrderServiceReadResponse xmlns=\"{}\"><SalesOrder xmlns=\"{}\"><DocPurpose>Original</DocPurpose>"
        "<SalesTable class=\"entity\"><CurrencyCode>USD</CurrencyCode><CustAccount>US-004</CustAccount>"
        "<SalesId>{}</SalesId><SalesStatus>Backorder</SalesStatus><SalesLine class=\"entity\"><ItemId>1000</ItemId>"
        "<LineNum>1.0000</LineNum><SalesQty>2.00</SalesQty></SalesLine></SalesTable></SalesOrder>"
        "</SalesOrderServiceReadResponse>",
        ns::services, ns::sales_order, xml_escape(sales_id)));
  }

  static std::string create_response(std::string_view sales_id) {
    return envelope(fmt::format(
        "<SalesOrderServiceCreateResponse xmlns=\"{}\"><EntityKeyList xmlns=\"{}\"><EntityKey xmlns=\"{}\">"
        "<KeyData><KeyField><Field>SalesId</Field><Value>{}</Value></KeyField></KeyData></EntityKey>"
        "</EntityKeyList></SalesOrderServiceCreateResponse>",
        ns::services, ns::entity_key_list, ns::entity_key, xml_escape(sales_id)));
  }

  static std::string wsdl() {
    return fmt::format(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><wsdl:definitions name=\"SalesOrderService\" "
        "targetNamespace=\"{}\" xmlns:wsdl=\"http://schemas.xmlsoap.org/wsdl/\"><wsdl:service "
        "name=\"SalesOrderService\"/></wsdl:definitions>",
        ns::services);
  }

  static constexpr std::string_view iis_error_page =
      "<html><head><title>500 - Internal server error.</title></head><body><h2>500 - Internal server error."
      "</h2></body></html>";
  static constexpr std::string_view service_unavailable_page =
      "<html><head><title>Service Unavailable</title></head><body><h2>Service Unavailable</h2></body></html>";

  const std::string name_;
  aos_database& database_;
  const fault_script& script_;
  const clock_type::time_point epoch_;

  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  tcp::acceptor acceptor_{io_};                                  // used on the server thread after start()
  std::vector<std::weak_ptr<session>> sessions_;                 // used on the server thread
  std::vector<std::shared_ptr<boost::asio::steady_timer>> timers_;  // filled before the thread starts
  std::vector<std::uint64_t> window_requests_;                   // requests per fault window; server thread
  std::uint16_t port_ = 0;
  std::thread thread_;

  mutable std::mutex counts_mutex_;
  injected_faults injected_;  // guarded by counts_mutex_
};

}  // namespace ax

#endif  // AX_CONNECTOR_AIF_STAND_IN_HPP

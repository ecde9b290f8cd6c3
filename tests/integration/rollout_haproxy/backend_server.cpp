// A small HTTP/1.1 server that stands for one connector instance (blue or
// green) behind HAProxy in the rollout integration test.
//
//   backend_server --name green --port-file /tmp/mend-rh-x/green.port
//
// It listens on 127.0.0.1 at a port the kernel picks, writes that port to
// --port-file once it accepts connections, and responds to every request with
// 200, the body "<name>\n" and the header "X-Served-By: <name>", keeping the
// connection alive unless the client asks to close it. GET /health is the
// target of HAProxy's checks. The test stops it by PID: SIGTERM and SIGKILL
// both end it at once, like a crashed instance.
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

bool has_token(std::string_view headers, std::string_view name, std::string_view value) {
  // Header names and the values this server cares about are matched without case.
  std::string lower(headers);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto at = lower.find(std::string("\r\n") + std::string(name) + ":");
  if (at == std::string::npos) return false;
  const auto end = lower.find("\r\n", at + 2);
  return lower.substr(at, end - at).find(value) != std::string::npos;
}

std::size_t content_length(std::string_view headers) {
  std::string lower(headers);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return 0;
  return static_cast<std::size_t>(std::strtoull(lower.c_str() + at + 17, nullptr, 10));
}

// Serves one client connection until the client closes it or sends
// "Connection: close".
void serve(int fd, const std::string& name) {
  const std::string body = name + "\n";
  std::string buffer;
  char chunk[4096];
  for (;;) {
    std::size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      const auto received = ::recv(fd, chunk, sizeof(chunk), 0);
      if (received < 0 && errno == EINTR) continue;
      if (received <= 0) {
        ::close(fd);
        return;
      }
      buffer.append(chunk, static_cast<std::size_t>(received));
    }
    const std::string headers = buffer.substr(0, header_end + 2);
    const std::size_t body_length = content_length(headers);
    while (buffer.size() < header_end + 4 + body_length) {
      const auto received = ::recv(fd, chunk, sizeof(chunk), 0);
      if (received <= 0) {
        ::close(fd);
        return;
      }
      buffer.append(chunk, static_cast<std::size_t>(received));
    }
    buffer.erase(0, header_end + 4 + body_length);

    const bool close_after = has_token(headers, "connection", "close") || headers.find("HTTP/1.0") != std::string::npos;
    std::string response =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\nX-Served-By: " + name + "\r\n";
    if (close_after) response += "Connection: close\r\n";
    response += "\r\n" + body;
    if (!send_all(fd, response) || close_after) {
      ::close(fd);
      return;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string name;
  std::string port_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view option = argv[i];
    if (option == "--name") name = argv[i + 1];
    if (option == "--port-file") port_file = argv[i + 1];
  }
  if (name.empty() || port_file.empty()) {
    std::fprintf(stderr, "usage: backend_server --name NAME --port-file PATH\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);

  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int reuse = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(listener, 1024) != 0) {
    std::fprintf(stderr, "backend_server %s: cannot listen on 127.0.0.1: %s\n", name.c_str(), std::strerror(errno));
    return 1;
  }
  socklen_t length = sizeof(address);
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);

  // Written to a temporary name and renamed, so the test never reads half a port.
  const std::string partial = port_file + ".partial";
  std::ofstream(partial) << ntohs(address.sin_port) << "\n";
  std::rename(partial.c_str(), port_file.c_str());

  for (;;) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int no_delay = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &no_delay, sizeof(no_delay));
    std::thread(serve, fd, name).detach();
  }
}
